"""HTTP for scripted peers: build a request, read and parse a response, run curl.

The scripted side of the HTTP labs (webserver, proxy). Requests are plain
bytes sent through a peer's TcpConn (so they can go in pieces, byte by byte,
with pauses); responses are read from a TcpConn with deadlines and parsed
without trusting them: a response whose status line starts with a space or
whose lines end in a bare "\\n" is still read, and the checks say what is
wrong with it.

    conn = case.tcp_connect()
    conn.send(http.request("GET", "/index.html", host=f"127.0.0.1:{case.port}"),
              chunk=1, pace=0.01)                     # a slow client
    resp = http.read_response(conn)                   # head, then body
    resp.status, resp.header("Content-Length"), resp.body, resp.how

    done = http.curl(case, "-sS", "-i", f"http://127.0.0.1:{case.port}/")
    done.returncode, done.stdout, done.stderr

    req = http.read_request(server_conn)              # a scripted server's side
    server_conn.send(http.response(200, "OK", [("Content-Type", "text/plain")], b"hi\n"))

The API is small on purpose and other labs import it: add, never change.
"""

import os
import re
import signal
import subprocess
import time
from collections import namedtuple

from .feedback import show_bytes

CURL = "/usr/bin/curl"
DEFAULT_TIMEOUT = 5.0
HEAD_LIMIT = 64 << 10        # a response head longer than this is not read further
STATUS_RE = re.compile(rb"^HTTP/(\d)\.(\d) (\d{3})(?: (.*))?$")
NO_BODY_STATUSES = (204, 304)


def request(method, target, host=None, headers=(), version="HTTP/1.1", close=True, body=b""):
    """The bytes of a request: request line, Host (when given), HEADERS
    ((name, value) pairs or ready "Name: value" strings), "Connection: close"
    when CLOSE, Content-Length when there is a BODY; CRLF line ends."""
    lines = [f"{method} {target} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    for h in headers:
        lines.append(h if isinstance(h, str) else f"{h[0]}: {h[1]}")
    if close:
        lines.append("Connection: close")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Message:
    """What requests and responses share: a head of lines, headers, a body."""

    def __init__(self):
        self.raw = b""
        self.head = b""
        self.lines = []
        self.line_ends = []
        self.complete = False
        self.headers = []
        self.body = b""
        self.how = None

    def header(self, name):
        """The value of the first header NAME (case ignored), or None."""
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name):
        """Every value of header NAME (case ignored), in order."""
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def content_length(self):
        """Content-Length as an int; None when absent or not a number."""
        value = self.header("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    def _parse_headers(self):
        for line in self.lines[1:]:
            name, sep, value = line.partition(b":")
            if sep and name and not name[:1].isspace():
                self.headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))


class Response(_Message):
    """One response as it arrived.

    raw          every byte read for it (head and body)
    head         the head as sent, up to and including its empty line
    lines        the head's lines without their line ends (status line first)
    line_ends    the line end of each of those lines: b"\\r\\n", b"\\n" or b"" (none)
    complete     the head ended with an empty line
    status_line  the first line (bytes); status (int) and reason (str) when it
                 parses as "HTTP/x.y NNN reason", else status is None
    headers      [(name, value)] as str (latin-1), in order
    body         the body bytes read
    how          how reading stopped: "length" (Content-Length read),
                 "chunked" (last chunk read), "none" (no body expected),
                 "eof" (the server closed), "reset", "timeout", "limit"
    """

    def __init__(self):
        super().__init__()
        self.status_line = b""
        self.version = None
        self.status = None
        self.reason = None

    def summary(self):
        """One line for feedback: the status line and how the body ended."""
        if not self.lines:
            return f"no response ({self.how})"
        return (f"{show_bytes(self.status_line)}, {len(self.headers)} header(s), "
                f"{len(self.body)} body bytes ({self.how})")


