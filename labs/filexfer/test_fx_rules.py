"""The rules of the protocol the other cases do not reach: GET from an
offset (the HASH still of the whole file), ERR offset and ERR protocol,
frames before the login, a frame over 1024 bytes, the root folder made at
start and its leftovers removed, the server's exit status; fileclient's
interactive commands and its exit status."""

import os
import shutil
import struct

from fxlib import (PAYLOAD_MAX, USERS, Client, ScriptedServer, expect_err, noise, root_dir, sha,
                   show_fields, start_server, users_file)
from socklab.feedback import show_bytes


def test_server_get_from_offset(case):
    start_server(case)
    data = noise(1 << 20, 60)
    c = Client(case)
    c.login()
    c.put_ok("big.iso", data)
    for offset in (300_001, 1, len(data)):
        got = c.get("big.iso", offset)
        if not isinstance(got, tuple):
            case.fail(f"fileserver refused GET big.iso {offset}", expected=f"'OK {len(data)}', then the bytes "
                      f"from {offset} to the end, then HASH", saw=f"the frame {show_fields(got)}")
        size, rest, digest = got
        if size != len(data) or rest != data[offset:]:
            case.fail(f"GET big.iso {offset} did not send the bytes from {offset} to the end",
                      expected=f"'OK {len(data)}' (the whole file's size), then {len(data) - offset} bytes "
                               f"starting with {show_bytes(data[offset:offset + 8])}",
                      saw=f"'OK {size}', then bytes starting with {show_bytes(rest[:8])}",
                      hint="OK announces the file's size; skip the first OFFSET bytes and send the rest")
        if digest != sha(data):
            case.fail(f"the HASH after GET big.iso {offset} is not the SHA-256 of the whole file",
                      expected=sha(data), saw=digest,
                      hint="hash the bytes before the offset too (they are not sent, but they are hashed)")
    c.send("GET", "big.iso", str(len(data) + 1))
    expect_err(case, c.recv_frame(f"GET big.iso {len(data) + 1}"), "an offset past the end of the file",
               "offset", hint="an offset larger than the file's size gets 'ERR offset <text>'")
    c.send("GET", "big.iso", "12abc")
    expect_err(case, c.recv_frame("GET big.iso 12abc"), "an offset that is not a decimal number", "protocol",
               hint="numbers are decimal digits only: anything else is 'ERR protocol'")
    c.get_ok("big.iso", data)
    c.quit()


def test_server_protocol_errors(case):
    server = start_server(case)
    early = Client(case, label="client that does not log in")
    for k in range(1, 4):
        early.send("LIST", note=f"LIST before logging in (try {k})")
        expect_err(case, early.recv_frame(f"LIST before a login (try {k})"), "a command before the login",
                   "login", hint="before the login every frame that is not a right LOGIN gets 'ERR login' "
                                 "and counts as one of the three tries")
    end = early.conn.recv_to_eof(timeout=5, what="the server's close after three tries")
    if end.how != "eof":
        case.fail("fileserver did not close a connection after three frames that were not a login",
                  expected="its FIN after the third 'ERR login'", saw=end.how)
    c = Client(case)
    c.login()
    for fields, what in ((("FETCH", "a.txt"), "an unknown command"), (("PUT", "a.txt"), "PUT without a size"),
                         (("PUT", "a.txt", "5x"), "PUT with a size that is not a number"),
                         (("DEL",), "DEL without a name")):
        c.send(*fields)
        expect_err(case, c.recv_frame(what), what, "protocol",
                   hint="an unknown command or wrong fields get 'ERR protocol <text>'; the connection goes on")
    if c.list() != []:
        case.fail("fileserver stored something after the refused commands",
                  expected="LIST still empty: 'OK 0'",
                  saw=", ".join(f"{name} ({size} bytes)" for size, name in c.list()))
    c.conn.send(struct.pack(">I", 1 << 20) + b"PUT\x00x\x00" + b"1" * 100,
                note=f"a frame header announcing {1 << 20} bytes (at most {PAYLOAD_MAX}), then 106 bytes")
    end = c.conn.recv_to_eof(timeout=3, what="the server's close after an oversized frame")
    if end.how != "eof":
        case.fail(f"fileserver did not close a connection whose frame announced {1 << 20} bytes",
                  expected=f"the connection closed at once (an ERR protocol before it is fine): no frame is "
                           f"longer than {PAYLOAD_MAX} bytes", saw=f"{end.how} after {show_bytes(end.data[:40])}",
                  hint="check the announced length against 1024 before reading the payload")
    if not server.running():
        case.fail("fileserver ended after a client's protocol errors",
                  expected="fileserver still serving other clients", saw=f"fileserver {server.status_text()}")
    again = Client(case, label="a client after the protocol errors")
    again.login()
    again.put_ok("after.txt", b"the server goes on\n")
    again.quit()


