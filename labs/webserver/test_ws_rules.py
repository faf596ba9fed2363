"""webserver: the rules of the handout beyond one good GET - error statuses
and their pages, which connections stay open, targets and their escapes,
time limits, logs, usage, and socket calls that are interrupted or cut short."""

import os
import re
import select
import time

from socklab import http
from socklab.feedback import show_bytes
from weblib import (FILES, expect_body, expect_closed, expect_length, expect_status, fetch, host,
                    make_docroot, media_type, start_server)

REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           414: "URI Too Long", 505: "HTTP Version Not Supported"}


def expect_error_page(case, resp, status, what):
    """A whole error response: text/html, its Content-Length, a page saying 'STATUS REASON'."""
    words = f"{status} {REASONS[status]}".encode()
    if media_type(resp.header("Content-Type")) != "text/html" or words not in resp.body:
        case.fail(f"the {status} response to {what} has no small HTML page saying '{words.decode()}'",
                  expected=f"Content-Type: text/html and a page whose title and <h1> say {words.decode()}",
                  saw=f"Content-Type: {resp.header('Content-Type')}, body {show_bytes(resp.body[:100])}",
                  hint="every error response is a whole response: status line, headers, empty line, page")
    expect_length(case, resp, len(resp.body), f"the {status} page")


def expect_connection(case, resp, value, what):
    got = (resp.header("Connection") or "").strip().lower()
    if got != value:
        case.fail(f"the response to {what} does not say 'Connection: {value}'",
                  expected=f"Connection: {value}", saw=f"Connection: {resp.header('Connection') or '(none)'}",
                  hint="say in each response whether the connection stays open: keep-alive or close")


def test_ws_error_statuses(case):
    start_server(case)
    root = os.path.join(os.path.dirname(case.workdir), "www")
    os.makedirs(os.path.join(root, "nothing_here"), exist_ok=True)
    if case.limits.uid is not None:
        os.chown(os.path.join(root, "nothing_here"), case.limits.uid, -1)
    conn, resp = fetch(case, "/nothing_here/")
    expect_status(case, resp, 404, "a folder without index.html",
                  hint="a folder is served by its index.html, and a folder without one is 404")
    conn.close()
    conn, resp = fetch(case, None, raw=f"GET /hello.txt HTTP/2.0\r\nHost: {host(case)}\r\n\r\n".encode())
    expect_status(case, resp, 505, "a request for HTTP/2.0",
                  hint="only HTTP/1.0 and HTTP/1.1 are served: other versions get 505")
    expect_error_page(case, resp, 505, "HTTP/2.0")
    expect_closed(case, conn, "the 505 response")
    conn.close()
    conn, resp = fetch(case, "/" + "a" * 4000 + ".txt", label="client with a 4000-byte path")
    expect_status(case, resp, (414, 404), "a 4000-byte path (inside the 8 KiB head)",
                  hint="a path longer than the server's buffers gets 414 URI Too Long, never a crash")
    conn.close()
    conn, resp = fetch(case, "/index.html", method="DELETE")
    expect_status(case, resp, 405, "DELETE /index.html")
    expect_error_page(case, resp, 405, "DELETE")
    conn.close()
    if os.geteuid() == 0 and case.limits.uid is None:
        case.step("403 not checked: the server runs as root, which may read any file")
        return
    private = os.path.join(root, "private.txt")
    with open(private, "wb") as f:
        f.write(b"nobody may read this\n")
    if case.limits.uid is not None:
        os.chown(private, 0, 0)
    os.chmod(private, 0)
    case.step("www/private.txt exists but the server's user may not read it")
    conn, resp = fetch(case, "/private.txt")
    expect_status(case, resp, 403, "a file the server may not read",
                  hint="open() failing with EACCES means 403 Forbidden, not 404")
    expect_error_page(case, resp, 403, "/private.txt")
    conn.close()


