"""What the webserver cases share: the document root the server serves, a
secret file just outside it, starting the server, scripted requests, curl,
and the checks of a response, each failing with text that says what to fix."""

import hashlib
import os
import random

from socklab import http
from socklab.feedback import show_bytes
from socklab.proc import chown_tree


def _noise(seed, size):
    """SIZE bytes that look random but are the same on every run."""
    return random.Random(seed).randbytes(size)


INDEX_HTML = b"<!DOCTYPE html>\n<title>socklab</title>\n<p>Hello from the grader.</p>\n"
SECRET = b"socklab secret: this file is outside the document root\n"
PASSWD_MARK = b"root:x:0:0"

# The document root: path under www/ -> bytes.
FILES = {
    "index.html": INDEX_HTML,
    "hello.txt": b"hello, world\n",
    "style.css": b"body { color: teal; }\n",
    "app.js": b"console.log('socklab');\n",
    "data.json": b'{"lab": "webserver"}\n',
    "empty.txt": b"",
    "one.txt": b"!",
    "notes": b"a file without an extension\n",
    "img/index.html": b"<p>the img folder</p>\n",
    "img/photo.png": b"\x89PNG\r\n\x1a\n" + _noise(1, 200_000),
    "img/Photo.JPG": b"\xff\xd8\xff\xe0" + _noise(2, 30_000),
    "big.bin": _noise(3, 1 << 20),
    "page.htm": b"<p>an .htm page</p>\n",
    "UPPER.HTML": b"<p>an upper-case extension</p>\n",
    "img/photo.jpeg": b"\xff\xd8\xff\xe0" + _noise(4, 2000),
    "img/anim.gif": b"GIF89a" + _noise(5, 500),
    "img/logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    "favicon.ico": _noise(6, 300),
    "doc.pdf": b"%PDF-1.4\n" + _noise(7, 400),
    "x": b"a file whose name is one letter\n",
    "a.": b"a two-byte name that ends in a dot\n",
    ".a": b"a two-byte name that starts with a dot\n",
    "img/q/index.html": b"<p>a folder whose name is one letter</p>\n",
    "q/index.html": b"<p>a top folder whose name is one letter</p>\n",
}

# The media types a server must send (any of a tuple is accepted).
TYPES = {
    "index.html": "text/html",
    "img/index.html": "text/html",
    "hello.txt": "text/plain",
    "style.css": "text/css",
    "app.js": ("text/javascript", "application/javascript"),
    "data.json": "application/json",
    "img/photo.png": "image/png",
    "img/Photo.JPG": "image/jpeg",
    "notes": "application/octet-stream",
    "big.bin": "application/octet-stream",
    "page.htm": "text/html",
    "UPPER.HTML": "text/html",
    "img/photo.jpeg": "image/jpeg",
    "img/anim.gif": "image/gif",
    "img/logo.svg": "image/svg+xml",
    "favicon.ico": ("image/x-icon", "image/vnd.microsoft.icon"),
    "doc.pdf": "application/pdf",
    "x": "application/octet-stream",
    "a.": "application/octet-stream",
    "img/q/index.html": "text/html",
    "q/index.html": "text/html",
}

STATUS_HINT = ("the first bytes of a response are the status line 'HTTP/1.1 200 OK' and its CRLF: "
               "no space or anything else before 'HTTP'")


def make_docroot(case):
    """Write www/ (FILES) beside the case's working folder, and secret.txt
    just outside it; return the path of www/."""
    top = os.path.dirname(case.workdir)
    root = os.path.join(top, "www")
    for name, data in FILES.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    with open(os.path.join(top, "secret.txt"), "wb") as f:
        f.write(SECRET)
    for base, dirs, files in os.walk(root):
        os.chmod(base, 0o755)
        for name in files:
            os.chmod(os.path.join(base, name), 0o644)
    if case.limits.uid is not None:
        chown_tree(root, case.limits.uid)
    return root


