"""pingserver against scripted clients."""

import re
import time

from socklab.feedback import NotChecked, show_bytes

from pinglib import (PING_RE, collect, dropped_pings, ping_datagram, pace_until, splitmix64,
                     start_pingserver, udp_datagrams_of)


def test_pingserver_echoes(case):
    server = start_pingserver(case, "--loss", "0")
    a = case.udp_peer(label="client A")
    b = case.udp_peer(label="client B")
    dest = ("127.0.0.1", case.port)
    script = [(a, ping_datagram(1)), (b, ping_datagram(1)), (a, b"hello, not a ping"),
              (a, ping_datagram(2)), (b, b"x" * 60000), (b, ping_datagram(2)),
              (a, ping_datagram(3) + b"\n"), (b, b"Ping 0 1"), (a, ping_datagram(4, 1))]
    for peer, data in script:
        peer.sendto(data, dest)
        if not PING_RE.match(data):
            continue   # no reply: the next ping's reply must be the next datagram
        got = peer.recv(timeout=2, what="the reply")
        if got is None or got[0] != data.upper():
            case.fail(f"{peer.label} did not get the reply to its ping",
                      expected=f"{show_bytes(data.upper())} sent back to {peer.label}'s address",
                      saw="no datagram within 2 s" if got is None else show_bytes(got[0], 72),
                      hint="answer a ping with the same datagram in upper case, sent with sendto() to the "
                           "address recvfrom() gave; send nothing back for a datagram that is not exactly "
                           "'Ping <seq> <time>'; pingserver " + server.status_text())
    if not server.running():
        case.fail("pingserver ended", expected="pingserver still running after the pings",
                  saw=f"pingserver {server.status_text()}")


REPLY_RE = re.compile(rb"^PING ([1-9][0-9]*) ([1-9][0-9]*)\Z")
SEED, LOSS = 2026, 30
PACE_MS = 2


def _draws(seed, count):
    """The first COUNT draws of pingserver's generator, each % 100."""
    state, out = seed, []
    for _ in range(count):
        state, r = splitmix64(state)
        out.append(r % 100)
    return out


# Enough pings that one draw is exactly LOSS (kept: a '<=' drops it) and one
# is LOSS - 1 (dropped), and the last ping is answered (it ends the wait).
COUNT = next(n for n in range(40, 200) if n not in dropped_pings(SEED, LOSS, n)
             and {LOSS - 1, LOSS} <= set(_draws(SEED, n)))


def test_pingserver_seeded_loss(case):
    start_pingserver(case, "--loss", LOSS, "--seed", SEED)
    peer = case.udp_peer(label="scripted client")
    dest = ("127.0.0.1", case.port)
    start = time.monotonic()
    for seq in range(1, COUNT + 1):
        # 2 ms apart: a burst of many datagrams at once would overrun the capture's buffer.
        pace_until(start + seq * PACE_MS / 1000)
        peer.sock.sendto(ping_datagram(seq), dest)
        if seq == COUNT // 2:
            peer.sock.sendto(b"not a ping: takes no draw", dest)
    case.step(f"scripted client sent pings 1..{COUNT}, {PACE_MS} ms apart, and one datagram that is no "
              f"ping after ping {COUNT // 2}")
    last = b"PING %d " % COUNT
    got = collect(peer, lambda g: any(d.startswith(last) for _, d in g), timeout=3)
    answered = []
    for _, data in got:
        m = REPLY_RE.match(data)
        answered.append(int(m.group(1)) if m else show_bytes(data, 40))
    want = [s for s in range(1, COUNT + 1) if s not in dropped_pings(SEED, LOSS, COUNT)]
    if answered != want:
        missing = sorted(set(want) - set(answered), key=str)
        extra = [a for a in answered if a not in want]
        case.fail(f"pingserver --seed {SEED} --loss {LOSS} did not drop the pings its generator decides",
                  expected=f"{len(want)} replies, to pings {', '.join(map(str, want))}",
                  saw=f"{len(answered)} replies; missing {', '.join(map(str, missing[:10])) or 'none'}, "
                      f"extra {', '.join(map(str, extra[:10])) or 'none'}",
                  hint="one draw r = splitmix64 (state starts at the seed) per ping, in the order the pings "
                       "arrive; drop when r % 100 < PERCENT; a datagram that is no ping takes no draw")


