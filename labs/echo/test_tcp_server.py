"""tcpserver against scripted TCP clients."""

from echolib import UTF8_LINE, exchange, start_server, upper


def test_tcp_server_uppercase(case):
    start_server(case)
    conn = case.tcp_connect()
    exchange(case, conn, b"hello from the grader", what="first reply")
    exchange(case, conn, UTF8_LINE, what="reply to a UTF-8 line")
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
    for n in (1, 2, 3):
        conn = case.tcp_connect(label=f"client {n}")
        line = f"client {n} says hello".encode()
        conn.send(line + b"\n")
        got = conn.recv_until(b"\n", timeout=5, what=f"client {n}'s reply")
        if got.data != upper(line) + b"\n":
            case.fail(f"client {n} of 3 was not served",
                      expected=f"the reply {upper(line)!r}", saw=f"{got.data!r}, then {got.how}; "
                      f"tcpserver {server.status_text()}",
                      hint="after a client closes, close its socket and go back to accept() the next one")
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
