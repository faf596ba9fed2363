"""hbclient against a scripted heartbeat server."""

import time

from socklab.feedback import show_bytes
from gradertiming import attempt_port, judged
from hblib import INTERVAL_MS, connection_to, only_connection

HEARTBEATS = 6


def _connect(case, stdin=None, port=None):
    port = case.port if port is None else port
    listener = case.tcp_listener(port)
    client = case.start("hbclient", "127.0.0.1", port, stdin=stdin)
    return client, case.accept_client(listener, client)


def _heartbeats(case, conn, count, first=1):
    """Send COUNT heartbeats at the lab's interval; each must be answered."""
    for n in range(first, first + count):
        sent = time.monotonic()
        conn.send(f"HB {n}\n".encode())
        got = conn.recv_until(b"\n", timeout=1.0, what=f"the reply to HB {n}")
        if got.data != f"HBACK {n}\n".encode():
            case.fail(f"hbclient did not answer heartbeat {n}",
                      expected=f"'HBACK {n}\\n' at once", saw=f"{show_bytes(got.data)}, then {got.how}",
                      hint="answer heartbeats in a thread of their own: the main thread is blocked "
                           "waiting for keyboard input")
        pause = INTERVAL_MS / 1000 - (time.monotonic() - sent)
        if pause > 0:
            time.sleep(pause)   # the scripted server's pace: one heartbeat per interval


