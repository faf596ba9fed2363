"""What the heartbeat cases share: the wire format, a scripted client that
answers heartbeats in the background, and the capture checks."""

import re
import threading
import time

from gradertiming import schedule_misses

INTERVAL_MS = 100       # the grader's -i: short, so that cases stay quick
MISSES = 3              # the grader's -m
QUIET_INTERVAL_MS = 5000  # for cases about messages, where heartbeats would only get in the way
TOLERANCE = 0.20        # heartbeats may leave 20% of an interval early or (most of them) late
GRADER_LATE_MS = 100    # the grader held back longer than this (one interval): an attempt is not judged

HB_RE = re.compile(rb"^HB (\d+)\n$")
HBACK_RE = re.compile(rb"^HBACK (\d+)\n$")


def start_server(case, interval=INTERVAL_MS, misses=MISSES, stdin=None, port=None):
    """Start hbserver on PORT (the case's port) and wait until it listens."""
    port = case.port if port is None else port
    server = case.start("hbserver", "-i", interval, "-m", misses, port, stdin=stdin)
    case.wait_bound(server, port, "tcp")
    return server


class Responder:
    """A scripted client's reader in a thread: answers every HB at once (unless
    silent; only the first ANSWERS of them when given) and keeps every other
    line it receives, with its time."""

    def __init__(self, case, conn, silent=False, answers=None):
        self.case = case
        self.conn = conn
        self.silent = silent
        self.answers = answers
        self.heartbeats = []      # (seq, monotonic time)
        self.lines = []           # other lines, in order
        self.ended = None         # "eof", "reset" when the server closed
        self.cond = threading.Condition()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"responder-{conn.label}")
        self.thread.start()

    def _run(self):
        while not self.stopping:
            got = self.conn.recv_until(b"\n", timeout=0.05, limit=4096, quiet=True)
            with self.cond:
                if got.how in ("eof", "reset"):
                    self.ended = got.how
                    self.cond.notify_all()
                    return
                if got.how != "delimiter":
                    continue
                m = HB_RE.match(got.data)
                if m:
                    self.heartbeats.append((int(m.group(1)), time.monotonic()))
                else:
                    self.lines.append(got.data)
                self.cond.notify_all()
            if m and not self.silent and (self.answers is None or len(self.heartbeats) <= self.answers):
                self.conn.send(b"HBACK " + m.group(1) + b"\n", note=f"'HBACK {int(m.group(1))}'")

    def wait(self, predicate, timeout):
        """Wait until predicate(self) holds (or the connection ended); return it."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0 or self.ended:
                    return predicate(self)
                self.cond.wait(left)
            return True

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        seqs = [s for s, _ in self.heartbeats]
        if self.silent:
            how = " (never answered)"
        elif self.answers is not None:
            how = f", answering the first {self.answers} at once and no other"
        else:
            how = ", answering each at once"
        self.case.step(f"{self.conn.label} received HB {_ranges(seqs)}{how}"
                       f"{'; then the server closed the connection' if self.ended else ''}")


def _ranges(seqs):
    if not seqs:
        return "nothing"
    if seqs == list(range(seqs[0], seqs[-1] + 1)):
        return f"{seqs[0]}..{seqs[-1]} ({len(seqs)})"
    return ", ".join(map(str, seqs))


def expect_consecutive(case, seqs, who):
    """Heartbeat numbers must run 1, 2, 3, ... on each connection."""
    if seqs != list(range(1, len(seqs) + 1)):
        case.fail(f"the heartbeats {who} received are not numbered 1, 2, 3, …",
                  expected="HB 1, HB 2, HB 3, … one per interval", saw=", ".join(map(str, seqs[:12])),
                  hint="number each connection's heartbeats from 1, one more each time")


def connection_from(case, local, port=None):
    """The captured connection to PORT (the case's) whose originator is the
    scripted client at LOCAL (addr:port)."""
    for c in case.tcp_connections(port):
        if f"{c['orig']['addr']}:{c['orig']['port']}" == local:
            return c
    case.fail(f"the capture has no connection from {local}")


def connection_to(case, port):
    """The last captured connection to PORT (where a client case's final attempt listened)."""
    conns = case.tcp_connections(port)
    if not conns:
        case.fail(f"the capture has no connection to port {port}")
    return conns[-1]


def only_connection(case):
    """The one captured connection to the case's port (a client case makes one)."""
    conns = case.tcp_connections()
    if len(conns) != 1:
        case.fail("the capture does not show exactly one connection to the scripted server",
                  expected="1 TCP connection", saw=f"{len(conns)} connections")
    return conns[0]


def expect_schedule(case, conn_verdict, interval_ms=INTERVAL_MS):
    """The server's heartbeats on one captured connection keep its own
    schedule: the first INTERVAL_MS after the connection, then one every
    INTERVAL_MS.  Each is judged against that schedule (or one interval
    after the heartbeat before it, whichever is kinder), never against the
    heartbeat before alone: on a loaded machine one late heartbeat must not
    make the next one look early."""
    hb = conn_verdict.get("heartbeats") or {}
    times = [e["request"] for e in hb.get("events", []) if e.get("request") is not None]
    if len(times) < 4:
        case.fail("the capture shows too few heartbeats to judge their schedule",
                  expected="at least 4 heartbeats", saw=f"{hb.get('requests', 0)} heartbeat(s)")
    interval, tol = interval_ms / 1000, TOLERANCE * interval_ms / 1000
    early, late = schedule_misses(times, conn_verdict["start"], interval, tol)
    offsets = ", ".join(f"{(t - conn_verdict['start']) * 1000:.0f}" for t in times)
    case.step(f"capture: heartbeats {offsets} ms after the connection began")
    if early:
        k, by = early[0]
        case.fail(f"heartbeat {k} in the capture left {by * 1000:.0f} ms before it was due",
                  expected=f"heartbeat k no earlier than k × {interval_ms} ms after the connection, nor "
                           f"than {interval_ms} ms after heartbeat k-1 (-i {interval_ms}; 20% slack)",
                  saw=f"heartbeats {offsets} ms after the connection",
                  hint="time heartbeats with a monotonic clock and the -i option: due += interval, then "
                       "sleep until the earliest due time")
    if late > tol:
        case.fail("most heartbeats in the capture left late for the interval asked for",
                  expected=f"heartbeat k at k × {interval_ms} ms after the connection, or {interval_ms} ms "
                           f"after heartbeat k-1, within 20% (-i {interval_ms})",
                  saw=f"heartbeats {offsets} ms after the connection: the median one "
                      f"{late * 1000:.0f} ms late",
                  hint="time heartbeats with a monotonic clock and the -i option, not a fixed sleep "
                       "after some other work")