def test_ws_connection_rules(case):
    start_server(case)
    conn = case.tcp_connect(label="HTTP/1.1 client")
    for i, (target, status) in enumerate((("/missing.txt", 404), ("/hello.txt", 200))):
        conn.send(http.request("GET", target, host=host(case), close=False))
        resp = http.read_response(conn, what=f"response {i + 1}")
        expect_status(case, resp, status, f"GET {target} on a kept-alive connection",
                      hint="after a 404 the connection stays usable: read the next request")
        expect_connection(case, resp, "keep-alive", f"GET {target} (HTTP/1.1, no Connection header)")
    conn.send(b"GARBAGE\r\n\r\n")
    resp = http.read_response(conn, what="the response to a garbage request line")
    expect_status(case, resp, 400, "a garbage request line on a kept-alive connection")
    expect_connection(case, resp, "close", "a 400 (the stream is out of step)")
    expect_closed(case, conn, "the 400 response")
    conn.close()
    conn, resp = fetch(case, "/hello.txt", version="HTTP/1.0", close=False, label="HTTP/1.0 client")
    expect_status(case, resp, 200, "an HTTP/1.0 GET")
    expect_connection(case, resp, "close", "an HTTP/1.0 request without 'Connection: keep-alive'")
    expect_closed(case, conn, "the response to HTTP/1.0")
    conn.close()
    conn = case.tcp_connect(label="HTTP/1.0 keep-alive client")
    for i in (1, 2):
        conn.send(http.request("GET", "/hello.txt", host=host(case), version="HTTP/1.0",
                               headers=["Connection: keep-alive"], close=False))
        resp = http.read_response(conn, what=f"response {i}")
        expect_status(case, resp, 200, f"HTTP/1.0 request {i} with 'Connection: keep-alive'")
        expect_connection(case, resp, "keep-alive", "HTTP/1.0 with 'Connection: keep-alive'")
        expect_body(case, resp, FILES["hello.txt"], "/hello.txt")
    conn.shutdown_write()
    how = http.expect_eof(conn, timeout=3)
    if how != "eof":
        case.fail("the server did not just close a kept-alive connection whose client closed its side",
                  expected="the end of the stream, nothing more, once the client is done (its FIN)",
                  saw={"data": f"more bytes: {show_bytes(conn.pending[:60])}", "timeout": "the connection stayed "
                       "open for 3 s", "reset": "a reset (RST)"}.get(how, how),
                  hint="the end of the stream before a request line is the client saying goodbye: "
                       "close, with no response")
    conn.close()
    conn, resp = fetch(case, "/index.html", method="POST", body=b"x=1", close=False)
    expect_status(case, resp, 405, "POST /index.html")
    expect_connection(case, resp, "close", "a 405 (its body was never read)")
    expect_closed(case, conn, "the 405 response")
    conn.close()


def test_ws_target_decoding(case):
    start_server(case)
    good = [("/hello.txt?name=value&x=1", "hello.txt"), ("/hello%2etxt", "hello.txt"),
            ("/img%2Fphoto.png", "img/photo.png"), ("/img/./index.html", "img/index.html"),
            ("/img//index.html", "img/index.html"), ("/img", "img/index.html"),
            ("/.a", ".a"), ("/hello.txt/.", "hello.txt")]
    for target, name in good:
        conn, resp = fetch(case, target)
        expect_status(case, resp, 200, f"GET {target} (the file {name})",
                      hint="drop the query (?...), decode every %XX, skip empty and '.' segments "
                           "(only those: '.a' is a name); a folder serves its index.html")
        expect_body(case, resp, FILES[name], target)
        conn.close()
    for target in ("/hello%zz.txt", "/hello.txt%00.png", "/hello%2", "/%"):
        conn, resp = fetch(case, target)
        expect_status(case, resp, 400, f"GET {target} (a bad escape)",
                      hint="a '%' not followed by two hex digits, or %00, is 400 Bad Request")
        conn.close()


