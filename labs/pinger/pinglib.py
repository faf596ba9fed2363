"""What the pinger cases share: the datagram formats, the schedule the
scripted server follows and the transcript pinger must print for it, the
statistics, the capture checks, and the scripted clients of pingserver and
hbserver.

The pinger cases follow one idea: the scripted server answers each ping as
a schedule says (after a delay, never, too late, twice, damaged), and the
schedule keeps every event far from the edges of the timeouts.  So the
grader knows, before pinger runs, exactly which line it must print for each
ping and in which order, and checks them one by one.
"""

import ipaddress
import math
import random
import re
import select
import struct
import time

from socklab.feedback import NotChecked, show_bytes

from gradertiming import GraderLate, attempt_port, judged, probe

TIMEOUT_MS = 300        # the grader's -W: short, so cases stay quick
MARGIN_MS = 100         # no scheduled event comes closer than this to a timeout
SLACK_MS = 80           # how much longer than the timeout pinger may wait
EARLY_MS = 2            # how much earlier than the timeout it may give up
RTT_SLACK_MS = 25       # pinger's RTT may exceed the capture's by this + 10% (a busy machine)
GRADER_LATE_MS = MARGIN_MS // 2   # a scripted datagram this much later than its schedule: not judged

PING_RE = re.compile(rb"^Ping ([1-9][0-9]*) ([1-9][0-9]*)\Z")
HEARTBEAT_RE = re.compile(rb"^Heartbeat ([1-9][0-9]*) ([1-9][0-9]*)\Z")


# --- the schedule ---------------------------------------------------------

class Fate:
    """What the scripted server does with one ping.

    kind: "ok" (reply after delay ms), "lost" (no reply), "late" (reply
    delay ms after the ping's timeout, while a later ping waits), "dup" (the
    reply twice, back to back), "corrupt" (a damaged datagram, then the
    reply), "corrupt-only" (a damaged datagram and no reply)."""

    def __init__(self, kind, delay=0, how=None):
        self.kind = kind
        self.delay = delay
        self.how = how

    def times_out(self):
        return self.kind in ("lost", "late", "corrupt-only")

    def text(self, timeout_ms):
        return {"ok": f"reply after {self.delay} ms",
                "lost": "request dropped, no reply",
                "late": f"reply {timeout_ms + self.delay} ms after the ping, "
                        f"{self.delay} ms after its timeout",
                "dup": f"reply after {self.delay} ms, and the same reply again right behind it",
                "corrupt": f"a damaged datagram ({self.how}) then the reply, after {self.delay} ms",
                "corrupt-only": f"only a damaged datagram ({self.how}) after {self.delay} ms, "
                                "no reply"}[self.kind]


def ok(delay=0):
    return Fate("ok", delay)


def lost():
    return Fate("lost")


def late(delay):
    return Fate("late", delay)


def dup(delay=0):
    return Fate("dup", delay)


def corrupt(delay, how):
    return Fate("corrupt", delay, how)


def corrupt_only(delay, how):
    return Fate("corrupt-only", delay, how)


CORRUPTIONS = ("time digit", "unknown seq", "truncated", "garbage", "earlier seq", "too long")


def damage(reply, seq, how):
    """The reply to ping SEQ (b"PING seq time"), damaged the way HOW says."""
    _, _, t = reply.split(b" ")
    if how == "time digit":         # the time no ping carried
        last = t[-1:]
        return reply[:-1] + (b"1" if last != b"1" else b"2")
    if how == "unknown seq":        # a ping never sent
        return b"PING %d %s" % (seq + 1000, t)
    if how == "truncated":          # cut short
        return reply[:-4]
    if how == "garbage":
        return b"\xff\x00PONG?" + bytes(range(7, 27))
    if how == "earlier seq":        # an earlier ping's number with this ping's time
        return b"PING %d %s" % (seq - 1, t)
    if how == "too long":           # the reply, then junk: longer than any datagram of the lab
        return reply + b" " + b"0" * 80
    raise ValueError(how)


def random_fates(seed, count, timeout_ms=TIMEOUT_MS):
    """A seeded random schedule of COUNT pings built from blocks that keep
    every stray datagram inside some ping's wait, away from its edges."""
    rng = random.Random(seed)
    fates = []
    while len(fates) < count:
        left = count - len(fates)
        block = rng.choice(["ok", "ok", "ok", "lost", "late", "reorder", "dup", "corrupt",
                            "corrupt-only"])
        small = lambda: rng.choice([0, 2, 5, 10, 20, 40, 60])  # noqa: E731
        stray = lambda: rng.choice([120, 150, 180]) * timeout_ms // 300  # noqa: E731
        if block == "late" and left >= 2:
            fates += [late(stray()), lost()]
        elif block == "reorder" and left >= 3:
            fates += [late(stray()), ok(rng.choice([0, 2, 5])), lost()]
        elif block == "dup" and left >= 2:
            fates.append(dup(small()))
        elif block == "corrupt":
            hows = [h for h in CORRUPTIONS if h != "earlier seq" or fates]
            fates.append(corrupt(small(), rng.choice(hows)))
        elif block == "corrupt-only":
            fates.append(corrupt_only(small(), rng.choice(CORRUPTIONS[:4])))
        elif block == "lost":
            fates.append(lost())
        else:
            fates.append(ok(small()))
    return fates


