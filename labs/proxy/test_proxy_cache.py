"""The proxy's cache: hits counted at the origin, what must never be cached
(errors, cut bodies, half-written files), large and unannounced bodies."""

import os

from proxylib import (Response, cache_dir, curl, expect_body, expect_curl_ok, expect_hits, get_request,
                      payload, start_proxy)


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
        case.fail("the proxy sent more body bytes than the origin did", saw=first.describe())
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
