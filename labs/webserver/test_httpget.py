"""httpget against a scripted HTTP server."""

import hashlib
import random

from socklab import http
from socklab.feedback import show_bytes
from weblib import expect_crlf_request

PATH = "/docs/page.txt"


def start_httpget(case, listener, path=PATH):
    """Start httpget for PATH on the scripted server; accept it and read its request."""
    client = case.start("httpget", "127.0.0.1", case.port, path)
    conn = case.accept_client(listener, client)
    req = http.read_request(conn, timeout=5, what="httpget's request")
    return client, conn, req


def expect_request(case, req, path=PATH):
    """httpget's request: 'GET PATH HTTP/1.1', a Host header, CRLF lines, an empty line."""
    if req.method != "GET" or req.target != path or req.version not in ("HTTP/1.1", "HTTP/1.0"):
        case.fail("httpget's request line is not 'GET PATH HTTP/1.1'",
                  expected=f"GET {path} HTTP/1.1", saw=show_bytes(req.request_line) if req.lines
                  else f"no request ({req.how})",
                  hint="send 'GET <PATH> HTTP/1.1\\r\\n', the headers, then an empty line '\\r\\n'")
    expect_crlf_request(case, req)
    for name, value in (("User-Agent", "socklab-httpget"), ("Accept", "*/*"), ("Connection", "close")):
        if (req.header(name) or "").strip().lower() != value.lower():
            case.fail(f"httpget's request does not say '{name}: {value}'",
                      expected=f"{name}: {value}", saw=f"{name}: {req.header(name) or '(none)'}",
                      hint="send Host, User-Agent: socklab-httpget, Accept: */* and Connection: close")
    if req.version == "HTTP/1.1" and req.header("Host") is None:
        case.fail("httpget's HTTP/1.1 request has no Host header",
                  expected="Host: 127.0.0.1:PORT", saw="headers: " + ", ".join(n for n, _ in req.headers),
                  hint="HTTP/1.1 requires 'Host: HOST:PORT' (servers answer 400 without it)")


def expect_exit(case, client, status, why, hint=None):
    rc = client.wait_exit(5)
    if rc is None:
        case.fail(f"httpget did not exit within 5 s after {why}", expected=f"exit status {status}",
                  saw="httpget still running",
                  hint=hint or "once the response is complete (or unusable), exit with its status")
    case.step(f"httpget {client.status_text()}")
    if rc != status:
        case.fail(f"httpget's exit status is wrong for {why}",
                  expected=f"exit status {status}", saw=client.status_text(),
                  hint=hint or "exit 0 for 2xx, 3 for 3xx, 4 for 4xx, 5 for 5xx; 1 when there is no "
                               "usable response")


def expect_stdout(case, client, body, what):
    out = client.stdout.bytes()
    if out == body:
        return
    if len(body) > 4096:
        case.fail(f"httpget's standard output is not the body of {what}",
                  expected=f"{len(body)} bytes, SHA-256 {hashlib.sha256(body).hexdigest()[:16]}…",
                  saw=f"{len(out)} bytes, SHA-256 {hashlib.sha256(out).hexdigest()[:16]}…",
                  hint="keep reading until Content-Length bytes have arrived (or the server closes): "
                       "the body may be larger than any buffer and come in many pieces")
    case.expect_bytes(f"httpget's standard output (the body of {what})", body, out,
                      hint="print the body, byte for byte, and nothing else on stdout; "
                           "status line and headers go to stderr")


def test_hg_get_body(case):
    listener = case.tcp_listener()
    body = "Grüße, 你好 — a page with UTF-8 text\nand two lines\n".encode()
    client, conn, req = start_httpget(case, listener)
    expect_request(case, req)
    conn.send(http.response(200, "OK", [("Content-Type", "text/plain; charset=utf-8")], body))
    expect_exit(case, client, 0, "a 200 response")
    expect_stdout(case, client, body, "a 200 response with Content-Length")
    err = client.stderr.bytes()
    if b"\r" in err:
        case.fail("httpget prints the head on standard error with its '\\r's",
                  expected="each line of the head without its \\r", saw=client.stderr.tail(6))
    for line in (b"HTTP/1.1 200 OK", b"Content-Type: text/plain; charset=utf-8"):
        if line not in err:
            case.fail("httpget does not print the status line and headers on standard error",
                      expected=f"a line {line.decode()!r} on stderr", saw=client.stderr.tail(8) or "nothing")
    conn.close()
    # An HTTP/1.0-style response: no Content-Length, the body ends when the server closes.
    # 120 kB: more than one read of any buffer.
    old_style = b"until the server closes\n" * 5000
    client, conn, req = start_httpget(case, listener, "/old/style")
    expect_request(case, req, "/old/style")
    conn.send(http.response(200, "OK", [("Content-Type", "text/plain")], old_style,
                            length=False, version="HTTP/1.0"))
    conn.close()
    expect_exit(case, client, 0, "a 200 response whose body ends when the server closes")
    expect_stdout(case, client, old_style, "a response without Content-Length (120 kB until the close)")
    # The smallest body: the copy loop runs until no byte is left, not one.
    client, conn, req = start_httpget(case, listener, "/one/byte")
    expect_request(case, req, "/one/byte")
    conn.send(http.response(200, "OK", [("Content-Type", "text/plain")], b"!"))
    expect_exit(case, client, 0, "a 200 response of 1 byte")
    expect_stdout(case, client, b"!", "a response with 'Content-Length: 1'")
    conn.close()


