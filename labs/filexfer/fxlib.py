"""What the filexfer cases share: the users file, the server's root folder,
the protocol's frames, a scripted client of fileserver, a scripted server
for fileclient, and the checks of a capture.

A frame is a 4-byte big-endian payload length, then the payload: fields
separated by one 0x00 byte, the first a word (LOGIN, PUT, OK, ERR, ...).
A file's bytes travel raw between two frames (handouts/filexfer.md)."""

import hashlib
import os
import random
import select
import struct
import time

from socklab import peers
from socklab.feedback import Trace, show_bytes
from socklab.proc import chown_tree

ITERATIONS = 1000       # PBKDF2 rounds in the grader's users file: quick logins
USERS = {"alice": "correct horse", "bob": "hunter2"}
PAYLOAD_MAX = 1024      # the largest control frame's payload
MAX_USERS = 64          # users logged in at a time (the handout's "Connections that do not log in")
MAX_PENDING = 16        # connections not logged in yet, at a time
HASH_HINT = "the HASH frame carries the SHA-256 of the whole file as 64 lower-case hex digits"


def sha(data):
    return hashlib.sha256(data).hexdigest()


def noise(size, seed):
    """SIZE reproducible pseudo-random bytes (every byte value)."""
    return random.Random(seed).randbytes(size)


def every_byte(size=70_000):
    """Every byte value, in runs and alone, CR LF and lone CR and LF, NULs
    and 0x1a (a text-mode end of file), then noise: SIZE bytes."""
    head = bytes(range(256)) + bytes(range(255, -1, -1)) + b"\r\n\r\n\n\r\x00\x00\x1a\x1aEOF\r\n"
    return (head + noise(size, 256))[:size]


def frame(*fields):
    """One frame: the fields (str or bytes) joined by NUL, after its length."""
    payload = b"\x00".join(f.encode() if isinstance(f, str) else f for f in fields)
    return struct.pack(">I", len(payload)) + payload


def framing(*fields):
    """The bytes a frame of FIELDS takes on the wire."""
    return len(frame(*fields))


def users_file(case):
    """Write the users file (pbkdf2-sha256 lines) beside the case's folder; return its path."""
    rng = random.Random(7)
    lines = ["# socklab grader: alice and bob"]
    for name, password in USERS.items():
        salt = rng.randbytes(16)
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
        lines.append(f"{name}:pbkdf2-sha256:{ITERATIONS}:{salt.hex()}:{digest.hex()}")
    path = os.path.join(os.path.dirname(case.workdir), "users")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o644)
    return path


def root_dir(case):
    """The server's root folder (beside the case's folder; the server creates it)."""
    return os.path.join(os.path.dirname(case.workdir), "root")


def start_server(case, *options):
    """Start fileserver on the case's port with the grader's root and users (and OPTIONS); wait
    until it listens."""
    users = users_file(case)
    server = case.start("fileserver", "--port", case.port, "--root", root_dir(case), "--users", users,
                        *options)
    case.wait_bound(server, case.port, "tcp")
    return server


def stored(case, name):
    """The bytes the server keeps under NAME (None when there is no such file)."""
    path = os.path.join(root_dir(case), name)
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return f.read()


def visible_names(case):
    """The names in the root folder that a client could see (no leading '.')."""
    try:
        return sorted(n for n in os.listdir(root_dir(case)) if not n.startswith("."))
    except FileNotFoundError:
        return []


def input_file(case, name, data):
    """Write DATA as up/NAME in the case's folder for the student's client to
    upload; return the path relative to the client's folder."""
    folder = os.path.join(case.workdir, "up")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)
    if case.limits.uid is not None:
        chown_tree(folder, case.limits.uid)
    return f"up/{name}"


def show_fields(fields):
    return " ".join(show_bytes(f) for f in fields) if fields else "(no fields)"


