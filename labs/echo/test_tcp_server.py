"""tcpserver against scripted TCP clients."""

from socklab.feedback import show_bytes
from echolib import ALPHABET_LINE, DEFAULT_PORT, MAX_LINE, UTF8_LINE, exchange, expect_log, expect_no_error_logged, start_server, upper


def test_tcp_server_uppercase(case):
    start_server(case)
    conn = case.tcp_connect()
    exchange(case, conn, b"hello from the grader", what="first reply")
    exchange(case, conn, UTF8_LINE, what="reply to a UTF-8 line")
    exchange(case, conn, ALPHABET_LINE, what="reply to every letter and the bytes around them")
    conn.close()


def test_tcp_server_message_in_pieces(case):
    start_server(case)
    conn = case.tcp_connect()
    long_line = bytes(b"abcdefghij"[i % 10] for i in range(20000))
    # 40 pieces of 500 bytes, each its own segment: the server must keep reading to the newline.
    exchange(case, conn, long_line, chunk=500, pace=0.005, what="reply to a 20000-byte line sent in pieces")
    exchange(case, conn, b"byte by byte", chunk=1, pace=0.005, what="reply to a line sent byte by byte")
    conn.close()


def test_tcp_server_clients_in_turn(case):
    server = start_server(case)
    waiting = None
    for n in (1, 2, 3):
        # Client n connected and sent its line while client n - 1 was still being served.
        conn = waiting or case.tcp_connect(label=f"client {n}")
        line = f"client {n} says hello".encode()
        if waiting is None:
            conn.send(line + b"\n")
        got = conn.recv_until(b"\n", timeout=5, what=f"client {n}'s reply")
        if got.data != upper(line) + b"\n":
            case.fail(f"client {n} of 3 was not served",
                      expected=f"the reply {show_bytes(upper(line))}", saw=f"{show_bytes(got.data)}, then {got.how}; "
                      f"tcpserver {server.status_text()}",
                      hint="after a client closes, close its socket and go back to accept() the next one; "
                           "a client that connected meanwhile waits in the listen queue")
        if n < 3:
            waiting = case.tcp_connect(label=f"client {n + 1}")
            waiting.send(f"client {n + 1} says hello".encode() + b"\n")
            case.step(f"client {n + 1} connected and sent its line while client {n} is still connected")
        conn.close()


def test_tcp_server_closes_connection(case):
    start_server(case)
    conn = case.tcp_connect()
    exchange(case, conn, b"close after this")
    conn.shutdown_write()
    rest = conn.recv_to_eof(timeout=3, what="the server's answer to the client's FIN")
    if rest.how != "eof":
        case.fail("tcpserver did not close the connection after the client closed its side",
                  expected="end of stream (the server's FIN) after the client's FIN",
                  saw=f"{rest.how} after 3 s" if rest.how == "timeout" else rest.how,
                  hint="when recv() returns 0 the client has closed: close() the connection socket")
    conn.close()
    conns = case.tcp_connections()
    c = conns[0] if len(conns) == 1 else None
    if c is None or c["conn_state"] != "SF" or c["teardown"]["kind"] != "four-way-fin":
        case.fail("the capture does not show a clean four-way FIN teardown",
                  expected="one connection, conn_state SF, teardown four-way-fin",
                  saw="; ".join(f"conn_state {x['conn_state']}, history {x['history']}, "
                                f"teardown {x['teardown']['kind']}" for x in conns) or "no connection")


def test_tcp_server_port_argument(case):
    for port in (case.port + 1, case.port + 7):
        server = start_server(case, port=port)
        conn = case.tcp_connect(port=port)
        exchange(case, conn, f"on port {port}".encode())
        conn.close()
        server.stop()
        case.step(f"tcpserver stopped; {server.status_text()}")
    for binary, proto in (("tcpserver", "tcp"), ("udpserver", "udp")):
        case.step(f"{binary} started without PORT: it must use the default, {DEFAULT_PORT}")
        server = case.start(binary)
        case.wait_bound(server, DEFAULT_PORT, proto)
        server.stop()


