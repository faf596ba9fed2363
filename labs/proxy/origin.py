"""The scripted origin server of the proxy cases.

A small HTTP/1.0 server on the case's loopback, run by the test in threads.
The test gives each path its behaviour (a Route); the origin counts its hits
per path, so that a cache hit shows as a request the origin never got, and
keeps every request exactly as it arrived.

It is strict where the proxy must be correct: a request head whose lines do
not all end with CR LF is answered 400 and noted in `problems`.
"""

import select
import socket
import threading
import time
from collections import Counter

from socklab.feedback import show_bytes

HEAD_LIMIT = 64 << 10    # bytes of a request head the origin reads at most
BODY_LIMIT = 16 << 20    # bytes of a request body the origin reads at most
IO_TIMEOUT = 5.0         # seconds the origin waits for the proxy at any step
HOLD_LIMIT = 10.0        # seconds a held response waits for release()
SILENT_LIMIT = 20.0      # seconds a silent route holds its connection, answering nothing
KEEP_OPEN_LIMIT = 12.0   # seconds a keep_open route waits for the proxy's close


class Route:
    """What the origin answers for one path.

    status, reason, body: the response; length: send a Content-Length header
    (False: the body ends when the origin closes); cut_first: on the first
    hit send only this many body bytes, then close; hold_first: on the first
    hit send this many body bytes, then wait for Origin.release(); echo:
    answer with the request's own body (POST); headers: more header lines,
    as they are sent; silent: read the request and answer nothing, ever;
    keep_open: after the response, keep the connection open until the
    proxy closes it (a keep-alive server: the Content-Length alone ends
    the body); raw: send these bytes instead of a response, then close;
    stall_first: on the first hit send the head and this many body bytes,
    then nothing, ever."""

    def __init__(self, body=b"", status=200, reason="OK", length=True, content_type="text/plain",
                 cut_first=None, hold_first=None, echo=False, headers=(), silent=False, keep_open=False, raw=None, stall_first=None):
        self.body = body
        self.status = status
        self.reason = reason
        self.length = length
        self.content_type = content_type
        self.cut_first = cut_first
        self.hold_first = hold_first
        self.echo = echo
        self.headers = list(headers)
        self.silent = silent
        self.keep_open = keep_open
        self.raw = raw
        self.stall_first = stall_first

    def head(self, body_len):
        """The status line and headers, as the origin sends them."""
        lines = [f"HTTP/1.0 {self.status} {self.reason}", "Server: socklab-origin",
                 f"Content-Type: {self.content_type}"]
        if self.length:
            lines.append(f"Content-Length: {body_len}")
        lines += self.headers
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


NOT_FOUND = Route(b"<h1>404 Not Found</h1>\n", status=404, reason="Not Found", content_type="text/html")


