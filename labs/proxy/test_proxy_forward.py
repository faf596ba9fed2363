"""The proxy forwards requests: the request the origin gets, both URL forms,
errors, requests in pieces, malformed requests, POST, the TCP teardowns."""

import select
import time

from socklab.feedback import first_difference, show_bytes

from proxylib import (Response, curl, payload, expect_body, expect_curl_ok, expect_hits, get_request, raw_exchange,
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
    res = curl(case, origin.url("/hello.txt"), "-H", "X-Lab: proxy", "-H", "Connection: keep-alive, Upgrade",
               "-H", "Keep-Alive: timeout=5", "-H", "Proxy-Authorization: Basic dXNlcjpwdw==", "-H", "TE: trailers",
               "-H", "Upgrade: h2c", "-H", "Trailer: X-Sum")
    _expect_no_origin_problem(case, origin)
    heads = origin.all_heads()
    if not heads:
        case.fail("the origin never got a request", expected="a connection and a request from the proxy",
                  saw=res.describe(),
                  hint="connect to the host and port of the URL (here 127.0.0.1:%d) and send the request "
                       "there" % origin.port)
    head = heads[0]
    case.step(f"the origin got: {show_bytes(head, 200)}")
    wrong = []
    first = head.split(b"\r\n", 1)[0]
    if first != b"GET /hello.txt HTTP/1.0":
        wrong.append(f"request line {show_bytes(first)} (expected 'GET /hello.txt HTTP/1.0': the path only, "
                     f"and HTTP/1.0)")
    host = f"127.0.0.1:{origin.port}".encode()
    if not _has_header(head, b"Host", host):
        wrong.append(f"no 'Host: {host.decode()}' line")
    if not _has_header(head, b"Connection", b"close"):
        wrong.append("no 'Connection: close' line")
    if not _has_header(head, b"X-Lab", b"proxy"):
        wrong.append("the client's header 'X-Lab: proxy' was not passed on")
    for name in (b"Proxy-Connection", b"Keep-Alive", b"Proxy-Authorization", b"TE", b"Upgrade", b"Trailer"):
        if _has_header(head, name):
            wrong.append(f"the client's hop-by-hop header '{name.decode()}' was passed on (it is for the proxy only)")
    if _has_header(head, b"Connection") and not _has_header(head, b"Connection", b"close"):
        wrong.append("the client's own 'Connection' header was passed on")
    hosts = sum(1 for line in _header_lines(head) if line.partition(b":")[0].strip().lower() == b"host")
    if hosts != 1:
        wrong.append(f"{hosts} Host lines (the proxy writes its own, and drops the client's)")
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
    conn = case.tcp_connect(host="::1", label="client over IPv6")
    conn.send(get_request(origin, "/form.html"))
    got = conn.recv_to_eof(timeout=6, what="the response over IPv6")
    conn.close()
    if Response(got.data, got.how).body != body:
        case.fail("the proxy did not answer a client that connected over IPv6 (::1)",
                  expected="the body of /form.html", saw=Response(got.data, got.how).describe(),
                  hint="listen on every IPv6 and IPv4 address (sl_tcp_listen(NULL, ...))")
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
    for path, raw, what in (("/garbage", b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "garbage instead of a status line"),
                            ("/half-head", b"HTTP/1.0 200 OK\r\nContent-Le", "half a response head, then its close"),
                            ("/nothing", b"", "nothing at all, then its close")):
        origin.route(path, raw=raw)
        res = curl(case, origin.url(path))
        if res.status != 502:
            case.fail(f"a request whose origin sent {what} did not get 502 Bad Gateway",
                      expected="HTTP status 502", saw=res.describe(),
                      hint="a response head is a status line 'HTTP/1.x NNN reason' and header lines up to the "
                           "empty line: an origin that closes or sends something else before it gets the client 502")
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
    lf_only = request.replace(b"\r\n", b"\n").replace(b"/pieces.txt", b"/pieces.txt?lf")
    origin.route("/pieces.txt?lf", body=body)
    resp = raw_exchange(case, lf_only, label="client with bare LF lines", chunk=6, pace=0.01,
                        note="the request head, every line ended by '\\n' alone")
    if resp.status != 200:
        case.fail("a request whose lines end in '\\n' alone was not accepted",
                  expected="status 200 (be lenient in what you accept)", saw=resp.describe(),
                  hint="a line ends at '\\n'; drop the '\\r' before it when there is one")
    _expect_no_origin_problem(case, origin)


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
                  expected="the proxy still serving the next client", saw=f"the proxy {proxy.status_text()}",
                  hint="a failed read or send ends that client, never the proxy")
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
                  saw=show_bytes(head.split(b"\r\n", 1)[0]))
    res = curl(case, origin.url("/echo"), "--data-binary", "@-", stdin=b"\x00")
    expect_curl_ok(case, res, "the answer to a POST of one byte", b"\x00",
                   hint="send every byte of the body: the loop runs while at least one byte is left")
    conn = case.tcp_connect(label="client whose body ends early")
    conn.send(b"POST " + origin.url("/echo").encode() + b" HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + b"x" * 10,
              note="a POST announcing 100 body bytes, and 10 of them")
    conn.shutdown_write()
    got = conn.recv_to_eof(timeout=8, what="the answer to a cut request body")
    conn.close()
    resp = Response(got.data, got.how)
    if resp.status != 502 or resp.how != "eof":
        case.fail("a POST whose body ended before its Content-Length did not get 502",
                  expected="'HTTP/1.0 502 ...' (the origin got a cut request), then the proxy's FIN",
                  saw=resp.describe(),
                  hint="sl_reader_read() returns 0 at the client's end of stream: the body is short, "
                       "stop with an error (w->r->err, return -1)")


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
                  expected=f"status 200 and the {len(quick)} bytes of /quick.txt, then the end of stream",
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
                  expected="status 200 and 'slow origin\\n' 100 times (1200 bytes), then the end of stream",
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