class FxConn:
    """A scripted peer speaking the frames over one of the case's TcpConns."""

    def __init__(self, case, conn, peer):
        self.case = case
        self.conn = conn
        self.peer = peer    # "fileserver" or "fileclient": who is on the other side

    def send(self, *fields, note=None):
        data = frame(*fields)
        return self.conn.send(data, note=note or f"frame {show_fields([f if isinstance(f, bytes) else f.encode() for f in fields])}")

    def recv_frame(self, what, timeout=5.0, hint=None):
        """Receive one frame; return its fields (bytes), or fail saying what came instead."""
        head = self.conn.recv_exact(4, timeout=timeout, what=f"the length of {what}")
        if len(head.data) < 4:
            self.case.fail(f"{self.peer} did not send {what}",
                           expected="a frame: 4-byte big-endian length, then the payload",
                           saw=f"{show_bytes(head.data)}, then {head.how}", hint=hint)
        (length,) = struct.unpack(">I", head.data)
        if length > PAYLOAD_MAX:
            self.case.fail(f"{self.peer} sent a frame length of {length} for {what}",
                           expected=f"at most {PAYLOAD_MAX} bytes of payload in a control frame",
                           saw=f"the 4 bytes {show_bytes(head.data)}",
                           hint=hint or "every control message starts with its payload length "
                                        "(4 bytes, big-endian: most significant first)")
        body = self.conn.recv_exact(length, timeout=timeout, what=what)
        if len(body.data) < length:
            self.case.fail(f"{self.peer} ended {what} early",
                           expected=f"{length} payload bytes", saw=f"{len(body.data)}, then {body.how}")
        return body.data.split(b"\x00")

    def expect(self, what, word, nfields=None, hint=None):
        """Receive a frame that must start with WORD (and have NFIELDS fields)."""
        fields = self.recv_frame(what, hint=hint)
        if fields[0] != word.encode() or (nfields is not None and len(fields) != nfields):
            self.case.fail(f"{self.peer} did not answer {what} as expected",
                           expected=f"a frame {word}" + (f" with {nfields} fields" if nfields else ""),
                           saw=f"the frame {show_fields(fields)}", hint=hint)
        return fields


def quiet_connect(case, label):
    """A scripted connection whose steps stay out of the case's trace: for
    the cases that open dozens of them and say so in one step."""
    conn, error = peers.tcp_connect(Trace(), case.port, label=label)
    if conn is None:
        case.fail(f"the scripted {label} could not connect to port {case.port}",
                  expected="the server accepts connections", saw=f"connect failed: {error}")
    return case.add_resource(conn)


def silent_connections(case, count):
    """COUNT connections that never send a byte."""
    conns = [quiet_connect(case, f"silent client {i}") for i in range(1, count + 1)]
    case.step(f"{count} scripted clients connected (from {conns[0].local} to {conns[-1].local}) "
              f"and send nothing")
    return conns


def wait_closed(conns, most, timeout):
    """Wait until the server has closed all but MOST of CONNS (it sent FIN or
    RST), at most TIMEOUT s; return how many are still open."""
    deadline = time.monotonic() + timeout
    still = {c.sock: c for c in conns if c.sock.fileno() >= 0}
    while len(still) > most:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select(list(still), [], [], left)
        for sock in ready:
            try:
                closed = not sock.recv(4096)   # bytes (an ERR) may come before the FIN
            except OSError:
                closed = True
            if closed:
                del still[sock]
    return len(still)


class Client(FxConn):
    """A scripted client of the student's fileserver (QUIET: its steps stay
    out of the case's trace)."""

    def __init__(self, case, label="client", quiet=False):
        conn = quiet_connect(case, label) if quiet else case.tcp_connect(label=label)
        super().__init__(case, conn, "fileserver")

    def login(self, user="alice", password=None):
        self.send("LOGIN", user, password or USERS[user],
                  note=f"LOGIN {user} with {'the right' if password is None else 'a'} password")
        return self.expect(f"LOGIN as {user}", "OK",
                           hint="check the password with PBKDF2 (salt and iterations from the users "
                                "file) and answer OK")

    def put(self, name, data, digest=None, chunk=None, pace=0.0):
        """PUT NAME with DATA; return the fields of the final answer."""
        size = len(data)
        self.send("PUT", name, str(size))
        go = self.recv_frame(f"PUT {name!r} {size}")
        if go[0] != b"OK":
            return go
        self.conn.send(data, chunk=chunk, pace=pace, note=f"{size} bytes of {name!r} (SHA-256 {sha(data)[:16]}…)")
        self.send("HASH", digest or sha(data))
        return self.recv_frame(f"the answer after the bytes and HASH of {name!r}",
                               hint="after the announced number of bytes comes the HASH frame; answer "
                                    "'OK stored' once the file is renamed into place")

    def put_ok(self, name, data):
        got = self.put(name, data)
        if got[0] != b"OK":
            self.case.fail(f"fileserver did not store {name!r} ({len(data)} bytes)",
                           expected="'OK go' after PUT, 'OK stored' after the bytes and HASH",
                           saw=f"the frame {show_fields(got)}")

    def get(self, name, offset=0):
        """GET NAME from OFFSET; return (size, bytes, hash hex) or the ERR fields."""
        self.send("GET", name, str(offset))
        got = self.recv_frame(f"GET {name!r} {offset}")
        if got[0] != b"OK" or len(got) != 2 or not got[1].isdigit():
            return got
        size = int(got[1])
        data = self.conn.recv_exact(size - offset, timeout=10, what=f"the bytes of {name!r}")
        if len(data.data) < size - offset:
            self.case.fail(f"fileserver sent fewer bytes of {name!r} than it announced",
                           expected=f"{size - offset} bytes after 'OK {size}'",
                           saw=f"{len(data.data)} bytes, then {data.how}")
        digest = self.expect(f"the HASH after the bytes of {name!r}", "HASH", 2, hint=HASH_HINT)
        return size, data.data, digest[1].decode(errors="replace")

    def get_ok(self, name, expected):
        got = self.get(name)
        if not isinstance(got, tuple):
            self.case.fail(f"fileserver did not send {name!r}",
                           expected=f"'OK {len(expected)}', the bytes, then HASH",
                           saw=f"the frame {show_fields(got)}")
        size, data, digest = got
        if size != len(expected) or sha(data) != sha(expected):
            self.case.fail(f"the bytes of {name!r} that came back are not the ones uploaded",
                           expected=f"{len(expected)} bytes, SHA-256 {sha(expected)}",
                           saw=f"{size} bytes announced, {len(data)} received, SHA-256 {sha(data)}",
                           difference=_first_diff(expected, data),
                           hint="store and send the bytes exactly as they came: binary, no text "
                                "conversion, no end marker, exactly the announced length")
        if digest != sha(expected):
            self.case.fail(f"the HASH fileserver sent after {name!r} is wrong",
                           expected=sha(expected), saw=digest, hint=HASH_HINT)

    def list(self):
        """LIST; return [(size, name)]."""
        self.send("LIST")
        head = self.expect("LIST", "OK", 2, hint="answer LIST with 'OK <count>', then one FILE frame per file")
        entries = []
        for i in range(int(head[1]) if head[1].isdigit() else 0):
            f = self.expect(f"FILE frame {i + 1} of the list", "FILE", 3)
            entries.append((int(f[1]) if f[1].isdigit() else -1, f[2].decode(errors="replace")))
        return entries

    def quit(self):
        self.send("QUIT")
        self.expect("QUIT", "OK")


