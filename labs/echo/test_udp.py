"""udpclient against a scripted UDP server, udpserver against scripted clients."""

from echolib import BINARY_LINE, UTF8_LINE, expect_output, start_server, upper

LINES = [b"ping over udp", UTF8_LINE, b"third datagram"]


def _stdin(lines):
    return b"".join(l + b"\n" for l in lines)


def test_udp_client_uppercase(case):
    server = case.udp_server(upper)
    client = case.start("udpclient", "127.0.0.1", case.port, stdin=_stdin(LINES))
    case.wait_exit(client, timeout=5)
    expect_output(case, client, LINES)
    got = [d for d, _, _ in server.log]
    if got != LINES:
        case.fail("the datagrams the server received are not one per input line",
                  expected=f"{len(LINES)} datagrams: {LINES!r}", saw=f"{len(got)}: {got!r}",
                  hint="send each line as one datagram, without its newline")


def test_udp_client_timeout(case):
    # The scripted server drops the first datagram; the client must give up on it and go on.
    case.udp_server(upper, drop_first=1)
    client = case.start("udpclient", "-W", "800", "127.0.0.1", case.port, stdin=_stdin(LINES))
    rc = client.wait_exit(5)
    if rc is None:
        case.fail("udpclient waited forever for a reply that was never coming",
                  expected="give up after 800 ms (-W 800), report it, go on with the next line",
                  saw="still waiting after 5 s",
                  hint="wait for the reply with poll() (or SO_RCVTIMEO) and a timeout")
    case.step(f"udpclient {client.status_text()}")
    case.expect_bytes("udpclient's standard output (line 1 lost)",
                      b"".join(upper(l) + b"\n" for l in LINES[1:]), client.stdout.bytes(),
                      hint="print nothing on stdout for a lost datagram; report it on stderr")
    if rc != 1:
        case.fail("udpclient's exit status does not say that a reply was lost",
                  expected="exit status 1 (a line got no reply)", saw=client.status_text())


def test_udp_server_two_clients(case):
    server = start_server(case, "udpserver", proto="udp")
    a = case.udp_peer(label="client A")
    b = case.udp_peer(label="client B")
    script = [(a, b"first from a"), (b, b"first from b"), (a, BINARY_LINE + b"\n"), (b, b"second from b")]
    for peer, data in script:
        peer.sendto(data, ("127.0.0.1", case.port))
        got = peer.recv(timeout=3, what="the reply")
        if got is None or got[0] != upper(data):
            case.fail(f"{peer.label} did not get its own reply",
                      expected=f"the datagram {upper(data)[:40]!r}… sent back to {peer.label}'s address",
                      saw="no datagram within 3 s" if got is None else f"{got[0][:40]!r}",
                      hint="reply with sendto() to the address recvfrom() gave for this datagram; "
                           f"udpserver {server.status_text()}")
