"""The four programs' command lines: usage, bad options, a port taken, and
what pinger and hbclient do when no server listens (port unreachable)."""

from socklab.feedback import show_bytes
from pinglib import HEARTBEAT_RE, ping_datagram, requests_in_capture


def _expect_exit(case, name, args, status, why):
    prog = case.start(name, *args)
    rc = case.wait_exit(prog, timeout=3, why=why)
    if rc != status:
        case.fail(f"{name} {' '.join(map(str, args)) or '(no arguments)'}: wrong exit status",
                  expected=f"exit status {status} ({why})", saw=prog.status_text(),
                  hint="-h: usage on stdout, exit 0; bad usage: the problem and the usage on stderr, exit 2")
    return prog


def test_pinger_command_lines(case):
    port = case.port
    for name in ("pinger", "pingserver", "hbclient", "hbserver"):
        helped = _expect_exit(case, name, ["-h"], 0, "after -h")
        if name.encode() not in helped.stdout.bytes():
            case.fail(f"{name} -h does not print its usage on standard output",
                      expected=f"a usage line naming {name} on stdout",
                      saw=helped.stdout.tail(2) or "nothing on stdout")
    for name, args in (("pinger", []), ("pinger", ["127.0.0.1", port, "-c", "0"]),
                       ("pinger", ["127.0.0.1", port, "-W", "600001"]),
                       ("pingserver", ["--loss", "101", port]), ("pingserver", ["--delay", "-1", port]),
                       ("hbclient", ["127.0.0.1", port, "-i", "9"]), ("hbserver", ["--timeout", "9", port])):
        prog = _expect_exit(case, name, args, 2, "bad usage")
        if not prog.stderr.bytes():
            case.fail(f"{name} {' '.join(map(str, args))}: bad usage says nothing on stderr",
                      expected="the problem and the usage on stderr")
    taken = case.udp_peer(port, label="another program on the port")
    _expect_exit(case, "pingserver", [port], 1, "its port cannot be opened")
    taken.close()
    # No server: pinger's ping times out (an ICMP port unreachable is no
    # reply), the statistics have no RTT line, and the exit status is 1;
    # options may come before HOST and PORT.
    pinger = _expect_exit(case, "pinger", ["-c", "2", "-W", "200", "127.0.0.1", port], 1, "no reply came")
    want = ["PING 127.0.0.1 (127.0.0.1:%d): 2 pings, timeout 200 ms" % port, "Request timed out: seq=1",
            "Request timed out: seq=2", "", "--- 127.0.0.1 ping statistics ---",
            "2 packets transmitted, 0 received, 100% packet loss", ""]
    got = pinger.stdout.bytes().decode("utf-8", "replace").split("\n")
    if got != want:
        case.fail("pinger's output without a server is not what the handout shows",
                  expected="\\n".join(want), saw=pinger.stdout.tail(8) or "nothing",
                  hint="ECONNREFUSED (port unreachable) is logged and the ping times out like a lost one; "
                       "no 'rtt' line when nothing was received")
    # The defaults: pingserver on UDP 12000 (IPv6 as well as IPv4), hbserver on 12001.
    server = case.start("pingserver", "--loss", "0")
    case.wait_bound(server, 12000, "udp")
    hbserver = case.start("hbserver")
    case.wait_bound(hbserver, 12001, "udp")
    peer = case.udp_peer(host="::1", label="client over IPv6")
    ping = ping_datagram(1)
    peer.sendto(ping, ("::1", 12000))
    got = peer.recv(timeout=2, what="the reply over IPv6")
    if got is None or got[0] != ping.upper():
        case.fail("pingserver with no PORT does not answer a ping over IPv6 on port 12000",
                  expected=f"{show_bytes(ping.upper())} back from [::1]:12000",
                  saw="nothing within 2 s" if got is None else show_bytes(got[0], 72),
                  hint="bind an AF_INET6 socket with IPV6_V6ONLY off (sl_udp_bind()) on the default port 12000")
    # hbclient goes on beating without a server.
    hb = _expect_exit(case, "hbclient", ["127.0.0.1", port + 1, "-i", "20", "-c", "4"], 0,
                      "after its 4 heartbeats, server or not")
    beats = [p for _, p in requests_in_capture(case, port + 1) if HEARTBEAT_RE.match(p)]
    if len(beats) != 4:
        case.fail("hbclient did not go on sending heartbeats when no server listened",
                  expected="4 heartbeats (-c 4) although each one came back 'port unreachable'",
                  saw=f"{len(beats)} in the capture; hbclient {hb.status_text()}",
                  hint="log ECONNREFUSED and go on: a server may come up")
