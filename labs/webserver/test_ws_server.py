"""webserver against curl and scripted HTTP clients."""

import hashlib

from socklab import http
from socklab.feedback import first_difference, show_bytes
from weblib import (FILES, INDEX_HTML, PASSWD_MARK, SECRET, TYPES, connection_from, curl_get,
                    expect_body, expect_closed, expect_crlf, expect_curl_ok, expect_length,
                    expect_status, expect_type, fetch, first_line, host, media_type, start_server)


def test_ws_get_html(case):
    start_server(case)
    for path, name in (("/index.html", "index.html"), ("/", "index.html"), ("/img/", "img/index.html")):
        done, status, ctype, body = curl_get(case, path)
        expect_curl_ok(case, done, path)
        if status != 200:
            case.fail(f"curl {path} did not get 200", expected="status 200", saw=f"status {status}",
                      hint="a path naming a folder serves that folder's index.html" if path.endswith("/")
                      else None)
        if body != FILES[name]:
            case.expect_bytes(f"the page curl got for {path}", FILES[name], body)
        expect_type(case, name, ctype)


def test_ws_binary_file_hash(case):
    start_server(case)
    for name in ("img/photo.png", "big.bin", "img/Photo.JPG"):
        done, status, ctype, body = curl_get(case, "/" + name)
        expect_curl_ok(case, done, "/" + name)
        data = FILES[name]
        if status != 200 or hashlib.sha256(body).digest() != hashlib.sha256(data).digest():
            case.fail(f"the file curl downloaded from /{name} is not the file on disk",
                      expected=f"status 200, {len(data)} bytes, SHA-256 {hashlib.sha256(data).hexdigest()[:16]}…",
                      saw=f"status {status}, {len(body)} bytes, SHA-256 {hashlib.sha256(body).hexdigest()[:16]}…",
                      hint="files are bytes, not text: read() and send() them in a loop and never use "
                           "string functions (strlen, strcpy, fputs) on their contents")
        expect_type(case, name, ctype)


def test_ws_status_line(case):
    start_server(case)
    for target, line in (("/hello.txt", b"HTTP/1.1 200 OK"), ("/missing.txt", b"HTTP/1.1 404 Not Found")):
        conn, resp = fetch(case, target)
        if resp.status_line != line:
            case.fail(f"the status line of the response to GET {target} is not '{line.decode()}'",
                      expected=f"{line.decode()}\\r\\n as the very first bytes of the response",
                      saw=first_line(resp), difference=first_difference(line, resp.status_line),
                      hint=http_hint(resp))
        conn.close()


def http_hint(resp):
    if resp.status_line[:1].isspace():
        return ("the seed code's bug: ' HTTP/1.1 ...' starts with a space; the status line begins with "
                "'HTTP' at byte 0")
    return "status line: 'HTTP/1.1', one space, the three-digit code, one space, the reason phrase, CRLF"


def test_ws_crlf_headers(case):
    start_server(case)
    for target in ("/hello.txt", "/missing.txt"):
        conn, resp = fetch(case, target)
        expect_status(case, resp, (200, 404), f"GET {target}")
        expect_crlf(case, resp, f"GET {target}")
        conn.close()


def test_ws_content_length(case):
    start_server(case)
    for name in ("hello.txt", "empty.txt", "one.txt", "big.bin"):
        conn, resp = fetch(case, "/" + name)
        expect_status(case, resp, 200, f"GET /{name}")
        expect_length(case, resp, len(FILES[name]), f"/{name}")
        expect_body(case, resp, FILES[name], f"/{name}")
        expect_closed(case, conn, f"the response to GET /{name}")
        conn.close()
    conn, resp = fetch(case, "/missing.html")
    expect_status(case, resp, 404, "GET /missing.html")
    expect_length(case, resp, len(resp.body), "the 404 page")
    conn.close()


