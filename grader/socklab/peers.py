"""Scripted peers: the other end of the student's program.

Peers are plain sockets driven step by step from the test, every step
recorded in the case's trace, every wait bounded by a deadline.  They can send
in chunks or byte by byte, close with FIN or with RST, and (UDP) drop or delay
datagrams from a seeded random generator so that a run can be replayed.
"""

import heapq
import random
import select
import socket
import struct
import threading
import time
from collections import namedtuple

from .feedback import show_bytes

Received = namedtuple("Received", "data how")   # how: delimiter, eof, reset, timeout, limit

DEFAULT_TIMEOUT = 5.0
RECV_LIMIT = 16 << 20


def scripted(label):
    """'scripted LABEL', once: a label may say 'scripted' already."""
    return label if label.startswith("scripted ") else f"scripted {label}"


def _addr_text(addr):
    host, port = addr[0], addr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class TcpConn:
    """One TCP connection of a scripted peer."""

    def __init__(self, sock, trace, label):
        self.sock = sock
        self.trace = trace
        self.label = label
        self.pending = b""          # received past the last delimiter
        self.eof = False
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.local = _addr_text(sock.getsockname())   # kept: still known after close()

    def send(self, data, chunk=None, pace=0.0, note=None):
        """Send DATA, optionally CHUNK bytes at a time with PACE s between chunks.

        The pause shapes the traffic (each chunk leaves as its own segment, so
        the receiver sees partial reads); nothing waits on it for correctness."""
        size = chunk or len(data) or 1
        pieces = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
        try:
            for i, piece in enumerate(pieces):
                if i and pace:
                    time.sleep(pace)
                self.sock.sendall(piece)
        except OSError as e:
            self.trace.step(f"{self.label}: sending failed after part of the data: {e.strerror}")
            return False
        how = f" in {len(pieces)} pieces of {size} bytes" if len(pieces) > 1 else ""
        self.trace.step(f"{self.label} sent {len(data)} bytes{how}: {note or show_bytes(data)}")
        return True

    def _fill(self, deadline):
        """Receive more bytes into self.pending; return a reason when no more can come."""
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        ready, _, _ = select.select([self.sock], [], [], left)
        if not ready:
            return "timeout"
        try:
            chunk = self.sock.recv(1 << 18)
        except ConnectionResetError:
            return "reset"
        except OSError:
            return "reset"
        if not chunk:
            self.eof = True
            return "eof"
        self.pending += chunk
        return None

    def recv_until(self, delimiter=b"\n", timeout=DEFAULT_TIMEOUT, limit=RECV_LIMIT, what=None,
                   quiet=False):
        """Receive up to and including DELIMITER; return Received(data, how).
        QUIET: no trace step, and a timeout keeps what was received pending
        (for polling loops that trace a summary of their own)."""
        deadline = time.monotonic() + timeout
        while True:
            idx = self.pending.find(delimiter)
            if idx >= 0:
                end = idx + len(delimiter)
                data, self.pending = self.pending[:end], self.pending[end:]
                return self._got(Received(data, "delimiter"), what, quiet=quiet)
            if len(self.pending) >= limit:
                data, self.pending = self.pending, b""
                return self._got(Received(data, "limit"), what, quiet=quiet)
            reason = "eof" if self.eof else self._fill(deadline)
            if reason == "timeout" and quiet:
                return Received(b"", "timeout")
            if reason:
                data, self.pending = self.pending, b""
                return self._got(Received(data, reason), what, timeout, quiet)

    def recv_exact(self, n, timeout=DEFAULT_TIMEOUT, what=None, limit=RECV_LIMIT):
        """Receive exactly N bytes, or fewer with the reason they stopped; N
        over LIMIT: LIMIT bytes, how 'limit' (a program announced more than
        any case reads)."""
        deadline = time.monotonic() + timeout
        want = min(n, limit)
        while len(self.pending) < want:
            reason = "eof" if self.eof else self._fill(deadline)
            if reason:
                data, self.pending = self.pending, b""
                return self._got(Received(data, reason), what, timeout)
        data, self.pending = self.pending[:want], self.pending[want:]
        return self._got(Received(data, "delimiter" if want == n else "limit"), what)

    def recv_to_eof(self, timeout=DEFAULT_TIMEOUT, what=None, limit=RECV_LIMIT):
        """Receive everything until the other side closes; how is 'eof' on
        success, 'limit' after LIMIT bytes (the rest is not read)."""
        deadline = time.monotonic() + timeout
        while True:
            reason = "eof" if self.eof else self._fill(deadline)
            if not reason and len(self.pending) >= limit:
                reason = "limit"
            if reason:
                data, self.pending = self.pending, b""
                return self._got(Received(data, reason), what, timeout)

    def _got(self, rec, what, timeout=None, quiet=False):
        if quiet:
            return rec
        label = what or "data"
        ending = {"delimiter": "", "eof": ", then end of stream (FIN)",
                  "reset": ", then the connection was reset (RST)",
                  "timeout": f", then nothing more for {timeout} s",
                  "limit": f" (response too large: the grader stopped reading after {len(rec.data)} bytes)"}[
                      rec.how]
        self.trace.step(f"{self.label} received {label}: {show_bytes(rec.data)}{ending}")
        return rec

    def shutdown_write(self):
        """Half-close: send FIN, keep reading."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self.trace.step(f"{self.label} closed its sending side (FIN)")
        except OSError as e:
            self.trace.step(f"{self.label}: shutdown failed: {e.strerror}")

    def close(self):
        """Orderly close (FIN)."""
        if self.sock.fileno() >= 0:
            self.sock.close()
            self.trace.step(f"{self.label} closed the connection (FIN)")

    def reset(self):
        """Abort the connection with an RST (SO_LINGER with a zero timeout)."""
        if self.sock.fileno() >= 0:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
            self.trace.step(f"{self.label} aborted the connection (RST)")

    def discard(self):
        """Close without a trace step (cleanup at the end of a case)."""
        if self.sock.fileno() >= 0:
            self.sock.close()


class TcpListener:
    """A scripted TCP server socket."""

    def __init__(self, trace, port, host="127.0.0.1", label="server"):
        self.trace = trace
        self.label = label
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        trace.step(f"{scripted(label)} listening on {_addr_text((host, self.port))}")

    def accept(self, timeout=DEFAULT_TIMEOUT, while_true=None):
        """Accept one connection within TIMEOUT s; None if none came.  With
        WHILE_TRUE (e.g. "the client is still running"), stop waiting as soon
        as it turns false and no connection is pending."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.sock], [], [], max(0.0, min(left, 0.05)))
            if ready:
                break
            if left <= 0 or (while_true is not None and not while_true()):
                gave_up = "" if left <= 0 else " (and the program it waited for had ended)"
                self.trace.step(f"{scripted(self.label)}: no connection within "
                                f"{timeout - max(left, 0):.1f} s{gave_up}")
                return None
        sock, addr = self.sock.accept()
        conn = TcpConn(sock, self.trace, self.label)
        self.conns.append(conn)
        self.trace.step(f"{scripted(self.label)} accepted a connection from {_addr_text(addr)}")
        return conn

    def close(self):
        for conn in self.conns:
            conn.discard()
        self.sock.close()


