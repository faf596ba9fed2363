"""What every program of the lab shares: its log lines, IPv6, its usage and exit status."""

from socklab.feedback import show_bytes
from echolib import (answer_lines, exchange, expect_client_fin, expect_log, expect_output,
                     start_server, upper)

PROGRAMS = ("tcpclient", "tcpserver", "udpclient", "udpserver")


def test_server_logs(case):
    server = start_server(case)
    expect_log(case, server, [f"listening on port {case.port}".encode()])
    for n in (1, 2):
        conn = case.tcp_connect(label=f"client {n}")
        exchange(case, conn, f"log me, {n}".encode())
        expect_log(case, server, [f"connection from {conn.local}".encode()],
                   what=f"'connection from {conn.local}' (client {n}'s own address and port)")
        conn.close()
        expect_log(case, server, [f"closed {conn.local}".encode()],
                   what=f"'closed {conn.local}' after client {n} left")
    udp = start_server(case, "udpserver", port=case.port + 1, proto="udp")
    peer = case.udp_peer(label="UDP client")
    for data in (b"twelve bytes", b""):
        peer.sendto(data, ("127.0.0.1", case.port + 1))
        if peer.recv(timeout=3, what="the reply") is None:
            case.fail("udpserver did not answer", expected="one reply per datagram", saw="no reply within 3 s")
        expect_log(case, udp, [f"{len(data)} bytes from 127.0.0.1:{peer.port}".encode()],
                   what=f"'{len(data)} bytes from 127.0.0.1:{peer.port}' for a datagram of {len(data)} bytes")


def test_ipv6_all_programs(case):
    server = start_server(case)
    conn = case.tcp_connect(host="::1", label="IPv6 client")
    exchange(case, conn, b"hello over ipv6", what="the reply to a client on ::1")
    conn.close()
    if not server.running():
        case.fail("tcpserver ended after an IPv6 client",
                  expected="tcpserver still serving the next client", saw=f"tcpserver {server.status_text()}")
    lines = [b"tcp client over ipv6"]
    listener = case.tcp_listener(port=case.port + 1, host="::1", label="IPv6 server")
    client = case.start("tcpclient", "::1", case.port + 1, stdin=lines[0] + b"\n")
    answer_lines(case, case.accept_client(listener, client), lines)
    expect_client_fin(case, listener.conns[0])
    case.wait_exit(client)
    expect_output(case, client, lines)
    start_server(case, "udpserver", port=case.port + 2, proto="udp")
    peer = case.udp_peer(host="::1", label="IPv6 UDP client")
    peer.sendto(b"datagram over ipv6", ("::1", case.port + 2))
    got = peer.recv(timeout=3, what="the reply")
    if got is None or got[0] != upper(b"datagram over ipv6"):
        case.fail("udpserver did not answer a client on ::1",
                  expected="the uppercased datagram, back to [::1]", saw="nothing" if got is None else repr(got[0]),
                  hint="bind with sl_udp_bind(NULL, ...): every IPv6 and IPv4 address")
    case.udp_server(upper, port=case.port + 3, host="::1", label="IPv6 UDP server")
    udp = case.start("udpclient", "::1", case.port + 3, stdin=b"udp client over ipv6\n")
    case.wait_exit(udp)
    expect_output(case, udp, [b"udp client over ipv6"])


def _run(case, argv, what, timeout=5.0):
    prog = case.start(*argv)
    case.wait_exit(prog, timeout=timeout, why=what)
    return prog


def _expect_status(case, prog, status, what):
    if prog.returncode != status:
        case.fail(f"{' '.join(map(str, prog.argv))}: wrong exit status {what}",
                  expected=f"exit status {status}", saw=prog.status_text(),
                  hint="exit 0 after --help, 2 on bad usage, 1 when the port cannot be opened")


def test_usage_and_exit_status(case):
    for name in PROGRAMS:
        for flag in ("-h", "--help"):
            prog = _run(case, [name, flag], "after printing its help")
            _expect_status(case, prog, 0, f"after {flag}")
            if b"sage" not in prog.stdout.bytes():
                case.fail(f"{name} {flag} printed no usage on standard output",
                          expected="the usage text on stdout", saw=prog.stdout.tail(4) or "nothing")
    bad = {"tcpserver": [["-x"], ["0"], ["65536"], ["port"]],
           "udpserver": [["-x"], ["0"], ["99999"]],
           "tcpclient": [["-x", "127.0.0.1", "1"], ["127.0.0.1"], ["127.0.0.1", "0"], ["127.0.0.1", "ab"]],
           "udpclient": [["127.0.0.1"], ["127.0.0.1", "65536"], ["-W", "0", "127.0.0.1", "1"],
                         ["-W", "600001", "127.0.0.1", "1"], ["-W", "soon", "127.0.0.1", "1"]]}
    for name, argvs in bad.items():
        for args in argvs:
            prog = _run(case, [name, *args], "on bad usage")
            _expect_status(case, prog, 2, "on bad usage")
            if b"sage" not in prog.stderr.bytes() or prog.stdout.bytes():
                case.fail(f"{name} {' '.join(args)}: the usage belongs on standard error",
                          expected="usage on stderr, nothing on stdout",
                          saw=f"stdout {show_bytes(prog.stdout.bytes(), 60)}, stderr {prog.stderr.tail(3)!r}")
    case.tcp_listener(host="::", label="program already on the port")
    prog = _run(case, ["tcpserver", case.port], "when its port is taken")
    _expect_status(case, prog, 1, "when its TCP port is already in use")
    case.udp_peer(port=case.port, host="::", label="program already on the port")
    prog = _run(case, ["udpserver", case.port], "when its port is taken")
    _expect_status(case, prog, 1, "when its UDP port is already in use")
