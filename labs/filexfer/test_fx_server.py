"""fileserver against scripted clients that speak the frames."""

import os
import threading

from fxlib import (Client, USERS, every_byte, expect_err, expect_handshake,
                   expect_volume, framing, noise, only_connection, root_dir, sha, show_fields, start_server,
                   stored, visible_names)

TEXT = ("first line\r\nEOF\nsecond line with a tab\tand ünïcödé 文件\n"
        "EOF\r\n" * 3 + "the end, without a newline").encode()


def test_login_right_and_wrong(case):
    start_server(case)
    c = Client(case)
    c.send("LOGIN", "alice", "wrong password")
    got = c.recv_frame("a wrong password")
    expect_err(case, got, "a wrong password", "login",
               hint="answer a wrong password with 'ERR login <text>' and wait for the next try")
    c.send("LOGIN", "mallory", USERS["alice"])
    expect_err(case, c.recv_frame("an unknown user"), "an unknown user name", "login")
    c.login("alice")
    c.list()
    c.quit()
    other = Client(case, label="second client")
    other.login("bob")
    other.quit()


def test_login_three_strikes(case):
    start_server(case)
    c = Client(case)
    for attempt in (1, 2, 3):
        c.send("LOGIN", "bob", f"guess {attempt}")
        expect_err(case, c.recv_frame(f"wrong password number {attempt}"), f"wrong password {attempt}",
                   "login")
    end = c.conn.recv_to_eof(timeout=3, what="the connection after the third wrong password")
    if end.how != "eof":
        case.fail("fileserver did not close the connection after three wrong passwords",
                  expected="its FIN right after the third 'ERR login'", saw=f"{end.how}",
                  hint="count the failed tries of the connection; after the third, close it")
    c.conn.close()
    again = Client(case, label="second client")
    again.login("bob")
    again.quit()


def test_put_get_small_files(case):
    start_server(case)
    files = {"empty": b"", "one byte": b"x", "notes.txt": TEXT, "文件 数据.txt": "你好\n".encode()}
    c = Client(case)
    c.login()
    for name, data in files.items():
        c.put_ok(name, data)
    for name, data in files.items():
        c.get_ok(name, data)
        if stored(case, name) != data:
            case.fail(f"the file {name!r} in the server's root is not what was uploaded",
                      expected=f"{len(data)} bytes, SHA-256 {sha(data)}",
                      saw="no such file" if stored(case, name) is None else
                      f"{len(stored(case, name))} bytes, SHA-256 {sha(stored(case, name))}")
    c.quit()


def test_put_get_every_byte(case):
    start_server(case)
    data = every_byte()
    c = Client(case)
    c.login()
    c.put_ok("every-byte.bin", data)
    c.get_ok("every-byte.bin", data)
    c.quit()


