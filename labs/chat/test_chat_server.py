"""chatserver against scripted chat clients."""

from chatlib import (TEXT_MAX, USERS, connect, connection_of, crash_mid_frame, describe, expect_handshake,
                     expect_time_now, frame, is_ctl, is_error, is_msg, login, start_server)

# A line of the log about alice with a time and a level, in any order and
# layout: the handout asks for "its time and level", not for the reference's format.
LOG_LINE = (rb"(?im)^(?=.*alice)"
            rb"(?=.*(?<!\d)(?:\d{1,2}:\d\d(?::\d\d)?|\d{10})(?!\d))"
            rb"(?=.*\b(?:info|notice|warn|warning|error|err|debug)\b).*$")


def test_chat_login_accepted(case):
    server = start_server(case)
    alice = connect(case, "alice")
    alice.send("L", "alice", USERS["alice"])
    f = alice.expect("the welcome after a right password", is_ctl("welcome", "alice"),
                     expected="CTL(time, 'welcome', 'alice') as the first frame",
                     hint="check the password against the users file, then send CTL "
                          "time\\0welcome\\0alice")
    expect_time_now(case, f, "alice")
    if not server.wait_output(LOG_LINE, timeout=3, stream="stderr"):
        case.fail("chatserver did not log alice's login with a time and a level",
                  expected="a line on stderr naming alice with a time (10:00:02, or Unix seconds) and a level "
                           "(INFO, WARN, ERROR or DEBUG), in any order: e.g. "
                           "'2026-11-24T10:00:00.123 INFO chatserver: alice logged in …'",
                  saw=server.stderr.tail(5) or "nothing on stderr",
                  hint="log every event with sl_log()")
    alice.close()


def _refused(case, peer, code, why):
    peer.expect(f"an ERROR frame ({why})", is_error(code),
                expected=f"ERROR('{code}', text), then the server closes the connection",
                hint="answer a refused login with ERROR code\\0text, then close the connection")
    peer.expect_end(f"after refusing it ({why})")


def test_chat_login_wrong_password(case):
    start_server(case)
    bob = login(case, "bob")
    case.step("bob's right password was accepted; now alice with a wrong one")
    alice = connect(case, "alice")
    alice.send("L", "alice", "not-" + USERS["alice"])
    _refused(case, alice, "login", "wrong password")
    bob.close()


def test_chat_login_unknown_user(case):
    start_server(case)
    bob = login(case, "bob")
    mallory = connect(case, "mallory")
    mallory.send("L", "mallory", USERS["alice"])
    _refused(case, mallory, "login", "no such user")
    bob.close()


def test_chat_users_file_plaintext_refused(case):
    # The file also holds an old plaintext line "eve2:hunter2": it must let nobody in.
    users = {n: p for n, p in USERS.items() if n != "eve"}
    start_server(case, users=users, extra="eve:hunter2\n")
    case.step("the users file holds the hashed users and one plaintext line 'eve:hunter2'")
    login(case, "bob")
    eve = connect(case, "eve")
    eve.send("L", "eve", "hunter2")
    eve.expect("an ERROR frame: a plaintext line of the users file is no user", is_error("login"),
               expected="ERROR('login', text): only name:pbkdf2-sha256:iterations:salt:hash lines hold users",
               hint="skip (and log) any line of the users file that is not a salted PBKDF2 hash; "
                    "never compare a typed password with stored plaintext")


def test_chat_login_duplicate_refused(case):
    start_server(case)
    first = login(case, "alice", label="alice (first login)")
    second = connect(case, "alice", label="alice (second login)")
    second.send("L", "alice", USERS["alice"])
    _refused(case, second, "duplicate", "alice is logged in already")
    bob = login(case, "bob")
    first.expect("the notice that bob is online (the first alice must still be served)",
                 is_ctl("online", "bob"))
    bob.send("M", "hi alice")
    first.expect("bob's message", is_msg("bob", "hi alice"))
    first.close()
    bob.close()


def test_chat_presence_notices(case):
    start_server(case)
    alice = login(case, "alice")
    bob = login(case, "bob")
    f = alice.expect("the notice that bob is online", is_ctl("online", "bob"),
                     expected="CTL(time, 'online', 'bob')",
                     hint="when a user logs in, send CTL time\\0online\\0name to everyone else")
    expect_time_now(case, f, "alice")
    bob.send("C", "quit")
    bob.conn.shutdown_write()
    alice.expect("the notice that bob is offline after bob quit", is_ctl("offline", "bob"),
                 expected="CTL(time, 'offline', 'bob')",
                 hint="when a user leaves, however it leaves, send CTL time\\0offline\\0name to "
                      "everyone still online")
    bob.expect_end("after bob's quit and FIN")
    carol = login(case, "carol")
    alice.expect("the notice that carol is online", is_ctl("online", "carol"))
    carol.close()
    alice.expect("the notice that carol is offline after carol closed without quitting",
                 is_ctl("offline", "carol"), expected="CTL(time, 'offline', 'carol')",
                 hint="a client that just closes its connection (no CTL quit) is offline too")
    alice.close()
    for peer in (alice, bob, carol):
        expect_handshake(case, peer)
    case.expect_fin_teardown(connection_of(case, bob), "orig", "chatserver")