def test_hb_client_answers_heartbeats(case):
    # stdin stays open and silent: the client must answer while it waits for input.
    def scenario(attempt):
        port = attempt_port(case, attempt)
        client, conn = _connect(case, port=port)
        _heartbeats(case, conn, HEARTBEATS)
        client.feed(b"", close=True)
        conn.recv_to_eof(timeout=3, what="hbclient's close")
        conn.close()
        case.wait_exit(client, timeout=3)
        return port

    # A reply waited for a whole second: only a grader held back that long is excused.
    port = judged(case, scenario, tolerance_ms=500)
    c = connection_to(case, port)
    hb = c.get("heartbeats") or {}
    if hb.get("pairs") != HEARTBEATS or hb.get("requester") != "resp":
        case.fail("the capture does not show every heartbeat answered",
                  expected=f"{HEARTBEATS} heartbeat/reply pairs, requests from the server",
                  saw=(f"{hb.get('pairs', 0)} pairs, {hb.get('unanswered', 0)} unanswered" if hb
                       else "no heartbeats in the capture"))
    # Only what the client controls: each reply's delay after its heartbeat
    # (the scripted server's own pace is not the client's).  The median, not
    # the maximum: a loaded machine may hold a reply back, but a client that
    # answers late does so every time.
    delays = sorted(e["delay_ms"] for e in hb.get("events", []) if e.get("delay_ms") is not None)
    median = delays[(len(delays) - 1) // 2] if delays else 0.0
    case.step("capture: replies " + ", ".join(f"{d:.1f}" for d in delays) + " ms after their heartbeats")
    if median > INTERVAL_MS / 2:
        case.fail("hbclient answered heartbeats late",
                  expected=f"each reply at once (the grader allows up to {INTERVAL_MS // 2} ms for most "
                           "of them)",
                  saw=f"replies {', '.join(f'{d:.0f}' for d in delays)} ms after their heartbeats in the "
                      "capture",
                  hint="reply as soon as the heartbeat line is read; no sleep, no waiting for stdin")


def test_hb_client_sends_messages(case):
    # UTF-8, an empty line, the longest line (1000 bytes), one too long (skipped),
    # and a last line without its newline.
    longest, too_long = b"x" * 1000, b"y" * 1001
    typed = [b"hello from the keyboard", "grüße, 你好".encode(), b"", longest, too_long, b"third line"]
    client, conn = _connect(case, stdin=b"".join(l + b"\n" for l in typed) + b"last words")
    sent = [line for line in typed if line is not too_long] + [b"last words"]
    for i, line in enumerate(sent, 1):
        got = conn.recv_until(b"\n", timeout=3, limit=2048, what=f"message {i}")
        hint = "send each typed line as 'MSG <line>\\n'"
        if line == b"third line" and got.data.startswith(b"MSG y"):
            hint = "a line over 1000 bytes is reported on stderr and skipped, not sent"
        elif line == longest:
            hint = "a line of exactly 1000 bytes is sent whole; only a longer one is skipped"
        elif line == b"last words":
            hint = "the last line of the input counts even without its '\\n'"
        case.expect_bytes(f"message {i} sent by hbclient", b"MSG " + line + b"\n", got.data, hint=hint)
    # The scripted server never closes: after its FIN the client waits at
    # most 2 s for the server's, then closes and exits 0.
    rest = conn.recv_to_eof(timeout=3, what="hbclient's FIN after its input ended")
    if rest.how != "eof":
        case.fail("hbclient did not send its FIN when its input ended",
                  expected="end of stream (the client's FIN)", saw=rest.how,
                  hint="at the end of standard input: shutdown(fd, SHUT_WR)")
    rc = client.wait_exit(3.5)
    if rc is None:
        case.fail("hbclient kept waiting for a server that never closes",
                  expected="exit within 2 s of its FIN, even without the server's FIN",
                  saw="still running 3.5 s later",
                  hint="wait for the server's FIN with a timeout (poll() with 2000 ms), then close anyway")
    case.step(f"hbclient {client.status_text()}")
    if rc != 0:
        case.fail("hbclient's exit status after its input ended is wrong", expected="exit status 0",
                  saw=client.status_text())
    conn.close()


def test_hb_client_prints_broadcasts(case):
    client, conn = _connect(case)
    # A broadcast split over two segments, then two coalesced with a heartbeat between them.
    conn.send(b"BCAST first news\nBCAST sec")
    time.sleep(0.05)   # the split: the rest of the line comes in a later segment
    conn.send(b"ond news\nHB 1\nBCAST third news\n")
    got = conn.recv_until(b"\n", timeout=2, what="the reply to HB 1")
    if got.data != b"HBACK 1\n":
        case.fail("hbclient did not answer a heartbeat that came between broadcasts",
                  expected="'HBACK 1\\n'", saw=f"{show_bytes(got.data)}, then {got.how}")
    expected = b"first news\nsecond news\nthird news\n"
    ok = client.wait_output(rb"first news\nsecond news\nthird news\n", timeout=3)
    if not ok:
        case.expect_bytes("hbclient's standard output", expected, client.stdout.bytes(),
                          hint="print the text of each 'BCAST <text>' line, whole, once the line is complete")
    client.feed(b"", close=True)
    conn.recv_to_eof(timeout=3, what="hbclient's close")
    conn.close()
    case.wait_exit(client, timeout=3)


def test_hb_client_fin_teardown(case):
    client, conn = _connect(case)
    _heartbeats(case, conn, 2)
    client.feed(b"bye now\n:q\n")
    got = conn.recv_until(b"\n", timeout=3, what="the message before :q")
    case.expect_bytes("the message before :q", b"MSG bye now\n", got.data)
    # The FIN at once (within a second), not the close() after the 2 s wait.
    rest = conn.recv_to_eof(timeout=1, what="hbclient's FIN right after :q")
    if rest.how == "reset":
        case.fail("hbclient ended the connection with a reset (RST) instead of a FIN",
                  expected="the client's FIN, then the server's FIN (a four-way teardown)",
                  saw="a reset: the server's next read failed with 'connection reset by peer'",
                  hint="close() sends RST when SO_LINGER is 0 or unread data is left; send the FIN "
                       "with shutdown(fd, SHUT_WR) and close() only after the server's FIN")
    if rest.how != "eof":
        case.fail("hbclient did not close the connection after ':q'",
                  expected="end of stream (the client's FIN)", saw=rest.how,
                  hint="on ':q' or end of input: shutdown(fd, SHUT_WR), wait for the server's FIN, close()")
    conn.close()
    case.wait_exit(client, timeout=3, why="after ':q' and the server's FIN")
    if client.returncode != 0:
        case.fail("hbclient did not exit with status 0 after ':q'", expected="exit status 0",
                  saw=client.status_text())
    c = only_connection(case)
    case.expect_fin_teardown(c, "orig", "hbclient")


def test_hb_client_command_line(case):
    helped = case.start("hbclient", "-h")
    rc = case.wait_exit(helped, timeout=3, why="after -h")
    if rc != 0 or b"hbclient" not in helped.stdout.bytes():
        case.fail("hbclient -h does not print its usage on standard output and exit 0",
                  expected="the usage on stdout, exit status 0",
                  saw=f"{helped.status_text()}, stdout {helped.stdout.tail(2)!r}")
    for bad in ([], ["127.0.0.1"], ["127.0.0.1", "notaport"]):
        prog = case.start("hbclient", *bad)
        rc = case.wait_exit(prog, timeout=3, why=f"with bad usage {' '.join(bad) or '(no arguments)'}")
        if rc != 2 or not prog.stderr.bytes():
            case.fail(f"hbclient {' '.join(bad) or '(no arguments)'} is bad usage",
                      expected="the problem and the usage on stderr, exit status 2", saw=prog.status_text())
    refused = case.start("hbclient", "127.0.0.1", case.port)   # nobody listens there
    rc = case.wait_exit(refused, timeout=3, why="when its connection was refused")
    if rc != 1 or not refused.stderr.bytes():
        case.fail("hbclient's exit status when nobody listens is wrong",
                  expected="exit status 1 with the reason on stderr (Connection refused)",
                  saw=refused.status_text())
    # HOST may be an IPv6 address.
    listener = case.tcp_listener(case.port, host="::1", label="server on ::1")
    client = case.start("hbclient", "::1", case.port)
    conn = case.accept_client(listener, client)
    conn.send(b"HB 1\n")
    got = conn.recv_until(b"\n", timeout=2, what="the reply to HB 1")
    case.expect_bytes("the reply to HB 1 over IPv6", b"HBACK 1\n", got.data,
                      hint="resolve HOST with getaddrinfo() (AF_UNSPEC): '::1' is an IPv6 address")
    client.feed(b"", close=True)
    conn.recv_to_eof(timeout=3, what="hbclient's close")
    conn.close()
    case.wait_exit(client, timeout=3)