def start_server(case, threads=None, port=None, head_timeout=None):
    """Serve ../www (from the program's folder) on PORT (the case's), with
    THREADS (-t) and HEAD_TIMEOUT (--head-timeout) when given; wait until it listens."""
    make_docroot(case)
    port = case.port if port is None else port
    args = (["-d", "../www"] + (["-t", threads] if threads else []) +
            (["--head-timeout", head_timeout] if head_timeout else []) + [port])
    server = case.start("webserver", *args)
    case.wait_bound(server, port, "tcp")
    return server


def url(case, path):
    return f"http://127.0.0.1:{case.port}{path}"


def host(case):
    return f"127.0.0.1:{case.port}"


def fetch(case, target, method="GET", headers=(), close=True, chunk=None, pace=0.0,
          label="client", body=b"", raw=None, version="HTTP/1.1"):
    """One scripted request on a new connection; return (conn, response).
    RAW: bytes to send instead of a well-formed request."""
    conn = case.tcp_connect(label=label)
    data = raw if raw is not None else http.request(method, target, host=host(case), headers=headers,
                                                    close=close, body=body, version=version)
    conn.send(data, chunk=chunk, pace=pace)
    return conn, http.read_response(conn, method=method)


def curl_get(case, path, *extra, timeout=10.0):
    """curl -sS [EXTRA] URL as a user types it; return (result, status, content type, body)."""
    mark = b"\n--socklab-curl--"
    done = http.curl(case, "-sS", *extra, "-w", mark.decode() + "%{http_code}|%{content_type}",
                     url(case, path), timeout=timeout)
    body, _, meta = done.stdout.rpartition(mark)
    status, _, ctype = meta.decode("latin-1").partition("|")
    return done, (int(status) if status.isdigit() else None), ctype, body


def expect_curl_ok(case, done, what):
    """curl must have finished (exit 0) within its deadline."""
    if done.returncode != 0:
        hint = None
        if done.returncode == 28:
            hint = ("curl waited for the end of the response: send a Content-Length that matches "
                    "the body, or close the connection after it")
        elif done.returncode in (1, 8):
            hint = STATUS_HINT
        case.fail(f"curl could not fetch {what}",
                  expected="curl exits 0 with the response",
                  saw=f"curl exit status {done.returncode}: {done.stderr.decode(errors='replace').strip()}",
                  hint=hint)


def media_type(value):
    return (value or "").split(";")[0].strip().lower()


def expect_type(case, name, got):
    wanted = TYPES[name] if isinstance(TYPES[name], tuple) else (TYPES[name],)
    if media_type(got) not in wanted:
        case.fail(f"wrong Content-Type for {name}",
                  expected=f"Content-Type: {' or '.join(wanted)}", saw=f"Content-Type: {got or '(none)'}",
                  hint="choose the type from the file name's extension (case ignored); "
                       "application/octet-stream for unknown ones")


def expect_status(case, resp, statuses, what, hint=None):
    """RESP must carry one of STATUSES (an int or a tuple) in a well-formed status line."""
    statuses = statuses if isinstance(statuses, tuple) else (statuses,)
    wanted = " or ".join(str(s) for s in statuses)
    if resp.status is None:
        if resp.status_line.lstrip().startswith(b"HTTP/"):
            hint = STATUS_HINT
        elif resp.lines:
            hint = hint or ("every response, errors included, starts with a status line "
                            "'HTTP/1.1 <code> <reason>' and headers before any body")
        else:
            hint = hint or "answer every request, even a bad one, before closing the connection"
        case.fail(f"the response to {what} has no valid status line",
                  expected=f"a first line 'HTTP/1.1 {statuses[0]} ...'",
                  saw=(f"first line {show_bytes(resp.status_line)}" if resp.lines
                       else f"no response at all ({resp.how})"),
                  hint=hint)
    if resp.status not in statuses:
        case.fail(f"wrong status for {what}",
                  expected=f"status {wanted}", saw=show_bytes(resp.status_line), hint=hint)


