"""fileserver against connections that do not log in (the handout's
"Connections that do not log in"): silent connections never keep a user
out, a login has a deadline for the whole of it, and the 64 places of the
logged-in users are theirs alone."""

import select
import time

from fxlib import (MAX_PENDING, MAX_USERS, USERS, Client, expect_err, frame, noise, show_fields,
                   silent_connections, start_server, wait_closed)

SILENT = 70             # more than the 64 places of the users and the 16 of pending connections
LOGIN_WAIT = 3.0        # s a user may wait for 'OK welcome' while others are silent
LOGIN_TIMEOUT = 1       # --login-timeout of the deadline case, in s
DRIP_PACE = 0.2         # s between the bytes of a dripped LOGIN: well under the deadline
SLACK = 2.0             # s the server may take past a deadline on a loaded machine

PENDING_HINT = ("keep connections that have not logged in apart: at most 16 at once, and when one more "
                "arrives, shut down the oldest (shutdown() ends its thread's recv()) instead of waiting "
                "for a place; the 64 places are for logged-in users only")


def test_server_silent_connections(case):
    start_server(case)
    data = noise(200_000, 70)
    bob = Client(case, label="bob (logged in before the silent ones)")
    bob.login("bob")
    bob.put_ok("notes.bin", data)
    silent = silent_connections(case, SILENT)
    alice = Client(case, label="alice")
    start = time.monotonic()
    alice.send("LOGIN", "alice", USERS["alice"], note="LOGIN alice with the right password")
    got = alice.recv_frame(f"an answer to alice's LOGIN within {LOGIN_WAIT:.0f} s while {SILENT} connections "
                           f"were silent", timeout=LOGIN_WAIT,
                           hint=PENDING_HINT)
    if got[0] != b"OK":
        case.fail(f"fileserver refused alice's login while {SILENT} connections were silent",
                  expected="OK welcome: silent connections take no place of a logged-in user",
                  saw=f"the frame {show_fields(got)}", hint=PENDING_HINT)
    case.step(f"alice was welcomed {time.monotonic() - start:.3f} s after her LOGIN")
    if alice.list() != [(len(data), "notes.bin")]:
        case.fail("alice's LIST does not show bob's file", expected=f"[({len(data)}, 'notes.bin')]")
    alice.get_ok("notes.bin", data)
    still = wait_closed(silent, MAX_PENDING, timeout=SLACK)
    case.step(f"fileserver closed {SILENT - still} of the {SILENT} silent connections")
    if still > MAX_PENDING:
        case.fail(f"fileserver kept {still} of the {SILENT} silent connections open",
                  expected=f"at most {MAX_PENDING} connections not logged in: each one more closes the "
                           f"oldest", hint=PENDING_HINT)
    bob.get_ok("notes.bin", data)
    alice.quit()
    bob.quit()


def _drip_until_closed(conn, data, pace, timeout):
    """Send DATA one byte every PACE s until the server closes CONN or TIMEOUT
    s pass; return (s until it closed or None, bytes sent)."""
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < timeout:
        if sent < len(data):
            try:
                conn.sock.send(data[sent:sent + 1])
                sent += 1
            except OSError:
                return time.monotonic() - start, sent
        ready, _, _ = select.select([conn.sock], [], [], pace)
        if ready:
            try:
                closed = not conn.sock.recv(4096)
            except OSError:
                closed = True
            if closed:
                return time.monotonic() - start, sent
    return None, sent


def test_server_login_deadline(case):
    start_server(case, "--login-timeout", LOGIN_TIMEOUT)
    alice = Client(case, label="alice")
    alice.login()
    drip = Client(case, label="client dripping its LOGIN")
    login = frame("LOGIN", "bob", USERS["bob"])
    case.step(f"the dripping client sends its {len(login)}-byte LOGIN one byte every {DRIP_PACE} s "
              f"(--login-timeout {LOGIN_TIMEOUT})")
    closed, sent = _drip_until_closed(drip.conn, login, DRIP_PACE, LOGIN_TIMEOUT + SLACK)
    if closed is None:
        case.fail(f"fileserver still held a connection that had dripped {sent} bytes of its LOGIN "
                  f"for {LOGIN_TIMEOUT + SLACK:.0f} s",
                  expected=f"the connection closed about {LOGIN_TIMEOUT} s after it was accepted "
                           f"(--login-timeout {LOGIN_TIMEOUT})",
                  hint="the login timeout is a deadline for the whole login, counted from the accept: a "
                       "timeout for each recv() (SO_RCVTIMEO) never expires while a byte comes now and "
                       "then; e.g. the main thread shuts down the pending connections whose time is up")
    case.step(f"fileserver closed the dripping connection {closed:.2f} s after it connected, "
              f"after {sent} bytes")
    if closed < 0.7 * LOGIN_TIMEOUT:
        case.fail("fileserver closed a connection still logging in before its time was up",
                  expected=f"the connection kept for --login-timeout {LOGIN_TIMEOUT} s",
                  saw=f"closed after {closed:.2f} s")
    case.step(f"alice, logged in before and silent for {closed:.1f} s, goes on")
    if alice.list() != []:
        case.fail("alice's LIST is not empty", expected="no files")
    late = Client(case, label="a client logging in after")
    late.login("bob")
    late.quit()
    alice.quit()


def _login_answer(case, label, user):
    """Log in as USER on a new connection; return the answer's fields."""
    c = Client(case, label=label)
    c.send("LOGIN", user, USERS[user], note=f"LOGIN {user} with the right password")
    return c, c.recv_frame(f"the LOGIN of {label}")


def test_server_busy_when_full(case):
    start_server(case)
    silent_connections(case, 5)
    users = []
    for i in range(MAX_USERS):
        c = Client(case, label=f"user {i + 1}", quiet=True)
        c.login("bob" if i % 2 else "alice")
        users.append(c)
    case.step(f"{MAX_USERS} users logged in (alice and bob, each half of them); 5 silent connections "
              f"pending")
    extra, got = _login_answer(case, f"user {MAX_USERS + 1}", "alice")
    expect_err(case, got, f"a right LOGIN with {MAX_USERS} users logged in", "busy",
               hint=f"count the logged-in users; a right password when {MAX_USERS} are logged in gets "
                    f"'ERR busy <text>', then close the connection")
    end = extra.conn.recv_to_eof(timeout=SLACK, what="the connection after 'ERR busy'")
    if end.how != "eof":
        case.fail("fileserver did not close the connection after 'ERR busy'",
                  expected="its FIN right after 'ERR busy'", saw=end.how)
    users[0].quit()
    users[0].conn.shutdown_write()
    users[0].conn.recv_to_eof(timeout=SLACK, what="fileserver's close of user 1's connection")
    deadline = time.monotonic() + SLACK
    for attempt in range(1, 100):
        newcomer, got = _login_answer(case, f"newcomer (try {attempt})", "bob")
        if got[:2] != [b"ERR", b"busy"] or time.monotonic() > deadline:
            break
        newcomer.conn.close()
        time.sleep(0.05)  # polling for the freed place, with a deadline
    if got[0] != b"OK":
        case.fail("the place of a user who quit was not given to the next login",
                  expected=f"OK welcome within {SLACK:.0f} s of the QUIT",
                  saw=f"the frame {show_fields(got)}",
                  hint="count a user out when its connection ends, whatever the way it ends")
    newcomer.list()
    users[-1].list()
    newcomer.quit()