def expect_err(case, fields, what, code, hint=None):
    """FIELDS must be the frame 'ERR CODE text'."""
    if fields[:2] != [b"ERR", code.encode()] or len(fields) != 3:
        case.fail(f"fileserver did not refuse {what} with 'ERR {code}'",
                  expected=f"the frame ERR {code} <text saying why>",
                  saw=f"the frame {show_fields(fields)}", hint=hint)


def _first_diff(expected, seen):
    for i, (a, b) in enumerate(zip(expected, seen)):
        if a != b:
            return f"byte {i}: expected 0x{a:02x}, saw 0x{b:02x}"
    if len(expected) != len(seen):
        return f"the lengths differ: {len(expected)} expected, {len(seen)} seen"
    return None


# --- the scripted server for the client cases --------------------------------------

class ScriptedServer(FxConn):
    """Plays fileserver for one connection of the student's fileclient, in the
    test's own thread: FILES (name -> bytes) is its store. GET answers can come
    CHUNK bytes at a time with PACE s between pieces, or stop after CUT bytes
    (the connection then closes)."""

    def __init__(self, case, listener, prog, files, chunk=None, pace=0.0, cut=None):
        super().__init__(case, case.accept_client(listener, prog), "fileclient")
        self.files = files
        self.chunk = chunk
        self.pace = pace
        self.cut = cut
        self.requests = []      # the frames the client sent, as field lists

    def serve(self):
        """Answer until QUIT (then wait for the client's FIN) or a cut GET; return how it ended."""
        while True:
            fields = self.recv_frame("its next command (LOGIN, LIST, PUT, GET, DEL or QUIT)",
                                     timeout=10)
            self.requests.append(fields)
            word = fields[0]
            if word == b"LOGIN":
                self._login(fields)
            elif word == b"PUT" and len(fields) == 3:
                self._put(fields)
            elif word == b"GET" and len(fields) == 3:
                if not self._get(fields):
                    return "cut"
            elif word == b"LIST":
                self.send("OK", str(len(self.files)))
                for name in sorted(self.files):
                    self.send("FILE", str(len(self.files[name])), name)
            elif word == b"DEL" and len(fields) == 2:
                name = fields[1].decode(errors="replace")
                self.send(*(("OK", "deleted") if self.files.pop(name, None) is not None
                            else ("ERR", "nofile", "no such file")))
            elif word == b"QUIT":
                self.send("OK", "bye")
                end = self.conn.recv_to_eof(timeout=5, what="fileclient's close after 'OK bye'")
                if end.how != "eof" or end.data:
                    self.case.fail("fileclient did not close the connection cleanly after QUIT",
                                   expected="no more bytes, then its FIN",
                                   saw=f"{show_bytes(end.data)}, then {end.how}",
                                   hint="after 'OK bye' just close() the socket")
                self.conn.close()
                return "quit"
            else:
                self.case.fail("fileclient sent a frame the protocol does not have",
                               expected="LOGIN, LIST, PUT name size, GET name offset, DEL name or QUIT",
                               saw=f"the frame {show_fields(fields)}")

    def _login(self, fields):
        user = fields[1].decode(errors="replace") if len(fields) == 3 else None
        if user in USERS and fields[2] == USERS[user].encode():
            self.send("OK", "welcome")
        else:
            self.send("ERR", "login", "wrong user name or password, 2 tries left")

    def _put(self, fields):
        name, size = fields[1].decode(errors="replace"), fields[2]
        if not size.isdigit():
            self.case.fail("fileclient's PUT does not announce a decimal size",
                           expected="PUT NAME SIZE, SIZE in decimal digits (e.g. 'PUT' 'notes.txt' '1234')",
                           saw=f"the frame {show_fields(fields)}")
        size = int(size)
        self.send("OK", "go")
        data = self.conn.recv_exact(size, timeout=10, what=f"the {size} bytes of {name!r}")
        if len(data.data) < size:
            self.case.fail(f"fileclient sent fewer bytes of {name!r} than its PUT announced",
                           expected=f"{size} bytes", saw=f"{len(data.data)}, then {data.how}")
        digest = self.expect(f"the HASH after the bytes of {name!r}", "HASH", 2,
                             hint="send exactly the announced number of bytes, then the HASH frame: "
                                  "no end marker, nothing else between them")
        if digest[1].decode(errors="replace") != sha(data.data):
            self.case.fail(f"fileclient's HASH for {name!r} is not the SHA-256 of the bytes it sent",
                           expected=sha(data.data), saw=show_bytes(digest[1]), hint=HASH_HINT)
        self.files[name] = data.data
        self.send("OK", "stored")

    def _get(self, fields):
        name = fields[1].decode(errors="replace")
        if name not in self.files:
            self.send("ERR", "nofile", "no such file")
            return True
        if not fields[2].isdigit() or int(fields[2]) > len(self.files[name]):
            self.case.fail(f"fileclient asked for {name!r} from a bad offset",
                           expected=f"GET NAME OFFSET, OFFSET in decimal digits, 0 to {len(self.files[name])} "
                                    "(the size of the NAME.part it kept)",
                           saw=f"the frame {show_fields(fields)}")
        data, offset = self.files[name], int(fields[2])
        self.send("OK", str(len(data)))
        rest = data[offset:]
        if self.cut is not None:
            self.conn.send(rest[:self.cut], chunk=self.chunk, pace=self.pace,
                           note=f"the first {min(self.cut, len(rest))} of {len(rest)} bytes of {name!r}")
            self.conn.close()
            return False
        self.conn.send(rest, chunk=self.chunk, pace=self.pace,
                       note=f"{len(rest)} bytes of {name!r} from offset {offset}")
        self.send("HASH", sha(data))
        return True