class Expected:
    """One line pinger must print: kind (header, reply, timeout, late, dup,
    corrupt), the ping's seq, and the datagram's length."""

    def __init__(self, kind, seq=None, nbytes=None):
        self.kind = kind
        self.seq = seq
        self.nbytes = nbytes


def transcript(fates, timeout_ms, reply_of=lambda seq: b"PING %d 1" % seq):
    """The event lines pinger must print for FATES, in order (its header and
    statistics apart), and when the last ping ends (ms).  Each ping leaves
    when the one before it ended (reply or timeout); every stray datagram
    must come inside a later ping's wait, MARGIN_MS away from its edges, or
    the schedule is a grader bug.  reply_of(seq): the reply to ping seq."""
    T = timeout_ms
    events = []         # (time ms, order, Expected)
    windows = []        # (start, end) of each ping's wait
    t = 0.0
    for seq, f in enumerate(fates, 1):
        start = t
        n = len(reply_of(seq))
        if f.kind in ("corrupt", "corrupt-only"):
            bad = len(damage(reply_of(seq), seq, f.how))
            events.append((start + f.delay, len(events), Expected("corrupt", seq, bad)))
        if f.times_out():
            events.append((start + T, len(events), Expected("timeout", seq)))
            t = start + T
        else:
            events.append((start + f.delay, len(events), Expected("reply", seq, n)))
            t = start + f.delay
        if f.kind == "late":
            events.append((start + T + f.delay, len(events), Expected("late", seq, n)))
        if f.kind == "dup":
            events.append((start + f.delay, len(events), Expected("dup", seq)))
        windows.append((start, t))
    end = t
    for when, _, e in events:
        if e.kind == "late":
            inside = [w for w in windows if w[0] + MARGIN_MS <= when <= w[1] - MARGIN_MS]
            assert inside, f"schedule error: the late reply to ping {e.seq} lands near a timeout"
        if e.kind in ("dup",):
            assert e.seq < len(fates), "schedule error: a duplicate after the last ping"
    assert all(when <= end for when, _, _ in events), "schedule error: a datagram after the last ping"
    events.sort(key=lambda ev: (ev[0], ev[1]))
    return [e for _, _, e in events], end


# --- the scripted server --------------------------------------------------