def test_ws_silent_client(case):
    server = start_server(case)
    silent = case.tcp_connect(label="client that says nothing")
    partial = case.tcp_connect(label="client that stops mid-request")
    partial.send(f"GET /hello.txt HTTP/1.1\r\nHost: {host(case)}\r\n".encode())
    start = time.monotonic()
    ended = {}
    for conn in (silent, partial):
        got = conn.recv_to_eof(timeout=14 - (time.monotonic() - start), what="the server giving up")
        ended[conn.label] = (got, time.monotonic() - start)
    for label, (got, when) in ended.items():
        if got.how == "timeout":
            case.fail(f"webserver kept the connection of a {label[7:]} open for ever",
                      expected="the connection closed 10 s after it was accepted (the head timeout)",
                      saw="still open after 14 s",
                      hint="give each request head a deadline (10 s by default) and wait for bytes with "
                           "poll() at most until it: then close the connection")
        # Only a lower bound on the server's timer: load can only make it later.
        if when < 9.0:
            case.fail(f"webserver closed the connection of a {label[7:]} after {when:.1f} s",
                      expected="10 s for the whole request head before giving up",
                      saw=f"closed ({got.how}) after {when:.1f} s",
                      hint="a client has 10 seconds (the default --head-timeout) for its request head: not less")
    got = ended[silent.label][0]
    if got.data:
        case.fail("webserver answered a connection that had sent nothing when its head timeout passed",
                  expected="the connection closed without an answer (nothing of a request came)",
                  saw=show_bytes(got.data[:60]),
                  hint="a 408 sent to an idle connection could cross a request sent just then and be taken "
                       "for its answer: close without one")
    got = ended[partial.label][0]
    if not STATUS_408.match(got.data):
        case.fail("webserver did not answer 408 to a request head still incomplete at its deadline",
                  expected="'HTTP/1.1 408 Request Timeout', then the server's FIN",
                  saw=show_bytes(got.data[:60]) if got.data else f"nothing, then {got.how}",
                  hint="when the head deadline passes in the middle of a head, answer 408 "
                       "(HTTP_REQUEST_TIMEOUT) and close")
    conn, resp = fetch(case, "/hello.txt", label="client after the silent ones")
    expect_status(case, resp, 200, "GET /hello.txt after the silent clients")
    conn.close()
    if not server.running():
        case.fail("webserver ended after silent clients",
                  expected="still running, serving the next client", saw=server.status_text())


HEAD_TIMEOUT = 1      # the case's --head-timeout, in seconds
LINGER_S = 2          # the polite close reads what a client still sends for at most this long
MARGIN = 2.0          # for a loaded machine
DRIP_PACE = 0.1       # a drip client sends one byte this often: 10 pieces per head timeout
STATUS_408 = re.compile(rb"HTTP/1\.[01] 408 ")
KEEP = 4096           # bytes of each drip connection's answer kept


class Drips:
    """Connections that send a request head one byte every DRIP_PACE s, for
    ever: the request line and a Host header at once, then header lines that
    never reach the empty line. They go on sending after the server's
    answer and FIN, as a hostile client would, until a send fails."""

    def __init__(self, case, count):
        self.conns = []
        self.connected = {}          # conn -> when it connected
        self.got = {}                # conn -> bytes received
        self.first = {}              # conn -> when its first byte came
        self.ended = {}              # conn -> when its end of stream (or a reset) came
        self.dead = set()            # conns whose send failed
        self.sent = 0
        for i in range(count):
            conn = case.tcp_connect(label=f"slow-drip client {i + 1}")
            self.connected[conn] = time.monotonic()
            conn.send(f"GET /hello.txt HTTP/1.1\r\nHost: {host(case)}\r\n".encode())
            self.conns.append(conn)
            self.got[conn] = b""
        self.tail = b"X-Drip: a\r\n" * 1000
        self.next_send = time.monotonic() + DRIP_PACE

    def pump(self, until, also=None):
        """Drip and receive until time UNTIL, or until ALSO (a TcpConn) has
        bytes to read; return the time ALSO became readable, or None."""
        while True:
            now = time.monotonic()
            if now >= until or (also is None and self.all_ended()):
                return None
            if now >= self.next_send:
                for conn in self.conns:
                    if conn not in self.dead:
                        try:
                            conn.sock.send(self.tail[self.sent:self.sent + 1])
                        except OSError:
                            self.dead.add(conn)
                self.sent += 1
                self.next_send = now + DRIP_PACE
            socks = [c.sock for c in self.conns if c not in self.ended]
            socks += [also.sock] if also is not None else []
            wait = max(0.0, min(self.next_send, until) - time.monotonic())
            ready, _, _ = select.select(socks, [], [], wait)
            now = time.monotonic()
            for conn in self.conns:
                if conn.sock in ready:
                    try:
                        data = conn.sock.recv(1 << 16)
                    except OSError:
                        data = b""
                    if data:
                        self.first.setdefault(conn, now)
                        # The status line is all the case needs: keep no flood.
                        self.got[conn] = (self.got[conn] + data)[:KEEP]
                    else:
                        self.ended[conn] = now
            if also is not None and also.sock in ready:
                return now

    def all_ended(self):
        return len(self.ended) == len(self.conns)


