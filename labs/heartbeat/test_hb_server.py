"""hbserver against scripted heartbeat clients."""

import re
import select
import socket
import struct
import time

from gradertiming import attempt_port, judged
from hblib import (GRADER_LATE_MS, INTERVAL_MS, MISSES, QUIET_INTERVAL_MS, Responder, connection_from,
                   expect_consecutive, expect_schedule, start_server)
from socklab.feedback import NotChecked, show_bytes


def test_hb_server_sends_heartbeats(case):
    def scenario(attempt):
        port = attempt_port(case, attempt)
        start_server(case, port=port)
        conn = case.tcp_connect(port, label="client")
        r = Responder(case, conn)
        enough = r.wait(lambda s: len(s.heartbeats) >= 6, timeout=3)
        r.stop()
        if not enough:
            case.fail("hbserver did not send heartbeats at the interval asked for",
                      expected=f"6 heartbeats within 3 s (-i {INTERVAL_MS})",
                      saw=f"{len(r.heartbeats)} heartbeat(s)"
                          f"{', then the server closed the connection' if r.ended else ''}",
                      hint="every interval, send 'HB <n>\\n' to every client in the table")
        expect_consecutive(case, [s for s, _ in r.heartbeats], "the client")
        conn.close()
        return port, conn.local

    # The scripted client answers each heartbeat: held back a whole interval,
    # it may have missed enough of them to be dropped.
    port, local = judged(case, scenario, GRADER_LATE_MS)
    expect_schedule(case, connection_from(case, local, port))


def test_hb_server_drops_silent_client(case):
    def scenario(attempt):
        port = attempt_port(case, attempt)
        server = start_server(case, port=port)
        good = case.tcp_connect(port, label="client A (answers)")
        r_good = Responder(case, good)
        silent = case.tcp_connect(port, label="client B (silent)")
        r_silent = Responder(case, silent, silent=True)
        # Client C answers HB 1 only: then acked = 1, and it is dropped at the
        # tick after HB MISSES+1, with MISSES heartbeats unanswered (sent - acked).
        once = case.tcp_connect(port, label="client C (answers HB 1, then silent)")
        r_once = Responder(case, once, answers=1)
        limit = (MISSES + 2) * INTERVAL_MS / 1000 + 1.5
        dropped = r_silent.wait(lambda s: s.ended is not None, timeout=limit)
        if not dropped:
            case.fail(f"hbserver did not drop a client that never answered ({MISSES} misses allowed)",
                      expected=f"the server closes client B's connection after {MISSES} unanswered heartbeats",
                      saw=f"client B got {len(r_silent.heartbeats)} heartbeats and the connection stayed open "
                          f"for {limit:.1f} s",
                      hint="count unanswered heartbeats per client; at the limit, remove the client and close "
                           "its socket (that sends the FIN)")
        logged = rb"WARN.*dropping " + re.escape(f"{silent.local}: {MISSES} heartbeats unanswered".encode())
        if not server.stderr.wait_for(lambda b: re.search(logged, b) is not None, 2):
            case.fail("hbserver did not log that it dropped the silent client",
                      expected=f"a WARN line 'dropping {silent.local}: {MISSES} heartbeats unanswered' on stderr",
                      saw=server.stderr.tail(3) or "nothing on stderr")
        count = len(r_silent.heartbeats)
        if count != MISSES:
            case.fail("hbserver dropped the silent client after the wrong number of heartbeats",
                      expected=f"exactly {MISSES} heartbeats, then the server's FIN (-m {MISSES})",
                      saw=f"{count} heartbeats before the close")
        if not r_once.wait(lambda s: s.ended is not None, timeout=limit):
            case.fail("hbserver did not drop a client that answered HB 1 and then nothing",
                      expected=f"the server closes client C's connection after HB {MISSES + 1} "
                               f"({MISSES} unanswered)",
                      saw=f"client C got {len(r_once.heartbeats)} heartbeats and the connection stayed open")
        if len(r_once.heartbeats) != MISSES + 1:
            case.fail("hbserver dropped the client that answered HB 1 after the wrong number of heartbeats",
                      expected=f"exactly {MISSES + 1} heartbeats (HBACK 1 counts: acked = 1), then the "
                               "server's FIN",
                      saw=f"{len(r_once.heartbeats)} heartbeats before the close",
                      hint="drop when sent - acked >= MISSES, with acked the highest heartbeat answered")
        logged = rb"WARN.*dropping " + re.escape(f"{once.local}: {MISSES} heartbeats unanswered".encode())
        if not server.stderr.wait_for(lambda b: re.search(logged, b) is not None, 2):
            case.fail("hbserver's log of the drop of client C does not count its unanswered heartbeats",
                      expected=f"a WARN line 'dropping {once.local}: {MISSES} heartbeats unanswered' on stderr "
                               f"(sent {MISSES + 1} - acked 1)",
                      saw=server.stderr.tail(3) or "nothing on stderr",
                      hint="N in the log is sent - acked, the heartbeats left unanswered")
        before = len(r_good.heartbeats)
        still = r_good.wait(lambda s: len(s.heartbeats) >= before + 3, timeout=2)
        r_good.stop()
        r_silent.stop()
        r_once.stop()
        # Each connection counts its own heartbeats from 1.
        expect_consecutive(case, [s for s, _ in r_silent.heartbeats], "client B")
        expect_consecutive(case, [s for s, _ in r_once.heartbeats], "client C")
        expect_consecutive(case, [s for s, _ in r_good.heartbeats], "client A")
        if not still:
            case.fail("client A stopped getting heartbeats after client B was dropped",
                      expected="heartbeats to client A go on", saw=f"{len(r_good.heartbeats) - before} more",
                      hint="removing one client must leave the others in the table")
        silent.close()
        once.close()
        good.close()
        return port, silent.local

    port, local = judged(case, scenario, GRADER_LATE_MS)
    case.expect_fin_teardown(connection_from(case, local, port), "resp", "hbserver")