class PingRun:
    """pinger against a scripted server that follows FATES."""

    def __init__(self, case, fates, timeout_ms=TIMEOUT_MS, host="127.0.0.1"):
        self.case = case
        self.fates = fates
        self.count = len(fates)
        self.timeout_ms = timeout_ms
        self.host = host
        self.port = case.port
        self.client = None
        self.server = None
        self._rtts = None

    @property
    def addr(self):
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def _plan(self, n, data):
        m = PING_RE.match(data)
        self.read_lag.append(time.time() * 1000 - int(m.group(2)) / 1000 if m else 0.0)
        if not m or int(m.group(1)) != n or n > self.count:
            self.bad_requests.append((n, data))
            return []
        seq = n
        self.seen[seq] = data
        f = self.fates[seq - 1]
        reply = data.upper()
        if f.kind == "ok":
            answers = [(f.delay / 1000, None)]
        elif f.kind == "late":
            answers = [((self.timeout_ms + f.delay) / 1000, None)]
        elif f.kind == "dup":
            answers = [(f.delay / 1000, None), (f.delay / 1000, None)]
        elif f.kind == "corrupt":
            answers = [(f.delay / 1000, damage(reply, seq, f.how)), (f.delay / 1000, None)]
        elif f.kind == "corrupt-only":
            answers = [(f.delay / 1000, damage(reply, seq, f.how))]
        else:
            answers = []
        came = self.server.received[-1][0]
        self.due += [(came + delay, len(self.due), n, delay) for delay, _ in answers]
        return answers

    def run(self, check=None):
        """Start the scripted server and pinger; wait for pinger to end.  An
        attempt where the scripted server itself was late (so that its
        datagrams may have come near a timeout, where the schedule promised
        they would not) is run again on a fresh port.  CHECK(self, datagrams)
        judges each attempt from the capture while it still runs (the
        datagrams of this attempt, as udp_datagrams() gives them); it may
        raise GraderLate too."""
        self.check = check
        case = self.case
        case.step(f"the scripted server's schedule for {self.count} pings (pinger -W {self.timeout_ms}):")
        for seq, f in enumerate(self.fates, 1):
            case.step(f"    ping {seq}: {f.text(self.timeout_ms)}")
        rc = judged(case, self._attempt, tolerance_ms=None)
        if check is not None and not self.checked:
            # The capture did not show the attempt while it ran: judge it from
            # the whole capture (no capture here: not checked).
            mine = [d for d in udp_datagrams_of(case) if self.port in (d[1][1], d[2][1])]
            try:
                check(self, mine)
            except GraderLate as e:
                raise NotChecked(f"could not judge: {e}") from e
        return rc

    def _attempt(self, attempt):
        case = self.case
        self.port = attempt_port(case, attempt)
        self.seen = {}          # seq -> the ping's datagram
        self.bad_requests = []  # datagrams that were no ping, or out of turn
        self.due = []           # when each scripted datagram was due (monotonic)
        self.read_lag = []      # ms from the time each ping carried to when it was read
        self._rtts = None
        if self.server is not None:
            self.server.close()
        self.server = case.udp_server(lambda d: d.upper(), port=self.port, host=self.host, plan=self._plan)
        clocks = time.time() - time.monotonic()
        self.client = case.start("pinger", self.host, self.port, "-c", self.count, "-W", self.timeout_ms)
        _, end_ms = transcript(self.fates, self.timeout_ms)
        limit = end_ms / 1000 + 3
        rc = self.client.wait_exit(limit)
        datagrams = self.live_datagrams()
        stepped = 1000 * abs(time.time() - time.monotonic() - clocks)
        if stepped > 5 + 0.01 * end_ms:
            # The capture's times are of the wall clock: set meanwhile, they
            # are not the times pinger measured with its monotonic clock.
            raise GraderLate(f"the system's wall clock was set by {stepped:.0f} ms during the run")
        self._expect_grader_on_time(datagrams)
        if rc is None:
            self._fail_still_running(limit)
        case.step(f"pinger {self.client.status_text()}")
        self.check_requests()
        self.checked = self.check is not None and datagrams is not None
        if self.checked:
            self.check(self, datagrams)
        return rc

    def live_datagrams(self, timeout=2.0):
        """This attempt's datagrams from the capture as it runs (it writes
        each batch at once): every datagram the scripted server received and
        sent; None without a capture, or when they do not all show in time."""
        if not self.case.iso.can_capture:
            return None
        deadline = time.monotonic() + timeout
        while True:
            try:
                mine = [d for d in udp_datagrams(self.case.capture.path) if self.port in (d[1][1], d[2][1])]
            except (OSError, ValueError, struct.error):
                mine = []
            came = sum(1 for d in mine if d[2][1] == self.port)
            left = sum(1 for d in mine if d[1][1] == self.port)
            if came >= len(self.server.received) and left >= len(self.server.sent):
                return mine
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)   # polling the capture file for the condition, with a deadline

    def _expect_grader_on_time(self, datagrams):
        """Raise GraderLate when a scripted datagram left more than
        GRADER_LATE_MS after it was due: after the ping it answers, on the
        wire (DATAGRAMS, from the capture), or as the grader's clock saw it."""
        planned = sorted(self.due)
        if datagrams is not None:
            pings = [t for t, _, dst, _ in datagrams if dst[1] == self.port]
            left = [t for t, src, _, _ in datagrams if src[1] == self.port]
            late = [t - (pings[n - 1] + delay) for t, (_, _, n, delay) in zip(left, planned)]
        else:
            # No capture: the grader's own times; a ping read late (the time it
            # carries says when it left) delays everything planned from it.
            sent = [t for t, _, _ in self.server.sent]
            late = [t - due + max(0.0, self.read_lag[n - 1]) / 1000
                    for t, (due, _, n, _) in zip(sent, planned)]
        worst = 1000 * max(late, default=0.0)
        if worst > GRADER_LATE_MS:
            raise GraderLate(f"the scripted server sent a datagram {worst:.0f} ms after it was due "
                             f"(more than {GRADER_LATE_MS} ms)")

    def _fail_still_running(self, limit):
        got = len(self.server.received)
        stuck = self.fates[got - 1] if 0 < got <= self.count else None
        hint = "send the next ping as soon as a reply came or the timeout passed"
        if stuck is not None and stuck.times_out():
            hint = (f"ping {got} got no reply (the server {'dropped it' if stuck.kind == 'lost' else 'answered too late'}):"
                    f" wait for each reply at most TIMEOUT_MS (-W {self.timeout_ms}) with poll() and a "
                    "timeout, then print 'Request timed out' and go on")
        self.case.fail(f"pinger did not finish its {self.count} pings within {limit:.1f} s",
                       expected=f"{self.count} pings, each waiting at most {self.timeout_ms} ms, then the "
                                "statistics and exit",
                       saw=f"the server received {got} ping(s); pinger was still running", hint=hint)

    def check_requests(self):
        """Every datagram pinger sent must be 'Ping <seq> <time>', seq 1, 2, 3, ..."""
        if self.bad_requests:
            n, data = self.bad_requests[0]
            self.case.fail(f"datagram {n} that pinger sent is not 'Ping {n} <time>'",
                           expected=f"'Ping {n} <microseconds of the wall clock>' (no newline), "
                                    "seq counting from 1",
                           saw=show_bytes(data, 72),
                           hint="format each ping with pw_format(buf, size, PW_PING, &msg)")
        got = len(self.server.received)
        if got != self.count:
            self.case.fail(f"pinger sent {got} pings, not {self.count} (-c {self.count})",
                           expected=f"{self.count} datagrams 'Ping <seq> <time>'", saw=f"{got}",
                           hint="send exactly COUNT pings, one at a time")

    # --- what pinger printed --------------------------------------------
    def peer_rtts(self):
        """seq -> ms between ping seq and its first valid reply, as the
        capture saw them on the server's side (the kernel's timestamps); as
        the scripted server measured them when there is no capture."""
        if self._rtts is None:
            try:
                sent = requests_in_capture(self.case, self.port)
                back = [(t, p) for t, src, _, p in udp_datagrams(self.case.capture.path)
                        if src[1] == self.port]
            except NotChecked:
                sent = [(t, d) for t, d, _ in self.server.received]
                back = [(t, d) for t, d, _ in self.server.sent]
            self._rtts = {}
            for t0, data in sent:
                m = PING_RE.match(data)
                if not m or int(m.group(1)) in self._rtts:
                    continue
                first = next((t for t, p in back if t >= t0 and p == data.upper()), None)
                if first is not None:
                    self._rtts[int(m.group(1))] = (first - t0) * 1000
        return self._rtts

    def lines(self):
        return self.client.stdout.bytes().decode("utf-8", "replace").split("\n")

    def check_transcript(self):
        """The header and every event line, in order, with RTTs that fit."""
        exp, _ = transcript(self.fates, self.timeout_ms, lambda s: self.seen[s].upper())
        out = self.lines()
        header = f"PING {self.host} ({self.addr}): {self.count} pings, timeout {self.timeout_ms} ms"
        if not out or out[0] != header:
            self.case.fail("pinger's first line is not its header",
                           expected=repr(header), saw=repr(out[0]) if out and out[0] else "nothing",
                           hint="print 'PING HOST (ADDR:PORT): COUNT pings, timeout T ms' first")
        rtts = self.peer_rtts()
        for i, e in enumerate(exp, 2):
            line = out[i - 1] if i - 1 < len(out) else None
            check_line(self.case, i, line, e, self.addr, rtts, self.fates)
        self.check_rtt_excess(rtts)
        after = out[len(exp) + 1] if len(exp) + 1 < len(out) else ""
        if after != "":
            self.case.fail(f"pinger printed line {len(exp) + 2} where its statistics should begin",
                           expected="an empty line, then '--- HOST ping statistics ---'",
                           saw=repr(after),
                           hint="print exactly one line per ping and per stray datagram (late, duplicate, "
                                "corrupted), nothing else on stdout")

    def check_rtt_excess(self, rtts):
        """Most replies' RTTs are at most RTT_SLACK_MS + 10% longer than the
        capture saw them: pinger's clock reading is what it controls, and a
        mistake in it (another clock, another ping's time, the wrong unit)
        shows in every reply, where a busy machine holds back one or two."""
        printed = self.printed_rtts()
        excess = [(printed[s] - rtts[s], rtts[s]) for s in sorted(printed) if s in rtts]
        if not excess:
            return
        allowed = [RTT_SLACK_MS + 0.1 * peer for _, peer in excess]
        over = [x - a for (x, _), a in zip(excess, allowed)]
        if median(over) > 0:
            seqs = [s for s in sorted(printed) if s in rtts]
            self.case.fail("most RTTs pinger printed are longer than the capture saw them",
                           expected=f"each RTT at most {RTT_SLACK_MS} ms + 10% longer than between the ping and "
                                    "its reply on the wire (for most of the replies)",
                           saw=", ".join(f"seq={s}: {printed[s]:.3f} ms for {rtts[s]:.3f} ms"
                                         for s in seqs[:6]),
                           hint="RTT = monotonic time when the reply came - when the ping left, in "
                                "milliseconds with 3 decimals; take the time as soon as the reply is read")

    def expect_exit_status(self):
        rc = self.client.returncode
        want = 0 if any(not f.times_out() for f in self.fates) else 1
        if rc != want:
            self.case.fail("pinger's exit status is wrong",
                           expected=f"exit status {want} ({'a reply came' if want == 0 else 'no reply came'})",
                           saw=self.client.status_text())

    def statistics_lines(self):
        """The lines after the empty line that ends the pings."""
        out = self.lines()
        for i, line in enumerate(out):
            if line.startswith("--- "):
                return out[i:]
        self.case.fail("pinger printed no statistics",
                       expected=f"'--- {self.host} ping statistics ---' after an empty line",
                       saw=self.client.stdout.tail(5) or "nothing",
                       hint="after the last ping, print the statistics as ping(8) does")

    def check_statistics(self):
        """Counts and loss exact, RTTs consistent with the lines and with the
        server's measurements."""
        case = self.case
        stats = self.statistics_lines()
        head = f"--- {self.host} ping statistics ---"
        if stats[0] != head:
            case.fail("the statistics header is not what ping prints",
                      expected=repr(head), saw=repr(stats[0]))
        received = [s for s, f in enumerate(self.fates, 1) if not f.times_out()]
        sent = self.count
        loss = 100.0 * (sent - len(received)) / sent
        counts = f"{sent} packets transmitted, {len(received)} received, {loss:g}% packet loss"
        line = stats[1] if len(stats) > 1 else ""
        if line != counts:
            hint = None
            m = re.match(r"(\d+) packets transmitted, (\d+) received, ([0-9.e+-]+)% packet loss$", line)
            if m and m.group(1) == str(sent) and m.group(2) == str(len(received)):
                hint = (f"loss = 100 * (transmitted - received) / transmitted, over the {sent} pings sent, "
                        "printed with %g")
            elif m and m.group(2) != str(len(received)):
                hint = ("count only the replies that came within their ping's timeout: late, duplicate "
                        "and corrupted ones are not received pings")
            case.fail("the statistics' counts line is wrong", expected=repr(counts), saw=repr(line),
                      hint=hint)
        rtt_line = stats[2] if len(stats) > 2 else ""
        m = re.match(r"rtt min/avg/max/mdev = (\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3}) ms$",
                     rtt_line)
        if not m:
            case.fail("the statistics have no proper RTT line",
                      expected="'rtt min/avg/max/mdev = a/b/c/d ms', each number with 3 decimals",
                      saw=repr(rtt_line) if rtt_line else "nothing")
        got = dict(zip(("min", "avg", "max", "mdev"), map(float, m.groups())))
        peer = self.peer_rtts()
        ref = [peer[s] for s in received if s in peer]
        printed = self.printed_rtts()
        if sorted(printed) == received:
            vals = [printed[s] for s in received]
            want = summary(vals)
            for k, tol in (("min", 0.0011), ("avg", 0.002), ("max", 0.0011), ("mdev", 0.003)):
                if abs(got[k] - want[k]) > tol:
                    case.fail(f"the statistics' {k} RTT does not match the RTTs pinger printed",
                              expected=f"{k} = {want[k]:.3f} ms (from the {len(vals)} replies' times: "
                                       f"{', '.join(f'{v:.3f}' for v in vals)})",
                              saw=repr(rtt_line), hint=STATS_HINT[k])
        want = summary(ref)
        for k in ("min", "avg", "max"):
            # One reply a busy machine held back moves avg and max: "never shorter" only.
            if not (fits if k == "min" else not_shorter)(got[k], want[k]):
                case.fail(f"the statistics' {k} RTT does not match what the server measured",
                          expected=f"{k} ≈ {want[k]:.3f} ms (pinger's RTT may be up to "
                                   f"{RTT_SLACK_MS} ms + 10% longer, never shorter)" if k == "min" else
                                   f"{k} ≥ {want[k]:.3f} ms (pinger's RTT is never shorter than the capture's)",
                          saw=repr(rtt_line), hint=STATS_HINT[k])

    def printed_rtts(self):
        """seq -> the RTT of each 'bytes from' line pinger printed."""
        rtts = {}
        for line in self.lines():
            m = REPLY_LINE.match(line)
            if m:
                rtts[int(m.group(3))] = float(m.group(4))
        return rtts