class Request(_Message):
    """One request as it arrived (what a scripted server receives).

    request_line  the first line (bytes); method, target, version (str) when it
                  splits into three words, else None
    and, as for a Response: raw, head, lines, line_ends, complete, headers,
    body (by Content-Length only), how.
    """

    def __init__(self):
        super().__init__()
        self.request_line = b""
        self.method = self.target = self.version = None


def _parse_head(resp):
    """Fill status and headers from resp.lines."""
    resp.status_line = resp.lines[0] if resp.lines else b""
    m = STATUS_RE.match(resp.status_line)
    if m:
        resp.version = f"HTTP/{m.group(1).decode()}.{m.group(2).decode()}"
        resp.status = int(m.group(3))
        resp.reason = (m.group(4) or b"").decode("latin-1")
    resp._parse_headers()


def _read_head(conn, resp, deadline):
    """Read lines up to the empty one into resp (a Request or Response);
    return False when it did not come."""
    while True:
        got = conn.recv_until(b"\n", timeout=max(0.0, deadline - time.monotonic()), quiet=True)
        if got.how == "timeout":
            resp.how = "timeout"
            return False
        resp.raw += got.data
        resp.head += got.data
        if got.how != "delimiter":
            if got.data:
                resp.lines.append(got.data)
                resp.line_ends.append(b"")
            resp.how = got.how
            return False
        end = b"\r\n" if got.data.endswith(b"\r\n") else b"\n"
        line = got.data[:-len(end)]
        if line == b"" and resp.lines:
            resp.line_ends.append(end)
            resp.lines.append(b"")
            resp.complete = True
            return True
        if line == b"" and not resp.lines:
            continue        # stray line ends before a status line are tolerated
        resp.lines.append(line)
        resp.line_ends.append(end)
        if len(resp.head) > HEAD_LIMIT:
            resp.how = "limit"
            return False


def _read_chunked(conn, resp, deadline):
    """Decode a chunked body into resp.body."""
    while True:
        got = conn.recv_until(b"\n", timeout=max(0.0, deadline - time.monotonic()), quiet=True)
        resp.raw += got.data
        if got.how != "delimiter":
            resp.how = got.how
            return
        size_text = got.data.strip().split(b";")[0]
        try:
            size = int(size_text, 16)
        except ValueError:
            resp.how = "bad chunk"
            return
        if size == 0:
            while True:     # trailer lines, up to an empty one
                got = conn.recv_until(b"\n", timeout=max(0.0, deadline - time.monotonic()), quiet=True)
                resp.raw += got.data
                if got.how != "delimiter" or got.data.strip() == b"":
                    resp.how = "chunked" if got.how == "delimiter" else got.how
                    return
        data = conn.recv_exact(size + 2, timeout=max(0.0, deadline - time.monotonic()),
                               what=f"a chunk of {size} bytes")
        resp.raw += data.data
        resp.body += data.data[:size]
        if data.how != "delimiter":
            resp.how = data.how
            return


