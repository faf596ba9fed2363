"""The proxy's cache: hits counted at the origin, what must never be cached
(errors, cut bodies, half-written files), large and unannounced bodies."""

import os

from origin import Origin
from proxylib import (Response, cache_dir, curl, expect_body, expect_curl_ok, expect_hits, get_request,
                      payload, raw_exchange, spare_port, start_proxy)
from socklab.feedback import first_difference, show_bytes


def test_proxy_cache_hit(case, origin):
    body = b"<html><body>cache me</body></html>\n"
    origin.route("/page.html", body=body, content_type="text/html")
    start_proxy(case)
    first = curl(case, origin.url("/page.html"))
    expect_curl_ok(case, first, "the first response (a miss)", body)
    second = curl(case, origin.url("/page.html"))
    expect_curl_ok(case, second, "the second response (a hit)", body)
    expect_hits(case, origin, "/page.html", 1,
                "the second request for the same URL must come from the cache",
                hint="after a complete 200 response, keep it in the cache folder; look there before "
                     "connecting to the origin")
    folder = cache_dir(case)
    if not os.path.isdir(folder) or not os.listdir(folder):
        case.fail("the cache folder given with -d is empty",
                  expected=f"the cached response in {os.path.basename(folder)}/ (-d DIR)",
                  saw="no folder" if not os.path.isdir(folder) else "an empty folder",
                  hint="keep the cache files in the folder of the -d option")


def test_proxy_404_not_cached(case, origin):
    missing = b"<h1>404 Not Found</h1>\n"
    origin.route("/missing.html", body=missing, status=404, reason="Not Found", content_type="text/html")
    start_proxy(case)
    for n in (1, 2):
        res = curl(case, origin.url("/missing.html"))
        if res.status != 404:
            case.fail(f"request {n} for a missing page did not get the origin's 404",
                      expected="HTTP status 404 Not Found, passed through from the origin",
                      saw=res.describe(),
                      hint="pass the origin's status line on unchanged; only a 200 may be cached, and a "
                           "cached copy must keep its own status line")
        expect_body(case, f"the body of 404 number {n}", missing, res.body)
    expect_hits(case, origin, "/missing.html", 2, "an error response must not be cached",
                hint="cache a response only when its status is 200 OK: the page may exist next time")
    left = os.listdir(cache_dir(case)) if os.path.isdir(cache_dir(case)) else []
    if left:
        case.fail("files were left in the cache folder after two 404 responses",
                  expected="an empty cache folder (a response that is not kept is deleted: webcache_abort())",
                  saw=", ".join(sorted(left)))


def test_proxy_large_binary_body(case, origin):
    body = payload(4 << 20, seed=4)
    origin.route("/big.bin", body=body, content_type="application/octet-stream")
    start_proxy(case)
    for what in ("the 4 MiB binary body (a miss)", "the 4 MiB binary body again (a hit)"):
        res = curl(case, origin.url("/big.bin"))
        expect_curl_ok(case, res, what, body,
                       hint="move bytes with their count (read()/write() lengths), never with string "
                            "functions: a binary body holds NUL bytes")
    expect_hits(case, origin, "/big.bin", 1, "the second request must come from the cache")


def test_proxy_body_without_length(case, origin):
    body = payload(300 << 10, seed=5)
    origin.route("/stream.bin", body=body, length=False, content_type="application/octet-stream")
    start_proxy(case)
    for n in (1, 2):
        res = curl(case, origin.url("/stream.bin"))
        expect_curl_ok(case, res, f"response {n}: a body without Content-Length (it ends when the origin "
                       "closes)", body,
                       hint="without a Content-Length the body ends when the origin closes the connection: "
                            "keep reading until recv() returns 0")


