"""The proxy forwards requests: the request the origin gets, both URL forms,
errors, requests in pieces, malformed requests, POST, the TCP teardowns."""

from proxylib import (Response, curl, expect_body, expect_curl_ok, expect_hits, get_request, raw_exchange,
                      spare_port, start_proxy)


def _header_lines(head):
    return [line for line in head.split(b"\r\n")[1:] if line]


def _has_header(head, name, value=None):
    for line in _header_lines(head):
        key, _, val = line.partition(b":")
        if key.strip().lower() == name.lower() and (value is None or val.strip() == value):
            return True
    return False


def _expect_no_origin_problem(case, origin):
    """The origin answers 400 to a request with bare '\\n' line ends: say so first."""
    if origin.problems:
        case.fail("the request the proxy sent to the origin is not valid HTTP",
                  expected="every line of the request head ended by CR LF (\\r\\n), and the empty line too",
                  saw=origin.problems[0],
                  hint="HTTP lines end with the two bytes \\r\\n: write \"GET /path HTTP/1.0\\r\\n\", "
                       "\"Host: ...\\r\\n\", ... and a last \"\\r\\n\"")


def test_proxy_forwards_get(case, origin):
    body = b"hello through the proxy\n"
    origin.route("/hello.txt", body=body)
    start_proxy(case)
    res = curl(case, origin.url("/hello.txt"), "-H", "X-Lab: proxy")
    _expect_no_origin_problem(case, origin)
    heads = origin.all_heads()
    if not heads:
        case.fail("the origin never got a request", expected="a connection and a request from the proxy",
                  saw=res.describe(),
                  hint="connect to the host and port of the URL (here 127.0.0.1:%d) and send the request "
                       "there" % origin.port)
    head = heads[0]
    case.step(f"the origin got: {head!r}")
    wrong = []
    first = head.split(b"\r\n", 1)[0]
    if first != b"GET /hello.txt HTTP/1.0":
        wrong.append(f"request line {first!r} (expected 'GET /hello.txt HTTP/1.0': the path only, "
                     f"and HTTP/1.0)")
    host = f"127.0.0.1:{origin.port}".encode()
    if not _has_header(head, b"Host", host):
        wrong.append(f"no 'Host: {host.decode()}' line")
    if not _has_header(head, b"Connection", b"close"):
        wrong.append("no 'Connection: close' line")
    if not _has_header(head, b"X-Lab", b"proxy"):
        wrong.append("the client's header 'X-Lab: proxy' was not passed on")
    if _has_header(head, b"Proxy-Connection"):
        wrong.append("the client's 'Proxy-Connection' header was passed on (it is for the proxy only)")
    if wrong:
        case.fail("the request the proxy sent to the origin is not the one the handout describes",
                  expected="GET /hello.txt HTTP/1.0, Host, the client's own headers, Connection: close",
                  saw="; ".join(wrong))
    expect_curl_ok(case, res, "the response to GET /hello.txt", body,
                   hint="pass every byte of the origin's response back to the client")


def test_proxy_handout_form(case, origin):
    body = b"<html>the original assignment's URL form</html>\n"
    origin.route("/form.html", body=body, content_type="text/html")
    start_proxy(case)
    resp = raw_exchange(case, get_request(origin, "/form.html", form="handout"),
                        note=f"'GET /127.0.0.1:{origin.port}/form.html HTTP/1.1' and its headers")
    if resp.status != 200:
        case.fail("a request in the form http://localhost:PORT/HOST:PORT/PATH was not forwarded",
                  expected=f"status 200 and the body of http://127.0.0.1:{origin.port}/form.html",
                  saw=resp.describe(),
                  hint="a target that starts with '/' names the host and port in its first part: "
                       "'/127.0.0.1:8000/a/b.html' is http://127.0.0.1:8000/a/b.html")
    expect_body(case, "the body of /form.html", body, resp.body)
    res = curl(case, origin.url("/form.html"))
    expect_curl_ok(case, res, "the same URL in the absolute form", body)
    expect_hits(case, origin, "/form.html", 1, "both forms name the same URL, so the second is a cache hit",
                hint="make the cache key from host, port and path, not from the request's raw text")


