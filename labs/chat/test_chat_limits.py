"""chatserver's limits and its users file: a connection that never logs in
(or drips its LOGIN), a crowd of them, a frame longer than any the protocol
has, a full room, a client that stops reading, a first frame that is not
LOGIN, and the hashes --add-user writes; chatclient's exit status when it is
refused or the server leaves."""

import hashlib
import os
import re
import select
import selectors
import socket
import struct
import time

from chatlib import (PAYLOAD_MAX, TEXT_MAX, USERS, USERS_FILE, WAIT, Crowd, Peer, connect, describe, expect_login,
                     frame, is_ctl, is_error, is_msg, login, parse, start_server, write_password, write_users)
from socklab.feedback import show_bytes

LOGIN_TIMEOUT = 10.0     # the handout: a connection must have sent its whole LOGIN 10 s after it connected
LATE = 6.0               # how much later than that the grader still waits (a loaded machine)
DRIP = 1.0               # seconds between two bytes of the dripping client's LOGIN
MAX_PENDING = 32         # the handout: at most 32 connections wait to log in at once (--max-pending)


def _wait_closed(case, peers, connected, drip, login_bytes):
    """Waits until the server closed every peer of PEERS (a frame instead
    fails), sending DRIP one byte of LOGIN_BYTES every DRIP s meanwhile;
    returns {peer: seconds after CONNECTED it was closed}."""
    closed, sent = {}, 0
    deadline = connected + LOGIN_TIMEOUT + LATE
    while len(closed) < len(peers) and time.monotonic() < deadline:
        if drip not in closed and sent < len(login_bytes) and time.monotonic() >= connected + sent * DRIP:
            if not drip.send_raw(login_bytes[sent:sent + 1], note=f"byte {sent + 1} of a LOGIN frame"):
                closed[drip] = time.monotonic() - connected
            sent += 1
        waiting = [p for p in peers if p not in closed]
        next_byte = connected + sent * DRIP if drip in waiting and sent < len(login_bytes) else deadline
        left = max(0.0, min(next_byte, deadline) - time.monotonic())
        for sock in select.select([p.conn.sock for p in waiting], [], [], left)[0]:
            peer = next(p for p in waiting if p.conn.sock is sock)
            f = peer.recv(timeout=WAIT)
            if f is not None:
                case.fail(f"chatserver answered {peer.name}, which never completed a LOGIN",
                          expected="the connection closed (no frame) once its login time is up",
                          saw=describe(f))
            closed[peer] = time.monotonic() - connected
    return closed


def test_chat_idle_connection_closed(case):
    start_server(case)
    alice = login(case, "alice")
    silent = connect(case, "silent", label="a silent client")
    drip = connect(case, "drip", label="a dripping client")
    connected = time.monotonic()
    login_bytes = frame("L", "carol", USERS["carol"])
    case.step(f"a scripted client connected and sends nothing at all; another sends a LOGIN of "
              f"{len(login_bytes)} bytes one byte every {DRIP:.0f} s (its frame would be whole only after "
              f"{len(login_bytes) - 1} s); alice, logged in, stays silent too")
    bob = login(case, "bob")
    alice.expect("the notice that bob is online (the server serves others while one connection is silent)",
                 is_ctl("online", "bob"))
    closed = _wait_closed(case, [silent, drip], connected, drip, login_bytes)
    for peer, hint in ((silent, "idle connections must not hold their thread and place for ever"),
                       (drip, "the 10 s are a deadline for the whole LOGIN frame, not a receive timeout "
                              "per recv(): a byte every second never trips a 10 s timeout")):
        took = closed.get(peer)
        if took is None:
            case.fail(f"chatserver did not close {peer.name}, which never completed its LOGIN",
                      expected=f"the connection closed about {LOGIN_TIMEOUT:.0f} s after it was opened",
                      saw=f"still open after {time.monotonic() - connected:.1f} s",
                      hint="drop a connection whose LOGIN has not arrived 10 s after it was accepted: " + hint)
        if took < LOGIN_TIMEOUT - 2:
            case.fail(f"chatserver closed {peer.name} before its 10 s were up",
                      expected=f"the connection open for {LOGIN_TIMEOUT:.0f} s", saw=f"closed after {took:.1f} s",
                      hint="a person may take a few seconds to type a password: give a connection 10 s")
        case.step(f"{peer.name} was closed after {took:.1f} s")
    bob.send("M", "are you still there, alice?")
    alice.expect("bob's message: a user who has logged in may stay silent as long as they like",
                 is_msg("bob", "are you still there, alice?"),
                 hint="the login deadline is for the LOGIN only: a user who is in may stay silent")
    alice.close()
    bob.close()