def test_hg_large_body_in_pieces(case):
    listener = case.tcp_listener()
    body = random.Random(7).randbytes(900_000)
    client, conn, req = start_httpget(case, listener, "/big.bin")
    expect_request(case, req, "/big.bin")
    head = http.response(200, "OK", [("Content-Type", "application/octet-stream")], body)[:-len(body)]
    conn.send(head, chunk=7, pace=0.005, note="the response head, 7 bytes at a time")
    conn.send(body[:150_000], chunk=1500, pace=0.001, note="150000 body bytes in pieces of 1500")
    conn.send(body[150_000:], note=f"the other {len(body) - 150_000} body bytes at once")
    expect_exit(case, client, 0, "a 200 response of 900000 bytes")
    expect_stdout(case, client, body, "a 900000-byte response sent in pieces")
    conn.close()


def test_hg_exit_status(case):
    listener = case.tcp_listener()
    page = b"<!DOCTYPE html>\n<h1>404 Not Found</h1>\n"
    for status, reason, exit_status in ((404, "Not Found", 4), (500, "Internal Server Error", 5),
                                        (301, "Moved Permanently", 3), (200, "OK", 0),
                                        # the first and last code of each class
                                        (299, "Last Success", 0), (300, "Multiple Choices", 3),
                                        (399, "Last Redirection", 3), (400, "Bad Request", 4),
                                        (499, "Last Client Error", 4), (599, "Last Server Error", 5)):
        body = page if status == 404 else f"{status} {reason}\n".encode()
        client, conn, req = start_httpget(case, listener, f"/status/{status}")
        extra = [("Location", "/elsewhere")] if status == 301 else []
        conn.send(http.response(status, reason, [("Content-Type", "text/html")] + extra, body))
        expect_exit(case, client, exit_status, f"a {status} response")
        expect_stdout(case, client, body, f"a {status} response")
        conn.close()
    # Three digits, but no class of 2xx-5xx: no usable response (exit 1), whether
    # httpget prints the body or calls the status line malformed.
    for code in ("199", "600", "099"):
        client, conn, req = start_httpget(case, listener, f"/status/{code}")
        conn.send(f"HTTP/1.1 {code} Odd\r\nContent-Length: 0\r\n\r\n".encode(),
                  note=f"a {code} response")
        expect_exit(case, client, 1, f"a {code} response (no status class 2xx to 5xx)",
                    hint="200-299 is 2xx (exit 0), 300-399 3xx, 400-499 4xx, 500-599 5xx; "
                         "any other code is no usable response (exit 1)")
        conn.close()


def test_hg_no_usable_response(case):
    client = case.start("httpget", "127.0.0.1", case.port, PATH)
    expect_exit(case, client, 1, "a refused connection (no server)")
    listener = case.tcp_listener()
    page = b"0123456789" * 10
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
    # (what, bytes, whether the server closes after them): a response that is unusable
    # from its head on ends httpget at once, without waiting for the server to close.
    for what, data, closes in (
            ("a malformed status line", b"HTTX/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", False),
            ("a status line without a code", b"HTTP/1.1 OK\r\n\r\n", False),
            ("a status line of 9000 bytes", b"HTTP/1.1 200 " + b"O" * 9000 + b"\r\n\r\n", False),
            ("a header line of 9000 bytes", head + b"X-Long: " + b"l" * 9000 + b"\r\n\r\n", False),
            ("a body cut short (Content-Length 100, 50 bytes, then the close)",
             http.response(200, "OK", [("Content-Type", "text/plain")], page)[:-50], True),
            ("a head that never ends (40 kB of headers)",
             b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"b" * 70)
                                                  for i in range(500)), True),
            # 2000 header lines: 66000 bytes with their CRLFs, over the 64 KiB
            # (HEAD_MAX_BYTES) httpget takes of a head, but 64000 counting 1 byte a line end.
            ("a head of 66 kB in 2000 short header lines, then its body",
             b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Filler-%04d: %s\r\n" % (i, b"c" * 16)
                                                  for i in range(1999))
             + b"Content-Length: 2\r\n\r\nok", False)):
        client, conn, req = start_httpget(case, listener)
        conn.send(data, note=what + ("" if closes else " (the server keeps the connection open)"))
        if closes:
            conn.close()
        expect_exit(case, client, 1, what,
                    hint=None if closes else "a head that cannot be used is the end: exit 1 at once, "
                                             "without reading on until the server closes")
        conn.close()
    # A reset in the middle of the body: a failed receive, not the end of the body.
    client, conn, req = start_httpget(case, listener)
    conn.send(http.response(200, "OK", [("Content-Type", "text/plain")], page)[:-50],
              note="Content-Length 100, 50 bytes of body")
    conn.reset()
    expect_exit(case, client, 1, "a body cut short by a reset (RST) after 50 of its 100 bytes",
                hint="a failed receive of the body is no usable response: exit 1")


def test_hg_faults(case):
    listener = case.tcp_listener()
    body = random.Random(11).randbytes(300_000)
    client, conn, req = start_httpget(case, listener, "/big.bin")
    expect_request(case, req, "/big.bin")
    conn.send(http.response(200, "OK", [("Content-Type", "application/octet-stream")], body))
    expect_exit(case, client, 0, "a 200 response of 300000 bytes")
    expect_stdout(case, client, body, "a 300000-byte response read with interrupted and short reads")
    conn.close()
