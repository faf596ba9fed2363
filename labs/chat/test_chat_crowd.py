"""chatserver with a crowd: 200 clients at once, and clients that come and
go under ThreadSanitizer."""

import re
import time

from chatlib import USERS, Crowd, describe, frame, is_ctl, is_msg, login, start_server

CLIENTS = 200
MESSAGES = 3            # each client sends this many
LOGIN_DEADLINE = 10.0
DELIVERY_DEADLINE = 15.0
CONNECT_PACE = 0.002    # seconds between two connects


def test_chat_200_clients(case):
    users = {f"u{k:03d}": f"pw-{k:03d}" for k in range(CLIENTS)}
    # All connect before any sends its LOGIN: they wait to log in all at once.
    start_server(case, users=users, max_clients=CLIENTS + 20, max_pending=CLIENTS + 20)
    started = time.monotonic()
    crowd = Crowd(case, list(users), case.port, pace=CONNECT_PACE)
    case.step(f"{CLIENTS} scripted clients connected, one every {CONNECT_PACE * 1000:.0f} ms; "
              "each sends its LOGIN")
    try:
        for name, pw in users.items():
            crowd.send(name, frame("L", name, pw))
        pairs = CLIENTS * (CLIENTS - 1) // 2

        def logged_in():
            online = sum(1 for fs in crowd.frames.values() for f in fs if f.type == "C" and
                         len(f.fields) == 3 and f.fields[1] == b"online")
            return online >= pairs and all(fs for fs in crowd.frames.values())

        ok = crowd.run_until(logged_in, LOGIN_DEADLINE)
        welcomed = [n for n, fs in crowd.frames.items() if fs and is_ctl("welcome", n)(fs[0])]
        if not ok or len(welcomed) != CLIENTS:
            refused = {n: fs[0] for n, fs in crowd.frames.items() if fs and n not in welcomed}
            case.fail(f"not all {CLIENTS} clients were logged in within {LOGIN_DEADLINE:.0f} s",
                      expected=f"{CLIENTS} welcomes, and one 'online' notice for each of the "
                               f"{pairs} pairs of clients",
                      saw=f"{len(welcomed)} welcomes; {len(crowd.closed)} connections closed by the server"
                          f"{'; first refusal: ' + describe(next(iter(refused.values()))) if refused else ''}",
                      hint="serve every client at once (a thread each, --max-clients honoured), and "
                           "keep the table consistent under its lock")
        case.step(f"all {CLIENTS} logged in and got every 'online' notice "
                  f"({time.monotonic() - started:.1f} s); each now sends {MESSAGES} messages")
        for k in range(MESSAGES):
            for name in users:
                crowd.send(name, frame("M", f"{name} says {k}"))
        want = (CLIENTS - 1) * MESSAGES

        def delivered():
            return all(sum(1 for f in fs if f.type == "M") >= want for fs in crowd.frames.values())

        t0 = time.monotonic()
        crowd.run_until(delivered, DELIVERY_DEADLINE)
        case.step(f"delivery took {time.monotonic() - t0:.2f} s "
                  f"({CLIENTS * want} messages in all)")
        _expect_each_once_in_order(case, crowd, users)
    finally:
        crowd.close()
    case.step(f"the case took {time.monotonic() - started:.1f} s")
    _expect_handshakes(case)


def _expect_handshakes(case):
    """The capture must show a complete handshake for every client. Under this
    load the capture itself may lose packets (it says how many): then only
    the handshakes it kept are judged, and the step says so."""
    conns = case.tcp_connections()
    incomplete = [c for c in conns if not c["handshake"]["complete"]]
    m = re.search(rb"(\d+) dropped by kernel", case.capture.errors or b"")
    dropped = int(m.group(1)) if m else 0
    case.step(f"capture: {len(conns)} connections, {len(conns) - len(incomplete)} with a complete "
              f"handshake; {dropped} packets dropped by the capture")
    if dropped and len(incomplete) <= dropped:
        case.step("the handshakes the capture lost are not held against the server")
        incomplete = []
    if len(conns) < CLIENTS or incomplete:
        case.fail(f"the capture does not show a complete handshake for each of the {CLIENTS} clients",
                  expected=f"{CLIENTS} connections, each with SYN, SYN-ACK, ACK",
                  saw=f"{len(conns)} connections, {len(incomplete)} without a complete handshake",
                  hint="accept every client promptly (a listen backlog large enough for a burst)")