STATS_HINT = {
    "min": "the first RTT is the smallest so far: start min from it, not from 0",
    "max": "keep the largest RTT: compare each new one with it",
    "avg": "avg = sum of the RTTs / number of replies in time",
    "mdev": "mdev = sqrt(sum of squares / n - avg * avg), as ping(8) computes it",
}


def summary(vals):
    n = len(vals)
    avg = sum(vals) / n
    var = sum(v * v for v in vals) / n - avg * avg
    return {"min": min(vals), "avg": avg, "max": max(vals), "mdev": math.sqrt(var) if var > 0 else 0.0}


def fits(client_ms, peer_ms):
    """pinger's RTT includes the server's and the way there and back, and a
    busy machine's scheduling: never shorter, not much longer."""
    return not_shorter(client_ms, peer_ms) and client_ms <= peer_ms + RTT_SLACK_MS + 0.1 * peer_ms


def not_shorter(client_ms, peer_ms):
    """pinger's RTT can never be shorter than the time the capture saw (its
    timestamps are of the wall clock, which a machine that sets its clock
    may run up to 1% fast against the monotonic one pinger uses)."""
    return peer_ms - 0.5 - 0.01 * peer_ms <= client_ms


def median(vals):
    """The lower median (more than half of VALS must be above it)."""
    ordered = sorted(vals)
    return ordered[(len(ordered) - 1) // 2]


REPLY_LINE = re.compile(r"^(\d+) bytes from (\S+): seq=(\d+) time=(\d+\.\d{3}) ms$")
LINE_RES = {
    "reply": REPLY_LINE,
    "timeout": re.compile(r"^Request timed out: seq=(\d+)$"),
    "late": re.compile(r"^Late reply from (\S+): seq=(\d+) time=(\d+\.\d{3}) ms \(not counted\)$"),
    "dup": re.compile(r"^Duplicate reply from (\S+): seq=(\d+) \(ignored\)$"),
    "corrupt": re.compile(r"^Corrupted reply from (\S+): (\d+) bytes \(ignored\)$"),
}


def expected_text(e, addr, rtts):
    rtt = f"≈{rtts[e.seq]:.3f}" if e.seq in rtts else "…"
    return {"reply": f"{e.nbytes} bytes from {addr}: seq={e.seq} time={rtt} ms",
            "timeout": f"Request timed out: seq={e.seq}",
            "late": f"Late reply from {addr}: seq={e.seq} time={rtt} ms (not counted)",
            "dup": f"Duplicate reply from {addr}: seq={e.seq} (ignored)",
            "corrupt": f"Corrupted reply from {addr}: {e.nbytes} bytes (ignored)"}[e.kind]


def kind_of(line):
    for kind, rx in LINE_RES.items():
        if rx.match(line):
            return kind
    return None


def line_hint(e, saw_kind, fates):
    f = fates[e.seq - 1]
    if e.kind == "timeout" and saw_kind == "reply":
        return (f"the server never answered ping {e.seq} ({f.text(TIMEOUT_MS)}): a reply counted for it "
                "belongs to another ping, or is damaged. A reply counts only for the ping whose seq AND "
                "time it carries")
    if e.kind == "late":
        return (f"ping {e.seq}'s reply came after its timeout, while a later ping waited: recognise it by "
                "its seq, print 'Late reply … (not counted)', and keep waiting for the current ping")
    if e.kind == "dup":
        return (f"a second reply to ping {e.seq}, already answered: print 'Duplicate reply … (ignored)' "
                "and keep waiting")
    if e.kind == "corrupt":
        return ("a datagram that is not exactly 'PING <seq> <time>' with the seq and time of a ping you "
                f"sent is corrupted (here: {f.how}): print 'Corrupted reply …' and ignore it")
    if e.kind == "timeout":
        return (f"ping {e.seq} got no valid reply: after TIMEOUT_MS print 'Request timed out: seq={e.seq}' "
                "and send the next ping")
    return (f"ping {e.seq}: {f.text(TIMEOUT_MS)}; print one line per ping, in order, as the handout "
            "shows")


def check_line(case, i, line, e, addr, rtts, fates):
    want = expected_text(e, addr, rtts)
    if line is None or line == "":
        case.fail(f"pinger's output ends before line {i}",
                  expected=repr(want), saw="end of output" if line is None else "an empty line",
                  hint=line_hint(e, None, fates))
    m = LINE_RES[e.kind].match(line)
    if not m:
        case.fail(f"line {i} of pinger's output is not what this schedule produces",
                  expected=repr(want), saw=repr(line), hint=line_hint(e, kind_of(line), fates))
    groups = m.groups()
    if e.kind == "corrupt":
        if groups[0] != addr or int(groups[1]) != e.nbytes:
            case.fail(f"line {i} of pinger's output is not what this schedule produces",
                      expected=repr(want), saw=repr(line),
                      hint="name the server as 'ADDR:PORT', and give the whole length of the datagram "
                           "(recv() with MSG_TRUNC returns it even when the buffer is shorter)")
        return
    if e.kind == "timeout":
        seq = int(groups[0])
    elif e.kind == "reply":
        seq = int(groups[2])
    else:
        seq = int(groups[1])
    if seq != e.seq:
        case.fail(f"line {i} of pinger's output is about the wrong ping",
                  expected=repr(want), saw=repr(line), hint=line_hint(e, kind_of(line), fates))
    where = groups[1] if e.kind == "reply" else groups[0] if e.kind != "timeout" else addr
    if where != addr:
        case.fail(f"line {i} names the wrong address", expected=repr(want), saw=repr(line),
                  hint="name the server as 'ADDR:PORT' (IPv6: '[ADDR]:PORT')")
    if e.kind == "reply" and int(groups[0]) != e.nbytes:
        case.fail(f"line {i} gives the wrong size", expected=repr(want), saw=repr(line),
                  hint="the size is the length of the reply datagram")
    if e.kind in ("reply", "late") and e.seq in rtts:
        ms = float(groups[3] if e.kind == "reply" else groups[2])
        # Only "never shorter" line by line: a loaded machine may hold pinger
        # back after one reply came, which is no fault of pinger's
        # (check_rtt_excess() judges how much longer they are, over the run).
        if not not_shorter(ms, rtts[e.seq]):
            case.fail(f"line {i}: the RTT of ping {e.seq} is shorter than the capture saw it",
                      expected=f"{rtts[e.seq]:.3f} ms at least (the ping and its reply on the wire)",
                      saw=repr(line),
                      hint="RTT = monotonic time when the reply came - when the ping left, in "
                           "milliseconds with 3 decimals")


# --- the capture ----------------------------------------------------------

def udp_datagrams(path):
    """Every UDP datagram in the pcap file PATH (what pcapcheck capture
    writes: Ethernet on lo, IPv4 or IPv6), as (seconds, (src, sport),
    (dst, dport), payload)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    endian = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
              b"\xa1\xb2\xc3\xd4": (">", 1e-6), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}.get(magic)
    if endian is None:
        raise ValueError(f"{path}: not a pcap file")
    e, unit = endian
    linktype = struct.unpack(e + "I", data[20:24])[0]
    pos, out = 24, []
    while pos + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(e + "IIII", data[pos:pos + 16])
        pkt = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        d = _udp_of(pkt, linktype)
        if d:
            out.append((sec + frac * unit, *d))
    return out


def _udp_of(pkt, linktype):
    if linktype != 1 or len(pkt) < 14:
        return None
    etype, ip = struct.unpack("!H", pkt[12:14])[0], pkt[14:]
    if etype == 0x0800 and len(ip) >= 20 and ip[9] == 17:
        hl = (ip[0] & 15) * 4
        src, dst, udp = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20]), ip[hl:]
    elif etype == 0x86DD and len(ip) >= 40 and ip[6] == 17:
        src, dst, udp = ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40]), ip[40:]
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    return (str(src), sport), (str(dst), dport), udp[8:ulen]


def udp_datagrams_of(case):
    """Every UDP datagram of the case's capture (stops everything first;
    raises NotChecked without capture rights)."""
    case.verdict()
    return udp_datagrams(case.capture.path)


def requests_in_capture(case, port):
    """(seconds, payload) of every datagram sent to PORT, from the capture."""
    return [(t, p) for t, _, dst, p in udp_datagrams_of(case) if dst[1] == port]


# --- pingserver's generator -------------------------------------------------

MASK = (1 << 64) - 1


def splitmix64(state):
    """(next state, number): the generator pingserver uses (the handout's rule)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def dropped_pings(seed, loss, count):
    """The pings (1..count, in the order they arrive) that pingserver --seed
    SEED --loss LOSS drops."""
    state, out = seed, set()
    for i in range(1, count + 1):
        state, r = splitmix64(state)
        if r % 100 < loss:
            out.add(i)
    return out


def ping_datagram(seq, time_us=None):
    return b"Ping %d %d" % (seq, time_us or int(time.time() * 1e6))


def start_pingserver(case, *options):
    server = case.start("pingserver", *options, case.port)
    case.wait_bound(server, case.port, "udp")
    return server


def collect(peer, until, timeout, what="the replies"):
    """Receive datagrams on PEER until UNTIL(list) holds or TIMEOUT s pass;
    return [(monotonic time, data)] (quietly: the case traces a summary)."""
    got, deadline = [], time.monotonic() + timeout
    while not until(got):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([peer.sock], [], [], left)
        if ready:
            data, _ = peer.sock.recvfrom(1 << 16)
            got.append((time.monotonic(), data))
    peer.trace.step(f"{peer.label} received {len(got)} datagram(s) as {what}")
    return got


# --- UDP heartbeats ---------------------------------------------------------

def heartbeat(seq, backdate_ms=0):
    return b"Heartbeat %d %d" % (seq, int(time.time() * 1e6) - backdate_ms * 1000)


def pace_until(when):
    """Shape the traffic: wait for the moment a scripted datagram is due
    (nothing waits on this for correctness)."""
    left = when - time.monotonic()
    if left > 0:
        time.sleep(left)



def start_hbserver(case, timeout_ms, port=None):
    port = case.port if port is None else port
    server = case.start("hbserver", "--timeout", timeout_ms, port)
    case.wait_bound(server, port, "udp")
    return server


DELAY_HINT = ("the one-way delay is our wall clock (CLOCK_REALTIME) when the heartbeat came minus the time "
              "it carries, in milliseconds")


class HbScript:
    """Scripted hbclients playing a script of heartbeats against hbserver,
    and the report hbserver must print for each of them."""

    SLOT_MS = 20        # one scripted datagram every SLOT_MS: each client's about every 40 ms

    def __init__(self, case, server, timeout_ms, port=None):
        self.case = case
        self.server = server
        self.timeout_ms = timeout_ms
        self.dest = ("127.0.0.1", case.port if port is None else port)
        self.next_slot = time.monotonic()
        self.stopped_at = {}        # label -> monotonic time its "stopped" line was seen

    def client(self, label):
        peer = self.case.udp_peer(label=label)
        peer.addr = f"127.0.0.1:{peer.port}"
        peer.last_before = None     # monotonic time just before its last heartbeat was sent
        peer.last_sent = None       # ... and just after
        peer.lag_ms = {}            # seq -> how long the grader took from the time in it to its send
        return peer

    def _send(self, peer, what, backdate_ms=0):
        pace_until(self.next_slot)
        self.next_slot = max(self.next_slot, time.monotonic()) + self.SLOT_MS / 1000
        if isinstance(what, bytes):
            peer.sendto(what, self.dest)
            return
        before = time.monotonic()
        data = heartbeat(what, backdate_ms)
        peer.sock.sendto(data, self.dest)
        after = time.monotonic()
        lag = time.time() * 1000 - int(data.split()[2]) / 1000 - backdate_ms
        peer.lag_ms.setdefault(what, lag)
        if peer.last_before is not None and (after - peer.last_before) * 1000 > self.timeout_ms / 2:
            # The script keeps each client's heartbeats well within --timeout:
            # a gap this long is the grader's, and hbserver may rightly have
            # reported the client stopped.
            raise GraderLate(f"{peer.label}'s heartbeats, meant to be well under {self.timeout_ms // 2} ms "
                             f"apart, left up to {(after - peer.last_before) * 1000:.0f} ms apart")
        peer.last_before, peer.last_sent = before, after
        note = f" (its time {backdate_ms} ms in the past)" if backdate_ms else ""
        self.case.step(f"{peer.label} sent heartbeat {what}{note}")

    def play(self, steps):
        """Send each (peer, seq or raw bytes[, backdate ms]) in turn, one per slot."""
        for step in steps:
            self._send(*step)

    def _stop_line(self, peer):
        return re.compile(rb"(^|\n)" + re.escape(peer.addr.encode()) + rb": stopped")

    def keep_beating_until_stopped(self, peer, seq, other):
        """PEER goes on beating from SEQ until hbserver reports OTHER stopped;
        return PEER's next seq."""
        rx = self._stop_line(other)
        deadline = other.last_sent + self.timeout_ms / 1000 + 1.5
        while time.monotonic() < deadline:
            left = self.next_slot + self.SLOT_MS / 1000 - time.monotonic()
            if self.server.stdout.wait_for(lambda b: rx.search(b) is not None, max(left, 0)):
                self.stopped_at.setdefault(other.label, time.monotonic())
                return seq
            self._send(peer, seq)
            self.next_slot += self.SLOT_MS / 1000     # the peer's own rhythm: every other slot
            seq += 1
        self._fail_no_stop(other)

    def expect_stop(self, peer):
        """hbserver must report PEER stopped TIMEOUT_MS after its last heartbeat."""
        rx = self._stop_line(peer)
        if peer.label not in self.stopped_at:
            left = peer.last_sent + self.timeout_ms / 1000 + 1.5 - time.monotonic()
            if not self.server.stdout.wait_for(lambda b: rx.search(b) is not None, max(left, 0)):
                self._fail_no_stop(peer)
            self.stopped_at[peer.label] = time.monotonic()
        seen = self.stopped_at[peer.label]
        # hbserver's own wait is at most `longest` (the heartbeat came after
        # `last_before`, the line was printed before the grader saw it) and at
        # least `shortest` minus however long the grader was held back.
        longest = (seen - peer.last_before) * 1000
        shortest = (seen - peer.last_sent) * 1000
        self.case.step(f"hbserver reported {peer.label} stopped {shortest:.0f} ms after its last heartbeat")
        late_by = shortest - (self.timeout_ms + 250)
        if late_by > 0 and probe(self.case).worst(peer.last_sent, seen) >= late_by:
            raise GraderLate(f"the grader saw hbserver's report about {peer.label} {shortest:.0f} ms after "
                             "its last heartbeat, but was itself held back meanwhile")
        if longest < self.timeout_ms - 5 or late_by > 0:
            self.case.fail(f"hbserver reported {peer.label} stopped {shortest:.0f} ms after its last heartbeat",
                           expected=f"{self.timeout_ms} ms after it (--timeout {self.timeout_ms}), "
                                    "within 250 ms",
                           saw=f"{shortest:.0f} ms",
                           hint="keep each client's last arrival time (monotonic clock); poll() at most "
                                "until the first client's silence reaches the timeout, then report it")

    def _fail_no_stop(self, peer):
        if not self.server.running():
            self.case.fail(f"hbserver ended before it reported {peer.label} stopped",
                           expected=f"hbserver still running, and '{peer.addr}: stopped: no heartbeat for ...' "
                                    "printed",
                           saw=f"hbserver {self.server.status_text()}",
                           hint="a stopped client is forgotten and the server goes on serving the others: "
                                "never leave the loop when one client stops")
        self.case.fail(f"hbserver did not report that {peer.label} stopped",
                       expected=f"'{peer.addr}: stopped: no heartbeat for {self.timeout_ms} ms after …' "
                                f"{self.timeout_ms} ms after its last heartbeat",
                       saw=self.server.stdout.tail(6) or "nothing on stdout",
                       hint="poll() with a timeout that ends when the first client's silence reaches "
                            "--timeout; then report every client that has been silent that long")

    # --- the lines of one client's report ----------------------------------
    def new(self):
        return ("new client", None, "report a client's first heartbeat with 'ADDR:PORT: new client'")

    def beat(self, seq, backdate_ms=0):
        return (f"heartbeat {seq}, delay ≈{backdate_ms} ms",
                (re.compile(rf"^heartbeat {seq}, delay (-?\d+\.\d{{3}}) ms$"), backdate_ms, seq),
                "print each heartbeat counted as 'heartbeat N, delay D ms', D = our wall clock minus the "
                "time in the datagram, in ms with 3 decimals")

    def lost(self, first, last=None):
        text = f"lost heartbeat {first}" if last is None else f"lost heartbeats {first}-{last}"
        return (text, None, "when heartbeat N follows M with N > M + 1, report M+1..N-1 as lost before "
                            "heartbeat N ('lost heartbeat K' for one, 'lost heartbeats A-B' for more)")

    def late(self, seq):
        return (f"heartbeat {seq} out of order (ignored)", None,
                "a heartbeat whose number is not above the last one counted is reported and not counted")

    def stopped(self, seq, received, lost):
        return (f"stopped: no heartbeat for {self.timeout_ms} ms after heartbeat {seq} "
                f"({received} received, {lost} lost)", None,
                "report a client silent for --timeout with its last heartbeat and its counts")

    def expect_report(self, peer, expected):
        prefix = peer.addr + ": "
        out = self.server.stdout.bytes().decode("utf-8", "replace").splitlines()
        mine = [line[len(prefix):] for line in out if line.startswith(prefix)]
        excess = []     # (line number, ms beyond what the grader's own send explains)
        for i, (text, check, hint) in enumerate(expected):
            line = mine[i] if i < len(mine) else None
            ok_ = line is not None and (line == text if check is None else check[0].match(line))
            if ok_ and check is not None:
                delay = float(check[0].match(line).group(1))
                # Never shorter than the time in the datagram says; how much
                # longer is judged over all the heartbeats below (a loaded
                # machine may hold hbserver back for one of them).
                ok_ = check[1] - 1 <= delay <= check[1] + 1000
                excess.append((i + 1, delay - check[1] - max(0.0, peer.lag_ms.get(check[2], 0.0))))
                if not ok_:
                    hint = DELAY_HINT
            if not ok_:
                self.case.fail(f"line {i + 1} of hbserver's report about {peer.label} is wrong",
                               expected=repr(prefix + text),
                               saw=repr(prefix + line) if line is not None else "no more lines about it",
                               hint=hint)
        if excess and median([x for _, x in excess]) > 50:
            self.case.fail(f"the delays in hbserver's report about {peer.label} are too long",
                           expected="each delay = the wall clock when the heartbeat came minus the time it "
                                    "carries: for most heartbeats within 50 ms of the time the grader put in",
                           saw=", ".join(f"line {n}: {x:+.1f} ms" for n, x in excess[:8]),
                           hint=DELAY_HINT)
        if len(mine) > len(expected):
            self.case.fail(f"hbserver printed more about {peer.label} than its heartbeats call for",
                           expected=f"{len(expected)} lines", saw=repr(prefix + mine[len(expected)]))