def test_proxy_origin_unreachable(case, origin):
    start_proxy(case)
    closed = spare_port(case, 2)
    res = curl(case, f"http://127.0.0.1:{closed}/nobody-home.txt")
    if res.status != 502:
        case.fail("a request for a server that does not answer did not get 502 Bad Gateway",
                  expected="HTTP status 502 (nothing listens on port %d)" % closed, saw=res.describe(),
                  hint="when connecting to the origin fails, answer 'HTTP/1.0 502 Bad Gateway' with a short "
                       "body that says why, then close the connection")
    body = b"still serving\n"
    origin.route("/after.txt", body=body)
    expect_curl_ok(case, curl(case, origin.url("/after.txt")), "a request after the 502", body)


def test_proxy_request_in_pieces(case, origin):
    body = b"a request that came in many segments\n"
    origin.route("/pieces.txt", body=body)
    start_proxy(case)
    request = get_request(origin, "/pieces.txt")
    resp = raw_exchange(case, request, chunk=6, pace=0.01, note=f"the request head ({len(request)} bytes)")
    if resp.status != 200:
        case.fail("a request sent in small pieces was not understood",
                  expected="status 200 and the body of /pieces.txt", saw=resp.describe(),
                  hint="one recv() returns what has arrived so far, maybe a few bytes: read lines until "
                       "the empty line that ends the request head (sl_reader_line())")
    expect_body(case, "the body of /pieces.txt", body, resp.body)


def _expect_error(case, resp, allowed, what, hint):
    if resp.status not in allowed:
        case.fail(f"the proxy did not answer {what} with an error response",
                  expected=f"'HTTP/1.x {' or '.join(map(str, allowed))} ...\\r\\n', headers, a short body, "
                           "then the proxy's FIN",
                  saw=resp.describe(), hint=hint)


def test_proxy_malformed_requests(case, origin):
    body = b"fine\n"
    origin.route("/fine.txt", body=body)
    proxy = start_proxy(case)
    resp = raw_exchange(case, b"HELLO PROXY\r\n\r\n", label="client 1")
    _expect_error(case, resp, (400,), "a request line that is not 'METHOD TARGET HTTP/1.x'",
                  "check that the request line has three words and answer 400 Bad Request when not")
    huge = get_request(origin, "/fine.txt", extra=b"X-Huge: " + b"h" * (64 << 10) + b"\r\n")
    resp = raw_exchange(case, huge, label="client 2", note=f"a request with a {64 << 10}-byte header line")
    _expect_error(case, resp, (431, 400), "a request whose header is 64 KiB long",
                  "stop reading at the limit (16 KiB of headers), answer 431 (or 400), then read and drop "
                  "what the client still sends before closing, so that it gets the answer")
    conn = case.tcp_connect(label="client 3")
    conn.send(b"GET http://127.0.0.1:")
    conn.reset()
    if not proxy.running():
        case.fail("the proxy ended when a client reset the connection in the middle of its request",
                  saw=proxy.status_text(), hint="a failed read or send ends that client, never the proxy")
    resp = raw_exchange(case, get_request(origin, "/fine.txt"), label="client 4")
    if resp.status != 200 or resp.body != body:
        case.fail("the proxy stopped serving after malformed requests",
                  expected="status 200 and the body of /fine.txt", saw=resp.describe())


def test_proxy_post_forwarded(case, origin):
    origin.route("/echo", echo=True)
    start_proxy(case)
    sent = bytes(range(256)) * 40
    for n in (1, 2):
        res = curl(case, origin.url("/echo"), "--data-binary", "@-", "-H", "Content-Type: application/octet-stream",
                   stdin=sent)
        _expect_no_origin_problem(case, origin)
        expect_curl_ok(case, res, f"the answer to POST {n} (the origin echoes the body)", sent,
                       hint="forward the POST with its headers, then exactly Content-Length bytes of body")
    expect_hits(case, origin, "/echo", 2, "a POST is never answered from the cache",
                hint="cache only GET requests")
    head, got = origin.requests_of("/echo")[0]
    if not head.startswith(b"POST /echo HTTP/1.0\r\n"):
        case.fail("the origin did not get a POST", expected="POST /echo HTTP/1.0",
                  saw=repr(head.split(b"\r\n", 1)[0]))


