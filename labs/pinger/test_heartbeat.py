"""The UDP heartbeat: hbclient against a scripted server, hbserver against
scripted clients that skip numbers, repeat one, and stop."""

import time

from gradertiming import attempt_port, judged, schedule_misses
from socklab.feedback import show_bytes
from pinglib import HEARTBEAT_RE, HbScript, collect, requests_in_capture, start_hbserver

INTERVAL_MS = 100
BEATS = 6
TOLERANCE = 0.2     # of an interval: how early a heartbeat may leave, how late most of them may


def test_hbclient_sends_heartbeats(case):
    peer = case.udp_peer(case.port, label="scripted hbserver")
    started = time.time()
    client = case.start("hbclient", "127.0.0.1", case.port, "-i", INTERVAL_MS, "-c", BEATS)
    got = collect(peer, lambda g: len(g) >= BEATS, timeout=3, what="heartbeats")
    for i, (_, data) in enumerate(got, 1):
        m = HEARTBEAT_RE.match(data)
        if not m or int(m.group(1)) != i:
            case.fail(f"datagram {i} from hbclient is not 'Heartbeat {i} <time>'",
                      expected=f"'Heartbeat {i} <microseconds of the wall clock>' (no newline)",
                      saw=show_bytes(data, 72), hint="format it with pw_format(buf, size, PW_HEARTBEAT, &msg)")
    if len(got) != BEATS:
        case.fail("hbclient did not send its heartbeats", expected=f"{BEATS} heartbeats (-c {BEATS}), {INTERVAL_MS} ms apart",
                  saw=f"{len(got)} within 3 s")
    rc = case.wait_exit(client, timeout=2, why=f"after its {BEATS} heartbeats (-c {BEATS})")
    if rc != 0:
        case.fail("hbclient's exit status is wrong", expected="0 after COUNT heartbeats",
                  saw=client.status_text())
    # The rhythm, from the capture's timestamps.
    beats = [(t, HEARTBEAT_RE.match(p)) for t, p in requests_in_capture(case, case.port)]
    for i, (t, m) in enumerate(beats, 1):
        cap_us = t * 1e6
        if m and not cap_us - 50_000 <= int(m.group(2)) <= cap_us + 1_000:
            case.fail(f"the time in heartbeat {i} is not when it was sent",
                      expected="microseconds since 1970 on the wall clock, taken just before sending "
                               f"(the capture saw it leave at {cap_us:.0f})",
                      saw=f"{m.group(2).decode()} ({(int(m.group(2)) - cap_us) / 1000:+.1f} ms from the capture)",
                      hint="take the time with wall_now_us() (CLOCK_REALTIME) for each heartbeat")
    sent = [t for t, m in beats if m]
    offsets = ", ".join(f"{(t - started) * 1000:.1f}" for t in sent)
    case.step(f"capture: heartbeats {offsets} ms after hbclient was started")
    # Each heartbeat against hbclient's own schedule: heartbeat n is due
    # (n-1) intervals after its start (which is no earlier than when the
    # grader started it), or one interval after heartbeat n-1, whichever
    # is kinder.  So a heartbeat held back by a loaded machine (and those
    # an absolute schedule then sends at once) is no fault.
    interval = INTERVAL_MS / 1000
    early, late = schedule_misses(sent, started - interval, interval, TOLERANCE * interval)
    if early or late > TOLERANCE * interval:
        k = early[0][0] if early else None
        case.fail("hbclient's heartbeats do not keep the interval asked for",
                  expected=f"heartbeat n leaves (n-1) × {INTERVAL_MS} ms after the start (-i {INTERVAL_MS}), "
                           f"or {INTERVAL_MS} ms after heartbeat n-1: none more than 20% early, most of them "
                           "less than 20% late",
                  saw=f"heartbeats {offsets} ms after hbclient was started"
                      + (f"; heartbeat {k} left {early[0][1] * 1000:.0f} ms early" if early else
                         f"; the median one {late * 1000:.0f} ms late"),
                  hint="sleep until an absolute time on the monotonic clock (clock_nanosleep with "
                       "TIMER_ABSTIME) and move it on by the interval each time")


TIMEOUT_MS = 300


def test_hbserver_reports_lost_and_delay(case):
    def scenario(attempt):
        port = attempt_port(case, attempt)
        server = start_hbserver(case, TIMEOUT_MS, port)
        hb = HbScript(case, server, TIMEOUT_MS, port)
        a = hb.client("client A")
        # 3 and 7-9 never sent, 4 sent again after 6, heartbeat 5 carries a
        # time 250 ms in the past, one datagram that is no heartbeat, and
        # heartbeat 2 twice in a row.
        hb.play([(a, 1), (a, 2), (a, 2), (a, b"garbage, not a heartbeat"), (a, 4), (a, 5, 250), (a, 6),
                  (a, 4), (a, 10), (a, 11)])
        hb.expect_stop(a)
        hb.expect_report(a, [hb.new(), hb.beat(1), hb.beat(2), hb.late(2), hb.lost(3), hb.beat(4),
                             hb.beat(5, 250), hb.beat(6), hb.late(4), hb.lost(7, 9), hb.beat(10), hb.beat(11),
                             hb.stopped(11, 7, 4)])

    judged(case, scenario, tolerance_ms=None)


def test_hbserver_two_clients(case):
    def scenario(attempt):
        port = attempt_port(case, attempt)
        server = start_hbserver(case, TIMEOUT_MS, port)
        hb = HbScript(case, server, TIMEOUT_MS, port)
        a, b = hb.client("client A"), hb.client("client B")
        # A and B at once; A stops, B goes on; C comes after A was declared stopped.
        hb.play([(a, 1), (b, 1), (a, 2), (a, 3), (b, 4), (a, 5), (b, 5), (a, 6), (b, 6)])
        b_next = hb.keep_beating_until_stopped(b, 7, a)
        c = hb.client("client C")
        # C's first heartbeat is its number 3: its count starts there, no gap before it.
        hb.play([(c, 3), (b, b_next), (c, 4), (b, b_next + 1), (c, 5), (b, b_next + 2)])
        hb.expect_stop(b)
        hb.expect_stop(c)
        last_b = b_next + 2
        hb.expect_report(a, [hb.new(), hb.beat(1), hb.beat(2), hb.beat(3), hb.lost(4), hb.beat(5),
                             hb.beat(6), hb.stopped(6, 5, 1)])
        hb.expect_report(b, [hb.new(), hb.beat(1), hb.lost(2, 3)] + [hb.beat(s) for s in range(4, last_b + 1)]
                         + [hb.stopped(last_b, last_b - 2, 2)])
        hb.expect_report(c, [hb.new(), hb.beat(3), hb.beat(4), hb.beat(5), hb.stopped(5, 3, 0)])

    judged(case, scenario, tolerance_ms=None)
