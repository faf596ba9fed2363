"""chatclient against a scripted chat server, through pipes and through a
pseudo-terminal."""

import re
import time

from chatlib import (TEXT_MAX, USERS, Peer, TerminalProgram, describe, expect_login, frame,
                     header_pattern, start_client)

T = 1764000000   # the time the scripted server stamps on its frames


def _expect_frames(case, srv, wanted, hint):
    """The scripted server must receive exactly the frames WANTED (bytes), in order."""
    for i, want in enumerate(wanted, 1):
        f = srv.recv()
        got = frame(f.type, *f.fields) if f is not None else b""
        if got != want:
            case.fail(f"frame {i} that chatclient sent is not the one expected",
                      expected=repr(want[4:].decode("utf-8", "replace")),
                      saw=repr(got[4:].decode("utf-8", "replace")) if f is not None else
                      f"no frame ({srv.ended or 'nothing within 3 s'})", hint=hint)


def _finish(case, client, srv, why="after its input ended"):
    """The client quits (CTL quit, FIN); the scripted server closes too."""
    _expect_frames(case, srv, [frame("C", "quit")],
                   hint="on ':q' or at the end of input send CTL 'quit', then shutdown(SHUT_WR)")
    f = srv.recv()
    if f is not None or srv.ended != "eof":
        case.fail("chatclient did not close its side after CTL quit",
                  expected="the end of the stream (the client's FIN)",
                  saw=describe(f) if f is not None else (srv.ended or "the connection still open"),
                  hint="after CTL quit: shutdown(fd, SHUT_WR), wait for the server's FIN, close()")
    srv.close()
    case.wait_exit(client, timeout=3, why=why)


def test_chat_client_logs_in_and_shows_messages(case):
    client, srv = start_client(case)
    srv.send("C", str(T), "online", "bob")
    msg = frame("M", str(T), "bob", "hello alice")
    srv.send_raw(msg[:9], note="the first 9 bytes of MSG(T, 'bob', 'hello alice')")
    time.sleep(0.05)   # the split: the rest of the frame comes in a later segment
    rest = msg[9:] + frame("P", str(T + 61), "bob", "psst, alice") + frame("M", str(T), "carol", "hi all")
    srv.send_raw(rest, note="the rest of it, PRIVATE(T+61, 'bob', 'psst, alice') and MSG(T, 'carol', 'hi all')")
    shown = [(T, "bob", "hello alice"), (T + 61, "bob (private)", "psst, alice"), (T, "carol", "hi all")]
    pattern = b"".join(header_pattern(t, who) + b"\n" + re.escape(text.encode()) + b"\n.*?"
                       for t, who, text in shown)
    if not client.wait_output(b"(?s)" + pattern, timeout=3):
        case.fail("chatclient did not show the messages under '[time] sender' headers",
                  expected="\n".join(time.strftime("[%Y-%m-%d %H:%M:%S] ", time.localtime(t)) +
                                     f"{who}\n{text}" for t, who, text in shown),
                  saw=client.stdout.tail(10) or "nothing on stdout",
                  hint="print '[YYYY-MM-DD HH:MM:SS] sender' (local time of the frame's time field), then "
                       "the text on its own line; flush stdout")
    if not client.wait_output(rb"bob is now online", timeout=1):
        case.fail("chatclient did not show that bob is online",
                  expected="[time] System\nbob is now online",
                  saw=client.stdout.tail(10) or "nothing on stdout")
    srv.send("E", "offline", "carol is not online: message not delivered")
    if not client.wait_output(rb"System\n[^\n]*carol is not online: message not delivered\n", timeout=2):
        case.fail("chatclient did not show the server's ERROR under a System header",
                  expected="[time] System\nerror: carol is not online: message not delivered",
                  saw=client.stdout.tail(6) or "nothing on stdout",
                  hint="show an ERROR frame's text as a System notice: the user must see what was refused")
    client.feed(b"", close=True)
    _finish(case, client, srv)


def test_chat_client_sends_and_escapes(case):
    typed = ["hello there", "::q", "::", "@bob psst, bob", ":x", ":", "", "@bob", "@", "你好，世界", "::: three colons", ":q",
             "never sent"]
    client, srv = start_client(case, stdin="".join(t + "\n" for t in typed).encode())
    hint = ("':q' quits; a line starting with '::' is sent without its first ':'; '@name text' is PRIVATE "
            "(name, text); another line starting with ':' (':' alone too) is an unknown command, not sent; "
            "an empty line is not sent")
    _expect_frames(case, srv, [frame("M", "hello there"), frame("M", ":q"), frame("M", ":"),
                               frame("P", "bob", "psst, bob"), frame("M", "你好，世界"),
                               frame("M", ":: three colons")], hint)
    _finish(case, client, srv, why="after ':q'")
    if client.returncode != 0:
        case.fail("chatclient did not exit with status 0 after ':q'", expected="exit status 0",
                  saw=client.status_text())


