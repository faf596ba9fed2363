"""pinger against a scripted server that follows a schedule: replies delayed,
dropped, late, duplicated, reordered and damaged."""

import random
import re
import time

from gradertiming import GraderLate, probe
from socklab.feedback import show_bytes
from pinglib import (EARLY_MS, PING_RE, SLACK_MS, TIMEOUT_MS, PingRun, corrupt, corrupt_only, dup,
                     late, lost, ok, requests_in_capture)

LOST_PINGS_SEED = 9


def test_pinger_all_replies(case):
    run = PingRun(case, [ok(0), ok(20), ok(5), ok(60), ok(10)])
    run.run()
    run.check_transcript()
    run.expect_exit_status()


def test_pinger_lost_pings(case):
    # A seeded mix of prompt replies and dropped pings (a third of them).
    rng = random.Random(LOST_PINGS_SEED)
    fates = [ok(5)] + [lost() if rng.random() < 0.35 else ok(rng.choice([0, 5, 20, 40])) for _ in range(7)]
    run = PingRun(case, fates)
    run.run()
    run.check_transcript()
    run.expect_exit_status()


# Lost pings with a reply in time between them, and a late reply that comes
# in the middle of a lost ping's wait: no timeout may move because of it.
TIMING = [ok(10), lost(), late(150), lost(), ok(0), lost(), ok(20)]


def test_pinger_timeout_per_ping(case):
    run = PingRun(case, TIMING)
    run.run(check=_expect_own_deadlines)


def _expect_own_deadlines(run, datagrams):
    """From the capture of one attempt: after a ping that got no reply in
    time the next leaves TIMEOUT_MS later, after a reply as soon as it came.
    A wait too long while the grader itself was held back as long (a
    machine that busy holds pinger back too) is not judged: the attempt runs
    again."""
    case = run.case
    pings = [(t, p) for t, _, dst, p in datagrams if dst[1] == run.port and PING_RE.match(p)]
    replies = [(t, p) for t, src, _, p in datagrams if src[1] == run.port]
    if len(pings) != len(TIMING):
        case.fail("the capture does not show every ping", expected=f"{len(TIMING)} pings",
                  saw=f"{len(pings)}")
    to_mono = time.monotonic() - time.time()
    for seq, f in enumerate(TIMING[:-1], 1):
        sent, ping = pings[seq - 1]
        gap = (pings[seq][0] - sent) * 1000
        case.step(f"capture: ping {seq + 1} left {gap:.1f} ms after ping {seq}")
        if f.times_out():
            over = gap - (TIMEOUT_MS + SLACK_MS)
            held = probe(case).worst(sent + to_mono, pings[seq][0] + to_mono)
            if over > 0 and held >= over:
                raise GraderLate(f"ping {seq} waited {over:.0f} ms too long while the grader itself was held "
                                 f"back {held:.0f} ms: the machine was too busy to judge")
            if not TIMEOUT_MS - EARLY_MS <= gap <= TIMEOUT_MS + SLACK_MS:
                early = gap < TIMEOUT_MS
                case.fail(f"ping {seq} {'gave up early' if early else 'waited too long'}: the next ping left "
                          f"{gap:.1f} ms after it",
                          expected=f"ping {seq} gets no reply in time, so ping {seq + 1} leaves {TIMEOUT_MS} ms "
                                   f"after it (-W {TIMEOUT_MS}; {TIMEOUT_MS - EARLY_MS} to "
                                   f"{TIMEOUT_MS + SLACK_MS} ms in the capture)",
                          saw=f"{gap:.1f} ms",
                          hint=("each ping has its own deadline: the time it was sent + TIMEOUT_MS, not one "
                                "deadline for the whole run" if early else
                                "the deadline is fixed when the ping leaves: a datagram that is not the reply "
                                "(a late one, a duplicate) must not start the wait again"))
            continue
        # From the reply's arrival, not from the schedule: when the scripted
        # server answered late, that is not pinger's wait.
        came = next((t for t, p in replies if t >= sent and p == ping.upper()), None)
        wait = (pings[seq][0] - came) * 1000 if came is not None else None
        if wait is not None and wait > SLACK_MS:
            held = probe(case).worst(came + to_mono, pings[seq][0] + to_mono)
            if held >= wait - SLACK_MS:
                raise GraderLate(f"ping {seq + 1} left {wait:.0f} ms after the reply to ping {seq} while the "
                                 f"grader itself was held back {held:.0f} ms: the machine was too busy to judge")
        if wait is None or wait > SLACK_MS:
            case.fail(f"ping {seq} was answered, but the next ping left only {gap:.1f} ms after it"
                      + (f", {wait:.1f} ms after the reply came" if wait is not None else ""),
                      expected=f"ping {seq + 1} leaves as soon as the reply to ping {seq} came "
                               f"(within {SLACK_MS} ms)",
                      saw=f"{gap:.1f} ms", hint="stop waiting when the reply came; then send the next ping")