SILENT = 300             # connections that never log in


def _count_open(socks, until, enough):
    """Waits until at most ENOUGH of SOCKS are still open (the server closed
    the others) or the monotonic time UNTIL; returns how many are open."""
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    still = len(socks)
    try:
        while still > enough and time.monotonic() < until:
            for key, _ in sel.select(max(0.0, until - time.monotonic())):
                try:
                    data = key.fileobj.recv(1 << 12)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(key.fileobj)
                    still -= 1
    finally:
        sel.close()
    return still


def test_chat_silent_crowd_holds_nobody_out(case):
    start_server(case)
    bob = login(case, "bob")
    crowd = []
    try:
        for _ in range(SILENT):
            try:
                crowd.append(socket.create_connection(("127.0.0.1", case.port), timeout=5))
            except OSError as e:
                case.fail(f"chatserver did not take {SILENT} connections that never log in",
                          expected=f"{SILENT} connections accepted (the oldest of them closed later)",
                          saw=f"connection {len(crowd) + 1} failed: {e}",
                          hint="accept every connection promptly (a listen backlog large enough for a burst)")
        case.step(f"{SILENT} scripted connections opened, none of which will ever send a byte "
                  "(the default --max-clients is 100)")
        started = time.monotonic()
        alice = connect(case, "alice")
        alice.send("L", "alice", USERS["alice"])
        f = alice.recv(timeout=WAIT)
        took = time.monotonic() - started
        if f is None or not is_ctl("welcome", "alice")(f):
            case.fail(f"{SILENT} connections that never log in held alice out",
                      expected=f"CTL(time, 'welcome', 'alice') at once (within {WAIT:.0f} s), not after "
                               f"their {LOGIN_TIMEOUT:.0f} s login time",
                      saw=describe(f) if f is not None else f"nothing: {alice.ended or 'no frame'} "
                                                            f"after {took:.1f} s",
                      hint=f"--max-clients counts users logged in only; connections waiting to log in have "
                           f"a budget of their own ({MAX_PENDING}): when one more arrives, drop the oldest")
        case.step(f"alice was welcomed {took:.2f} s after the {SILENT} silent connections")
        bob.expect("the notice that alice is online", is_ctl("online", "alice"))
        alice.send("M", "made it past the crowd")
        bob.expect("alice's message", is_msg("alice", "made it past the crowd"))
        bob.send("M", "welcome, alice")
        alice.expect("bob's answer", is_msg("bob", "welcome, alice"))
        still = _count_open(crowd, time.monotonic() + WAIT, MAX_PENDING)
        case.step(f"{still} of the {SILENT} silent connections are still open")
        if still > MAX_PENDING:
            case.fail(f"chatserver kept more than {MAX_PENDING} connections waiting to log in",
                      expected=f"at most {MAX_PENDING} of the {SILENT} silent connections open: each newer one "
                               "made the server close the oldest",
                      saw=f"{still} still open",
                      hint="queue the connections that have not logged in yet, oldest first; when the queue is full, "
                           "shutdown() the oldest (its thread ends it) so that threads stay bounded")
    finally:
        for s in crowd:
            s.close()
    alice.close()
    bob.close()