def test_hb_server_prints_messages(case):
    server = start_server(case, interval=QUIET_INTERVAL_MS)
    conn = case.tcp_connect()
    # One message whole, one split over two segments, two coalesced in one segment.
    conn.send(b"MSG hello server\n")
    conn.send(b"MSG split ", chunk=4, pace=0.01)
    conn.send(b"in pieces\nMSG two in\nMSG one segment\n")
    who = re.escape(conn.local.encode())
    expected = [b"hello server", b"split in pieces", b"two in", b"one segment"]
    pattern = b"".join(who + b": " + re.escape(m) + b"\n" for m in expected)
    if not server.wait_output(pattern, timeout=3):
        case.fail("hbserver's standard output does not show the client's messages",
                  expected="\n".join(f"{conn.local}: {m.decode()}" for m in expected),
                  saw=server.stdout.tail(8) or "nothing",
                  hint="read whole lines (a message may come in pieces, or several in one recv) and "
                       "print 'ADDR:PORT: text' for each 'MSG text'")
    # A client that closes its side: the server closes the connection too.
    conn.shutdown_write()
    rest = conn.recv_to_eof(timeout=2, what="the server's FIN after the client's")
    if rest.how != "eof":
        case.fail("hbserver did not close the connection after the client closed its side",
                  expected="the server's FIN within 2 s of the client's", saw=rest.how,
                  hint="when recv() returns 0 the client has left: take it out of the table and close() "
                       "its socket")
    conn.close()