def expect_crlf(case, resp, what):
    """Every line of the head ends with CRLF, and the head ends with an empty line."""
    for i, (line, end) in enumerate(zip(resp.lines, resp.line_ends)):
        if end != b"\r\n":
            which = "the status line" if i == 0 else ("the empty line" if line == b"" else
                                                       f"header line {show_bytes(line)}")
            case.fail(f"a line of the response head to {what} does not end with CRLF",
                      expected="every line of the head ended by \\r\\n (0d 0a), the head by an empty line \\r\\n",
                      saw=f"{which} ended by {show_bytes(end) if end else 'nothing (the connection ended)'}",
                      hint="HTTP lines end with \"\\r\\n\", not \"\\n\" alone: write \\r\\n after "
                           "the status line, after each header, and once more after the last header")
    if not resp.complete:
        case.fail(f"the response head to {what} does not end with an empty line",
                  expected="…\\r\\n\\r\\n at the end of the headers", saw=f"{show_bytes(resp.head[-60:])} ({resp.how})")


def expect_length(case, resp, size, what):
    """Content-Length must be there and equal SIZE."""
    value = resp.header("Content-Length")
    if value is None:
        case.fail(f"the response to {what} has no Content-Length header",
                  expected=f"Content-Length: {size}", saw="headers: " + ", ".join(n for n, _ in resp.headers),
                  hint="send 'Content-Length: <size of the body in bytes>': without it a client of a "
                       "kept-alive connection cannot know where the body ends")
    if value != str(size):
        case.fail(f"the Content-Length of {what} is not the size of the body",
                  expected=f"Content-Length: {size}", saw=f"Content-Length: {value}",
                  hint="use the file's size (fstat's st_size) for a file, the page's length for an error page")


def expect_body(case, resp, data, what):
    """The body must be DATA (compared by SHA-256 when large)."""
    if resp.body == data:
        return
    if len(data) > 4096:
        case.fail(f"the body of {what} differs from the file",
                  expected=f"{len(data)} bytes, SHA-256 {hashlib.sha256(data).hexdigest()[:16]}…",
                  saw=f"{len(resp.body)} bytes ({resp.how}), SHA-256 "
                      f"{hashlib.sha256(resp.body).hexdigest()[:16]}…",
                  hint="send every byte of the file: loop over read() and send everything it gave, "
                       "in binary (no text functions such as strlen or fputs on file data)")
    case.expect_bytes(f"the body of {what}", data, resp.body)


def expect_closed(case, conn, what):
    """After a response with Connection: close, the server must close (FIN)."""
    how = http.expect_eof(conn, timeout=3)
    if how != "eof":
        case.fail(f"the server did not close the connection after {what}",
                  expected="end of stream (the server's FIN) after the response to a request with "
                           "'Connection: close'",
                  saw={"data": f"more bytes: {show_bytes(conn.pending)}", "timeout": "the connection "
                       "stayed open for 3 s", "reset": "a reset (RST)"}.get(how, how),
                  hint="after a response to 'Connection: close', shutdown(SHUT_WR), read until the "
                       "client's FIN, then close()")


def first_line(resp):
    """The first line of a response for feedback, or why there is none."""
    return f"first line {show_bytes(resp.status_line)}" if resp.lines else f"no response ({resp.how})"


def expect_crlf_request(case, req):
    """Every line of a request head ends with CRLF; the head ends with an empty line."""
    for line, end in zip(req.lines, req.line_ends):
        if end != b"\r\n":
            case.fail("a line of httpget's request does not end with CRLF",
                      expected="every line of the request ended by \\r\\n, then an empty line \\r\\n",
                      saw=f"{show_bytes(line)} ended by {show_bytes(end) if end else 'nothing'}",
                      hint="write \"\\r\\n\" after the request line and after each header, and once more "
                           "at the end")
    if not req.complete:
        case.fail("httpget's request head does not end with an empty line",
                  expected="…\\r\\n\\r\\n", saw=f"{show_bytes(req.head[-60:])} ({req.how})",
                  hint="the server waits for the empty line before it answers")


def connection_from(case, local):
    """The captured connection whose originator is the scripted client at LOCAL (addr:port)."""
    for c in case.tcp_connections():
        if f"{c['orig']['addr']}:{c['orig']['port']}" == local:
            return c
    case.fail(f"the capture has no connection from {local}")