def tcp_connect(trace, port, host="127.0.0.1", timeout=DEFAULT_TIMEOUT, label="client"):
    """Connect a scripted client; return (TcpConn, None) or (None, error text)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except OSError as e:
        sock.close()
        text = e.strerror or str(e)
        trace.step(f"{scripted(label)}: connect to {_addr_text((host, port))} failed: {text}")
        return None, text
    sock.settimeout(None)
    conn = TcpConn(sock, trace, label)
    trace.step(f"{scripted(label)} connected from {conn.local} to {_addr_text((host, port))}")
    return conn, None


class UdpPeer:
    """A scripted UDP socket (server when given a port, client otherwise)."""

    def __init__(self, trace, port=0, host="127.0.0.1", label="peer"):
        self.trace = trace
        self.label = label
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        if port:
            trace.step(f"{scripted(label)} bound to UDP {_addr_text((host, self.port))}")

    def sendto(self, data, addr):
        self.sock.sendto(data, addr)
        self.trace.step(f"{self.label} sent a datagram to {_addr_text(addr)}: {show_bytes(data)}")

    def recv(self, timeout=DEFAULT_TIMEOUT, what="a datagram"):
        """One datagram within TIMEOUT s: (data, addr), or None."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            self.trace.step(f"{self.label}: no datagram within {timeout} s")
            return None
        data, addr = self.sock.recvfrom(1 << 16)
        self.trace.step(f"{self.label} received {what} from {_addr_text(addr)}: {show_bytes(data)}")
        return data, addr

    def close(self):
        self.sock.close()


