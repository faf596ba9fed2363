"""What the proxy cases share: the proxy started with a cache folder of its
own, curl with a deadline, a raw HTTP client, and the checks of a response."""

import hashlib
import os
import random
import re
import tempfile
import time

from socklab import http, isolation
from socklab.feedback import first_difference, show_bytes

CURL_TIMEOUT = 8.0      # curl's own --max-time; the process is killed 5 s later
STATUS_RE = re.compile(rb"^HTTP/1\.[01] (\d{3}) [^\r\n]*\r\n")


def spare_port(case, offset):
    """A port next to the case's (each case has its own namespace), or a free
    one when cases share the host's loopback."""
    return case.port + offset if case.iso.mode != "host" else isolation.free_port()


def cache_dir(case):
    """The cache folder the grader gives the proxy of this case."""
    return os.path.join(case.workdir, f"cache-{case.spec.name}")


def start_proxy(case, *options):
    """Start the proxy on the case's port with its own cache folder (-d) and
    wait until it listens."""
    proxy = case.start("proxy", "-d", cache_dir(case), *options, case.port)
    case.wait_bound(proxy, case.port, "tcp")
    return proxy


def payload(size, seed):
    """SIZE reproducible pseudo-random bytes: every byte value, no text."""
    return random.Random(seed).randbytes(size)


def digest(data):
    return hashlib.sha256(data).hexdigest()[:16]


class Response:
    """A response as the client received it (raw) and as HTTP reads it."""

    def __init__(self, raw, how):
        self.raw = raw
        self.how = how          # how the stream ended: eof, reset, timeout, ...
        self.status = None
        self.head = b""
        self.body = b""
        m = STATUS_RE.match(raw)
        end = raw.find(b"\r\n\r\n")
        if m and end >= 0:
            self.status = int(m.group(1))
            self.head, self.body = raw[:end + 4], raw[end + 4:]

    def header(self, name):
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode("latin-1")
        return None

    def describe(self):
        if self.status is None:
            return f"{show_bytes(self.raw)}, then {self.how}"
        status_line = self.raw.split(b"\n", 1)[0] + b"\n"
        return (f"status {self.status}, {len(self.body)} body bytes, then {self.how} "
                f"(status line {show_bytes(status_line)})")


def get_request(origin, path, form="absolute", extra=b""):
    """A GET of PATH on the origin as a client of a proxy sends it: the
    absolute form (curl -x, browsers) or the original handout's /host:port/path."""
    if form == "absolute":
        target, host = origin.url(path), f"127.0.0.1:{origin.port}"
    else:
        target, host = f"/127.0.0.1:{origin.port}{path}", "localhost"
    return (f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: socklab-grader\r\n"
            f"Accept: */*\r\n").encode() + extra + b"\r\n"


def raw_exchange(case, request, label="client", chunk=None, pace=0.0, timeout=6.0, note=None):
    """Send REQUEST from a scripted client, read the response until the proxy
    closes, close; return the Response."""
    conn = case.tcp_connect(label=label)
    conn.send(request, chunk=chunk, pace=pace, note=note)
    got = conn.recv_to_eof(timeout=timeout, what="the proxy's response")
    conn.close()
    return Response(got.data, got.how)


class CurlResult:
    def __init__(self, rc, status, body, err):
        self.rc = rc
        self.status = status
        self.body = body
        self.err = err

    def describe(self):
        text = f"curl exit {self.rc}, HTTP status {self.status or 'none'}, {len(self.body)} body bytes"
        return text + (f" ({self.err})" if self.err else "")


def curl(case, url, *options, via_proxy=True, timeout=CURL_TIMEOUT, stdin=None):
    """Run curl as a user would (through the proxy with -x unless told not
    to; STDIN: bytes for curl's standard input), with a deadline
    (socklab.http.curl); return a CurlResult with the HTTP status and body."""
    fd, body_path = tempfile.mkstemp(prefix="socklab-curl-")
    os.close(fd)
    try:
        ran = http.curl(case, "-sS", *options, "-o", body_path, "-w", "%{http_code}", url, timeout=timeout,
                        proxy=f"http://127.0.0.1:{case.port}" if via_proxy else None, stdin=stdin)
        with open(body_path, "rb") as f:
            body = f.read()
    finally:
        os.unlink(body_path)
    code = ran.stdout.decode(errors="replace").strip()
    err = ran.stderr.decode(errors="replace").strip()
    return CurlResult(ran.returncode, int(code) if code.isdigit() and code != "000" else None, body,
                      err.splitlines()[-1] if err else "")


def expect_body(case, what, expected, seen, hint=None):
    """Fail unless SEEN == EXPECTED; large bodies are shown by length and hash."""
    if expected == seen:
        return
    case.fail(f"{what} is not the origin's body",
              expected=f"{len(expected)} bytes (sha256 {digest(expected)}…)",
              saw=f"{len(seen)} bytes (sha256 {digest(seen)}…)",
              difference=first_difference(expected, seen), hint=hint)


def expect_curl_ok(case, res, what, body, hint=None):
    """curl must have ended well with a 200 and exactly BODY."""
    if res.rc != 0 or res.status != 200:
        case.fail(f"{what} did not come through the proxy whole",
                  expected=f"curl exit 0, HTTP status 200, {len(body)} body bytes",
                  saw=res.describe(), hint=hint)
    expect_body(case, what, body, res.body, hint)


def expect_hits(case, origin, path, count, why, hint=None):
    """The origin must have had exactly COUNT requests for PATH."""
    seen = origin.hits_of(path)
    if seen != count:
        case.fail(f"the origin got {seen} request(s) for {path}: {why}",
                  expected=f"{count} request(s) for {path} at the origin", saw=f"{seen}", hint=hint)


def wait_until(predicate, timeout, step=0.01):
    """Poll PREDICATE until it holds or TIMEOUT s pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)   # polling a condition, with a deadline