def test_chat_oversized_frame_refused(case):
    server = start_server(case)
    alice, bob = login(case, "alice"), login(case, "bob")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    huge = 1 << 20
    bob.send_raw(struct.pack(">I", huge) + b"M" + b"x" * 100,
                 note=f"a frame header announcing {huge} payload bytes (at most {PAYLOAD_MAX}), then 101 bytes")
    deadline = time.monotonic() + WAIT
    while bob.ended is None and time.monotonic() < deadline:
        f = bob.recv(timeout=max(0.0, deadline - time.monotonic()))
        if f is not None and f.type != "E":
            case.fail("chatserver answered a frame longer than the protocol allows as if it were one",
                      expected="the connection closed (an ERROR before it is fine)", saw=describe(f))
    if bob.ended is None:
        case.fail(f"chatserver did not close a connection whose frame announced {huge} bytes",
                  expected=f"the connection closed at once: no frame is longer than {PAYLOAD_MAX} bytes, "
                           "so the stream is out of step", saw=f"the connection still open after {WAIT:.0f} s",
                  hint="check the announced length against your maximum before reading the payload "
                       "(never trust a length from the network)")
    alice.expect("the notice that bob is offline after his oversized frame", is_ctl("offline", "bob"))
    if not server.running():
        case.fail("chatserver ended on a frame that announced too many bytes",
                  expected="the server still running (only that client's connection closed)",
                  saw=f"chatserver {server.status_text()}")
    carol = login(case, "carol")
    carol.send("M", "the room goes on")
    alice.expect("the notice that carol is online", is_ctl("online", "carol"))
    alice.expect("carol's message", is_msg("carol", "the room goes on"))
    alice.close()
    carol.close()


def test_chat_first_frame_must_be_login(case):
    start_server(case)
    alice = login(case, "alice")
    stranger = connect(case, "stranger")
    # Two fields, the first a user's name: only its type tells it from a LOGIN.
    stranger.send("P", "alice", "hello without logging in")
    stranger.expect("an ERROR for a first frame that is not LOGIN", is_error("protocol"),
                    expected="ERROR('protocol', text), then the server closes the connection",
                    hint="the first frame must be LOGIN with a valid user name; anything else is refused")
    stranger.expect_end("after refusing a first frame that was not LOGIN")
    bob = login(case, "bob")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    bob.send("M", "first real message")
    f = alice.expect("bob's message (and never the stranger's)", lambda f: f.type == "M")
    if f.fields[1:] != [b"bob", b"first real message"]:
        case.fail("a message from a connection that never logged in was relayed",
                  expected="MSG(time, 'bob', 'first real message')", saw=describe(f),
                  hint="relay nothing before a successful LOGIN")
    alice.close()
    bob.close()


def test_chat_room_full(case):
    start_server(case, max_clients=2)
    alice, bob = login(case, "alice"), login(case, "bob")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    carol = connect(case, "carol", label="carol (a third user, --max-clients 2)")
    carol.send("L", "carol", USERS["carol"])
    carol.expect("the answer that the room is full", is_error("full"),
                 expected="ERROR('full', text), then the server closes the connection",
                 hint="count the users logged in; a LOGIN while --max-clients are online gets ERROR 'full'")
    carol.expect_end("after telling carol the room is full")
    bob.close()
    alice.expect("the notice that bob is offline", is_ctl("offline", "bob"))
    # bob's slot comes back once his thread has finished, a moment after the notice.
    deadline = time.monotonic() + WAIT
    while True:
        again = connect(case, "carol", label="carol (again, after bob left)")
        again.send("L", "carol", USERS["carol"])
        f = again.recv()
        if f is None or not is_error("full")(f) or time.monotonic() > deadline:
            break
        again.close()
    if f is None or not is_ctl("welcome", "carol")(f):
        case.fail("chatserver did not let carol in after bob left a full room",
                  expected="CTL(time, 'welcome', 'carol'): bob's slot is free again",
                  saw=describe(f) if f is not None else "nothing",
                  hint="give a user's seat back when its connection ends, however it ends")
    alice.close()
    again.close()