class UdpServerPeer:
    """A UDP server in a thread that answers with reply(data), dropping or
    delaying datagrams as a seeded generator decides; it logs every decision.

    With PLAN, a schedule decides instead: plan(n, data) for the n-th datagram
    received (from 1) returns the datagrams to send back to its sender, as a
    list of (delay in s, payload), payload None meaning reply(data).  An empty
    list drops the datagram, two entries duplicate the reply, a payload of
    one's own corrupts it, and a delay longer than the client waits makes it
    late.  Delayed replies wait in a queue, so the server keeps receiving
    meanwhile, and replies due at the same time leave in the plan's order.
    Then `received` holds (monotonic time, data, addr) of every datagram that
    came and `sent` the same of every datagram sent back."""

    def __init__(self, trace, port, reply, host="127.0.0.1", seed=1, drop=0.0,
                 delay=0.0, drop_first=0, label="scripted UDP server", plan=None):
        self.peer = UdpPeer(trace, port, host, label)
        self.trace = trace
        self.reply = reply
        self.rng = random.Random(seed)
        self.drop = drop
        self.delay = delay
        self.drop_first = drop_first
        self.plan = plan
        self.log = []               # (data, addr, "answered"|"dropped")
        self.received = []          # with a plan: (monotonic time, data, addr)
        self.sent = []              # with a plan: (monotonic time, payload, addr)
        self._due = []              # with a plan: heap of (time, order, payload, addr)
        self.stopping = threading.Event()
        target = self._serve if plan is None else self._serve_plan
        self.thread = threading.Thread(target=target, daemon=True, name="socklab-udp-peer")
        self.thread.start()

    def _serve_plan(self):
        order = 0
        while not self.stopping.is_set():
            wait = 0.05 if not self._due else min(0.05, max(0.0, self._due[0][0] - time.monotonic()))
            ready, _, _ = select.select([self.peer.sock], [], [], wait)
            if ready:
                data, addr = self.peer.sock.recvfrom(1 << 16)
                now = time.monotonic()
                self.received.append((now, data, addr))
                n = len(self.received)
                answers = self.plan(n, data)
                self.log.append((data, addr, "answered" if answers else "dropped"))
                self.trace.step(f"{self.peer.label} received datagram {n} from {_addr_text(addr)}: "
                                f"{show_bytes(data)}{'' if answers else ', and dropped it'}")
                for delay, payload in answers:
                    heapq.heappush(self._due, (now + delay, order,
                                               self.reply(data) if payload is None else payload, addr))
                    order += 1
            self._send_due()

    def _send_due(self):
        while self._due and self._due[0][0] <= time.monotonic():
            _, _, payload, addr = heapq.heappop(self._due)
            try:
                self.peer.sock.sendto(payload, addr)
            except OSError as e:
                self.trace.step(f"{self.peer.label}: sending to {_addr_text(addr)} failed: {e.strerror}")
                continue
            self.sent.append((time.monotonic(), payload, addr))
            self.trace.step(f"{self.peer.label} sent {show_bytes(payload)} to {_addr_text(addr)}")

    def _serve(self):
        while not self.stopping.is_set():
            ready, _, _ = select.select([self.peer.sock], [], [], 0.05)
            if not ready:
                continue
            data, addr = self.peer.sock.recvfrom(1 << 16)
            dropped = len(self.log) < self.drop_first or self.rng.random() < self.drop
            self.log.append((data, addr, "dropped" if dropped else "answered"))
            if dropped:
                self.trace.step(f"{self.peer.label} dropped datagram {len(self.log)}: {show_bytes(data)}")
                continue
            if self.delay:
                time.sleep(self.delay)   # the scenario: a slow server
            self.peer.sock.sendto(self.reply(data), addr)
            self.trace.step(f"{self.peer.label} answered datagram {len(self.log)}: {show_bytes(data)}")

    def close(self):
        self.stopping.set()
        self.thread.join(2)
        self.peer.close()