def test_chat_broadcast_order(case):
    start_server(case)
    alice, bob, carol = login(case, "alice"), login(case, "bob"), login(case, "carol")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    alice.expect("the notice that carol is online", is_ctl("online", "carol"))
    bob.expect("the notice that carol is online", is_ctl("online", "carol"))
    for k in range(1, 6):
        alice.send("M", f"alice {k}")
        bob.send("M", f"bob {k}")
    # Once carol has all ten, the server has relayed them all; then her own
    # line marks the end of what alice and bob must have received.
    _expect_from(case, carol, {"alice": [], "bob": []}, lambda got: sum(map(len, got.values())) == 10)
    carol.send("M", "that is all")
    for peer, other in ((alice, "bob"), (bob, "alice")):
        _expect_from(case, peer, {other: []}, None)
    for p in (alice, bob, carol):
        p.close()


def _expect_from(case, peer, got, enough):
    """PEER must receive the 5 messages of each sender in GOT, in order, none of its
    own, until enough(got) holds (or, with ENOUGH None, until carol's last line)."""
    me = peer.name.split()[-1]
    while enough is None or not enough(got):
        f = peer.recv()
        if f is None or f.type != "M" or len(f.fields) != 3:
            case.fail(f"{peer.name} did not get every message of the others",
                      expected="MSG(time, sender, text) frames" +
                               (", ending with carol's 'that is all'" if enough is None else ""),
                      saw=f"{peer.name} got {got}, then " + ("nothing" if f is None else describe(f)))
        sender, text = f.fields[1].decode(), f.fields[2].decode()
        if sender == "carol" and text == "that is all" and enough is None:
            break
        if sender == me:
            case.fail(f"{peer.name} received its own message back",
                      expected="each message goes to everyone except its sender",
                      saw=f"MSG from {sender}: {text!r}",
                      hint="skip the sender when you walk the table to relay a message")
        got.setdefault(sender, []).append(text)
    for other in got:
        want = [f"{other} {k}" for k in range(1, 6)]
        if got[other] != want:
            case.fail(f"{peer.name} did not get {other}'s messages once each, in the order sent",
                      expected=", ".join(want), saw=", ".join(got[other]) or "none",
                      hint="relay under the table's lock, in the order each client's frames arrive")


def test_chat_private_message(case):
    start_server(case)
    alice, bob, carol = login(case, "alice"), login(case, "bob"), login(case, "carol")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    alice.expect("the notice that carol is online", is_ctl("online", "carol"))
    bob.expect("the notice that carol is online", is_ctl("online", "carol"))
    alice.send("P", "bob", "just between us")
    f = bob.expect("alice's private message", is_msg("alice", "just between us", type_="P"),
                   expected="PRIVATE(time, 'alice', 'just between us')",
                   hint="find the recipient in the table and send PRIVATE time\\0sender\\0text to it only")
    expect_time_now(case, f, "bob")
    alice.send("M", "and now to everyone")
    carol.expect("alice's public message (and not the private one before it)",
                 is_msg("alice", "and now to everyone"),
                 hint="a private message goes to its recipient only")
    bob.send("M", "bob answers everyone")
    alice.expect("bob's public message, and no ERROR for her private message that was delivered",
                 is_msg("bob", "bob answers everyone"),
                 hint="answer ERROR 'offline' only when the recipient was not found (or its send failed)")
    for p in (alice, bob, carol):
        p.close()


def test_chat_private_to_offline_user(case):
    start_server(case)
    alice = login(case, "alice")
    for name in ("dave", "nobody"):
        alice.send("P", name, "are you there?")
        alice.expect(f"an ERROR saying that {name} is not online", is_error("offline"),
                     expected="ERROR('offline', text) to the sender",
                     hint="when the recipient is not in the table, tell the sender with ERROR "
                          "offline\\0text")
    alice.close()


def test_chat_framing_split_and_coalesced(case):
    start_server(case)
    bob = login(case, "bob")
    alice = connect(case, "alice")
    alice.send_raw(frame("L", "alice", USERS["alice"]), note="alice's LOGIN in pieces of 5 bytes",
                   chunk=5, pace=0.01)
    alice.expect("the welcome after a LOGIN that came in pieces", is_ctl("welcome", "alice"),
                 hint="read the 4-byte length, then exactly that many bytes, however many recv() calls "
                      "it takes (sl_frame_recv)")
    bob.expect("the notice that alice is online", is_ctl("online", "alice"))
    alice.send_raw(frame("M", "one byte at a time"), note="MSG 'one byte at a time', byte by byte",
                   chunk=1, pace=0.005)
    three = frame("M", "first of three") + frame("M", "second of three") + frame("M", "third of three")
    alice.send_raw(three, note="three MSG frames in one segment")
    for text in ("one byte at a time", "first of three", "second of three", "third of three"):
        bob.expect(f"alice's message {text!r}, whole", is_msg("alice", text),
                   hint="a recv() may return part of a frame or several frames: keep reading by the "
                        "lengths, never take one recv() as one message")
    alice.close()
    bob.close()