def read_response(conn, method="GET", timeout=DEFAULT_TIMEOUT, what="the response"):
    """Read one response from CONN (a peers.TcpConn): its head up to the empty
    line, then its body by Content-Length, chunks, or until the server closes
    (none for HEAD, 1xx, 204, 304). Never raises for a bad response: look at
    status, complete and how. Adds one step to the trace."""
    deadline = time.monotonic() + timeout
    resp = Response()
    head_done = _read_head(conn, resp, deadline)
    _parse_head(resp)
    if head_done:
        length = resp.content_length()
        chunked = "chunked" in (resp.header("Transfer-Encoding") or "").lower()
        no_body = (method == "HEAD" or (resp.status is not None and
                                        (resp.status // 100 == 1 or resp.status in NO_BODY_STATUSES)))
        left = max(0.0, deadline - time.monotonic())
        if no_body:
            resp.how = "none"
        elif chunked:
            _read_chunked(conn, resp, deadline)
        elif length is not None:
            got = conn.recv_exact(length, timeout=left, what=f"{what}'s body")
            resp.body, resp.raw = got.data, resp.raw + got.data
            resp.how = "length" if got.how == "delimiter" else got.how
        else:
            got = conn.recv_to_eof(timeout=left, what=f"{what}'s body (until the server closes)")
            resp.body, resp.raw = got.data, resp.raw + got.data
            resp.how = got.how
    conn.trace.step(f"{conn.label} received {what}: head {show_bytes(resp.head, 120)}"
                    f"{'' if head_done else ' (incomplete: ' + str(resp.how) + ')'}"
                    f"{f', body {len(resp.body)} bytes ({resp.how})' if head_done else ''}")
    return resp


def read_request(conn, timeout=DEFAULT_TIMEOUT, what="the request"):
    """Read one request from CONN (a peers.TcpConn): its head up to the empty
    line, then a body of Content-Length bytes if it announces one. Never
    raises for a bad request: look at method, complete and how. Adds one
    step to the trace."""
    deadline = time.monotonic() + timeout
    req = Request()
    head_done = _read_head(conn, req, deadline)
    req.request_line = req.lines[0] if req.lines else b""
    words = req.request_line.split(b" ")
    if len(words) == 3 and all(words):
        req.method, req.target, req.version = (w.decode("latin-1") for w in words)
    req._parse_headers()
    if head_done:
        length = req.content_length()
        if length:
            got = conn.recv_exact(length, timeout=max(0.0, deadline - time.monotonic()),
                                  what=f"{what}'s body")
            req.body, req.raw = got.data, req.raw + got.data
            req.how = "length" if got.how == "delimiter" else got.how
        else:
            req.how = "none"
    conn.trace.step(f"{conn.label} received {what}: {show_bytes(req.head, 120)}"
                    f"{'' if head_done else ' (incomplete: ' + str(req.how) + ')'}")
    return req


def response(status, reason, headers=(), body=b"", length=True, version="HTTP/1.1"):
    """The bytes of a response: status line, HEADERS ((name, value) pairs or
    "Name: value" strings), Content-Length of BODY when LENGTH, CRLF line
    ends, then BODY."""
    lines = [f"{version} {status} {reason}"]
    for h in headers:
        lines.append(h if isinstance(h, str) else f"{h[0]}: {h[1]}")
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def expect_eof(conn, timeout=DEFAULT_TIMEOUT):
    """Wait for the server to close CONN after a response: 'eof', 'reset',
    'timeout', or 'data' when more bytes came (they stay in conn.pending)."""
    got = conn.recv_to_eof(timeout=timeout, what="what followed the response")
    if got.data:
        conn.pending = got.data + conn.pending
        return "data"
    return got.how


CurlResult = namedtuple("CurlResult", "returncode stdout stderr seconds timed_out")


def curl(case, *args, timeout=10.0, cwd=None, proxy=None, stdin=None):
    """Run curl ARGS in the case's network namespace (the calling thread's),
    as a user would type it: no ~/.curlrc (-q), through PROXY (a URL, curl's
    -x) or no proxy at all, STDIN (bytes) on its standard input, at most
    TIMEOUT s (curl's --max-time, and a kill of its process group a little
    later). Returns a CurlResult; adds one step to the trace."""
    via = ["-x", proxy] if proxy else ["--noproxy", "*"]
    cmd = [CURL, "-q", *via, "--max-time", f"{timeout:g}", *map(str, args)]
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env=env, cwd=cwd)
    timed_out = False
    try:
        out, err = proc.communicate(stdin, timeout=timeout + 3)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate(timeout=5)
    seconds = time.monotonic() - t0
    shown = " ".join(a if re.fullmatch(r"[\w./:@=%,+-]+", a) else repr(a) for a in map(str, args))
    text = (f"ran: curl {'-x ' + proxy + ' ' if proxy else ''}{shown} → exit {proc.returncode} "
            f"after {seconds:.2f} s, {len(out)} bytes on stdout")
    if proc.returncode != 0 and err:
        text += f"; stderr: {show_bytes(err.strip(), 160)}"
    case.step(text)
    return CurlResult(proc.returncode, out, err, seconds, timed_out)