def test_proxy_truncated_not_cached(case, origin):
    body = payload(200000, seed=6)
    origin.route("/cut.bin", body=body, cut_first=100000, content_type="application/octet-stream")
    start_proxy(case)
    resp = case.tcp_connect(label="client 1")
    resp.send(get_request(origin, "/cut.bin"))
    got = resp.recv_to_eof(timeout=6, what="the response the origin cut short")
    resp.close()
    first = Response(got.data, got.how)
    if len(first.body) > 100000:
        case.fail("the proxy sent more body bytes than the origin did",
                  expected="at most the 100000 bytes the origin sent before it closed", saw=first.describe())
    res = curl(case, origin.url("/cut.bin"))
    if res.rc != 0 or res.body != body:
        case.fail("after the origin died in the middle of a body, the next request got a cut copy",
                  expected=f"the whole {len(body)}-byte body, fetched again from the origin",
                  saw=res.describe(),
                  hint="a response whose body is shorter than its Content-Length is incomplete: "
                       "never cache it (delete the temporary file)")
    expect_hits(case, origin, "/cut.bin", 2, "an incomplete response must not be cached")


def test_proxy_no_half_written_cache(case, origin):
    body = payload(1 << 20, seed=7)
    half = 512 << 10
    route = origin.route("/held.bin", body=body, hold_first=half, content_type="application/octet-stream")
    head_len = len(route.head(len(body)))
    start_proxy(case)
    first = case.tcp_connect(label="client A")
    first.send(get_request(origin, "/held.bin"))
    got = first.recv_exact(head_len + half, timeout=5, what="the first half of the response")
    if len(got.data) < head_len + half:
        case.fail("the proxy did not pass on the first half of a response while the rest was on its way",
                  expected=f"{head_len} head bytes and {half} body bytes", saw=f"{len(got.data)} bytes, {got.how}",
                  hint="stream the response: send each piece on as it arrives")
    res = curl(case, origin.url("/held.bin"), timeout=5)
    if res.rc != 0 or res.body != body:
        case.fail("a second client got a half-written cache file while the first response was on its way",
                  expected=f"the whole {len(body)}-byte body (from the origin: the cache has no complete copy yet)",
                  saw=res.describe(),
                  hint="write the response into a temporary file and rename() it to its cache name only "
                       "once it is complete: until then no other client may find it")
    origin.release()
    rest = first.recv_to_eof(timeout=5, what="the rest of client A's response")
    first.close()
    expect_body(case, "client A's whole body", body, Response(got.data + rest.data, rest.how).body)
    res = curl(case, origin.url("/held.bin"))
    expect_curl_ok(case, res, "a third request, once the response was complete", body)
    expect_hits(case, origin, "/held.bin", 2, "the third request must come from the complete cached copy")


def _cache_name(key):
    """The file name the handout gives the cached copy of KEY (host:port/path)."""
    return "".join(chr(b) if chr(b).isascii() and (chr(b).isalnum() or chr(b) in ".-_") else f"%{b:02X}"
                   for b in key.encode())


def test_proxy_cache_key_parts(case, origin):
    other = Origin(case, spare_port(case, 3), label="second origin")
    try:
        _check_key_parts(case, origin, other)
    finally:
        other.close()


def _check_key_parts(case, origin, other):
    urls = []       # (origin, path, body): each its own cache entry
    for path, body in (("/item?id=1", b"item one\n"), ("/item?id=2", b"item two\n"), ("/item", b"no query\n"),
                       ("/shop/item", b"another path\n")):
        origin.route(path, body=body)
        urls.append((origin, path, body))
    other.route("/item?id=1", body=b"item one of the second origin\n")
    urls.append((other, "/item?id=1", b"item one of the second origin\n"))
    start_proxy(case)
    for round_ in ("first", "second"):
        for server, path, body in urls:
            res = curl(case, server.url(path))
            expect_curl_ok(case, res, f"the {round_} GET of {server.url(path)}", body,
                           hint="the cache key is host:port/path with the query: two URLs that differ in "
                                "any part are two entries")
    for server, path, _ in urls:
        expect_hits(case, server, path, 1, "each URL is fetched once, then comes from its own cache entry",
                    hint="look the URL up under its whole key (host, port, path and query)")
    names = set(os.listdir(cache_dir(case)))
    missing = [_cache_name(f"127.0.0.1:{s.port}{p}") for s, p, _ in urls
               if _cache_name(f"127.0.0.1:{s.port}{p}") not in names]
    if missing:
        case.fail("the cache folder does not hold the files the handout names",
                  expected="one file per URL, named after its key host:port/path with every byte other than "
                           "a letter, a digit, '.', '-' or '_' written as %XX: " + ", ".join(missing),
                  saw=", ".join(sorted(names)) or "an empty folder",
                  hint="name the file after the whole key (webcache_open(), webcache_begin())")
    _check_default_port(case)


