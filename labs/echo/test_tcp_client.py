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
    td = c["teardown"]
    if not c["handshake"]["complete"]:
        case.fail("the three-way handshake did not complete", expected="SYN, SYN-ACK, ACK (history S h A)",
                  saw=f"history {c['history']}")
    if td["kind"].startswith("reset"):
        case.fail("tcpclient ended the connection with a reset (RST) instead of a FIN",
                  expected="conn_state SF with a four-way FIN teardown started by the client",
                  saw=f"conn_state {c['conn_state']}, history {c['history']}, teardown {td['kind']}",
                  hint="an RST is sent when a socket is closed with SO_LINGER set to 0 or with "
                       "unread data: drop the SO_LINGER option and read every reply before close()")
    if c["conn_state"] != "SF" or td["kind"] != "four-way-fin" or td["first_closer"] != "orig":
        case.fail("the connection did not end with a four-way FIN teardown started by tcpclient",
                  expected="conn_state SF, teardown four-way-fin, client closes first",
                  saw=f"conn_state {c['conn_state']}, history {c['history']}, teardown {td['kind']}, "
                      f"first closer {td['first_closer']}")
