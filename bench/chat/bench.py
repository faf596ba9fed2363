#!/usr/bin/python3
"""bench.py - broadcast fan-out of the reference chatserver against a minimal
Python relay with the same framing (pyrelay.py), measured in the same run.

Builds the reference chatserver (solutions/chat, into build/bench-chat/),
writes a users file for --clients users (1000 PBKDF2 iterations: logins are
not measured) and runs on loopback, in turn:

  pyrelay      bench/chat/pyrelay.py PORT: one thread, one selectors loop
  chatserver   chatserver --users FILE --port PORT: a thread per client

Against each, --clients scripted clients (one selectors loop in this
process) log in; then, in each of --rounds rounds, every client sends one
message carrying its send time, and the round ends when each message has
reached every other client (N * (N - 1) deliveries). Measured: deliveries
per second over all rounds, and the 99th percentile of the latency from a
message's send to its arrival at each reader. Each server is measured
--runs times, alternating, the best run kept. Prints both and the ratios.
Not a test: numbers depend on the machine; the ratio is the point.
"""

import argparse
import hashlib
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, "build", "bench-chat")
PYTHON = "/usr/bin/python3"
READY_DEADLINE = 10.0     # seconds for a server to listen
ROUND_DEADLINE = 30.0     # seconds for one round's deliveries
LOGIN_DEADLINE = 30.0


def build():
    """Build the reference chatserver from a clean copy; return its path."""
    src = os.path.join(BUILD, "src")
    shutil.rmtree(BUILD, ignore_errors=True)
    ignore = shutil.ignore_patterns("*.o", "chatserver", "chatclient")
    shutil.copytree(os.path.join(ROOT, "solutions", "chat"), os.path.join(src, "chat"), ignore=ignore)
    shutil.copytree(os.path.join(ROOT, "solutions", "common"), os.path.join(src, "common"), ignore=ignore)
    subprocess.run(["make", "-s", "-C", os.path.join(src, "chat")], check=True, timeout=300)
    return os.path.join(src, "chat", "chatserver")


def frame(type_, *fields):
    payload = type_ + b"\0".join(fields)
    return struct.pack(">I", len(payload)) + payload


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc):
    end = time.monotonic() + READY_DEADLINE
    while time.monotonic() < end and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)   # polling the condition, with a deadline
    raise RuntimeError(f"server on port {port} not listening within {READY_DEADLINE} s")


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(5)


class Clients:
    """N logged-in clients in one selector loop, counting each message's deliveries."""

    def __init__(self, port, names):
        self.sel = selectors.DefaultSelector()
        self.socks, self.bufs = {}, {}
        self.delivered = 0
        self.latencies = []
        for name in names:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.socks[name] = s
            self.bufs[s] = b""
            self.sel.register(s, selectors.EVENT_READ)
        self.welcomed = 0
        for name, s in self.socks.items():
            s.sendall(frame(b"L", name.encode(), b"pw-" + name.encode()))
        self.pump_until(lambda: self.welcomed == len(names), LOGIN_DEADLINE)

    def on_frame(self, payload, now):
        if payload[:1] == b"M":
            sent = int(payload.rsplit(b"\0", 1)[1])
            self.latencies.append(now - sent)
            self.delivered += 1
        elif payload[:1] == b"C" and b"\0welcome\0" in payload:
            self.welcomed += 1

    def pump_until(self, done, timeout):
        end = time.monotonic() + timeout
        while not done():
            if time.monotonic() > end:
                raise RuntimeError("deliveries did not complete in time")
            for key, _ in self.sel.select(0.5):
                chunk = key.fileobj.recv(1 << 18)
                if not chunk:
                    raise RuntimeError("the server closed a client's connection")
                now = time.monotonic_ns()
                buf = self.bufs[key.fileobj] + chunk
                while len(buf) >= 4:
                    n = struct.unpack_from(">I", buf)[0]
                    if len(buf) < 4 + n:
                        break
                    self.on_frame(buf[4:4 + n], now)
                    buf = buf[4 + n:]
                self.bufs[key.fileobj] = buf

    def round(self):
        n = len(self.socks)
        target = self.delivered + n * (n - 1)
        for s in self.socks.values():
            s.sendall(frame(b"M", str(time.monotonic_ns()).encode()))
        self.pump_until(lambda: self.delivered >= target, ROUND_DEADLINE)

    def close(self):
        for s in self.socks.values():
            s.close()
        self.sel.close()


def measure(cmd, port, names, rounds, log):
    """Start CMD, run the rounds; return (deliveries per second, p99 latency in ms)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    try:
        wait_listening(port, proc)
        clients = Clients(port, names)
        try:
            clients.round()   # warm-up, not measured
            clients.delivered, clients.latencies = 0, []
            t0 = time.monotonic()
            for _ in range(rounds):
                clients.round()
            elapsed = time.monotonic() - t0
        finally:
            clients.close()
        lat = sorted(clients.latencies)
        return clients.delivered / elapsed, lat[int(0.99 * (len(lat) - 1))] / 1e6
    finally:
        stop(proc)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--rounds", type=int, default=40)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    server = build()
    names = [f"u{k:03d}" for k in range(args.clients)]
    with tempfile.TemporaryDirectory() as tmp:
        users = os.path.join(tmp, "users.txt")
        with open(users, "w") as f:
            for name in names:
                salt = os.urandom(16)
                digest = hashlib.pbkdf2_hmac("sha256", f"pw-{name}".encode(), salt, 1000)
                f.write(f"{name}:pbkdf2-sha256:1000:{salt.hex()}:{digest.hex()}\n")
        peers = {
            "pyrelay": lambda port: [PYTHON, os.path.join(HERE, "pyrelay.py"), str(port)],
            "chatserver": lambda port: [server, "--users", users, "--port", str(port),
                                        "--max-clients", str(args.clients + 10),
                                        # every client connects before any logs in
                                        "--max-pending", str(args.clients + 10)],
        }
        best = {name: (0.0, float("inf")) for name in peers}
        with open(os.path.join(tmp, "servers.log"), "wb") as log:
            for run in range(args.runs):
                for name, cmd in peers.items():
                    port = free_port()
                    rate, p99 = measure(cmd(port), port, names, args.rounds, log)
                    print(f"run {run + 1} {name:10} {rate:10,.0f} deliveries/s  p99 {p99:7.2f} ms",
                          flush=True)
                    if rate > best[name][0]:
                        best[name] = (rate, p99)
    per_run = args.clients * (args.clients - 1) * args.rounds
    print(f"\nfan-out: {args.clients} clients, {args.rounds} rounds of one message each "
          f"({per_run:,} deliveries a run), best of {args.runs}")
    print(f"{'':12} {'deliveries/s':>14} {'p99 latency':>12}")
    for name, (rate, p99) in best.items():
        print(f"{name:12} {rate:14,.0f} {p99:9.2f} ms")
    (cr, cp), (pr, pp) = best["chatserver"], best["pyrelay"]
    print(f"\nchatserver against pyrelay: {cr / pr:.2f}x the deliveries per second, "
          f"{cp / pp:.2f}x the p99 latency")
    return 0


if __name__ == "__main__":
    sys.exit(main())