def _check_default_port(case):
    """http://HOST/PATH and http://HOST:80/PATH are one URL: port 80 when the URL gives none."""
    if case.iso.mode == "host":
        case.step("port 80 not checked: this case shares the host's loopback, where port 80 is not ours")
        return
    web = Origin(case, 80, label="origin on port 80")
    try:
        body = b"the default port\n"
        web.route("/default.txt", body=body)
        for url in ("http://127.0.0.1/default.txt", "http://127.0.0.1:80/default.txt"):
            expect_curl_ok(case, curl(case, url), f"the GET of {url}", body,
                           hint="a URL without a port names port 80")
        expect_hits(case, web, "/default.txt", 1, "a URL without a port is the same URL with ':80'",
                    hint="make the key with the port the URL means (80 when it gives none)")
        head = web.all_heads()[0]
        if b"\r\nHost: 127.0.0.1\r\n" not in head:
            case.fail("the request to an origin on port 80 does not name the host alone",
                      expected="'Host: 127.0.0.1' (the port is left out when it is 80)",
                      saw=show_bytes(head, 200))
    finally:
        web.close()


def test_proxy_response_exact(case, origin):
    exact = bytes(range(256)) + b"\r\n\r\nHTTP/1.0 200 OK\r\n\r\na body that ends without a newline"
    routes = {"/exact.bin": origin.route("/exact.bin", body=exact, reason="Fine Thanks",
                                         content_type="application/octet-stream",
                                         headers=["X-Origin:  Two  Spaces", "set-cookie: a=b"], keep_open=True),
              "/empty.txt": origin.route("/empty.txt", body=b"", keep_open=True),
              "/gone.html": origin.route("/gone.html", body=b"", status=404, reason="Not Found",
                                         keep_open=True)}
    start_proxy(case)
    for n, path in ((1, "/exact.bin"), (1, "/empty.txt"), (1, "/gone.html"), (2, "/exact.bin"),
                    (2, "/empty.txt"), (2, "/gone.html")):
        route = routes[path]
        expected = route.head(len(route.body)) + route.body
        resp = raw_exchange(case, get_request(origin, path), label=f"client {n} of {path}", timeout=4)
        if resp.raw != expected or resp.how != "eof":
            case.fail(f"GET {n} of {path} did not get the origin's response byte for byte, then the proxy's FIN",
                      expected=f"{len(expected)} bytes (status line and headers as the origin sent them, then "
                               f"{len(route.body)} body bytes), then end of stream within 4 s (the origin keeps its "
                               f"connection open: the Content-Length ends the body)",
                      saw=f"{len(resp.raw)} bytes, then {resp.how}", difference=first_difference(expected, resp.raw),
                      hint="pass the head on unchanged, then exactly Content-Length body bytes counted by length "
                           "(never strlen()), and stop there: do not wait for the origin to close")
    expect_hits(case, origin, "/exact.bin", 1, "a complete 200 is cached, whatever its bytes")
    expect_hits(case, origin, "/empty.txt", 1, "a complete 200 with an empty body is cached too")
    expect_hits(case, origin, "/gone.html", 2, "a 404 is never cached")