ERROR_REQUESTS = (
    # (what, the request, the statuses the handout allows)
    ("a request line of four words", b"GET http://127.0.0.1:{port}/x HTTP/1.1 extra\r\n\r\n", (400,)),
    ("a request line of two words", b"GET http://127.0.0.1:{port}/x\r\n\r\n", (400,)),
    ("version HTTP/2.0", b"GET http://127.0.0.1:{port}/x HTTP/2.0\r\n\r\n", (400,)),
    ("method DELETE", b"DELETE http://127.0.0.1:{port}/x HTTP/1.1\r\n\r\n", (501,)),
    ("method CONNECT (an https:// tunnel)", b"CONNECT 127.0.0.1:443 HTTP/1.1\r\n\r\n", (501, 400)),
    ("an https:// URL", b"GET https://127.0.0.1:{port}/x HTTP/1.1\r\n\r\n", (501,)),
    ("a URL without a host", b"GET http:///x HTTP/1.1\r\n\r\n", (400,)),
    ("a header line without a colon", b"GET http://127.0.0.1:{port}/x HTTP/1.1\r\nNo colon here\r\n\r\n", (400,)),
    ("an obsolete continuation line",
     b"GET http://127.0.0.1:{port}/x HTTP/1.1\r\nX-A: 1\r\n  continued: 2\r\n\r\n", (400,)),
    ("a continuation line that starts with a tab",
     b"GET http://127.0.0.1:{port}/x HTTP/1.1\r\nX-A: 1\r\n\tcontinued: 2\r\n\r\n", (400,)),
    ("a bad Content-Length", b"POST http://127.0.0.1:{port}/x HTTP/1.1\r\nContent-Length: 3x\r\n\r\nabc", (400,)),
    ("two Content-Length headers",
     b"POST http://127.0.0.1:{port}/x HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc", (400,)),
    ("a Transfer-Encoding header",
     b"POST http://127.0.0.1:{port}/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", (411,)),
    ("a Transfer-Encoding header beside a Content-Length",
     b"POST http://127.0.0.1:{port}/x HTTP/1.1\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3\r\nabc\r\n0\r\n\r\n", (411,)),
    ("a POST without Content-Length", b"POST http://127.0.0.1:{port}/x HTTP/1.1\r\n\r\n", (411,)),
    ("40 header lines of 500 bytes (over 16 KiB in all)",
     b"GET http://127.0.0.1:{port}/x HTTP/1.1\r\n" + b"".join(b"X-Line-%02d: %s\r\n" % (i, b"v" * 486)
                                                            for i in range(40)) + b"\r\n", (431,)),
)


