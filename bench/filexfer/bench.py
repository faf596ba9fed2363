#!/usr/bin/python3
"""bench.py - throughput of a 1 GiB upload with the reference fileclient and fileserver, against socat copying the same file.

Builds the reference (solutions/filexfer, into build/bench-filexfer/),
writes a file of --size bytes (1 GiB by default) of random data into a
temporary folder, and times on loopback, alternating, --runs times each:

  socat     socat -u OPEN:file TCP:127.0.0.1:P into a socat -u TCP-LISTEN:P
            that writes it to a file (socat's default 8 KiB buffer; also
            run with -b 262144, the buffer our programs use)
  filexfer  fileclient ... put file, into a fileserver already running:
            login, PUT, the bytes with SHA-256 on both sides, the server's
            temporary file renamed into place, 'OK stored', QUIT

Each time runs from the sender's start until both sides are done (the
receiver has written the last byte; for filexfer, the client has the
server's answer). The best run of each is kept; the copies are checked by
size and SHA-256 once. Prints MiB/s of each and the ratios. Not a test:
numbers depend on the machine (page cache, CPU with or without SHA
instructions); the ratio is the point.
"""

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, "build", "bench-filexfer")
SOCAT = "/usr/bin/socat"
READY_DEADLINE = 10.0      # seconds for a server to listen
RUN_DEADLINE = 120.0       # seconds for one transfer
PASSWORD = "bench password"


def build():
    """Build the reference from a clean copy; return the folder of its binaries."""
    src = os.path.join(BUILD, "src")
    shutil.rmtree(BUILD, ignore_errors=True)
    ignore = shutil.ignore_patterns("*.o", "fileserver", "fileclient")
    shutil.copytree(os.path.join(ROOT, "solutions", "filexfer"), os.path.join(src, "filexfer"), ignore=ignore)
    shutil.copytree(os.path.join(ROOT, "solutions", "common"), os.path.join(src, "common"), ignore=ignore)
    subprocess.run(["make", "-s", "-C", os.path.join(src, "filexfer")], check=True, timeout=300)
    return os.path.join(src, "filexfer")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(proc, port):
    """Return once PORT accepts connections (a probe connection the server
    sees and drops), or raise."""
    deadline = time.monotonic() + READY_DEADLINE
    while time.monotonic() < deadline and proc.poll() is None:
        if port_listening(port):
            return
        time.sleep(0.01)    # polling the condition, with a deadline
    raise RuntimeError(f"nothing listened on port {port} within {READY_DEADLINE} s")


def port_listening(port):
    """Whether a socket listens on 127.0.0.1:PORT (read from /proc, no probe connection)."""
    hexport = f":{port:04X} "
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if hexport in fields[1] + " " and fields[3] == "0A":
                    return True
    return False


def stop(proc):
    """SIGTERM the process group, SIGKILL it after 5 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(5)
            return
        except subprocess.TimeoutExpired:
            continue


def popen(cmd, **kw):
    return subprocess.Popen(cmd, start_new_session=True, **kw)


def time_socat(src, dest, buffer=None):
    """Seconds for socat to copy SRC over loopback into DEST."""
    port = free_port()
    opts = ["-b", str(buffer)] if buffer else []
    receiver = popen([SOCAT, *opts, "-u", f"TCP-LISTEN:{port},reuseaddr", f"OPEN:{dest},creat,trunc"])
    try:
        wait_listening(receiver, port)
        start = time.monotonic()
        sender = popen([SOCAT, *opts, "-u", f"OPEN:{src}", f"TCP:127.0.0.1:{port}"])
        try:
            if sender.wait(RUN_DEADLINE) != 0 or receiver.wait(RUN_DEADLINE) != 0:
                raise RuntimeError("socat failed")
        finally:
            stop(sender)
        return time.monotonic() - start
    finally:
        stop(receiver)


def users_file(path):
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, 1000)
    with open(path, "w") as f:
        f.write(f"bench:pbkdf2-sha256:1000:{salt.hex()}:{digest.hex()}\n")


def time_filexfer(binaries, port, src, log):
    """Seconds for fileclient to put SRC into the running fileserver."""
    start = time.monotonic()
    client = popen([os.path.join(binaries, "fileclient"), "--host", "127.0.0.1", "--port", str(port),
                    "--user", "bench", "put", src], stdin=subprocess.PIPE, stdout=log, stderr=log)
    try:
        client.communicate((PASSWORD + "\n").encode(), timeout=RUN_DEADLINE)
    finally:
        stop(client)
    if client.returncode != 0:
        raise RuntimeError(f"fileclient put failed (status {client.returncode}); see {log.name}")
    return time.monotonic() - start


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=1 << 30, help="bytes of the file (default 1 GiB)")
    p.add_argument("--runs", type=int, default=3, help="runs of each, alternating; the best is kept")
    args = p.parse_args()
    if not os.access(SOCAT, os.X_OK):
        sys.exit("bench: socat is missing: tools/deps.sh bench installs it")
    binaries = build()
    with tempfile.TemporaryDirectory(prefix="bench-filexfer-") as tmp:
        src = os.path.join(tmp, "file.bin")
        with open(src, "wb") as f:
            for _ in range(args.size // (1 << 24)):
                f.write(os.urandom(1 << 24))
            f.write(os.urandom(args.size % (1 << 24)))
        users = os.path.join(tmp, "users")
        users_file(users)
        port = free_port()
        log = open(os.path.join(tmp, "filexfer.log"), "w")
        server = popen([os.path.join(binaries, "fileserver"), "--port", str(port), "--root",
                        os.path.join(tmp, "root"), "--users", users], stdout=log, stderr=log)
        best = {"socat": [], "socat -b 262144": [], "filexfer": []}
        try:
            wait_listening(server, port)
            for _ in range(args.runs):
                best["socat"].append(time_socat(src, os.path.join(tmp, "socat.out")))
                best["socat -b 262144"].append(time_socat(src, os.path.join(tmp, "socat.out"), 262144))
                best["filexfer"].append(time_filexfer(binaries, port, src, log))
        finally:
            stop(server)
            log.close()
        want = sha_file(src)
        for copy in (os.path.join(tmp, "socat.out"), os.path.join(tmp, "root", "file.bin")):
            if os.path.getsize(copy) != args.size or sha_file(copy) != want:
                sys.exit(f"bench: {copy} is not a copy of the file")
    mib = args.size / (1 << 20)
    rate = {name: mib / min(times) for name, times in best.items()}
    print(f"1 file of {mib:.0f} MiB over loopback, best of {args.runs} alternating runs")
    for name, r in rate.items():
        print(f"  {name:18} {r:8.0f} MiB/s")
    print(f"filexfer / socat:            {rate['filexfer'] / rate['socat']:.2f}x")
    print(f"filexfer / socat -b 262144:  {rate['filexfer'] / rate['socat -b 262144']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