def test_pinger_late_replies(case):
    # Ping 2's reply comes while ping 3 waits; ping 5's reply comes after
    # ping 6's (reordered), while ping 7 waits.
    run = PingRun(case, [ok(10), late(120), lost(), ok(5), late(150), ok(0), lost(), ok(30)])
    run.run()
    run.check_transcript()


def test_pinger_duplicates_and_corruption(case):
    run = PingRun(case, [ok(5), dup(10), ok(0), corrupt(15, "time digit"), corrupt_only(10, "garbage"),
                         dup(0), corrupt(5, "earlier seq"), corrupt(0, "too long"),
                         corrupt(10, "unknown seq"), ok(10)])
    run.run()
    run.check_transcript()


def test_pinger_statistics(case):
    # Every reply in time takes 5 ms or more: an RTT minimum that starts at 0 shows.
    run = PingRun(case, [ok(40), lost(), ok(10), ok(80), late(120), lost(), ok(25), ok(5), dup(60),
                         ok(15)])
    run.run()
    run.check_statistics()


def test_pinger_capture_checks(case):
    fates = [ok(5), lost(), ok(10), dup(0), ok(0)]
    run = PingRun(case, fates)
    run.run()
    stats = run.statistics_lines()
    reqs = requests_in_capture(case, run.port)
    for i, (t, payload) in enumerate(reqs, 1):
        m = PING_RE.match(payload)
        if not m or int(m.group(1)) != i:
            case.fail(f"datagram {i} to the server in the capture is not 'Ping {i} <time>'",
                      expected=f"'Ping {i} <microseconds>'", saw=show_bytes(payload, 72))
        sent_us, cap_us = int(m.group(2)), t * 1e6
        if not cap_us - 50_000 <= sent_us <= cap_us + 1_000:
            case.fail(f"the time in ping {i} is not when it was sent",
                      expected=f"microseconds since 1970 on the wall clock, within 50 ms before the "
                               f"capture's timestamp {cap_us:.0f}",
                      saw=f"{sent_us} ({(sent_us - cap_us) / 1000:+.1f} ms from the capture)",
                      hint="take the time with clock_gettime(CLOCK_REALTIME) just before sending, in "
                           "microseconds (wall_now_us())")
    m = re.match(r"(\d+) packets transmitted, (\d+) received", stats[1] if len(stats) > 1 else "")
    if not m:
        case.fail("pinger printed no counts line to compare with the capture",
                  expected="'N packets transmitted, M received, ...' after the statistics header",
                  saw=repr(stats[1]) if len(stats) > 1 else "nothing")
    transmitted, received = int(m.group(1)), int(m.group(2))
    flows = [u for u in case.verdict()["udp"] if u["resp"]["port"] == run.port]
    if len(flows) != 1:
        case.fail("the capture does not show one UDP flow between pinger and the server",
                  expected="1 flow (one socket for the whole run)", saw=f"{len(flows)} flows",
                  hint="open one socket and send every ping through it")
    u = flows[0]
    case.step(f"pcapcheck: {u['orig_dgrams']} datagrams to the server, {u['resp_dgrams']} back")
    if u["orig_dgrams"] != transmitted:
        case.fail("pinger's 'packets transmitted' does not match the capture",
                  expected=f"{u['orig_dgrams']} (datagrams pinger sent, as pcapcheck counted them)",
                  saw=f"{transmitted} transmitted",
                  hint="count every ping you send, answered or not")
    if u["resp_dgrams"] != len(run.server.sent) or received > u["resp_dgrams"]:
        case.fail("pinger's 'received' does not fit the capture",
                  expected=f"at most {u['resp_dgrams']} (datagrams the server sent, duplicates included)",
                  saw=f"{received} received")


def test_pinger_interrupted_calls(case):
    # Every other poll(), send() and recv() fails with EINTR (lab.toml's
    # faults): pinger tries again, so each ping keeps its own reply and its
    # own timeout, and nothing is logged as a failure.
    run = PingRun(case, [ok(0), lost(), ok(20), ok(5)])
    run.run()
    run.check_transcript()
    run.expect_exit_status()