class Origin:
    """The scripted origin: Origin(case, port); add routes, then let the proxy come."""

    def __init__(self, case, port, label="origin"):
        self.case = case
        self.label = label
        self.routes = {}
        self.hits = Counter()
        self.requests = []      # (path, raw head bytes, body bytes), in order of arrival
        self.problems = []      # what was wrong with requests, in words
        self.cond = threading.Condition()
        self.released = threading.Event()
        self.stopping = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.threads = []
        self.open_conns = 0     # connections accepted and not closed yet
        case.step(f"scripted {label} (HTTP/1.0) listening on 127.0.0.1:{self.port}")
        self._start(self._accept_loop, "accept")

    # --- the test's side ---------------------------------------------------
    def route(self, path, **kw):
        """Answer PATH as Route(**kw) says; return the Route."""
        self.routes[path] = Route(**kw)
        return self.routes[path]

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def hits_of(self, path):
        with self.cond:
            return self.hits[path]

    def wait_hits(self, path, count, timeout):
        """Wait until PATH has had COUNT hits; return whether it has."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.hits[path] < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def requests_of(self, path):
        with self.cond:
            return [(head, body) for p, head, body in self.requests if p == path]

    def all_heads(self):
        """Every request head the origin got, in order of arrival."""
        with self.cond:
            return [head for _, head, _ in self.requests]

    def wait_idle(self, timeout):
        """Wait until the origin has closed every connection it accepted (its
        FINs are on the wire before a capture stops); return whether it has."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.open_conns:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def release(self):
        """Let held responses go on."""
        self.released.set()

    def close(self):
        self.stopping.set()
        self.released.set()
        for t in self.threads:
            t.join(IO_TIMEOUT + 1)
        self.sock.close()

    # --- the server's side -------------------------------------------------
    def _start(self, fn, name, *args):
        t = threading.Thread(target=fn, args=args, daemon=True, name=f"origin-{name}")
        self.threads.append(t)
        t.start()

    def _accept_loop(self):
        while not self.stopping.is_set():
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if ready:
                conn, _ = self.sock.accept()
                with self.cond:
                    self.open_conns += 1
                self._start(self._serve, "conn", conn)

    def _serve(self, conn):
        conn.settimeout(IO_TIMEOUT)
        try:
            self._exchange(conn)
        except OSError as e:
            self.case.step(f"{self.label}: its connection failed: {e.strerror or e}")
        finally:
            conn.close()
            with self.cond:
                self.open_conns -= 1
                self.cond.notify_all()

    def _note(self, problem):
        with self.cond:
            self.problems.append(problem)
        self.case.step(f"{self.label}: {problem}")

    def _read_head(self, conn):
        """The request head up to its empty line, and the bytes read past it."""
        data = b""
        while b"\r\n\r\n" not in data and b"\n\n" not in data:
            if len(data) > HEAD_LIMIT:
                return None, b""
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            data += chunk
        ends = [i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0]
        end = min(ends)
        sep = 4 if data[end:end + 4] == b"\r\n\r\n" else 2
        return data[:end + sep], data[end + sep:]

    def _read_body(self, conn, head, extra):
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                # A proxy's garbage or huge length: read what a case can use.
                length = min(int(value.strip()), BODY_LIMIT) if value.strip().isdigit() else 0
        while len(extra) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            extra += chunk
        return extra

    def _exchange(self, conn):
        head, extra = self._read_head(conn)
        if head is None:
            self._note("a connection ended (or sent over 64 KiB) before its request head was complete")
            return
        first = head.split(b"\n", 1)[0].rstrip(b"\r").decode("latin-1")
        words = first.split(" ")
        path = words[1] if len(words) == 3 else "?"
        body = self._read_body(conn, head, extra)
        with self.cond:
            self.hits[path] += 1
            hit = self.hits[path]
            self.requests.append((path, head, body))
            self.cond.notify_all()
        self.case.step(f"{self.label} got request {hit} for {path}: {first!r}")
        bare = head.replace(b"\r\n", b"").count(b"\n")
        if bare:
            self._note(f"the request for {path} has {bare} line(s) ended by '\\n' alone (HTTP wants CR LF)")
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        route = self.routes.get(path, NOT_FOUND)
        if route.silent:
            self.case.step(f"{self.label} answers nothing to the request for {path}")
            self.stopping.wait(SILENT_LIMIT)
            return
        self._respond(conn, route, hit, body)
        if route.keep_open:
            self._wait_for_close(conn, path)

    def _wait_for_close(self, conn, path):
        """Keep the connection open after the response until the proxy closes it."""
        conn.settimeout(KEEP_OPEN_LIMIT)
        try:
            while conn.recv(65536):
                pass
            self.case.step(f"{self.label}: the proxy closed the connection of {path} after the response")
        except socket.timeout:
            self.case.step(f"{self.label}: the proxy still held the connection of {path} "
                           f"{KEEP_OPEN_LIMIT:g} s after the whole response")

    def _respond(self, conn, route, hit, request_body):
        body = request_body if route.echo else route.body
        head = route.head(len(body))
        if route.raw is not None:
            conn.sendall(route.raw)
            self.case.step(f"{self.label} sent {show_bytes(route.raw)} instead of a response, then closed")
            return
        if hit == 1 and route.stall_first is not None:
            conn.sendall(head + body[:route.stall_first])
            self.case.step(f"{self.label} sent {route.stall_first} of {len(body)} body bytes, then nothing more")
            self.stopping.wait(SILENT_LIMIT)
            return
        if hit == 1 and route.cut_first is not None:
            conn.sendall(head + body[:route.cut_first])
            self.case.step(f"{self.label} sent {route.cut_first} of {len(body)} body bytes, then closed "
                           f"(as if it had crashed)")
            return
        if hit == 1 and route.hold_first is not None:
            conn.sendall(head + body[:route.hold_first])
            self.case.step(f"{self.label} sent {route.hold_first} of {len(body)} body bytes and waits")
            if not self.released.wait(HOLD_LIMIT) or self.stopping.is_set():
                return
            conn.sendall(body[route.hold_first:])
            return
        conn.sendall(head + body)
