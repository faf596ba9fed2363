#!/usr/bin/python3
"""netns_exchange.py PCAPCHECK OUT_DIR [--burst N] - one TCP exchange (or a burst of
N UDP datagrams), captured, in a fresh network namespace.

Enters a new network namespace (as root, or as an unprivileged user via a
user namespace mapped to root), brings lo up, starts `pcapcheck capture`
on lo, waits for its readiness line, makes one TCP connection that sends
"hello\\n", gets "HELLO\\n" back and closes cleanly, waits until the
client's socket reaches TIME_WAIT (so the last ACK has been sent), stops
the capture with SIGTERM and writes OUT_DIR/result.json. A second capture
with -c 3 runs beside it and must stop by itself after three packets.
With --burst N it instead stops the capture (SIGSTOP), sends N datagrams
of 200 bytes back to back to a bound UDP socket, lets the capture go on,
waits until that socket has them all, stops the
capture and writes OUT_DIR/burst.json: the capture must hold every one.
Every wait has a deadline. Exit status 77: no network namespace here.
"""

import ctypes
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
NO_NAMESPACE = 77
DEADLINE = 5.0


def unshare(flags):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def enter_network_namespace():
    """A fresh network namespace for this process; False if none can be made."""
    try:
        unshare(CLONE_NEWNET)
    except PermissionError:
        uid, gid = os.getuid(), os.getgid()
        try:
            unshare(CLONE_NEWUSER | CLONE_NEWNET)
            with open("/proc/self/setgroups", "w") as f:
                f.write("deny")
            with open("/proc/self/uid_map", "w") as f:
                f.write(f"0 {uid} 1")
            with open("/proc/self/gid_map", "w") as f:
                f.write(f"0 {gid} 1")
        except OSError:
            return False
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=DEADLINE)
    return True


def wait_ready(proc):
    """Read pcapcheck's stderr until its readiness line; the text read so far."""
    seen = b""
    deadline = time.monotonic() + DEADLINE
    while b"pcapcheck: capturing on" not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            raise RuntimeError(f"capture did not start: {seen!r}")
        ready, _, _ = select.select([proc.stderr], [], [], left)
        if ready:
            seen += os.read(proc.stderr.fileno(), 4096)
    return seen


def exchange():
    """hello / HELLO over TCP on 127.0.0.1:12000, the client closing first; its port."""
    server = socket.socket()
    server.settimeout(DEADLINE)
    server.bind(("127.0.0.1", 12000))
    server.listen(1)
    client = socket.create_connection(("127.0.0.1", 12000), timeout=DEADLINE)
    conn, _ = server.accept()
    conn.settimeout(DEADLINE)
    client.sendall(b"hello\n")
    conn.sendall(conn.recv(100).upper())
    assert client.recv(100) == b"HELLO\n"
    port = client.getsockname()[1]
    client.close()
    assert conn.recv(100) == b""  # the client's FIN
    conn.close()
    server.close()
    return port


def wait_time_wait(port):
    """Wait until the client's socket is in TIME_WAIT: the last ACK has gone out."""
    deadline = time.monotonic() + DEADLINE
    wanted = f"0100007F:{port:04X}"
    while time.monotonic() < deadline:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == wanted and fields[3] == "06":
                    return
        time.sleep(0.01)  # polling a condition, with a deadline
    raise RuntimeError("the client socket never reached TIME_WAIT")


def burst(pcapcheck, out_dir, count):
    """COUNT datagrams back to back under a capture; writes burst.json."""
    pcap = os.path.join(out_dir, "burst.pcap")
    proc = subprocess.Popen([pcapcheck, "capture", "-i", "lo", "-w", pcap],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ready = wait_ready(proc)
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        rx.bind(("127.0.0.1", 12001))
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # The capture is stopped while the burst goes out: its kernel ring
        # must hold every packet until it runs again (as on a loaded machine).
        proc.send_signal(signal.SIGSTOP)
        try:
            for i in range(count):
                tx.sendto(b"%05d" % i + b"x" * 195, ("127.0.0.1", 12001))
        finally:
            proc.send_signal(signal.SIGCONT)
        rx.settimeout(DEADLINE)
        for _ in range(count):  # every datagram has crossed lo, so the capture saw it
            rx.recv(512)
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with open(os.path.join(out_dir, "burst.json"), "w") as f:
        json.dump({"pcap": pcap, "status": proc.returncode, "stderr": (ready + rest).decode(errors="replace")}, f)
    return 0


def main():
    pcapcheck, out_dir = sys.argv[1], sys.argv[2]
    if not enter_network_namespace():
        return NO_NAMESPACE
    if sys.argv[3:4] == ["--burst"]:
        return burst(pcapcheck, out_dir, int(sys.argv[4]))
    pcap = os.path.join(out_dir, "live.pcap")
    counted = os.path.join(out_dir, "count.pcap")
    proc = subprocess.Popen([pcapcheck, "capture", "-i", "lo", "-w", pcap],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    three = subprocess.Popen([pcapcheck, "capture", "-i", "lo", "-w", counted, "-c", "3"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ready = wait_ready(proc)
        three_ready = wait_ready(three)
        port = exchange()
        wait_time_wait(port)
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=DEADLINE)
        _, three_rest = three.communicate(timeout=DEADLINE)  # stops by itself
    finally:
        for p in (proc, three):
            if p.poll() is None:
                p.kill()
                p.wait()
    result = {"pcap": pcap, "client_port": port, "status": proc.returncode,
              "stderr": (ready + rest).decode(errors="replace"),
              "count_pcap": counted, "count_status": three.returncode,
              "count_stderr": (three_ready + three_rest).decode(errors="replace")}
    with open(os.path.join(out_dir, "result.json"), "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