def _expect_each_once_in_order(case, crowd, users):
    for name, frames in crowd.frames.items():
        seen = {}
        for f in frames:
            if f.type != "M" or len(f.fields) != 3:
                continue
            sender, text = f.fields[1].decode(), f.fields[2].decode()
            seen.setdefault(sender, []).append(text)
        if name in seen:
            case.fail(f"client {name} received its own message back",
                      expected="each message goes to everyone except its sender",
                      saw=f"its own message {seen[name][0]!r}",
                      hint="skip the sender when you relay")
        for other in users:
            want = [f"{other} says {k}" for k in range(MESSAGES)]
            if other != name and seen.get(other) != want:
                state = crowd.closed.get(name, "its connection stayed open")
                case.fail(f"client {name} did not get {other}'s messages exactly once, in order",
                          expected=", ".join(want),
                          saw=f"{', '.join(seen.get(other, [])) or 'none'} ({state})",
                          hint="every message goes once to every other client online")


CHURN = 16


def _expect_whisper(case, peer, sender, text):
    """Reads PEER's frames until SENDER's private TEXT; fails when it never comes."""
    wanted, seen = is_msg(sender, text, "P"), []
    while True:
        f = peer.recv(quiet=True)
        if f is None:
            case.fail(f"{peer.name} never received {sender}'s private message",
                      expected=f"P {sender} {text!r} while {peer.name} is online",
                      saw=", ".join(seen) or f"nothing ({peer.ended or 'no frame in time'})",
                      hint="look the recipient up in the table (under its lock) and send it the message")
        if wanted(f):
            return
        seen.append(describe(f))


def test_chat_table_is_locked(case):
    # lab.toml builds this case's programs with ThreadSanitizer: a table used
    # without its lock is then reported every time, not only when unlucky.
    users = dict(USERS, **{f"g{k:02d}": f"guest-{k}" for k in range(CHURN)})
    start_server(case, users=users)
    alice, bob = login(case, "alice"), login(case, "bob")
    alice.expect("the notice that bob is online", is_ctl("online", "bob"))
    case.step(f"{CHURN} guests log in, say something to everyone and to alice alone, and leave (quit+FIN "
              "or a reset in turn), while bob talks and whispers to each guest")
    for k in range(CHURN):
        name = f"g{k:02d}"
        guest = login(case, name, password=users[name])
        guest.send("M", f"{name} was here")
        guest.send("P", "alice", f"{name} whispers")
        bob.send("M", f"bob {k}")
        bob.send("P", name, "psst")
        # The guest leaves only once bob's whisper reached it: its removal
        # then always follows bob's lookup with no lock taken between, the
        # pair ThreadSanitizer reports when that lookup went without the lock.
        _expect_whisper(case, guest, "bob", "psst")
        if k % 2:
            guest.conn.reset()
        else:
            guest.send("C", "quit")
            guest.conn.shutdown_write()
    expected = []
    for k in range(CHURN):
        name = f"g{k:02d}"
        expected += [("C", "online", name), ("M", name, f"{name} was here"), ("P", name, f"{name} whispers"),
                     ("C", "offline", name)]
    got, bobs = [], []
    while len(got) < len(expected) or len(bobs) < CHURN:
        f = alice.recv(quiet=True)
        if f is None:
            break
        if f.type == "M" and f.fields[1] == b"bob":
            bobs.append(f.fields[2].decode())
        elif len(f.fields) == 3:
            got.append((f.type, f.fields[1].decode(), f.fields[2].decode()))
    case.step(f"alice received {len(got)} notices and guest messages, {len(bobs)} of bob's messages")
    if bobs != [f"bob {k}" for k in range(CHURN)]:
        case.fail("alice did not get bob's messages once each, in order, while guests came and went",
                  expected=f"bob 0 … bob {CHURN - 1}", saw=", ".join(bobs) or "none")
    for k in range(CHURN):
        name = f"g{k:02d}"
        mine = [g for g in got if name in g[1:]]
        if mine != [e for e in expected if name in e[1:]]:
            case.fail(f"alice did not see guest {name} come, speak and go, in that order",
                      expected=f"online {name}, its message, its private message, offline {name}",
                      saw=", ".join(" ".join(m) for m in mine) or "nothing",
                      hint="walk and change the table under its lock only")
    alice.close()
    bob.close()