def _expect_error_response(case, resp, allowed, what):
    """RESP must be a whole error response of a status in ALLOWED, as the handout shows one."""
    _expect_error(case, resp, allowed, what,
                  "the table 'Errors the proxy answers itself' says which status each problem gets")
    wrong = []
    if resp.header("Content-Type") is None:
        wrong.append("no Content-Type")
    if resp.header("Connection") != "close":
        wrong.append("no 'Connection: close'")
    length = resp.header("Content-Length")
    if length is None or not length.isdigit() or int(length) != len(resp.body):
        wrong.append(f"Content-Length {length!r} for a body of {len(resp.body)} bytes" if length is not None
                     else "no Content-Length")
    if not resp.body.endswith(b"\n") or resp.body.count(b"\n") != 1:
        wrong.append(f"the body {show_bytes(resp.body, 80)} is not one line")
    if resp.how != "eof":
        wrong.append(f"the response ended with {resp.how}, not the proxy's FIN")
    if wrong:
        case.fail(f"the error response to {what} is not a whole HTTP response",
                  expected="status line, Content-Type, Content-Length of the body, Connection: close, the empty "
                           "line, a one-line body, then the proxy's FIN",
                  saw="; ".join(wrong), hint="answer_error() writes all of it: send its head and its body")


def test_proxy_error_replies(case, origin):
    start_proxy(case)
    for n, (what, request, allowed) in enumerate(ERROR_REQUESTS, 1):
        request = request.replace(b"{port}", str(origin.port).encode())
        resp = raw_exchange(case, request, label=f"client {n}", note=f"{what}: {show_bytes(request, 200)}")
        _expect_error_response(case, resp, allowed, what)
    if origin.all_heads():
        case.fail("the proxy forwarded a request it should have refused",
                  expected="no request at the origin", saw=show_bytes(origin.all_heads()[0], 200))


def _nothing_before(case, conns, started, when):
    """None of CONNS may have received a byte before the monotonic time WHEN."""
    while time.monotonic() < when:
        ready, _, _ = select.select([conn.sock for _, conn in conns], [], [], when - time.monotonic())
        for label, conn in conns:
            if conn.sock in ready:
                case.fail(f"the proxy answered or closed {label} before its 10 s timeout",
                          expected="nothing for 10 s (the handout's timeout), then the error response",
                          saw=f"something after {time.monotonic() - started:.1f} s",
                          hint="give the peer the whole 10 s: set_io_timeout(fd, IO_TIMEOUT_S) on each socket")


START_SLACK = 8.0       # the earliest a 10 s timeout may end, in s
LATE_LIMIT = 15.0       # the latest, with the grader's load