def test_ws_head_deadline(case):
    threads = 4
    start_server(case, threads=threads, head_timeout=HEAD_TIMEOUT)
    drips = Drips(case, threads)
    case.step(f"{threads} slow-drip clients (as many as the server's threads, -t {threads}) hold every "
              f"thread, each sending its head one byte every {DRIP_PACE} s; --head-timeout {HEAD_TIMEOUT}")
    normal = case.tcp_connect(label="normal client")
    normal.send(http.request("GET", "/hello.txt", host=host(case)))
    sent = time.monotonic()
    bound = HEAD_TIMEOUT + LINGER_S + MARGIN
    answered = drips.pump(sent + bound, also=normal)
    if answered is None:
        case.fail(f"{threads} slow-drip connections kept a normal client from its answer for more than "
                  f"{bound:.0f} s", expected=f"each drip connection ends at the head deadline "
                  f"({HEAD_TIMEOUT} s, then at most {LINGER_S} s of closing): then a thread is free and the "
                  f"normal client is served", saw=f"no answer {bound:.0f} s after its request; each drip "
                  f"client had sent {drips.sent} more bytes by then, one every {DRIP_PACE} s",
                  hint="give the request head one deadline, computed once when the server starts reading "
                       "it: each wait for bytes gets what is left of it (a timeout per recv() restarts with "
                       "every byte a client sends); the closing drain needs a deadline of its own too")
    case.step(f"the normal client's answer began {answered - sent:.1f} s after its request")
    resp = http.read_response(normal, what="the normal client's response")
    expect_status(case, resp, 200, "GET /hello.txt once the slow-drip connections timed out")
    expect_body(case, resp, FILES["hello.txt"], "/hello.txt")
    drips.pump(max(drips.connected.values()) + HEAD_TIMEOUT + MARGIN)
    for i, conn in enumerate(drips.conns):
        what = f"slow-drip client {i + 1}"
        data = drips.got[conn]
        if not STATUS_408.match(data):
            case.fail(f"the {what} did not get 408 Request Timeout when its head deadline passed",
                      expected=f"'HTTP/1.1 408 Request Timeout' and the server's FIN about {HEAD_TIMEOUT} s "
                               "after it connected (its head was still incomplete)",
                      saw=f"{show_bytes(data[:60]) if data else 'nothing'}"
                          f"{' then the end of the stream' if conn in drips.ended else ''}",
                      hint="when the head deadline passes in the middle of a head, answer 408 (a whole "
                           "error response, Connection: close) and close")
        came = drips.first[conn] - drips.connected[conn]
        if came < HEAD_TIMEOUT - 0.1:
            case.fail(f"the {what} got its 408 after {came:.2f} s, before the head deadline",
                      expected=f"{HEAD_TIMEOUT} s for the whole head (--head-timeout {HEAD_TIMEOUT})",
                      saw=f"408 after {came:.2f} s", hint="the deadline is --head-timeout seconds after "
                                                          "the server starts reading the head")
        if conn not in drips.ended:
            case.fail(f"the server did not close the {what}'s connection after its 408",
                      expected="the server's FIN right after the 408", saw="the connection still open",
                      hint="a 408 says Connection: close and ends the connection")
    case.step(f"each drip connection got 408 after {min(drips.first[c] - drips.connected[c] for c in drips.conns):.2f}"
              f"-{max(drips.first[c] - drips.connected[c] for c in drips.conns):.2f} s")