def test_ws_head(case):
    start_server(case)
    for name in TYPES:
        conn, resp = fetch(case, "/" + name, method="HEAD")
        expect_status(case, resp, 200, f"HEAD /{name}")
        expect_length(case, resp, len(FILES[name]), f"HEAD /{name} (the size GET would send)")
        expect_type(case, name, resp.header("Content-Type"))
        how = http.expect_eof(conn, timeout=3)
        if how != "eof":
            case.fail(f"the response to HEAD /{name} is not just a head",
                      expected="the head, then the server closes (HEAD has no body)",
                      saw={"data": f"{len(conn.pending)} more bytes after the head",
                           "timeout": "the connection stayed open 3 s after 'Connection: close'"}.get(how, how),
                      hint="answer HEAD like GET (same status and headers, Content-Length included) "
                           "but send no body")
        conn.close()


def test_ws_not_found(case):
    start_server(case)
    for target in ("/missing.html", "/img/nothing.png"):
        conn, resp = fetch(case, target)
        expect_status(case, resp, 404, f"GET {target}",
                      hint="send 'HTTP/1.1 404 Not Found', the headers and an empty line, then the page")
        if media_type(resp.header("Content-Type")) != "text/html" or b"404" not in resp.body:
            case.fail(f"the 404 response to {target} has no small HTML page saying 404",
                      expected="Content-Type: text/html and a body that says 404 Not Found",
                      saw=f"Content-Type: {resp.header('Content-Type')}, body {show_bytes(resp.body[:80])}")
        expect_length(case, resp, len(resp.body), "the 404 page")
        conn.close()
    done, status, _, body = curl_get(case, "/missing.html")
    expect_curl_ok(case, done, "/missing.html")
    if status != 404 or b"404" not in body:
        case.fail("curl did not show the 404 page", expected="status 404 and the HTML page",
                  saw=f"status {status}, body {show_bytes(body[:80])}")


BIG_HEADER = b"X-Filler: " + b"a" * 20000
# A head far over 8 KiB in short lines: a server that refuses it stops reading
# well before its end, whatever its buffer, so tens of kB stay unread.
MANY_HEADERS = [f"X-Filler-{i}: {'a' * 90}" for i in range(500)]