DELAY_MS = 150
GAP_MS = 20


def test_pingserver_delays_without_blocking(case):
    start_pingserver(case, "--loss", "0", "--delay", DELAY_MS)
    peer = case.udp_peer(label="scripted client")
    dest = ("127.0.0.1", case.port)
    sent, start = {}, time.monotonic()
    for seq in range(1, 6):
        pace_until(start + (seq - 1) * GAP_MS / 1000)
        data = ping_datagram(seq)
        peer.sock.sendto(data, dest)
        sent[data.upper()] = (seq, time.monotonic())
    case.step(f"scripted client sent pings 1..5, {GAP_MS} ms apart")
    got = collect(peer, lambda g: len(g) >= 5, timeout=3)
    for _, data in got:
        if data not in sent:
            case.fail("pingserver sent a datagram that answers none of the pings",
                      expected="each ping in upper case", saw=show_bytes(data, 72))
    if len(got) != 5:
        case.fail("pingserver did not answer every ping", expected="5 replies",
                  saw=f"{len(got)} within 3 s")
    for seq, waited in reply_delays(case, sent, got):
        case.step(f"the reply to ping {seq} left {waited:.1f} ms after the ping came")
        if not DELAY_MS - 1 <= waited <= DELAY_MS + 90:
            case.fail(f"the reply to ping {seq} left {waited:.1f} ms after the ping came",
                      expected=f"{DELAY_MS} ms (--delay {DELAY_MS}), for every ping, even when pings come "
                               f"{GAP_MS} ms apart",
                      saw=f"{waited:.1f} ms",
                      hint="do not sleep before each reply: the server would stop receiving meanwhile. "
                           "Queue the reply with its due time and poll() until the first one is due")


def reply_delays(case, sent, got):
    """(seq, ms from ping to reply) for each reply: from the capture's
    timestamps, or from the scripted client's clock without a capture."""
    try:
        datagrams = udp_datagrams_of(case)
        came = {p.upper(): t for t, _, dst, p in datagrams if dst[1] == case.port and p.upper() in sent}
        left = {p: t for t, src, _, p in datagrams if src[1] == case.port and p in sent}
        return [(sent[p][0], (left[p] - came[p]) * 1000) for p in sorted(left, key=lambda p: sent[p][0])]
    except NotChecked:
        return [(sent[data][0], (when - sent[data][1]) * 1000) for when, data in got]


def test_pingserver_interrupted_calls(case):
    # Every other poll(), recvfrom() and sendto() fails with EINTR (lab.toml's
    # faults): pingserver calls them again and answers every ping, late ones
    # from its queue too.
    server = start_pingserver(case, "--loss", "0", "--delay", "30")
    peer = case.udp_peer(label="scripted client")
    dest = ("127.0.0.1", case.port)
    start = time.monotonic()
    count = 6
    for seq in range(1, count + 1):
        pace_until(start + seq * 0.010)
        peer.sock.sendto(ping_datagram(seq), dest)
    case.step(f"scripted client sent pings 1..{count}, 10 ms apart; each reply is due 30 ms after its ping")
    last = b"PING %d " % count
    got = collect(peer, lambda g: any(d.startswith(last) for _, d in g), timeout=3)
    answered = [int(m.group(1)) for m in (REPLY_RE.match(d) for _, d in got) if m]
    if answered != list(range(1, count + 1)):
        case.fail("pingserver lost replies when its calls were interrupted",
                  expected=f"replies to pings 1..{count}, in order",
                  saw=f"replies to {answered or 'none'}; pingserver {server.status_text()}",
                  hint="a poll(), recvfrom() or sendto() that fails with EINTR did nothing: call it again "
                       "(a reply whose sendto() was interrupted is lost unless it is sent again)")
    errors = [line for line in server.stderr.bytes().splitlines() if b"ERROR" in line]
    if errors:
        case.fail("pingserver logged an error where nothing failed",
                  expected="no ERROR line on stderr: an interrupted call and a poll() that timed out are no "
                           "failures", saw=errors[0].decode(errors="replace"),
                  hint="log a poll() failure only when it returned -1 and errno is not EINTR")