def test_ws_logs(case):
    server = start_server(case)

    def logged(words, what):
        if not server.stderr.wait_for(lambda b: any(all(w in l for w in words) for l in b.splitlines()), 3):
            case.fail(f"webserver did not log {what}",
                      expected="a log line on stderr with " + ", ".join(repr(w.decode()) for w in words),
                      saw=server.stderr.tail(6) or "nothing on stderr",
                      hint='log each answered request as: ADDR:PORT "METHOD TARGET VERSION" STATUS LENGTH')
    logged([b"serving", f"on port {case.port}".encode()], "that it serves its folder on its port")
    conn, resp = fetch(case, "/hello.txt")
    expect_status(case, resp, 200, "GET /hello.txt")
    logged([f'{conn.local} "GET /hello.txt HTTP/1.1" 200 {len(FILES["hello.txt"])}'.encode()],
           f"the request of {conn.local} with its status and length")
    expect_closed(case, conn, "the response to GET /hello.txt")
    conn.close()
    # A second request, once the first connection is closed on both sides: when its
    # line is logged, whatever the first connection's end logs is there too.
    conn, resp = fetch(case, "/missing.txt")
    expect_status(case, resp, 404, "GET /missing.txt")
    logged([f'{conn.local} "GET /missing.txt HTTP/1.1" 404'.encode()], f"the request of {conn.local}")
    alarms = [line for line in server.stderr.bytes().splitlines() if b" WARN " in line or b" ERROR " in line]
    if alarms:
        case.fail("webserver logs a warning or an error for requests answered and connections closed "
                  "as they should", expected="no WARN or ERROR line", saw=alarms[0].decode(errors="replace"),
                  hint="log a failure only when the call failed: shutdown() and close() return -1 "
                       "on failure, 0 on success")
    conn.close()


def _run(case, argv, why):
    prog = case.start(*argv)
    case.wait_exit(prog, timeout=5, why=why)
    return prog


def test_ws_usage(case):
    make_docroot(case)
    for argv, status in ((["webserver", "-h"], 0), (["httpget", "-h"], 0),
                         (["webserver", "-x"], 2), (["webserver", "-t", "0", case.port], 2),
                         (["webserver", "-t", "1001", case.port], 2), (["webserver", "0"], 2),
                         (["webserver", "65536"], 2), (["httpget", "127.0.0.1", "80"], 2),
                         (["httpget", "127.0.0.1", "port", "/"], 2),
                         (["webserver", "-d", "../no-such-folder", case.port], 1)):
        prog = _run(case, argv, "at once")
        if prog.returncode != status:
            case.fail(f"{' '.join(map(str, argv))}: wrong exit status",
                      expected=f"exit status {status}", saw=prog.status_text(),
                      hint="-h: usage on stdout, exit 0; bad usage: exit 2; a DOCROOT or port that cannot "
                           "be opened: exit 1")
        stream = prog.stdout if status == 0 else prog.stderr
        if status != 1 and b"sage" not in stream.bytes():
            case.fail(f"{' '.join(map(str, argv))}: no usage on standard {'output' if status == 0 else 'error'}",
                      expected=f"a usage text ('usage: {argv[0]} ...')", saw=stream.tail(4) or "nothing")
    case.tcp_listener(host="::", label="program already on the port")
    prog = _run(case, ["webserver", "-d", "../www", case.port], "when its port is taken")
    if prog.returncode != 1:
        case.fail("webserver's exit status when its port is taken", expected="exit status 1",
                  saw=prog.status_text())
    case.step("webserver started without PORT: it must use the default, 8080")
    server = case.start("webserver", "-d", "../www")
    case.wait_bound(server, 8080, "tcp")


def test_ws_faults(case):
    start_server(case)
    conn = case.tcp_connect(label="keep-alive client")
    for i, name in enumerate(("hello.txt", "big.bin", "img/photo.png")):
        conn.send(http.request("GET", "/" + name, host=host(case), close=i == 2), chunk=5, pace=0.001)
        resp = http.read_response(conn, what=f"response {i + 1}")
        expect_status(case, resp, 200, f"GET /{name} with interrupted and short socket calls",
                      hint="an interrupted call (EINTR) is tried again; a short send() sent only part: "
                           "send the rest (sl_send_all)")
        expect_length(case, resp, len(FILES[name]), f"/{name}")
        expect_body(case, resp, FILES[name], f"/{name}")
    expect_closed(case, conn, "the last response")
    conn.close()
