"""tcpclient against a scripted TCP server."""

from echolib import BINARY_LINE, UTF8_LINE, client_session, expect_output

LINES = [b"hello world", b"socket programming 101: Mixed Case!"]


def test_tcp_client_uppercase(case):
    client = client_session(case, LINES)
    expect_output(case, client, LINES)


def test_tcp_client_reply_in_pieces(case):
    lines = [b"x" * 3000 + b" long line", b"short one"]
    # The scripted server sends each reply 7 bytes at a time: one recv() gets a fragment.
    client = client_session(case, lines, chunk=7, pace=0.002)
    expect_output(case, client, lines)


def test_tcp_client_utf8_binary(case):
    lines = [UTF8_LINE, BINARY_LINE]
    client = client_session(case, lines)
    expect_output(case, client, lines)


def test_tcp_client_fin_teardown(case):
    client = client_session(case, LINES)
    expect_output(case, client, LINES)
    conns = case.tcp_connections()
    if len(conns) != 1:
        case.fail("the capture does not show exactly one connection from tcpclient",
                  expected="1 TCP connection to the scripted server", saw=f"{len(conns)} connections")
    c = conns[0]
    if not c["handshake"]["complete"]:
        case.fail("the three-way handshake did not complete", expected="SYN, SYN-ACK, ACK (history S h A)",
                  saw=f"history {c['history']}")
    case.expect_fin_teardown(c, "orig", "tcpclient")