def test_chat_client_max_length(case):
    longest = "长" * (TEXT_MAX // 3) + "!" * (TEXT_MAX % 3)
    typed = [longest.encode(), (longest + "!").encode(), ("é" * 600).encode(), b"caf\xc3 is cut UTF-8",
             b"after"]
    client, srv = start_client(case, stdin=b"".join(t + b"\n" for t in typed))
    _expect_frames(case, srv, [frame("M", longest), frame("M", "after")],
                   hint=f"send a line of up to {TEXT_MAX} bytes whole; refuse a longer one whole (never cut "
                        "it: a cut could split a UTF-8 character), refuse a line that is not UTF-8, and go on "
                        "with the next line")
    if not client.wait_output(rb"(?i)too long", timeout=2, stream="stderr"):
        case.fail("chatclient did not say that a line was too long",
                  expected="an error on stderr such as 'message too long: 1001 bytes, the maximum is 1000'",
                  saw=client.stderr.tail(5) or "nothing on stderr")
    _finish(case, client, srv)


def test_chat_client_fin_teardown(case):
    client, srv = start_client(case)
    client.feed("bye now\n:q\n".encode())
    _expect_frames(case, srv, [frame("M", "bye now")], hint="send each typed line as MSG")
    _finish(case, client, srv, why="after ':q' and the server's FIN")
    if client.returncode != 0:
        case.fail("chatclient did not exit with status 0 after ':q'", expected="exit status 0",
                  saw=client.status_text())
    conns = case.tcp_connections()
    if len(conns) != 1:
        case.fail("the capture does not show exactly one connection to the scripted server",
                  expected="1 TCP connection", saw=f"{len(conns)} connections")
    case.expect_fin_teardown(conns[0], "orig", "chatclient")


def test_chat_client_in_a_terminal(case):
    listener = case.tcp_listener(label="scripted server")
    client = TerminalProgram(case, "chatclient", "--host", "127.0.0.1", "--port", case.port, "--user", "alice")
    if not client.wait_output(rb"(?i)password", timeout=5):
        case.fail("chatclient did not ask for the password on its terminal",
                  expected="a prompt such as 'Password: '", saw=client.stdout.tail(5) or "nothing",
                  hint="without --password-file, read the password from the terminal, echo off")
    secret = USERS["alice"]
    client.type(secret + "\n", note="alice's password and Enter")
    conn = case.accept_client(listener, client)
    srv = Peer(case, conn, "scripted server")
    expect_login(case, srv, "alice", secret)
    srv.send("C", str(T), "welcome", "alice")
    if not client.wait_output(rb"welcome", timeout=3):
        case.fail("chatclient did not show the welcome",
                  expected="[time] System\nwelcome, alice: you are online",
                 
                  saw=client.stdout.tail(5) or "nothing on stdout")
    if secret.encode() in client.stdout.bytes():
        case.fail("the password was echoed on the terminal",
                  expected="the prompt, then nothing of the password on the terminal",
                  saw=client.stdout.tail(5),
                  hint="turn ECHO off with tcsetattr() while the password is typed, and back on after")
    srv.send("M", str(T), "bob", "hello from bob")
    if not client.wait_output(header_pattern(T, "bob") + rb"\nhello from bob\n", timeout=3):
        case.fail("chatclient did not show bob's message on the terminal",
                  expected="[time] bob\nhello from bob", saw=client.stdout.tail(8) or "nothing")
    client.type("hi bob\n", note="'hi bob' and Enter")
    _expect_frames(case, srv, [frame("M", "hi bob")], hint="send each typed line as MSG")
    if not client.wait_output(rb"hi bob", timeout=2):
        case.fail("the terminal did not echo what was typed after the password",
                  expected="'hi bob' echoed on the terminal as it was typed",
                  saw=client.stdout.tail(8), hint="turn ECHO back on once the password is read")
    client.type(":q\n", note="':q' and Enter")
    _finish(case, client, srv, why="after ':q' on its terminal")
    if client.returncode != 0:
        case.fail("chatclient did not exit with status 0 after ':q'", expected="exit status 0",
                  saw=client.status_text())