def test_hb_server_broadcasts(case):
    server = start_server(case, interval=QUIET_INTERVAL_MS)
    # A client that came and went first: the server closed its socket, so the
    # next client accepted gets the same descriptor number. Left in the table,
    # it would have that client's broadcasts sent twice.
    threads_before = server.thread_count()
    gone = case.tcp_connect(label="client X (leaves first)")
    gone.send(b"MSG X was here\n")
    if not server.wait_output(re.escape(f"{gone.local}: X was here\n".encode()), timeout=3):
        case.fail("hbserver never printed the message of client X",
                  expected=f"'{gone.local}: X was here' on stdout (ADDR:PORT: text)",
                  saw=server.stdout.tail(8) or "nothing on stdout")
    gone.shutdown_write()
    if gone.recv_to_eof(timeout=3, what="the server's FIN after client X's").how != "eof":
        case.fail("hbserver did not close the connection of a client that closed its side",
                  expected="the server's FIN within 3 s of the client's")
    gone.close()
    # Done with X only once a thread it had has ended: whatever the server
    # freed of X is then free for the next client (a use after free shows).
    if not server.wait_threads(threads_before, timeout=3):
        case.step(f"hbserver still runs {server.thread_count()} threads, {threads_before} before client X")
    clients = []
    for name in "ABC":
        conn = case.tcp_connect(label=f"client {name}")
        conn.send(f"MSG {name} is here\n".encode())
        clients.append(conn)
    # Each client is in the server's table once its first message was printed.
    for conn in clients:
        mark = re.escape(f"{conn.local}: ".encode())
        if not server.wait_output(mark, timeout=3):
            case.fail(f"hbserver never printed the first message of {conn.label}",
                      expected=f"a line '{conn.local}: ...' on stdout (ADDR:PORT: text)",
                      saw=server.stdout.tail(8) or "nothing on stdout")
    server.feed(b"hello everyone\nand again\n")
    for conn in clients:
        for text in (b"hello everyone", b"and again"):
            got = conn.recv_until(b"\n", timeout=3, what="the broadcast")
            if got.data != b"BCAST " + text + b"\n":
                case.fail(f"{conn.label} did not get each broadcast once, in order",
                          expected="'BCAST hello everyone\\n', then 'BCAST and again\\n', to every connected "
                                   "client",
                          saw=f"{show_bytes(got.data)}, then {got.how}",
                          hint="send each line of the server's stdin to every client in the table, under the "
                               "table's lock; a client that left is no longer in the table")
    # The end of standard input ends the broadcasts, not the server. The late
    # client connects only once the server had the time to act on the end:
    # a thread of it ended (the reference's broadcast thread) or 1 s passed.
    threads_reading_stdin = server.thread_count()
    server.feed(b"", close=True)
    server.wait_input_closed(timeout=3)
    server.wait_threads(threads_reading_stdin - 1, timeout=1)
    if not server.running():
        case.fail("hbserver ended at the end of its standard input",
                  expected="hbserver still running, serving its clients, after stdin ended",
                  saw=f"hbserver {server.status_text()}",
                  hint="at the end of stdin only the broadcast thread ends; the server runs until killed")
    late = case.tcp_connect(label="client D (after the end of stdin)")
    late.send(b"MSG still serving?\n")
    if not server.wait_output(re.escape(f"{late.local}: still serving?\n".encode()), timeout=3):
        case.fail("hbserver stopped serving at the end of its standard input",
                  expected="a client that connects after stdin ended is still served (its message printed)",
                  saw=f"hbserver {server.status_text()}; stdout {server.stdout.tail(3)!r}",
                  hint="at the end of stdin only the broadcast thread ends; the server runs until killed")
    for conn in clients + [late]:
        conn.close()


def test_hb_server_survives_reset_client(case):
    def scenario(attempt):
        port = attempt_port(case, attempt)
        server = start_server(case, port=port)
        steady = case.tcp_connect(port, label="steady client")
        r = Responder(case, steady)
        rude = case.tcp_connect(port, label="client killed mid-line")
        rude.send(b"MSG half a mess")
        rude.reset()
        before = len(r.heartbeats)
        going = r.wait(lambda s: len(s.heartbeats) >= before + 4, timeout=3)
        r.stop()
        if not server.running():
            case.fail("hbserver ended when a client vanished with a reset",
                      expected="hbserver still running, beating to the other clients",
                      saw=f"hbserver {server.status_text()}",
                      hint="ignore SIGPIPE (or send with MSG_NOSIGNAL) and treat ECONNRESET as "
                           "'this client left'")
        if not going:
            case.fail("the steady client stopped getting heartbeats after another client reset",
                      expected="heartbeats go on", saw=f"{len(r.heartbeats) - before} more in 3 s")
        steady.close()

    judged(case, scenario, GRADER_LATE_MS)


CHURN = 30              # clients that come and go in the lock case
FAST_INTERVAL_MS = 20   # heartbeats walk the table often while they do
PATIENT_MISSES = 50     # ... but the steady client is dropped only after a second without answers:
                        # the case is about the lock, not about how fast the grader answers


