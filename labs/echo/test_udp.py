"""udpclient against a scripted UDP server, udpserver against scripted clients."""

import time

from socklab.feedback import show_bytes
from echolib import BINARY_LINE, MAX_DATAGRAM, UTF8_LINE, expect_log, expect_output, start_server, upper

LINES = [b"ping over udp", UTF8_LINE, b"third datagram"]


def _stdin(lines):
    return b"".join(l + b"\n" for l in lines)


def _client_sends_lines(case, lines, stdin, *args):
    server = case.udp_server(upper)
    client = case.start("udpclient", *args, "127.0.0.1", case.port, stdin=stdin)
    case.wait_exit(client, timeout=5)
    expect_output(case, client, lines)
    got = [d for d, _, _ in server.log]
    if got != lines:
        case.fail("the datagrams the server received are not one per input line",
                  expected=f"{len(lines)} datagrams of {[len(l) for l in lines]} bytes",
                  saw=f"{len(got)} of {[len(d) for d in got]} bytes",
                  hint="send each line as one datagram, without its newline; an empty line is a datagram "
                       "of 0 bytes, and a last line without '\\n' counts")


def test_udp_client_uppercase(case):
    lines = LINES + [b"", b"u" * MAX_DATAGRAM, b"last line without newline"]
    case.step(f"stdin: three lines, an empty line, a line of {MAX_DATAGRAM} bytes (the largest datagram), "
              f"and a last line without '\\n'")
    _client_sends_lines(case, lines, _stdin(lines)[:-1])
    case.step(f"a second udpclient: a line of {MAX_DATAGRAM + 1} bytes (too long to send), then 'after'")
    server = case.udp_server(upper, port=case.port + 1)
    client = case.start("udpclient", "127.0.0.1", case.port + 1, stdin=b"t" * (MAX_DATAGRAM + 1) + b"\nafter\n")
    case.wait_exit(client, timeout=5)
    case.expect_bytes("udpclient's standard output after a line too long to send", b"AFTER\n",
                      client.stdout.bytes(), hint="a line longer than 65507 bytes is not sent: log it and go on "
                                                  "with the next line")
    got = [len(d) for d, _, _ in server.log]
    if got != [5] or client.returncode != 1:
        case.fail("udpclient did not skip the line too long to send",
                  expected="one datagram ('after'), then exit status 1 (a line got no reply)",
                  saw=f"datagrams of {got} bytes; udpclient {client.status_text()}")


def test_udp_client_faults(case):
    # Every other socket call is interrupted, so errno is EINTR after most
    # calls that then succeed: a retry loop must look at errno only on failure.
    lines = [b"first", b"", b"lost on the way", b"last"]
    server = case.udp_server(upper, plan=lambda n, data: [] if n == 3 else [(0, None)])
    client = case.start("udpclient", "-W", "300", "127.0.0.1", case.port, stdin=_stdin(lines))
    rc = client.wait_exit(5)
    if rc is None:
        case.fail("udpclient did not finish with its socket calls interrupted",
                  expected="each interrupted call tried again once, the lost datagram given up after 300 ms",
                  saw=f"still running after 5 s; the server received {len(server.received)} datagrams",
                  hint="retry only when the call failed (n < 0) with errno EINTR; errno keeps an old value "
                       "after a call that succeeded")
    case.step(f"udpclient {client.status_text()}")
    case.expect_bytes("udpclient's standard output (line 3 lost)",
                      b"".join(upper(l) + b"\n" for l in lines if l != lines[2]), client.stdout.bytes(),
                      hint="an interrupted send() or recv() (EINTR) must be tried again, not reported")
    got = [d for _, d, _ in server.received]
    if got != lines:
        case.fail("the datagrams the server received are not one per input line",
                  expected=f"{len(lines)} datagrams: {', '.join(map(show_bytes, lines))}",
                  saw=f"{len(got)}: {', '.join(map(show_bytes, got[:8]))}",
                  hint="send each line once: retry only a send() that failed with EINTR")
    if rc != 1:
        case.fail("udpclient's exit status does not say that a reply was lost",
                  expected="exit status 1", saw=client.status_text())