def test_chat_full_only_after_login(case):
    start_server(case, max_clients=2)
    alice, bob = login(case, "alice"), login(case, "bob")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    carol = connect(case, "carol", label="carol (connected to the full room, no LOGIN yet)")
    eve = connect(case, "eve", label="eve (connected after carol)")
    eve.send("L", "eve", "not-her-password")
    eve.expect("the answer to a wrong password, full room or not", is_error("login"),
               expected="ERROR('login', text): 'full' answers a LOGIN with the right password only",
               hint="check the LOGIN first; the room is full for users, not for connections")
    eve.expect_end("after refusing her password")
    # The server accepted carol before eve: an answer at connect time would be there by now.
    if select.select([carol.conn.sock], [], [], 0)[0]:
        f = carol.recv()
        case.fail("chatserver answered carol before she sent her LOGIN",
                  expected="nothing until carol's LOGIN: a connection is not refused at connect time",
                  saw=describe(f) if f is not None else f"the connection ended ({carol.ended or 'no frame'})",
                  hint="'full' comes after a LOGIN with the right password, when --max-clients users are "
                       "online")
    case.step("carol, connected before eve, has received nothing yet")
    carol.send("L", "carol", USERS["carol"])
    carol.expect("the answer that the room is full, after her LOGIN", is_error("full"),
                 expected="ERROR('full', text), then the server closes the connection")
    carol.expect_end("after telling carol the room is full")
    bob.send("M", "still two of us")
    alice.expect("bob's message: the room goes on", is_msg("bob", "still two of us"))
    alice.close()
    bob.close()


def _stuck_client(case, name):
    """A client that logs in as NAME and then never reads: a tiny receive
    buffer, so that the server's sends to it soon block."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(WAIT)
    s.connect(("127.0.0.1", case.port))
    payload = frame("L", name, USERS[name])
    s.sendall(payload)
    head = s.recv(4, socket.MSG_WAITALL)
    body = s.recv(struct.unpack(">I", head)[0], socket.MSG_WAITALL) if len(head) == 4 else b""
    if not body or not is_ctl("welcome", name)(parse(body)):
        case.fail(f"the client {name} that will stop reading could not log in",
                  expected=f"CTL welcome {name} (the answer to its LOGIN)", saw=show_bytes(head + body))
    case.step(f"client {name} logged in (receive buffer 4 KiB) and from now on reads nothing")
    return s


ROUND = 500              # messages alice sends between two looks at carol and bob


def _bytes_a_stuck_reader_absorbs():
    """More than the kernel can queue for a client that reads nothing: the
    server's send buffer grows up to tcp_wmem's maximum (4 MiB by default)."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            wmem_max = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        wmem_max = 4 << 20
    return 2 * wmem_max + (1 << 20)


