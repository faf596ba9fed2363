"""Hidden proxy cases (not in the student distribution)."""

from proxylib import Response, curl, expect_curl_ok, get_request, payload, start_proxy


def test_proxy_survives_vanishing_clients(case, origin):
    big = payload(4 << 20, seed=9)
    origin.route("/big.bin", body=big, content_type="application/octet-stream")
    small = b"still here\n"
    origin.route("/small.txt", body=small)
    proxy = start_proxy(case)
    quiet = case.tcp_connect(label="client that says nothing")
    quiet.close()
    halfway = case.tcp_connect(label="client gone mid-request")
    halfway.send(get_request(origin, "/small.txt")[:30])
    halfway.reset()
    reader = case.tcp_connect(label="client gone mid-response")
    reader.send(get_request(origin, "/big.bin"))
    got = reader.recv_exact(64 << 10, timeout=5, what="the first 64 KiB of a 4 MiB response")
    reader.reset()
    if len(got.data) < 64 << 10:
        case.fail("the proxy did not start sending a large response",
                  expected="the first 64 KiB of the 4 MiB response within 5 s (sent on as it comes, not "
                           "stored first)",
                  saw=Response(got.data, got.how).describe())
    res = curl(case, origin.url("/small.txt"))
    if not proxy.running():
        case.fail("the proxy ended when clients vanished", expected="the proxy still serving the next client",
                  saw=f"the proxy {proxy.status_text()}",
                  hint="ignore SIGPIPE (or send with MSG_NOSIGNAL); a failed send ends that client only")
    expect_curl_ok(case, res, "a request after three clients vanished", small)
    expect_curl_ok(case, curl(case, origin.url("/big.bin")), "the large body, asked for again", big,
                   hint="a response cut short because its client left must not be cached")
    case.step("the same without Content-Length: the origin's close would end the body")
    origin.route("/stream.bin", body=big, length=False, content_type="application/octet-stream")
    reader = case.tcp_connect(label="client gone mid-response, no Content-Length")
    reader.send(get_request(origin, "/stream.bin"))
    got = reader.recv_exact(64 << 10, timeout=5, what="the first 64 KiB of a 4 MiB response without length")
    reader.reset()
    if len(got.data) < 64 << 10:
        case.fail("the proxy did not start sending a large response",
                  expected="the first 64 KiB of the 4 MiB response within 5 s (sent on as it comes, not "
                           "stored first)",
                  saw=Response(got.data, got.how).describe())
    expect_curl_ok(case, curl(case, origin.url("/stream.bin")), "the large body without Content-Length, asked "
                   "for again", big,
                   hint="when pass_on() fails the client is gone and the origin has not closed: the body is "
                        "cut, and must not be cached (relay_body() returns -1)")