def _come_and_go(case, k):
    """One short-lived client: connect, then leave with a FIN (even k) or a reset (odd k)."""
    try:
        s = socket.create_connection(("127.0.0.1", case.port), timeout=3)
    except OSError as e:
        case.fail(f"client {k} of {CHURN} could not connect while clients came and went",
                  expected="hbserver accepts every connection", saw=f"connect failed: {e.strerror or e}",
                  hint="the server must keep accepting while others leave")
    if k % 2:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_hb_server_table_is_locked(case):
    # lab.toml builds this case's programs with ThreadSanitizer: a table used
    # without its lock is then reported every time, not only when unlucky.
    server = start_server(case, interval=FAST_INTERVAL_MS, misses=PATIENT_MISSES)
    steady = case.tcp_connect(label="steady client")
    r = Responder(case, steady)
    if not r.wait(lambda s: s.heartbeats, timeout=3):
        case.fail("the steady client got no heartbeat", expected=f"HB 1 within 3 s (-i {FAST_INTERVAL_MS})")
    case.step(f"{CHURN} clients connect and leave (FIN and reset in turn), "
              "a line typed on the server's stdin with each")
    for k in range(CHURN):
        _come_and_go(case, k)
        server.feed(b"round %d\n" % k, quiet=True)
    expected = [b"BCAST round %d\n" % k for k in range(CHURN)]
    r.wait(lambda s: len(s.lines) >= CHURN, timeout=5)
    before = len(r.heartbeats)
    going = r.wait(lambda s: len(s.heartbeats) >= before + 3, timeout=3)
    r.stop()
    if not server.running():
        case.fail("hbserver ended while clients came and went during broadcasts",
                  expected="hbserver still running, broadcasting to the clients that stay",
                  saw=f"hbserver {server.status_text()}",
                  hint="every thread that reads or changes the client table must hold its lock")
    if r.lines != expected:
        case.fail("the steady client did not get every broadcast, whole and in order",
                  expected=f"BCAST round 0 … BCAST round {CHURN - 1}, one line each",
                  saw=f"{len(r.lines)} line(s); first difference: " + _first_wrong(r.lines, expected),
                  hint="walk the table under its lock; a client added or removed meanwhile must not "
                       "cut the walk short")
    if not going:
        case.fail("the steady client stopped getting heartbeats while clients came and went",
                  expected="heartbeats go on", saw=f"{len(r.heartbeats) - before} more in 3 s")
    # The steady client's thread handled its HBACKs (record_ack) before this
    # line: once it is printed, a report ThreadSanitizer made in that thread
    # (it takes a moment to write) is on stderr, not cut off by the end of the case.
    steady.send(b"MSG still here\n")
    if not server.wait_output(re.escape(f"{steady.local}: still here\n".encode()), timeout=5):
        case.fail("hbserver did not print the steady client's message after clients came and went",
                  expected=f"'{steady.local}: still here' on stdout", saw=server.stdout.tail(3) or "nothing",
                  hint="a client thread stuck on the lock prints nothing: unlock on every path")
    steady.close()


def _first_wrong(lines, expected):
    for i, (got, want) in enumerate(zip(lines, expected)):
        if got != want:
            return f"line {i + 1} is {show_bytes(got)}, not {show_bytes(want)}"
    return "lines missing at the end" if len(lines) < len(expected) else f"extra line {show_bytes(lines[len(expected)])}"