def test_chat_stuck_reader_dropped(case):
    start_server(case)
    crowd = Crowd(case, ["alice", "carol"], case.port)
    stuck = None
    try:
        for name in ("alice", "carol"):
            crowd.send(name, frame("L", name, USERS[name]))
        if not crowd.run_until(lambda: all(crowd.frames.values()), WAIT):
            case.fail("alice and carol were not both welcomed",
                      expected="CTL welcome as the first frame of each",
                      saw="; ".join(f"{n}: {', '.join(map(describe, fs)) or 'nothing'}"
                                    for n, fs in crowd.frames.items()))
        stuck = _stuck_client(case, "bob")
        text = "x" * TEXT_MAX
        budget = _bytes_a_stuck_reader_absorbs()
        case.step(f"alice sends messages of {TEXT_MAX} bytes, {ROUND} at a time, until bob is dropped or "
                  f"{budget >> 20} MiB went out (more than the kernel queues for bob); carol reads them, "
                  "bob does not")
        relayed = lambda: sum(1 for f in crowd.frames["carol"] if f.type == "M")  # noqa: E731
        bob_offline = lambda: any(is_ctl("offline", "bob")(f) for f in crowd.frames["carol"])  # noqa: E731
        started, sent = time.monotonic(), 0
        while not bob_offline() and sent * TEXT_MAX < budget:
            for _ in range(ROUND):
                if not crowd.send("alice", frame("M", f"{sent:05d}" + text[5:])):
                    break
                sent += 1
            crowd.run_until(lambda: relayed() >= sent, 10.0)
            if relayed() < sent:
                took = time.monotonic() - started
                case.fail("a client that stopped reading stalled the whole room",
                          expected=f"all {sent} messages at carol: bob dropped once a send to him blocks "
                                   "for 1 s", saw=f"{relayed()} messages at carol after {took:.1f} s",
                          hint="set a send timeout (SO_SNDTIMEO of 1 s) on every client socket and drop a "
                               "client whose send times out (shutdown() it; its own thread says it is "
                               "offline)")
        if not bob_offline():
            crowd.run_until(bob_offline, WAIT)
        case.step(f"carol received all {sent} of alice's messages in {time.monotonic() - started:.1f} s")
        if not bob_offline():
            case.fail("bob, who stopped reading, was not dropped",
                      expected="CTL(time, 'offline', 'bob') at carol once a send to bob timed out",
                      saw=f"no offline notice for bob after {sent} messages of {TEXT_MAX} bytes",
                      hint="a client whose send times out is dropped, and the others are told it is offline")
    finally:
        crowd.close()
        if stuck is not None:
            stuck.close()


def _add_user(case, name, password, iterations):
    prog = case.start("chatserver", "--users", USERS_FILE, "--add-user", name, "--iterations", iterations,
                      stdin=(password + "\n").encode())
    case.wait_exit(prog, timeout=10, why="after adding a user")
    if prog.returncode != 0:
        case.fail(f"chatserver --add-user {name} did not succeed",
                  expected="exit status 0 (user added)", saw=f"{prog.status_text()}: {prog.stderr.tail(3)}")


LINE_RE = re.compile(r"^([^:]+):pbkdf2-sha256:(\d+):([0-9a-f]{32}):([0-9a-f]{64})$")


def _entry(case, lines, name):
    for line in lines:
        if line.startswith(name + ":"):
            m = LINE_RE.match(line)
            if not m:
                case.fail(f"the line --add-user wrote for {name} is not in the users file's format",
                          expected="name:pbkdf2-sha256:iterations:salt (32 hex digits):hash (64 hex digits)",
                          saw=f"'{line}'")
            return int(m.group(2)), bytes.fromhex(m.group(3)), bytes.fromhex(m.group(4))
    case.fail(f"--add-user {name} wrote no line for {name}",
              expected=f"a line {name}:pbkdf2-sha256:iterations:salt:hash", saw="\n".join(lines) or "an empty file")