def test_proxy_silent_peers(case, origin):
    origin.route("/quiet-origin.txt", silent=True)
    stalled_body = payload(100000, seed=13)
    stalled = origin.route("/stalled.bin", body=stalled_body, stall_first=30000,
                           content_type="application/octet-stream")
    quick = b"served while others were silent\n"
    origin.route("/quick.txt", body=quick)
    start_proxy(case)
    started = time.monotonic()
    mute = case.tcp_connect(label="client that says nothing")
    half = case.tcp_connect(label="client that stops mid-head")
    half.send(get_request(origin, "/quick.txt")[:25], note="the first 25 bytes of its request, then nothing")
    waiting = case.tcp_connect(label="client of a silent origin")
    waiting.send(get_request(origin, "/quiet-origin.txt"))
    stuck = case.tcp_connect(label="client of an origin stalled mid-body")
    stuck.send(get_request(origin, "/stalled.bin"))
    if not origin.wait_hits("/quiet-origin.txt", 1, 3) or not origin.wait_hits("/stalled.bin", 1, 3):
        case.fail("the proxy did not forward the requests for /quiet-origin.txt and /stalled.bin")
    expect_curl_ok(case, curl(case, origin.url("/quick.txt"), timeout=3), "a request while three peers were silent",
                   quick)
    conns = (("the client that says nothing", mute), ("the client that stopped mid-head", half),
             ("the client of a silent origin", waiting))
    _nothing_before(case, conns, started, started + START_SLACK)
    for (label, conn), status in zip(conns, (408, 408, 504)):
        got = conn.recv_to_eof(timeout=max(0.5, started + LATE_LIMIT - time.monotonic()), what=f"{label}: the answer")
        conn.close()
        resp = Response(got.data, got.how)
        if resp.status != status:
            case.fail(f"{label} did not get {status} after 10 s",
                      expected=f"'HTTP/1.0 {status} ...' {LATE_LIMIT:g} s after it connected at the latest, "
                               "then the proxy's FIN",
                      saw=resp.describe(),
                      hint="every socket has a 10 s timeout (SO_RCVTIMEO): a client silent in its head gets 408, "
                           "an origin silent before its response head gets the client a 504")
        _expect_error_response(case, resp, (status,), label)
    _expect_stalled_body_cut(case, origin, stuck, stalled, stalled_body, started)


def _expect_stalled_body_cut(case, origin, stuck, route, body, started):
    """An origin silent in the middle of a body: the client gets what came, then
    the proxy's FIN; the cut copy is not cached."""
    got = stuck.recv_to_eof(timeout=max(0.5, started + LATE_LIMIT - time.monotonic()),
                            what="the response of the origin stalled mid-body")
    stuck.close()
    expected = route.head(len(body)) + body[:route.stall_first]
    if got.data != expected or got.how != "eof":
        case.fail("the client of an origin that went silent mid-body did not get what came, then the proxy's FIN",
                  expected=f"{len(expected)} bytes (the head and {route.stall_first} body bytes), then end of stream "
                           f"within {LATE_LIMIT:g} s",
                  saw=f"{len(got.data)} bytes, then {got.how}", difference=first_difference(expected, got.data),
                  hint="the 10 s read timeout ends the body: pass on what came, then close the client's connection")
    res = curl(case, origin.url("/stalled.bin"))
    expect_curl_ok(case, res, "the stalled URL asked for again", body)
    expect_hits(case, origin, "/stalled.bin", 2, "a body cut by a timeout must not be cached",
                hint="a failed read marks the response broken (w->broken): never cache it")


def test_proxy_client_cap(case, origin):
    body = b"one client at a time with -c 1\n"
    origin.route("/cap.txt", body=body)
    start_proxy(case, "-c", "1")
    request = get_request(origin, "/cap.txt")
    first = case.tcp_connect(label="client 1 (holds the only slot)")
    first.send(request[:20], note="the first 20 bytes of its request")
    second = case.tcp_connect(label="client 2")
    second.send(request, note="its whole request")
    early = second.recv_exact(1, timeout=1.5, what="an answer while client 1 holds the only slot")
    if early.data:
        case.fail("with -c 1, a second client was served while the first one held the only slot",
                  expected="client 2 waits (in the kernel's backlog) until client 1 is done",
                  saw=f"client 2 got {show_bytes(early.data)}",
                  hint="take_slot(): wait on the condition variable while busy >= max_clients, then busy++")
    first.send(request[20:], note="the rest of its request")
    got = first.recv_to_eof(timeout=5, what="client 1's response")
    first.close()
    if Response(got.data, got.how).body != body:
        case.fail("client 1 did not get its response",
                  expected=f"status 200 and the {len(body)} body bytes, then the end of stream",
                  saw=Response(got.data, got.how).describe())
    got = second.recv_to_eof(timeout=5, what="client 2's response, once the slot was free")
    second.close()
    resp = Response(early.data + got.data, got.how)
    if resp.status != 200 or resp.body != body:
        case.fail("client 2 was not served once client 1's slot was free",
                  expected="status 200 and the body of /cap.txt within 5 s", saw=resp.describe(),
                  hint="give_slot(): busy--, then signal the condition variable the main thread waits on")
