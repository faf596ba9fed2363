"""tcpclient against a scripted TCP server."""

from echolib import BINARY_LINE, MAX_LINE, UTF8_LINE, client_session, expect_log, expect_no_error_logged, expect_output

LINES = [b"hello world", b"socket programming 101: Mixed Case!"]


def test_tcp_client_uppercase(case):
    client = client_session(case, LINES)
    expect_output(case, client, LINES)
    expect_log(case, client, [f"connected to 127.0.0.1:{case.port}".encode()])


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


def test_tcp_client_input_edges(case):
    lines = [b"first", b"", b"w" * MAX_LINE, b"crlf\r", b"last line without newline"]
    stdin = b"first\n\n" + lines[2] + b"\ncrlf\r\nlast line without newline"
    case.step(f"stdin: 'first', an empty line, a line of {MAX_LINE} bytes (the longest allowed), "
              f"a line ending in '\\r', and a last line without '\\n'")
    client = client_session(case, lines, stdin=stdin)
    expect_output(case, client, lines)


def _refused(case):
    client = case.start("tcpclient", "127.0.0.1", case.port, stdin=b"nobody listens\n")
    case.wait_exit(client, why="when nothing listens on the port")
    return client, "no program listens on the port"


def _closed_before_reply(case, reply_part):
    listener = case.tcp_listener()
    client = case.start("tcpclient", "127.0.0.1", case.port, stdin=b"are you there\nsecond line\n")
    conn = case.accept_client(listener, client)
    conn.recv_until(b"\n", timeout=5, what="the first request")
    if reply_part:
        conn.send(reply_part, note="part of the reply, without its newline")
    conn.close()
    case.wait_exit(client, why="after the server closed the connection")
    listener.close()
    return client, ("the server closed after part of the reply" if reply_part
                    else "the server closed without replying")


def _too_long(case):
    listener = case.tcp_listener()
    client = case.start("tcpclient", "127.0.0.1", case.port, stdin=b"y" * (MAX_LINE + 1) + b"\n")
    case.step(f"stdin: one line of {MAX_LINE + 1} bytes, one more than allowed")
    listener.accept(timeout=2, while_true=client.running)
    case.wait_exit(client, why=f"after a line longer than {MAX_LINE} bytes")
    listener.close()
    return client, f"a line of standard input is longer than {MAX_LINE} bytes"


def test_tcp_client_failures(case):
    for run in (lambda: _refused(case), lambda: _closed_before_reply(case, b""),
                lambda: _closed_before_reply(case, b"ARE YOU"), lambda: _too_long(case)):
        client, what = run()
        if client.returncode != 1:
            case.fail(f"tcpclient's exit status does not report the failure when {what}",
                      expected="exit status 1", saw=client.status_text(),
                      hint="a failed connection, a server that closes before the whole reply line came, "
                           "and a line that is too long all end the client with status 1")
        if what.startswith("the server closed") and client.stdout.bytes():
            case.expect_bytes(f"tcpclient's standard output when {what}", b"", client.stdout.bytes(),
                              hint="print a reply only once its whole line has come")


def test_tcp_client_faults(case):
    lines = [b"a" * 5000 + b" long line", b"short", b"last one"]
    client = client_session(case, lines)
    expect_output(case, client, lines)
    expect_no_error_logged(case, client, "an interrupted send() or recv() fails with EINTR: try it again; a "
                                         "short send() sent only part of the line: send the rest (sl_send_all)")