def test_chat_add_user_salted_hashes(case):
    path = os.path.join(case.workdir, USERS_FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write("# users of the chat room\n")
    os.chmod(path, 0o666)
    shared = "same-password"
    _add_user(case, "alice", shared, 1000)
    _add_user(case, "bob", shared, 2000)
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    case.step(f"the users file now holds: {lines!r}")
    if any(shared in line for line in lines):
        case.fail("the users file holds the password itself", hint="store only the salted hash")
    seen = {}
    for name, iterations in (("alice", 1000), ("bob", 2000)):
        n, salt, digest = _entry(case, lines, name)
        if n != iterations:
            case.fail(f"the line for {name} does not hold the iterations asked for",
                      expected=f"{iterations} (--iterations {iterations})", saw=str(n))
        want = hashlib.pbkdf2_hmac("sha256", shared.encode(), salt, n)
        if digest != want:
            case.fail(f"the hash in {name}'s line is not PBKDF2-HMAC-SHA256 of the password with its salt",
                      expected=want.hex(), saw=digest.hex(),
                      hint="PKCS5_PBKDF2_HMAC(pw, len, salt, 16, iterations, EVP_sha256(), 32, hash)")
        seen[name] = salt
    if seen["alice"] == seen["bob"]:
        case.fail("two users got the same salt",
                  expected="16 random bytes of salt for every user (RAND_bytes)", saw=seen["alice"].hex(),
                  hint="a fixed or rand()-made salt repeats: use RAND_bytes()")
    server = case.start("chatserver", "--port", case.port, "--users", USERS_FILE)
    case.wait_bound(server, case.port, "tcp")
    peer = connect(case, "bob")
    peer.send("L", "bob", shared)
    peer.expect("the welcome for bob, added with --add-user", is_ctl("welcome", "bob"),
                hint="a user added with --add-user must be able to log in")
    peer.close()


def _client_against(case, listener, answer):
    """chatclient logs in as alice; the scripted server answers with ANSWER(srv)."""
    client = case.start("chatclient", "--host", "127.0.0.1", "--port", case.port, "--user", "alice",
                        "--password-file", write_password(case, USERS["alice"]), stdin=None)
    srv = Peer(case, case.accept_client(listener, client), "scripted server")
    expect_login(case, srv, "alice", USERS["alice"])
    answer(srv)
    return client, srv


def _expect_status_1(case, client, why):
    rc = client.wait_exit(5)
    if rc != 1:
        case.fail(f"chatclient did not exit with status 1 when {why}",
                  expected="exit status 1 (the handout: login refused, or the server closed first)",
                  saw=client.status_text() if rc is not None else "still running after 5 s",
                  hint="end with exit status 1 when the session could not go on")


def test_chat_client_exit_status(case):
    listener = case.tcp_listener(label="scripted server")

    def refuse(srv):
        srv.send("E", "login", "wrong user name or password")
        srv.close()

    client, _ = _client_against(case, listener, refuse)
    _expect_status_1(case, client, "its login was refused")

    def welcome_then_leave(srv):
        srv.send("C", str(int(time.time())), "welcome", "alice")
        srv.send("M", str(int(time.time())), "bob", "goodbye")
        srv.close()

    client, _ = _client_against(case, listener, welcome_then_leave)
    _expect_status_1(case, client, "the server closed the connection first")
    if b"goodbye" not in client.stdout.bytes():
        case.fail("chatclient did not show the message that came just before the server left",
                  expected="[time] bob\ngoodbye on stdout, then exit status 1",
                  saw=client.stdout.tail(5) or "nothing on stdout")


def test_chat_server_exit_status(case):
    prog = case.start("chatserver", "--port", case.port, "--users", "no-such-users-file.txt")
    rc = prog.wait_exit(5)
    if rc != 1:
        case.fail("chatserver did not exit with status 1 when its users file could not be read",
                  expected="exit status 1 and a message naming the file",
                  saw=prog.status_text() if rc is not None else "still running after 5 s",
                  hint="a server that cannot read its users file must say so and stop, not serve nobody")
    if b"no-such-users-file.txt" not in prog.stderr.bytes():
        case.fail("chatserver did not name the users file it could not read",
                  expected="a message on stderr naming no-such-users-file.txt",
                  saw=prog.stderr.tail(3) or "nothing on stderr")
    prog = case.start("chatserver", "--port", case.port, "--users", write_users(case), "--no-such-option")
    rc = prog.wait_exit(5)
    if rc != 2:
        case.fail("chatserver did not exit with status 2 on an unknown option",
                  expected="exit status 2 (bad usage) and a usage message",
                  saw=prog.status_text() if rc is not None else "still running after 5 s")