def test_chat_client_killed_mid_frame(case):
    server = start_server(case)
    alice = login(case, "alice")
    crash_mid_frame(case, "bob")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    alice.expect("the notice that bob is offline after bob's process was killed mid-frame",
                 is_ctl("offline", "bob"), timeout=5,
                 hint="the end of the stream inside a frame means the client vanished: take it out of "
                      "the table and tell the others")
    if not server.running():
        case.fail("chatserver ended when a client was killed in the middle of a frame",
                  expected="the server still running, bob offline", saw=f"chatserver {server.status_text()}")
    carol = login(case, "carol")
    alice.expect("the notice that carol is online (the server must keep serving)",
                 is_ctl("online", "carol"))
    carol.send("M", "still here?")
    alice.expect("carol's message", is_msg("carol", "still here?"))
    alice.close()
    carol.close()


def test_chat_server_survives_reset(case):
    server = start_server(case)
    alice = login(case, "alice")
    bob = login(case, "bob")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    bob.send_raw(frame("M", "a message cut short by a reset")[:12], note="the first 12 bytes of a frame")
    bob.conn.reset()
    alice.expect("the notice that bob is offline after bob's reset", is_ctl("offline", "bob"),
                 hint="a receive error (ECONNRESET) ends that client only: log it, take the client out "
                      "of the table and tell the others")
    if not server.running():
        case.fail("chatserver ended when a client reset its connection",
                  expected="the server still running, bob offline", saw=f"chatserver {server.status_text()}",
                  hint="ignore SIGPIPE (or send with MSG_NOSIGNAL) and treat ECONNRESET as "
                       "'this client left'")
    carol = login(case, "carol")
    carol.send("M", "after the reset")
    alice.expect("the notice that carol is online", is_ctl("online", "carol"))
    alice.expect("carol's message after the reset", is_msg("carol", "after the reset"))
    alice.close()
    carol.close()


def test_chat_reconnect_after_crash(case):
    start_server(case)
    alice = login(case, "alice")
    crash_mid_frame(case, "bob")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    alice.expect("the notice that bob is offline", is_ctl("offline", "bob"), timeout=5)
    bob = connect(case, "bob", label="bob (reconnected)")
    bob.send("L", "bob", USERS["bob"])
    bob.expect("the welcome when bob logs in again after his crash", is_ctl("welcome", "bob"),
               hint="a crashed client must leave the table, or its user can never log in again "
                    "(it would be refused as a duplicate)")
    alice.expect("the notice that bob is online again", is_ctl("online", "bob"))
    bob.send("M", "I am back")
    alice.expect("bob's message after his return", is_msg("bob", "I am back"))
    alice.close()
    bob.close()


def test_chat_max_length(case):
    start_server(case)
    alice, bob = login(case, "alice"), login(case, "bob")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    longest = "长" * (TEXT_MAX // 3) + "!" * (TEXT_MAX % 3)
    assert len(longest.encode()) == TEXT_MAX
    alice.send("M", longest)
    bob.expect(f"alice's message of exactly {TEXT_MAX} bytes, whole", is_msg("alice", longest),
               hint=f"a text of {TEXT_MAX} bytes is the longest allowed: relay it whole")
    alice.send("M", longest + "!")
    alice.expect(f"an ERROR for a message of {TEXT_MAX + 1} bytes", is_error("toolong"),
                 expected=f"ERROR('toolong', text): the maximum is {TEXT_MAX} bytes",
                 hint="check the text's length before relaying; refuse it whole, never cut it")
    alice.send("M", "short again")
    bob.expect("alice's next message (and not the one that was too long)", is_msg("alice", "short again"),
               hint="a message over the maximum is refused, not relayed, and the connection goes on")
    alice.close()
    bob.close()


def test_chat_utf8_intact(case):
    start_server(case)
    alice, bob = login(case, "alice"), login(case, "bob")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    texts = ["你好，世界！今天的实验是聊天室。", "Grüße aus Köln — ça va? 🎉"]
    for text in texts:
        alice.send("M", text)
    alice.send("P", "bob", "私聊：只有你能看到")
    for text in texts:
        bob.expect(f"alice's message {text!r}, byte for byte", is_msg("alice", text),
                   hint="relay the text's bytes as they came: no conversion, no cut")
    bob.expect("alice's private message in Chinese", is_msg("alice", "私聊：只有你能看到", type_="P"))
    alice.close()
    bob.close()