def test_hb_server_ignores_early_answers(case):
    server = start_server(case)
    eager = case.tcp_connect(label="client A (answers in advance, then says nothing)")
    # Answers to heartbeats never sent, and a line of no known kind: neither
    # keeps the client alive, neither closes it.
    eager.send(b"".join(b"HBACK %d\n" % n for n in range(1, 51)) + b"HELLO there\n")
    r = Responder(case, eager, silent=True)
    limit = (MISSES + 2) * INTERVAL_MS / 1000 + 1.5
    dropped = r.wait(lambda s: s.ended is not None, timeout=limit)
    r.stop()
    if not dropped:
        case.fail("hbserver kept a client that only answered heartbeats it had not sent yet",
                  expected=f"client A dropped after {MISSES} unanswered heartbeats (-m {MISSES})",
                  saw=f"{len(r.heartbeats)} heartbeats and the connection still open after {limit:.1f} s",
                  hint="an HBACK counts only when acked < n <= sent: answers in advance are ignored")
    if len(r.heartbeats) != MISSES:
        case.fail("hbserver dropped client A after the wrong number of heartbeats",
                  expected=f"exactly {MISSES} heartbeats (an unknown line is logged and ignored, "
                           "HBACKs to heartbeats not sent change nothing)",
                  saw=f"{len(r.heartbeats)} heartbeats before the close",
                  hint="log an unknown line and go on reading; ignore HBACK n unless acked < n <= sent")
    # A line longer than 1024 bytes closes that client's connection (on a
    # server that drops nobody for missed heartbeats: nothing else closes it).
    patient = start_server(case, misses=1000, port=attempt_port(case, 1))
    wordy = case.tcp_connect(attempt_port(case, 1), label="client B (a line too long; -m 1000)")
    wordy.send(b"MSG " + b"z" * 2000)
    r = Responder(case, wordy)
    closed = r.wait(lambda s: s.ended is not None, timeout=2)
    r.stop()
    if not closed:
        case.fail("hbserver kept the connection of a client that sent a line longer than 1024 bytes",
                  expected="the connection closed", saw="still open 2 s later",
                  hint="a line longer than 1024 bytes with its '\\n' closes that client's connection")
    for prog in (server, patient):
        if not prog.running():
            case.fail("hbserver ended because of what one client sent",
                      expected="hbserver still running (only that client's connection closed)",
                      saw=f"hbserver {prog.status_text()}")
    wordy.close()
    eager.close()


def test_hb_server_command_line(case):
    helped = case.start("hbserver", "-h")
    rc = case.wait_exit(helped, timeout=3, why="after -h")
    if rc != 0 or b"hbserver" not in helped.stdout.bytes():
        case.fail("hbserver -h does not print its usage on standard output and exit 0",
                  expected="the usage on stdout, exit status 0",
                  saw=f"{helped.status_text()}, stdout {helped.stdout.tail(2)!r}")
    for bad in (["-i", "9"], ["-i", "3600001"], ["-m", "0"], ["-m", "1001"], ["-i", "ten"]):
        prog = case.start("hbserver", *bad, case.port)
        rc = case.wait_exit(prog, timeout=3, why=f"with {' '.join(bad)}")
        if rc != 2 or not prog.stderr.bytes():
            case.fail(f"hbserver {' '.join(bad)} is bad usage",
                      expected="-i 10 to 3600000, -m 1 to 1000: the problem and the usage on stderr, exit 2",
                      saw=prog.status_text())
    taken = case.tcp_listener(case.port, label="another program on the port")
    busy = case.start("hbserver", case.port)
    rc = case.wait_exit(busy, timeout=3, why="when its port was taken")
    if rc != 1:
        case.fail("hbserver's exit status when its port cannot be opened is wrong",
                  expected="exit status 1 with the reason on stderr", saw=busy.status_text())
    taken.close()
    # The defaults: port 12001, a heartbeat every 1000 ms; IPv6 as well as IPv4.
    start_server_default = case.start("hbserver")
    case.wait_bound(start_server_default, 12001, "tcp")
    conn = case.tcp_connect(12001, host="::1", label="client over IPv6")
    connected = time.monotonic()
    got = conn.recv_until(b"\n", timeout=2.5, what="HB 1 (default interval: 1000 ms)")
    waited = time.monotonic() - connected
    if got.data != b"HB 1\n" or waited < 0.8:
        case.fail("hbserver with no options does not send HB 1 one second after an IPv6 client connected",
                  expected="'HB 1\\n' 1000 ms after the connection (the default -i), over IPv6 (::1)",
                  saw=f"{show_bytes(got.data)} after {waited * 1000:.0f} ms, then {got.how}",
                  hint="listen on every IPv6 and IPv4 address (an AF_INET6 socket with IPV6_V6ONLY off); "
                       "the default interval is 1000 ms")
    conn.close()


MAX_THREAD_CLIENTS = 200   # beyond this many clients the case would run out of descriptors first
REFUSED_IN_A_ROW = 2       # clients that come while the server is out of threads, after the first
NO_THREAD_HINT = ("when sl_start_thread() fails, clean up as client_main() would (remove_client, close, free) "
                  "and go on accepting")


def _addr(sock):
    host, port = sock.getsockname()[:2]
    return f"{host}:{port}"