def start_client(case, *command, user="alice", password=None):
    """Start the student's fileclient in one-shot mode (COMMAND), the password on its stdin."""
    pw = (password or USERS[user]) + "\n"
    return case.start("fileclient", "--host", "127.0.0.1", "--port", case.port, "--user", user,
                      *command, stdin=pw.encode())


def client_file(case, name):
    """The bytes of NAME in the client's folder (None when there is none)."""
    path = os.path.join(case.workdir, name)
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return f.read()


# --- captures ----------------------------------------------------------------

def only_connection(case, what):
    """The one captured connection to the case's port."""
    conns = case.tcp_connections()
    if len(conns) != 1:
        case.fail(f"the capture does not hold exactly one connection for {what}",
                  expected="one TCP connection to the server's port", saw=f"{len(conns)} connections")
    return conns[0]


def expect_handshake(case, c, who):
    """C must start with a complete three-way handshake (S, h, A in its history)."""
    hist = c["history"]
    if not hist.startswith("Sh") or "A" not in hist:
        case.fail(f"the capture of {who}'s connection does not start with a three-way handshake",
                  expected="history starting 'ShA…' (SYN, SYN-ACK, ACK)",
                  saw=f"history {hist}, conn_state {c['conn_state']}")


def expect_volume(case, c, direction, expected, parts):
    """The payload bytes one way (orig or resp) must be EXPECTED: PARTS says what they are."""
    seen = c[f"{direction}_bytes"]
    if seen != expected:
        who = "client → server" if direction == "orig" else "server → client"
        case.fail(f"the bytes {who} in the capture are not the file plus its frames",
                  expected=f"{expected} bytes: {parts}", saw=f"{seen} bytes",
                  hint="send exactly the frames of the protocol and the file's bytes: no end marker, "
                       "no padding, no extra newline")