def test_tcp_server_stream_edges(case):
    start_server(case)
    conn = case.tcp_connect()
    together = b"one\ntwo\n\nthree\r\n"
    conn.send(together, note="four lines in one segment, the third one empty, the last one ending in '\\r'")
    got = conn.recv_exact(len(together), timeout=5, what="the replies to four lines sent at once")
    case.expect_bytes("the replies to 'one', 'two', '' and 'three\\r' sent in one segment", upper(together),
                      got.data, hint="one recv() may hold several lines: answer each, in order, and keep "
                                     "the bytes after a newline for the next line")
    tail = b"last piece, no newline"
    conn.send(tail)
    conn.shutdown_write()
    rest = conn.recv_to_eof(timeout=5, what="the reply to the last piece, then the server's FIN")
    case.expect_bytes("the reply to a last piece without '\\n' (then end of stream)", upper(tail), rest.data,
                      hint="when the stream ends after a piece without '\\n', answer that piece uppercased, "
                           "with no '\\n' added, then close")
    if rest.how != "eof":
        case.fail("tcpserver did not close after answering the last piece",
                  expected="end of stream after the reply", saw=rest.how)
    conn.close()


def test_tcp_server_longest_line(case):
    server = start_server(case)
    longest = b"q" * MAX_LINE
    first = case.tcp_connect(label="client with a 65536-byte line")
    first.send(longest + b"\n", chunk=8192, note=f"a line of {MAX_LINE} bytes, the longest allowed")
    got = first.recv_exact(MAX_LINE + 1, timeout=5, what=f"the reply to the {MAX_LINE}-byte line")
    case.expect_bytes(f"the reply to a line of exactly {MAX_LINE} bytes", upper(longest) + b"\n", got.data,
                      hint=f"a line holds up to {MAX_LINE} bytes, not counting its '\\n': the buffer needs "
                           f"room for {MAX_LINE} bytes and the newline")
    first.close()
    greedy = case.tcp_connect(label="client with a 65537-byte line")
    greedy.send(b"q" * (MAX_LINE + 1) + b"\n", chunk=8192, note=f"a line of {MAX_LINE + 1} bytes, one too many")
    rest = greedy.recv_to_eof(timeout=5, what="the server closing the connection")
    if rest.how not in ("eof", "reset"):
        case.fail(f"tcpserver kept the connection of a client whose line exceeds {MAX_LINE} bytes",
                  expected="the server closes that connection", saw=f"{rest.how}, {len(rest.data)} bytes",
                  hint="when the reader says the line is too long, log it and close the connection")
    expect_log(case, server, [b"ERROR", str(MAX_LINE).encode(), greedy.local.encode()],
               what=f"an ERROR naming the client {greedy.local} and the limit {MAX_LINE}")
    greedy.close()
    polite = case.tcp_connect(label="next client")
    exchange(case, polite, b"served after the long line?")
    polite.close()


def test_tcp_server_faults(case):
    server = start_server(case)
    long_line = bytes(b"klmnopqrst"[i % 10] for i in range(6000))
    for n in (1, 2):
        conn = case.tcp_connect(label=f"client {n}")
        exchange(case, conn, long_line, what=f"client {n}'s reply to a 6000-byte line")
        exchange(case, conn, f"client {n}, short line".encode(), what=f"client {n}'s reply to a short line")
        conn.shutdown_write()
        rest = conn.recv_to_eof(timeout=5, what="the server's FIN")
        if rest.how != "eof" or rest.data:
            case.fail(f"tcpserver did not close client {n}'s connection cleanly after its FIN",
                      expected="end of stream, nothing more", saw=f"{rest.how}, {show_bytes(rest.data, 40)}")
        conn.close()
    expect_no_error_logged(case, server, "an interrupted accept(), recv() or send() fails with EINTR: try it "
                                         "again; a short send() sent only part: send the rest (sl_send_all)")
