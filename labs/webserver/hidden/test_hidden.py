"""Hidden webserver cases (not in the student distribution)."""

from socklab import http
from socklab.feedback import show_bytes
from weblib import FILES, expect_body, expect_status, host, start_server


def test_ws_thread_cap(case):
    start_server(case, threads=2)
    request = http.request("GET", "/hello.txt", host=host(case))
    busy = []
    for name in "AB":
        conn = case.tcp_connect(label=f"busy client {name}")
        conn.send(request[:10])
        busy.append(conn)
    third = case.tcp_connect(label="third client")
    third.send(request)
    early = third.recv_until(b"\n", timeout=1.0, what="an answer while two connections are busy")
    if early.how != "timeout":
        case.fail("with -t 2 the server served a third connection while two were busy",
                  expected="no answer until one of the two busy connections ends",
                  saw=f"{show_bytes(early.data, 40)} ({early.how})",
                  hint="count the connection threads (a mutex and a condition variable); at MAX_THREADS, "
                       "wait for one to end before accept()")
    busy[0].close()
    case.step("busy client A closed its connection: a thread is free")
    resp = http.read_response(third, timeout=5, what="the third client's response")
    expect_status(case, resp, 200, "the third client's request, once a thread was free",
                  hint="when a connection thread ends it must give its slot back and wake the main thread")
    expect_body(case, resp, FILES["hello.txt"], "/hello.txt")
    third.close()
    busy[1].close()