def _cut_upload(case, how):
    """Upload half of a 1 MiB file, then end the connection (HOW: close or reset)."""
    c = Client(case, label=f"client cut by {how}")
    c.login()
    data = noise(1 << 20, 3)
    c.send("PUT", "cut.bin", str(len(data)))
    c.expect("PUT 'cut.bin'", "OK")
    c.conn.send(data[:len(data) // 2], note="the first half of cut.bin, then nothing more")
    getattr(c.conn, how)()


def test_upload_cut_leaves_nothing(case):
    start_server(case)
    old = b"the complete older version\n"
    first = Client(case, label="first client")
    first.login()
    first.put_ok("cut.bin", old)
    first.quit()
    for how in ("close", "reset"):
        _cut_upload(case, how)
        later = Client(case, label=f"client after the {how}")
        later.login()
        listed = dict((name, size) for size, name in later.list())
        if listed.get("cut.bin") != len(old) or stored(case, "cut.bin") != old:
            case.fail(f"an upload cut by a {how} replaced the complete file (or left part of itself)",
                      expected=f"cut.bin still the older {len(old)}-byte version",
                      saw=f"LIST shows {listed}; the root folder holds {visible_names(case)}",
                      hint="write an upload into a temporary file and rename() it to its name only "
                           "when every byte has come and the hash matches")
        later.get_ok("cut.bin", old)
        later.quit()
    if visible_names(case) != ["cut.bin"]:
        case.fail("the cut uploads left files a client could see",
                  expected="only cut.bin in the root", saw=str(visible_names(case)),
                  hint="give temporary files a name a client cannot use (starting with '.') and "
                       "remove them when an upload fails")


def test_server_survives_disconnects(case):
    server = start_server(case)
    data = noise(4 << 20, 5)
    setup = Client(case, label="setup client")
    setup.login()
    setup.put_ok("big.bin", data)
    setup.quit()
    # Leaving at every stage: before login, inside a frame, mid-upload, mid-download.
    c = Client(case, label="client leaving before login")
    c.conn.close()
    c = Client(case, label="client leaving inside a frame")
    c.conn.send(b"\x00\x00\x00\x40LOG", note="the start of a 64-byte frame, then FIN")
    c.conn.close()
    c = Client(case, label="client leaving after login without QUIT")
    c.login()
    c.conn.close()
    c = Client(case, label="client resetting mid-upload")
    c.login()
    c.send("PUT", "new.bin", "1000000")
    c.expect("PUT", "OK")
    c.conn.send(b"x" * 1000, note="1000 of 1000000 bytes, then a reset")
    c.conn.reset()
    c = Client(case, label="client resetting mid-download")
    c.login()
    c.send("GET", "big.bin", "0")
    c.expect("GET 'big.bin'", "OK")
    c.conn.recv_exact(10000, what="the first 10000 bytes of big.bin")
    c.conn.reset()
    if not server.running():
        case.fail("fileserver ended when a client disconnected",
                  expected="it keeps serving the other clients", saw=f"fileserver {server.status_text()}",
                  hint="a client that leaves ends its own session only: no exit(), and ignore SIGPIPE "
                       "(or send with MSG_NOSIGNAL)")
    last = Client(case, label="last client")
    last.login()
    last.get_ok("big.bin", data)
    last.quit()


BAD_NAMES = ["../escape.txt", "..", ".", "", "a/b", "/etc/passwd", "sub/../../x", ".hidden",
             "tab\there", "new\nline", "bell\x07", "del\x7f"]


def test_path_traversal_refused(case):
    start_server(case)
    c = Client(case)
    c.login()
    for name in BAD_NAMES:
        got = c.put(name, b"must not be stored\n")
        expect_err(case, got, f"PUT of the name {name!r}", "name",
                   hint="refuse names with '/', control characters or a leading '.', before "
                        "building any path")
    c.send("PUT", "a", "b", "5")   # a NUL in the name: four fields
    got = c.recv_frame("a PUT whose name holds a NUL byte")
    if got[0] != b"ERR":
        case.fail("fileserver accepted a name with a NUL byte in it",
                  expected="ERR (protocol or name)", saw=f"the frame {show_fields(got)}")
    for name in ("../users", "../../etc/passwd", "/etc/passwd"):
        c.send("GET", name, "0")
        expect_err(case, c.recv_frame(f"GET of {name!r}"), f"GET of the name {name!r}", "name",
                   hint="check the name of GET and DEL as well as PUT's")
    c.send("DEL", "../users")
    expect_err(case, c.recv_frame("DEL of '../users'"), "DEL of '../users'", "name")
    top = os.path.dirname(root_dir(case))
    if os.path.exists(os.path.join(top, "escape.txt")) or visible_names(case):
        case.fail("a refused name left a file behind",
                  expected="no escape.txt outside the root and no file in it",
                  saw=f"outside the root: {', '.join(sorted(os.listdir(top)))}; "
                      f"inside: {', '.join(visible_names(case)) or 'nothing'}")
    c.quit()


def test_hash_mismatch_refused(case):
    start_server(case)
    old, new = b"version one\n", noise(100_000, 9)
    c = Client(case)
    c.login()
    c.put_ok("doc.bin", old)
    got = c.put("doc.bin", new, digest=sha(new[:-1] + b"?"))
    expect_err(case, got, "an upload whose bytes do not match its HASH", "hash",
               hint="compute the SHA-256 while the bytes come in and compare it with the HASH "
                    "frame before the rename")
    c.get_ok("doc.bin", old)
    if visible_names(case) != ["doc.bin"]:
        case.fail("the refused upload left a file behind",
                  expected="only doc.bin (the old version)", saw=", ".join(visible_names(case)) or "no file")
    c.quit()


def test_list_delete_and_restart(case):
    server = start_server(case)
    files = {"b.txt": b"bee\n", "a.bin": noise(5000, 1), "c": b""}
    c = Client(case)
    c.login()
    for name, data in files.items():
        c.put_ok(name, data)
    c.send("DEL", "b.txt")
    c.expect("DEL 'b.txt'", "OK")
    c.send("DEL", "b.txt")
    expect_err(case, c.recv_frame("a second DEL of 'b.txt'"), "DEL of a missing file", "nofile")
    c.quit()
    case.step("stopping fileserver and starting it again on the same root")
    server.stop()
    start_server(case)
    again = Client(case, label="client after the restart")
    again.login()
    listed = again.list()
    want = [(len(files[n]), n) for n in ("a.bin", "c")]
    if listed != want:
        case.fail("LIST after a restart does not show the files kept before it",
                  expected=f"{want} (size, name), sorted by name", saw=str(listed),
                  hint="LIST reads the root folder: every regular file whose name does not start "
                       "with '.'")
    again.get_ok("a.bin", files["a.bin"])
    again.quit()


def test_concurrent_uploads(case):
    start_server(case)
    first, second = noise(2 << 20, 11), noise(2 << 20, 12)
    a = Client(case, label="client A")
    a.login()
    b = Client(case, label="client B")
    b.login("bob")
    a.send("PUT", "same.bin", str(len(first)))
    a.expect("PUT by A", "OK")
    a.conn.send(first[:1 << 20], note="the first half of A's same.bin")
    case.step("while A's upload waits, B uploads the same name in full")
    b.put_ok("same.bin", second)
    if stored(case, "same.bin") != second:
        case.fail("B's complete upload did not win over A's unfinished one",
                  expected="same.bin holds B's bytes", saw="other bytes (or none)")
    a.conn.send(first[1 << 20:], note="the second half of A's same.bin")
    a.send("HASH", sha(first))
    a.expect("the end of A's upload", "OK")
    if stored(case, "same.bin") != first:
        case.fail("the last complete upload of a name did not win, or the two got mixed",
                  expected=f"same.bin is A's file (SHA-256 {sha(first)[:16]}…), completed last",
                  saw="no file" if stored(case, "same.bin") is None else
                  f"SHA-256 {sha(stored(case, 'same.bin'))[:16]}… "
                  f"(B's is {sha(second)[:16]}…)",
                  hint="each upload writes its own temporary file; rename() replaces the name at once")
    # Eight clients at once, each with its own file.
    clients = [Client(case, label=f"client {i}") for i in range(8)]
    payloads = [noise(300_000 + i, 20 + i) for i in range(8)]
    errors = []

    def upload(i):
        try:
            clients[i].login("bob" if i % 2 else "alice")
            clients[i].put_ok(f"file-{i}", payloads[i])
        except BaseException as e:   # a failed case inside the thread: report it below
            errors.append(e)
    threads = [threading.Thread(target=upload, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    if errors:
        raise errors[0]
    for i in range(8):
        if stored(case, f"file-{i}") != payloads[i]:
            case.fail(f"file-{i}, uploaded by one of eight clients at once, was not stored whole",
                      expected=f"{len(payloads[i])} bytes")
    a.get_ok("file-3", payloads[3])
    a.quit()
    b.quit()


def test_server_capture_checks(case):
    start_server(case)
    data = noise(1 << 20, 30)
    c = Client(case)
    c.login()
    c.put_ok("cap.bin", data)
    c.get_ok("cap.bin", data)
    c.quit()
    c.conn.shutdown_write()
    end = c.conn.recv_to_eof(timeout=3, what="the server's FIN after ours")
    if end.how != "eof":
        case.fail("fileserver did not close its side after the client's FIN that followed 'OK bye'",
                  expected="its FIN", saw=end.how,
                  hint="after QUIT, read until the client's FIN (recv() returns 0), then close()")
    c.conn.close()
    conn = only_connection(case, "the client's session")
    expect_handshake(case, conn, "the client")
    n = len(data)
    server_bytes = (framing("OK", "welcome") + framing("OK", "go") + framing("OK", "stored") +
                    framing("OK", str(n)) + n + framing("HASH", sha(data)) + framing("OK", "bye"))
    expect_volume(case, conn, "resp", server_bytes,
                  f"the answers' frames and the {n} bytes of the file sent once")
    case.expect_fin_teardown(conn, "orig", "fileserver")