def test_proxy_concurrent_clients(case, origin):
    quick = b"served while another client was slow\n"
    origin.route("/quick.txt", body=quick)
    origin.route("/slow-origin.txt", body=b"slow origin\n" * 100, hold_first=12)
    start_proxy(case)
    slow = case.tcp_connect(label="slow client")
    request = get_request(origin, "/quick.txt")
    slow.send(request[:20], note="the first 20 bytes of its request, and then nothing for a while")
    res = curl(case, origin.url("/quick.txt"), timeout=3)
    if res.rc != 0 or res.body != quick:
        case.fail("a client was not served while another one was slow to send its request",
                  expected="the second client's response at once (within 3 s)", saw=res.describe(),
                  hint="serve each client in a thread of its own: a proxy that reads one client's request "
                       "before it accepts the next one waits for the slowest client")
    slow.send(request[20:], note="the rest of its request")
    resp_slow = slow.recv_to_eof(timeout=5, what="the slow client's response")
    slow.close()
    if Response(resp_slow.data, resp_slow.how).body != quick:
        case.fail("the slow client did not get its response once its request was complete",
                  saw=Response(resp_slow.data, resp_slow.how).describe())
    waiting = case.tcp_connect(label="client of a slow origin")
    waiting.send(get_request(origin, "/slow-origin.txt"))
    if not origin.wait_hits("/slow-origin.txt", 1, 3):
        case.fail("the proxy did not forward the request for /slow-origin.txt")
    res = curl(case, origin.url("/quick.txt"), timeout=3)
    if res.rc != 0 or res.body != quick:
        case.fail("a client was not served while another one waited for a slow origin",
                  expected="the response at once (within 3 s)", saw=res.describe(),
                  hint="one thread per client: waiting for one origin must not block the others")
    origin.release()
    got = waiting.recv_to_eof(timeout=5, what="the response of the slow origin")
    waiting.close()
    if Response(got.data, got.how).body != b"slow origin\n" * 100:
        case.fail("the response of the slow origin did not arrive whole",
                  saw=Response(got.data, got.how).describe())


def test_proxy_fin_teardown(case, origin):
    body = b"clean ends on both legs\n" * 50
    origin.route("/fin.txt", body=body)
    start_proxy(case)
    for n, what in ((1, "a miss"), (2, "a cache hit")):
        resp = raw_exchange(case, get_request(origin, "/fin.txt"), label=f"client {n} ({what})")
        if resp.status != 200 or resp.body != body or resp.how != "eof":
            case.fail(f"client {n} ({what}) did not get the whole response followed by the proxy's FIN",
                      expected=f"status 200, {len(body)} body bytes, then end of stream",
                      saw=resp.describe(), hint="after the response, close the client's socket")
    if not origin.wait_idle(3):
        case.fail("the origin still waited for the proxy 3 s after the responses",
                  expected="the origin's connection done: a whole request head, the response, the closes",
                  hint="send the request head to its end, the empty line included")
    clients = case.tcp_connections(port=case.port)
    legs = case.tcp_connections(port=origin.port)
    if len(clients) != 2:
        case.fail("the capture does not show the two client connections",
                  expected=f"2 TCP connections to port {case.port}", saw=f"{len(clients)}")
    for c in clients:
        case.expect_fin_teardown(c, "resp", "the proxy (client leg)")
    if len(legs) != 1:
        case.fail("the capture does not show exactly one connection from the proxy to the origin",
                  expected=f"1 TCP connection to port {origin.port} (the second request is a cache hit)",
                  saw=f"{len(legs)}")
    leg = legs[0]
    if leg["conn_state"] != "SF" or leg["teardown"]["kind"] not in ("four-way-fin", "simultaneous-close"):
        case.fail("the connection from the proxy to the origin did not end with a FIN from each side",
                  expected="conn_state SF, a FIN each way, no reset",
                  saw=f"conn_state {leg['conn_state']}, history {leg['history']}, "
                      f"teardown {leg['teardown']['kind']}",
                  hint="read the response up to its end (Content-Length, or the origin's close), then "
                       "close() the socket; a reset means bytes were left unread")
