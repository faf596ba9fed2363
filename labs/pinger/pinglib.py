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

from socklab.feedback import NotChecked

TIMEOUT_MS = 300        # the grader's -W: short, so cases stay quick
MARGIN_MS = 100         # no scheduled event comes closer than this to a timeout
SLACK_MS = 80           # how much longer than the timeout pinger may wait
EARLY_MS = 2            # how much earlier than the timeout it may give up
RTT_SLACK_MS = 25       # pinger's RTT may exceed the capture's by this + 10% (a busy machine)

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
        self.addr = f"[{host}]:{case.port}" if ":" in host else f"{host}:{case.port}"
        self.seen = {}          # seq -> the ping's datagram
        self.bad_requests = []  # datagrams that were no ping, or out of turn
        self.client = None
        self.server = None
        self._rtts = None

    def _plan(self, n, data):
        m = PING_RE.match(data)
        if not m or int(m.group(1)) != n or n > self.count:
            self.bad_requests.append((n, data))
            return []
        seq = n
        self.seen[seq] = data
        f = self.fates[seq - 1]
        reply = data.upper()
        if f.kind == "ok":
            return [(f.delay / 1000, None)]
        if f.kind == "late":
            return [((self.timeout_ms + f.delay) / 1000, None)]
        if f.kind == "dup":
            return [(f.delay / 1000, None), (f.delay / 1000, None)]
        if f.kind == "corrupt":
            return [(f.delay / 1000, damage(reply, seq, f.how)), (f.delay / 1000, None)]
        if f.kind == "corrupt-only":
            return [(f.delay / 1000, damage(reply, seq, f.how))]
        return []

    def run(self):
        """Start the scripted server and pinger; wait for pinger to end."""
        case = self.case
        case.step(f"the scripted server's schedule for {self.count} pings (pinger -W {self.timeout_ms}):")
        for seq, f in enumerate(self.fates, 1):
            case.step(f"    ping {seq}: {f.text(self.timeout_ms)}")
        self.server = case.udp_server(lambda d: d.upper(), host=self.host, plan=self._plan)
        self.client = case.start("pinger", self.host, case.port, "-c", self.count, "-W", self.timeout_ms)
        _, end_ms = transcript(self.fates, self.timeout_ms)
        limit = end_ms / 1000 + 3
        rc = self.client.wait_exit(limit)
        if rc is None:
            self._fail_still_running(limit)
        case.step(f"pinger {self.client.status_text()}")
        self.check_requests()
        return rc

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
                           expected=f"b'Ping {n} <microseconds of the wall clock>' (no newline), "
                                    "seq counting from 1",
                           saw=repr(data[:72]),
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
                sent = requests_in_capture(self.case, self.case.port)
                back = [(t, p) for t, src, _, p in udp_datagrams(self.case.capture.path)
                        if src[1] == self.case.port]
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
        after = out[len(exp) + 1] if len(exp) + 1 < len(out) else ""
        if after != "":
            self.case.fail(f"pinger printed line {len(exp) + 2} where its statistics should begin",
                           expected="an empty line, then '--- HOST ping statistics ---'",
                           saw=repr(after),
                           hint="print exactly one line per ping and per stray datagram (late, duplicate, "
                                "corrupted), nothing else on stdout")

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
            if not fits(got[k], want[k]):
                case.fail(f"the statistics' {k} RTT does not match what the server measured",
                          expected=f"{k} ≈ {want[k]:.3f} ms (pinger's RTT may be up to "
                                   f"{RTT_SLACK_MS} ms + 10% longer, never shorter)",
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
    return peer_ms - 0.5 <= client_ms <= peer_ms + RTT_SLACK_MS + 0.1 * peer_ms


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
        if not fits(ms, rtts[e.seq]):
            case.fail(f"line {i}: the RTT of ping {e.seq} does not match what the server measured",
                      expected=f"{rtts[e.seq]:.3f} ms at least, at most {RTT_SLACK_MS} ms + 10% more",
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
    """Receive datagrams on PEER until until(list) holds or TIMEOUT s pass;
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



def start_hbserver(case, timeout_ms):
    server = case.start("hbserver", "--timeout", timeout_ms, case.port)
    case.wait_bound(server, case.port, "udp")
    return server


class HbScript:
    """Scripted hbclients playing a script of heartbeats against hbserver,
    and the report hbserver must print for each of them."""

    SLOT_MS = 20        # one scripted datagram every SLOT_MS: each client's about every 40 ms

    def __init__(self, case, server, timeout_ms):
        self.case = case
        self.server = server
        self.timeout_ms = timeout_ms
        self.dest = ("127.0.0.1", case.port)
        self.next_slot = time.monotonic()
        self.stopped_at = {}        # label -> monotonic time its "stopped" line was seen

    def client(self, label):
        peer = self.case.udp_peer(label=label)
        peer.addr = f"127.0.0.1:{peer.port}"
        peer.last_sent = None
        return peer

    def _send(self, peer, what, backdate_ms=0):
        pace_until(self.next_slot)
        self.next_slot = max(self.next_slot, time.monotonic()) + self.SLOT_MS / 1000
        if isinstance(what, bytes):
            peer.sendto(what, self.dest)
            return
        data = heartbeat(what, backdate_ms)
        peer.sock.sendto(data, self.dest)
        peer.last_sent = time.monotonic()
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
        after = (self.stopped_at[peer.label] - peer.last_sent) * 1000
        self.case.step(f"hbserver reported {peer.label} stopped {after:.0f} ms after its last heartbeat")
        if not self.timeout_ms - 5 <= after <= self.timeout_ms + 250:
            self.case.fail(f"hbserver reported {peer.label} stopped {after:.0f} ms after its last heartbeat",
                           expected=f"{self.timeout_ms} ms after it (--timeout {self.timeout_ms}), "
                                    "within 250 ms",
                           saw=f"{after:.0f} ms",
                           hint="keep each client's last arrival time (monotonic clock); poll() at most "
                                "until the first client's silence reaches the timeout, then report it")

    def _fail_no_stop(self, peer):
        if not self.server.running():
            self.case.fail(f"hbserver ended before it reported {peer.label} stopped",
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
                (re.compile(rf"^heartbeat {seq}, delay (-?\d+\.\d{{3}}) ms$"), backdate_ms),
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
        for i, (text, check, hint) in enumerate(expected):
            line = mine[i] if i < len(mine) else None
            ok_ = line is not None and (line == text if check is None else check[0].match(line))
            if ok_ and check is not None:
                delay = float(check[0].match(line).group(1))
                ok_ = check[1] - 1 <= delay <= check[1] + 50
                if not ok_:
                    hint = ("the one-way delay is our wall clock (CLOCK_REALTIME) when the heartbeat came "
                            "minus the time it carries, in milliseconds")
            if not ok_:
                self.case.fail(f"line {i + 1} of hbserver's report about {peer.label} is wrong",
                               expected=repr(prefix + text),
                               saw=repr(prefix + line) if line is not None else "no more lines about it",
                               hint=hint)
        if len(mine) > len(expected):
            self.case.fail(f"hbserver printed more about {peer.label} than its heartbeats call for",
                           expected=f"{len(expected)} lines", saw=repr(prefix + mine[len(expected)]))