def test_server_root_and_leftovers(case):
    users = users_file(case)
    root = root_dir(case)
    server = case.start("fileserver", "--port", case.port, "--root", root, "--users", "/nonexistent/users")
    rc = server.wait_exit(5)
    if rc != 1:
        case.fail("fileserver did not exit with status 1 when its users file could not be opened",
                  expected="exit status 1 and a message", saw=server.status_text() if rc is not None
                  else "still running after 5 s")
    server = case.start("fileserver", "--port", case.port, "--root", root, "--users", users, "--bogus")
    rc = server.wait_exit(5)
    if rc != 2:
        case.fail("fileserver did not exit with status 2 on an unknown option",
                  expected="exit status 2 (bad usage)", saw=server.status_text() if rc is not None
                  else "still running after 5 s")
    shutil.rmtree(root, ignore_errors=True)
    server = start_server(case)
    if not os.path.isdir(root):
        case.fail("fileserver did not create its root folder", expected=f"the folder {root} made at start")
    c = Client(case)
    c.login()
    c.put_ok("keep.txt", b"kept\n")
    c.quit()
    server.stop()
    leftover = os.path.join(root, ".part-Ab12Cd")
    with open(leftover, "wb") as f:
        f.write(b"half an upload that a crash left behind")
    case.step("fileserver stopped; a crash's leftover .part-Ab12Cd put into its root; starting it again")
    start_server(case)
    c = Client(case, label="client after the restart")
    c.login()
    listed = c.list()
    if listed != [(5, "keep.txt")]:
        case.fail("LIST after a restart is not the one kept file", expected="[(5, 'keep.txt')]", saw=str(listed),
                  hint="LIST shows regular files whose names do not start with '.'")
    if os.path.exists(leftover):
        case.fail("fileserver did not remove the temporary file a crash left behind",
                  expected=".part-Ab12Cd removed when the server starts",
                  hint="at start, remove every .part-* file in the root: no upload is running then")
    c.quit()


def _interactive(case, listener, files, typed):
    """fileclient without a command: the password and TYPED lines on its stdin."""
    client = case.start("fileclient", "--host", "127.0.0.1", "--port", case.port, "--user", "alice",
                        stdin=(USERS["alice"] + "\n" + "".join(t + "\n" for t in typed)).encode())
    server = ScriptedServer(case, listener, client, files)
    server.serve()
    case.wait_exit(client, timeout=10, why="after 'quit'")
    return client, server


def test_client_interactive_commands(case):
    listener = case.tcp_listener()
    files = {"b.txt": b"bee\n", "a.bin": noise(5000, 3)}
    client, server = _interactive(case, listener, files, ["ls", "rm b.txt", "rm nothing.txt", "ls", "quit"])
    out = client.stdout.bytes().decode(errors="replace").splitlines()
    want = ["5000 a.bin", "4 b.txt", "deleted b.txt", "5000 a.bin"]
    if out != want:
        case.fail("fileclient's output for ls, rm b.txt, rm nothing.txt, ls is not the one the handout gives",
                  expected="\n".join(want), saw="\n".join(out) or "nothing on stdout",
                  hint="ls prints one 'SIZE NAME' line per file in the server's order, rm prints "
                       "'deleted NAME'; errors go to stderr, not stdout")
    words = [r[0] for r in server.requests]
    if words != [b"LOGIN", b"LIST", b"DEL", b"DEL", b"LIST", b"QUIT"]:
        case.fail("fileclient did not send one frame per typed command",
                  expected="LOGIN, LIST, DEL, DEL, LIST, QUIT", saw=", ".join(w.decode(errors="replace")
                                                                           for w in words))
    if b"nofile" not in client.stderr.bytes():
        case.fail("fileclient did not report the refused 'rm nothing.txt' on stderr",
                  expected="an error naming the code, e.g. 'rm: refused (nofile): no such file'",
                  saw=client.stderr.tail(5) or "nothing on stderr")
    if client.returncode != 1:
        case.fail("fileclient did not exit with status 1 after one of its commands failed",
                  expected="exit status 1 (rm nothing.txt was refused)", saw=client.status_text(),
                  hint="remember that a command failed and exit 1 at the end")


def test_client_errors_exit_status(case):
    listener = case.tcp_listener()
    client = case.start("fileclient", "--host", "127.0.0.1", "--port", case.port, "--user", "alice",
                        "get", "missing.bin", stdin=(USERS["alice"] + "\n").encode())
    ScriptedServer(case, listener, client, {}).serve()
    case.wait_exit(client, timeout=10, why="after its refused get and QUIT")
    if client.returncode != 1:
        case.fail("fileclient did not exit with status 1 after 'get' of a missing file",
                  expected="exit status 1", saw=client.status_text())
    if os.path.exists(os.path.join(case.workdir, "missing.bin")):
        case.fail("fileclient made a file for a download the server refused",
                  expected="no file missing.bin after the server's 'ERR nofile'", saw="missing.bin exists",
                  hint="create NAME.part only after 'OK size'")
    client = case.start("fileclient", "--host", "127.0.0.1", "--port", case.port, "--user", "alice",
                        "ls", stdin=b"not the password\n")
    server = ScriptedServer(case, listener, client, {})
    fields = server.recv_frame("its LOGIN")
    server.send("ERR", "login", "wrong user name or password, 2 tries left")
    server.conn.close()
    case.step(f"the scripted server refused the login {show_fields(fields)} and closed")
    rc = client.wait_exit(5)
    if rc != 1:
        case.fail("fileclient did not exit with status 1 when its login was refused",
                  expected="exit status 1 and the refusal on stderr",
                  saw=client.status_text() if rc is not None else "still running after 5 s")