def _new_client(case, server, k, timeout=3):
    """Client K connects and sends 'MSG client K'.  Return (socket, addr, how):
    how is 'served' once hbserver printed the message, 'closed' when hbserver
    closed the connection instead (the socket is then closed), 'neither' at
    the deadline."""
    try:
        sock = socket.create_connection(("127.0.0.1", case.port), timeout=3)
        addr = _addr(sock)
        sock.sendall(b"MSG client %d\n" % k)
    except OSError as e:
        case.fail(f"client {k} could not connect to hbserver and send its message",
                  expected=f"hbserver accepts the connection and reads 'MSG client {k}'",
                  saw=f"connect or send failed: {e.strerror or e}")
    printed = re.escape(f"{addr}: client {k}\n".encode())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(printed, server.stdout.bytes()):
            return sock, addr, "served"
        ready, _, _ = select.select([sock], [], [], 0.02)
        if ready:
            try:
                ended = sock.recv(4096) == b""
            except OSError:
                ended = True   # a reset: it closed without reading our line
            if ended:
                sock.close()
                return sock, addr, "closed"
    return sock, addr, "neither"


def test_hb_server_out_of_threads(case):
    # Every student program runs with RLIMIT_NPROC (threads of its uid): the
    # server's main, heartbeat and broadcast threads and one per client. Once
    # it is reached, pthread_create() fails for the next client: the server
    # must close that connection and go on serving.
    nproc = int(case.limits.values.get("nproc", 0))
    if case.limits.uid is None or not 0 < nproc <= MAX_THREAD_CLIENTS:
        raise NotChecked("the thread limit is not the server's own here (the grader runs without root, "
                         "so the student's uid is shared): a failed thread start cannot be provoked")
    server = start_server(case, interval=QUIET_INTERVAL_MS)
    case.step(f"clients connect one at a time, each sending 'MSG client k', until hbserver cannot start "
              f"a thread for one (RLIMIT_NPROC {nproc})")
    socks, served, refused = [], 0, None
    try:
        for k in range(nproc + 4):
            sock, addr, how = _new_client(case, server, k)
            socks.append(sock)
            if how == "closed":
                refused = k
                break
            if how == "neither":
                case.fail(f"hbserver neither served client {k} nor closed its connection",
                          expected=f"'{addr}: client {k}' on stdout, or, when no thread can start for it, "
                                   "the connection closed at once",
                          saw=f"nothing for 3 s ({served} clients served before it)", hint=NO_THREAD_HINT)
            served += 1
        if refused is None:
            # A server that does not start a thread per client (poll()) never runs out.
            case.step(f"all {nproc + 4} clients served: this server needs no thread per client")
            return
        case.step(f"clients 0..{refused - 1} served; hbserver closed client {refused}'s connection "
                  f"(no thread could start for it)")
        # While it is out of threads, every new client is closed at once.
        for k in range(refused + 1, refused + 1 + REFUSED_IN_A_ROW):
            sock, addr, how = _new_client(case, server, k)
            socks.append(sock)
            if how == "neither":
                case.fail(f"hbserver, out of threads, neither served client {k} nor closed its connection",
                          expected=f"'{addr}: client {k}' on stdout, or the connection closed at once",
                          saw="nothing for 3 s", hint=NO_THREAD_HINT)
        case.step(f"clients {refused + 1}..{refused + REFUSED_IN_A_ROW} connected while hbserver was out of "
                  "threads: each served or closed at once")
        # One client leaves: its thread ends, and a new client is served again.
        socks[0].shutdown(socket.SHUT_WR)
        case.step("client 0 closed its side: its thread ends; new clients connect until one is served")
        deadline = time.monotonic() + 5
        k = refused + REFUSED_IN_A_ROW
        how = "closed"
        while how == "closed":
            k += 1
            sock, addr, how = _new_client(case, server, k)
            socks.append(sock)
            if how == "neither" or (how == "closed" and time.monotonic() > deadline):
                case.fail("hbserver did not serve new clients after it could not start a thread for one",
                          expected="once a client left, a new client served (its message printed)",
                          saw=f"client {k}: " + ("no message printed, the connection open" if how == "neither"
                                                 else "every new client closed for 5 s"),
                          hint=NO_THREAD_HINT)
        case.step(f"client {k} served")
    finally:
        for sock in socks:
            sock.close()
