"""fileclient against a scripted server, and against fileserver itself."""

import hashlib
import os

from fxlib import (ScriptedServer, client_file, every_byte, expect_handshake, expect_volume, framing,
                   input_file, noise, only_connection, sha, start_client,
                   start_server, stored)
from socklab.feedback import show_bytes

TEXT = b"plain text\r\nwith EOF\nEOF\nand a last line without newline"


def _session(case, listener, files, *command, **server_kw):
    """Run fileclient COMMAND against the scripted server (on LISTENER)
    holding FILES; return (client, server)."""
    client = start_client(case, *command)
    server = ScriptedServer(case, listener, client, files, **server_kw)
    server.serve()
    case.wait_exit(client, timeout=10, why="after its one command and QUIT")
    return client, server


def _expect_exit_ok(case, client, what):
    if client.returncode != 0:
        case.fail(f"fileclient did not exit with status 0 after {what}", expected="exit status 0",
                  saw=client.status_text(),
                  hint="exit 0 when the one command of the command line worked")


def _expect_got(case, name, data):
    got = client_file(case, name)
    if got != data:
        case.fail(f"fileclient's copy of {name!r} is not the server's file",
                  expected=f"{len(data)} bytes, SHA-256 {sha(data)}",
                  saw="no such file in its folder" if got is None else
                  f"{len(got)} bytes, SHA-256 {sha(got)}",
                  hint="write exactly the announced number of bytes, in binary; rename NAME.part "
                       "to NAME once the HASH matched")
    if os.path.exists(os.path.join(case.workdir, name + ".part")):
        case.fail(f"fileclient left {name}.part behind after a complete download")


def test_client_put_get_files(case):
    listener = case.tcp_listener()
    files = {"empty.txt": b"", "one": b"\x00", "text.txt": TEXT, "every-byte.bin": every_byte()}
    server_files = {}
    for name, data in files.items():
        client, server = _session(case, listener, server_files, "put", input_file(case, name, data))
        _expect_exit_ok(case, client, f"put up/{name}")
        if server_files.get(name) != data:
            case.fail(f"the scripted server did not get {name!r} whole",
                      expected=f"PUT {name} {len(data)}, the bytes, HASH",
                      saw=f"requests {[[show_bytes(f) for f in r] for r in server.requests]}")
    downloads = {"copy-" + name: data for name, data in files.items()}
    for name, data in downloads.items():
        client, _ = _session(case, listener, dict(downloads), "get", name)
        _expect_exit_ok(case, client, f"get {name}")
        _expect_got(case, name, data)


def test_client_tiny_pieces(case):
    listener = case.tcp_listener()
    data = every_byte(20_000)
    client, _ = _session(case, listener, {"pieces.bin": data}, "get", "pieces.bin", chunk=7, pace=0.0005)
    _expect_exit_ok(case, client, "get pieces.bin sent 7 bytes at a time")
    _expect_got(case, "pieces.bin", data)


def test_client_resume_get(case):
    data = noise(1 << 20, 40)
    cut = 300_001
    files = {"resume.bin": data}
    listener = case.tcp_listener()
    client = start_client(case, "get", "resume.bin")
    server = ScriptedServer(case, listener, client, files, cut=cut)
    server.serve()
    case.wait_exit(client, timeout=10, why="after the server cut its download")
    if client.returncode == 0:
        case.fail("fileclient said a cut download worked", expected="exit status 1",
                  saw=client.status_text())
    part = client_file(case, "resume.bin.part")
    if part != data[:cut]:
        case.fail("fileclient did not keep the bytes of the cut download in resume.bin.part",
                  expected=f"resume.bin.part holding the {cut} bytes received",
                  saw="no such file" if part is None else f"{len(part)} bytes",
                  hint="write the download into NAME.part as it comes and leave it when the "
                       "connection is lost")
    client = start_client(case, "get", "resume.bin")
    server = ScriptedServer(case, listener, client, files)
    server.serve()
    case.wait_exit(client, timeout=10, why="after the resumed download")
    asked = [r for r in server.requests if r[0] == b"GET"]
    if [r[2] for r in asked] != [str(cut).encode()]:
        case.fail("the second 'get resume.bin' did not resume from the byte it had reached",
                  expected=f"GET resume.bin {cut}", saw=str(asked),
                  hint="the offset of GET is the size of NAME.part")
    _expect_exit_ok(case, client, "the resumed get")
    _expect_got(case, "resume.bin", data)


def test_client_capture_checks(case):
    listener = case.tcp_listener()
    data = noise(1 << 20, 50)
    client, _ = _session(case, listener, {}, "put", input_file(case, "cap.bin", data))
    _expect_exit_ok(case, client, "put up/cap.bin")
    conn = only_connection(case, "fileclient's session")
    expect_handshake(case, conn, "fileclient")
    n = len(data)
    sent = (framing("LOGIN", "alice", "correct horse") + framing("PUT", "cap.bin", str(n)) + n +
            framing("HASH", sha(data)) + framing("QUIT"))
    expect_volume(case, conn, "orig", sent, f"LOGIN, PUT, the {n} bytes of the file, HASH and QUIT")
    case.expect_fin_teardown(conn, "orig", "fileclient")


def test_put_get_64mb(case):
    server = start_server(case)
    data = os.urandom(64 << 20)
    digest = hashlib.sha256(data).hexdigest()
    path = input_file(case, "big.bin", data)
    del data
    up = start_client(case, "put", path)
    case.wait_exit(up, timeout=20, why="after 'put' of 64 MiB")
    _expect_exit_ok(case, up, "put of 64 MiB")
    kept = stored(case, "big.bin")
    if kept is None or hashlib.sha256(kept).hexdigest() != digest:
        case.fail("fileserver did not store the 64 MiB file whole",
                  expected=f"{64 << 20} bytes, SHA-256 {digest}",
                  saw="no file" if kept is None else f"{len(kept)} bytes, SHA-256 {sha(kept)}")
    del kept
    down = start_client(case, "get", "big.bin")
    case.wait_exit(down, timeout=20, why="after 'get' of 64 MiB")
    _expect_exit_ok(case, down, "get of 64 MiB")
    got = client_file(case, "big.bin")
    if got is None or hashlib.sha256(got).hexdigest() != digest:
        case.fail("fileclient's download of the 64 MiB file is not the file",
                  expected=f"{64 << 20} bytes, SHA-256 {digest}",
                  saw="no file" if got is None else f"{len(got)} bytes, SHA-256 {sha(got)}")
    if not server.running():
        case.fail("fileserver ended", expected="fileserver still running after the download",
                  saw=f"fileserver {server.status_text()}")