def head_of_size(case, size, lines):
    """A GET /hello.txt head of exactly SIZE bytes, every CRLF and the empty line
    counted, padded by LINES filler header lines."""
    fixed = ["GET /hello.txt HTTP/1.1", f"Host: {host(case)}", "Connection: close"]
    room = size - sum(len(line) + 2 for line in fixed) - 2
    lengths = [room // lines] * lines
    lengths[-1] += room - sum(lengths)
    fillers = [f"X-Fill-{i:03d}: ".ljust(n - 2, "h") for i, n in enumerate(lengths)]
    head = "".join(line + "\r\n" for line in fixed + fillers) + "\r\n"
    assert len(head) == size
    return head.encode()


def test_ws_bad_request(case):
    server = start_server(case)
    # HTTP_HEAD_MAX counts every line with its CRLF, the empty line included.
    for size, lines, statuses, what in (
            (8192, 4, 200, "a request head of exactly 8192 bytes (8 KiB: the most allowed)"),
            (8250, 200, (431, 400), "a request head of 8250 bytes in 204 short lines (over 8 KiB)")):
        conn, resp = fetch(case, None, raw=head_of_size(case, size, lines), label=f"client ({size}-byte head)")
        expect_status(case, resp, statuses, what,
                      hint="a head may hold 8192 bytes, counting each line with its CRLF (2 bytes) and the "
                           "empty line; one byte more gets 431 Request Header Fields Too Large")
        conn.close()
    bad = [
        (b"GARBAGE\r\n\r\n", "a request line of one word"),
        (b"GET /index.html\r\n\r\n", "a request line without a version"),
        (b"GET  /index.html HTTP/1.1\r\n\r\n", "two spaces after the method"),
        (b"GET /index.html HTTP/1.1\r\nHost " + host(case).encode() + b"\r\n\r\n", "a header line without ':'"),
    ]
    for raw, what in bad:
        conn, resp = fetch(case, None, raw=raw, label=f"client ({what})")
        expect_status(case, resp, 400, what, hint="a request that does not parse gets 400 Bad Request "
                                                  "(and the server goes on serving)")
        conn.close()
    conn, resp = fetch(case, "/index.html", headers=[BIG_HEADER.decode()], label="client (a 20 kB header)")
    expect_status(case, resp, (431, 400), "a request with a 20000-byte header line",
                  hint="limit the request head (8 KiB) and answer 431 Request Header Fields Too Large")
    conn.close()
    rude = case.tcp_connect(label="client that vanishes mid-request")
    rude.send(b"GET /index.html HTTP/1.1\r\nHo")
    rude.reset()
    # A FIN, unlike a reset, never makes the bytes before it vanish: the server
    # surely got part of a request.
    quitter = case.tcp_connect(label="client that closes mid-request")
    quitter.send(b"GET /index.html HTTP/1.1\r\nHo")
    quitter.close()
    conn, resp = fetch(case, "/index.html", label="client after the bad ones")
    if not server.running():
        case.fail("webserver ended after bad requests",
                  expected="still running, serving the next client", saw=server.status_text())
    # Not on one line: the log lines of a forking server may interleave.
    warned = server.stderr.wait_for(lambda b: b" WARN " in b and quitter.local.encode() in b, 3)
    if not warned:
        case.fail("webserver did not log the client that closed in the middle of its request",
                  expected=f"a WARN line naming {quitter.local}", saw=server.stderr.tail(6) or "nothing on stderr",
                  hint="when no whole request head arrives, say why (log_read_end()) before giving up")
    expect_status(case, resp, 200, "GET /index.html after the bad requests",
                  hint="a bad request or a vanished client ends that connection only: log it and go on")
    expect_body(case, resp, INDEX_HTML, "/index.html")
    conn.close()


def test_ws_method_not_allowed(case):
    start_server(case)
    for method, body in (("DELETE", b""), ("POST", b"name=value"), ("PUT", b"new content")):
        conn, resp = fetch(case, "/index.html", method=method, body=body)
        expect_status(case, resp, 405, f"{method} /index.html",
                      hint="only GET and HEAD are served: other methods get 405 Method Not Allowed")
        allow = resp.header("Allow") or ""
        if "GET" not in allow or "HEAD" not in allow:
            case.fail(f"the 405 response to {method} does not say which methods are allowed",
                      expected="Allow: GET, HEAD", saw=f"Allow: {allow or '(none)'}")
        conn.close()
    done, status, _, _ = curl_get(case, "/index.html", "-X", "DELETE")
    expect_curl_ok(case, done, "DELETE /index.html")
    if status != 405:
        case.fail("curl -X DELETE did not get 405", expected="status 405", saw=f"status {status}")


ESCAPES = [
    "/../secret.txt",
    "/img/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/..%2fsecret.txt",
    "/img/%2e%2e/%2e%2e/secret.txt",
    "//etc/passwd",
    "/%2Fetc%2Fpasswd",
    "/../../../../../../etc/passwd",
    "../secret.txt",
]


def test_ws_no_escape(case):
    start_server(case)
    for target in ESCAPES:
        conn, resp = fetch(case, target, label=f"client asking for {target}")
        leaked = SECRET in resp.body or PASSWD_MARK in resp.body
        if leaked or resp.status == 200:
            case.fail(f"GET {target} reached a file outside the document root",
                      expected="a 4xx status (400, 403 or 404) and none of the file",
                      saw=f"{first_line(resp)}, body {show_bytes(resp.body[:60])}",
                      hint="decode %XX escapes first, then refuse any '..' segment of the decoded path, "
                           "and always open the file under DOCROOT (never a path from the request as is)")
        expect_status(case, resp, (400, 403, 404), f"GET {target}")
        conn.close()
    done, status, _, body = curl_get(case, "/../secret.txt", "--path-as-is")
    if SECRET in body or status == 200:
        case.fail("curl --path-as-is /../secret.txt got the file outside the document root",
                  expected="a 4xx status", saw=f"status {status}")


def test_ws_request_in_pieces(case):
    start_server(case)
    for chunk, pace in ((3, 0.02), (1, 0.005)):
        conn, resp = fetch(case, "/hello.txt", chunk=chunk, pace=pace,
                           label=f"client sending {chunk} byte(s) at a time")
        expect_status(case, resp, 200, f"a GET that arrived in pieces of {chunk} byte(s)",
                      hint="one recv() is not one request: read until the empty line that ends the head")
        expect_body(case, resp, FILES["hello.txt"], "/hello.txt")
        conn.close()


def test_ws_slow_client_does_not_block(case):
    start_server(case)
    request = http.request("GET", "/hello.txt", host=host(case))
    slow = case.tcp_connect(label="slow client")
    slow.send(request[:16], chunk=1, pace=0.02)
    case.step("the slow client has sent 16 bytes of its request, one at a time, and pauses")
    done, status, _, body = curl_get(case, "/index.html", timeout=3)
    if done.returncode != 0 or status != 200 or body != INDEX_HTML:
        case.fail("a client sending its request slowly blocked another client",
                  expected="curl gets /index.html at once while the slow client is still sending",
                  saw=f"curl exit {done.returncode} after {done.seconds:.1f} s, status {status}",
                  hint="serve each connection in a thread of its own (pthread_create), so that a "
                       "recv() waiting on one client does not hold up the others")
    slow.send(request[16:], chunk=1, pace=0.002)
    resp = http.read_response(slow)
    expect_status(case, resp, 200, "the slow client's request")
    expect_body(case, resp, FILES["hello.txt"], "/hello.txt")
    slow.close()


def test_ws_fin_teardown(case):
    start_server(case)
    scenarios = [("/hello.txt", None, "a 200 response"), ("/missing.txt", None, "a 404 response"),
                 (None, b"GARBAGE\r\n\r\n", "a 400 response"),
                 ("/hello.txt", MANY_HEADERS, "a refused 50 kB request head")]
    conns = []
    for target, extra, what in scenarios:
        raw = extra if isinstance(extra, bytes) else None
        conn, resp = fetch(case, target, headers=extra if isinstance(extra, list) else (), raw=raw,
                           label=f"client ({what})")
        expect_status(case, resp, (200, 400, 404, 431), what)
        expect_closed(case, conn, what)
        conn.close()
        conns.append((conn, what))
    for conn, what in conns:
        case.expect_fin_teardown(connection_from(case, conn.local), "resp", f"webserver (after {what})")


def test_ws_keep_alive(case):
    start_server(case)
    conn = case.tcp_connect(label="keep-alive client")
    for i, name in enumerate(("hello.txt", "style.css", "img/photo.png")):
        last = i == 2
        conn.send(http.request("GET", "/" + name, host=host(case), close=last))
        resp = http.read_response(conn, what=f"response {i + 1} on one connection")
        if resp.how in ("eof", "reset") and not resp.complete:
            case.fail(f"the server closed the connection before answering request {i + 1}",
                      expected="HTTP/1.1 keeps a connection open after a response unless the request "
                               "said 'Connection: close'",
                      saw=f"request {i + 1} (/{name}) got {resp.summary()}",
                      hint="after a response, read the next request on the same connection "
                           "(keep the line reader: it may hold its first bytes)")
        expect_status(case, resp, 200, f"request {i + 1} (/{name}) on a kept-alive connection")
        expect_length(case, resp, len(FILES[name]), f"/{name}")
        expect_body(case, resp, FILES[name], f"/{name}")
        if not last and "close" in (resp.header("Connection") or "").lower():
            case.fail("the server said 'Connection: close' to a request that did not ask for it",
                      expected="no 'Connection: close' (or 'Connection: keep-alive')",
                      saw=f"Connection: {resp.header('Connection')}")
    expect_closed(case, conn, "the last response (its request said 'Connection: close')")
    conn.close()