def _lost_first(case, timeout_ms, args, port):
    """udpclient with ARGS over LINES against a server on PORT that drops
    datagram 1: it must report the loss after TIMEOUT_MS and go on."""
    server = case.udp_server(upper, port=port, plan=lambda n, data: [] if n == 1 else [(0, None)])
    client = case.start("udpclient", *args, "127.0.0.1", port, stdin=_stdin(LINES))
    rc = client.wait_exit(5 + timeout_ms / 1000)
    if rc is None:
        case.fail("udpclient waited forever for a reply that was never coming",
                  expected=f"give up after {timeout_ms} ms, report it, go on with the next line",
                  saw=f"still running after {5 + timeout_ms / 1000:.1f} s",
                  hint="wait for the reply with poll() (or SO_RCVTIMEO) and a timeout")
    case.step(f"udpclient {client.status_text()}")
    case.expect_bytes("udpclient's standard output (line 1 lost)",
                      b"".join(upper(l) + b"\n" for l in LINES[1:]), client.stdout.bytes(),
                      hint="print nothing on stdout for a lost datagram; report it on stderr")
    if rc != 1:
        case.fail("udpclient's exit status does not say that a reply was lost",
                  expected="exit status 1 (a line got no reply)", saw=client.status_text())
    expect_log(case, client, [f"no reply within {timeout_ms} ms (line 1)".encode()])
    times = [t for t, _, _ in server.received]
    waited = times[1] - times[0]
    case.step(f"udpclient sent datagram 2 {waited * 1000:.0f} ms after datagram 1")
    # Only a lower bound: a loaded machine makes the wait longer, never shorter.
    if waited < 0.95 * timeout_ms / 1000:
        case.fail("udpclient gave up on a reply before its timeout",
                  expected=f"datagram 2 at least {timeout_ms} ms after datagram 1 (its reply never came)",
                  saw=f"{waited * 1000:.0f} ms", hint="poll()'s timeout is in milliseconds: pass TIMEOUT_MS")


def test_udp_client_timeout(case):
    _lost_first(case, 800, ["-W", "800"], case.port)
    case.step("again without -W: the default timeout is 1000 ms")
    _lost_first(case, 1000, [], case.port + 1)


def test_udp_client_no_server(case):
    lines = [b"anyone there", b"still nobody"]
    start = time.monotonic()
    client = case.start("udpclient", "-W", "4000", "127.0.0.1", case.port, stdin=_stdin(lines))
    case.wait_exit(client, timeout=8, why="with no server on the port")
    took = time.monotonic() - start
    if client.returncode != 1:
        case.fail("udpclient's exit status does not say that lines got no reply",
                  expected="exit status 1", saw=client.status_text())
    said = f"no server at 127.0.0.1:{case.port} (port unreachable)".encode()
    count = client.stderr.bytes().count(said)
    if count != len(lines):
        case.fail("udpclient did not report the missing server for each line",
                  expected=f"{len(lines)} log lines '{said.decode()}' (one per line, then go on)",
                  saw=f"{count}; stderr: {client.stderr.tail(4)}",
                  hint="recv() on a connected UDP socket fails with ECONNREFUSED when the port is "
                       "unreachable: log it and go on with the next line")
    if took >= 4.0:
        case.fail("udpclient waited out its timeout instead of seeing that no server listens",
                  expected="ECONNREFUSED at once (the ICMP port unreachable)", saw=f"it took {took:.1f} s",
                  hint="use the connected socket: poll() wakes up for the ICMP error, recv() reports it")


def test_udp_server_two_clients(case):
    server = start_server(case, "udpserver", proto="udp")
    a = case.udp_peer(label="client A")
    b = case.udp_peer(label="client B")
    script = [(a, b"first from a"), (b, b"first from b"), (a, BINARY_LINE + b"\n"), (b, b""),
              (a, b"v" * MAX_DATAGRAM), (b, b"second from b")]
    for peer, data in script:
        peer.sendto(data, ("127.0.0.1", case.port))
        got = peer.recv(timeout=3, what="the reply")
        if got is None or got[0] != upper(data):
            case.fail(f"{peer.label} did not get its own reply to a datagram of {len(data)} bytes",
                      expected=f"the datagram {show_bytes(upper(data), 40)} sent back to {peer.label}'s address",
                      saw="no datagram within 3 s" if got is None else f"{len(got[0])} bytes: {show_bytes(got[0], 40)}",
                      hint="reply with sendto() to the address recvfrom() gave for this datagram, with "
                           f"its length (0 and {MAX_DATAGRAM} included); udpserver {server.status_text()}")
