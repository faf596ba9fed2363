"""What the chat cases share: the wire format, the users file, scripted chat
clients and a scripted server speaking frames, a crowd of clients in one
selector loop, a client killed mid-frame, and a program in a terminal."""

import hashlib
import os
import pty
import re
import select
import selectors
import signal
import socket
import struct
import subprocess
import threading
import time
from collections import namedtuple

from socklab.feedback import show_bytes
from socklab.proc import Program

TEXT_MAX = 1000              # the protocol's maximum message length, in bytes
PAYLOAD_MAX = 1 + 20 + 1 + 32 + 1 + TEXT_MAX
ITERATIONS = 1000            # PBKDF2 iterations of the grader's users file: logins stay fast
USERS_FILE = "users.txt"     # written into the case's working folder
WAIT = 3.0                   # seconds for any one frame

# The grader's users and their passwords (dave is never online in any case).
USERS = {"alice": "wonderland", "bob": "builder-42", "carol": "c4rol!", "dave": "never-here",
         "eve": "hunter2"}

Frame = namedtuple("Frame", "type fields")   # type: one letter; fields: list of bytes

NAMES = {"L": "LOGIN", "M": "MSG", "P": "PRIVATE", "C": "CTL", "E": "ERROR"}


def frame(type_, *fields):
    """The bytes of one frame: 4-byte big-endian length, type letter, fields joined by 0x00."""
    payload = type_.encode() + b"\0".join(f if isinstance(f, bytes) else f.encode() for f in fields)
    return struct.pack(">I", len(payload)) + payload


def parse(payload):
    return Frame(chr(payload[0]), payload[1:].split(b"\0") if len(payload) > 1 else [])


def describe(f):
    """MSG('1764000000', 'alice', 'hello') for traces and feedback."""
    if f is None:
        return "nothing"
    shown = []
    for field in f.fields:
        text = field.decode("utf-8", "replace")
        shown.append(repr(text if len(text) <= 40 else text[:37] + "…"))
    return f"{NAMES.get(f.type, repr(f.type))}({', '.join(shown)})"


def user_line(name, password, iterations=ITERATIONS, salt=None):
    """One line of the users file: name:pbkdf2-sha256:iterations:salt_hex:hash_hex."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{name}:pbkdf2-sha256:{iterations}:{salt.hex()}:{digest.hex()}\n"


def write_users(case, users=USERS, extra=""):
    """Write the users file into the case's working folder; return its name."""
    text = "# the grader's users\n" + "".join(user_line(n, p) for n, p in users.items()) + extra
    path = os.path.join(case.workdir, USERS_FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return USERS_FILE


def start_server(case, users=USERS, extra="", max_clients=None, max_pending=None):
    """Start chatserver on the case's port with the grader's users file; wait until it listens."""
    args = ["--port", case.port, "--users", write_users(case, users, extra)]
    if max_clients:
        args += ["--max-clients", max_clients]
    if max_pending:
        args += ["--max-pending", max_pending]
    server = case.start("chatserver", *args)
    case.wait_bound(server, case.port, "tcp")
    return server


# --- a scripted client (or the scripted server's side of one connection) ---

class Peer:
    """Frames over one scripted TCP connection, each traced."""

    def __init__(self, case, conn, name):
        self.case = case
        self.conn = conn
        self.name = name
        self.buf = b""
        self.ended = None   # "eof" or "reset" once the other side closed

    def send(self, type_, *fields, chunk=None, pace=0.0):
        data = frame(type_, *fields)
        return self.conn.send(data, chunk=chunk, pace=pace, note=describe(parse(data[4:])))

    def send_raw(self, data, note=None, chunk=None, pace=0.0):
        return self.conn.send(data, chunk=chunk, pace=pace, note=note)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self.conn.sock], [], [], left)[0]:
            return False
        try:
            chunk = self.conn.sock.recv(1 << 16)
        except OSError:
            self.ended = "reset"
            return False
        if not chunk:
            self.ended = "eof"
            return False
        self.buf += chunk
        return True

    def recv(self, timeout=WAIT, quiet=False):
        """The next frame within TIMEOUT s, or None (then self.ended says whether the stream ended)."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if n == 0 or n > PAYLOAD_MAX:
                    self.case.fail(f"{self.name} received a frame announcing {n} payload bytes",
                                   expected=f"a length of 1 to {PAYLOAD_MAX} bytes before each payload",
                                   saw=show_bytes(self.buf[:64]),
                                   hint="send each frame as a 4-byte big-endian payload length, then "
                                        "the payload (sl_frame_send)")
                if len(self.buf) >= 4 + n:
                    f = parse(self.buf[4:4 + n])
                    self.buf = self.buf[4 + n:]
                    if not quiet:
                        self.case.step(f"{self.name} received {describe(f)}")
                    return f
            if self.ended or not self._fill(deadline):
                if not quiet:
                    how = {"eof": "the connection closed (FIN)", "reset": "the connection was reset (RST)",
                           None: f"nothing for {timeout} s"}[self.ended]
                    rest = f" after {len(self.buf)} bytes of a frame" if self.buf else ""
                    self.case.step(f"{self.name} received no frame: {how}{rest}")
                return None

    def expect(self, what, check, timeout=WAIT, expected=None, hint=None):
        """The next frame, which must satisfy CHECK(frame); fail saying WHAT was awaited otherwise."""
        f = self.recv(timeout)
        if f is None or not check(f):
            ending = {"eof": " (then the connection closed)", "reset": " (then the connection was reset)"}
            self.case.fail(f"{self.name} did not receive {what}",
                           expected=expected or what,
                           saw=describe(f) + ending.get(self.ended, "") if f is not None else
                           ("nothing: " + {"eof": "the server closed the connection",
                                           "reset": "the server reset the connection"}.get(
                                               self.ended, f"no frame within {timeout} s")),
                           hint=hint)
        return f

    def expect_end(self, what, timeout=WAIT):
        """The server must close this connection (nothing else before)."""
        f = self.recv(timeout)
        if f is not None or self.ended is None:
            self.case.fail(f"the server did not close {self.name}'s connection {what}",
                           expected="the end of the stream (the server's FIN)",
                           saw=describe(f) if f is not None else f"the connection open after {timeout} s")

    def close(self):
        self.conn.close()


def connect(case, name, label=None):
    """A scripted client connected to the server (not logged in)."""
    return Peer(case, case.tcp_connect(label=label or f"client {name}"), label or f"client {name}")


def is_ctl(event, user):
    return lambda f: f.type == "C" and len(f.fields) == 3 and f.fields[1:] == [event.encode(), user.encode()]


def is_msg(sender, text, type_="M"):
    data = text.encode() if isinstance(text, str) else text
    return lambda f: f.type == type_ and len(f.fields) == 3 and f.fields[1:] == [sender.encode(), data]


def is_error(code):
    return lambda f: f.type == "E" and len(f.fields) == 2 and f.fields[0] == code.encode()


def login(case, name, password=None, label=None):
    """Connect and log in as NAME; the first frame must be the welcome."""
    peer = connect(case, name, label)
    peer.send("L", name, USERS[name] if password is None else password)
    peer.expect(f"the welcome after logging in as {name}", is_ctl("welcome", name),
                expected=f"CTL(time, 'welcome', '{name}') as the first frame",
                hint="after a right password, put the client in the table and send it CTL "
                     "time\\0welcome\\0name before anything else")
    return peer


def connection_of(case, peer):
    """The captured connection of a scripted client PEER."""
    for c in case.tcp_connections():
        if f"{c['orig']['addr']}:{c['orig']['port']}" == peer.conn.local:
            return c
    case.fail(f"the capture has no connection from {peer.name} ({peer.conn.local})")


def expect_handshake(case, peer):
    c = connection_of(case, peer)
    if not c["handshake"]["complete"]:
        case.fail(f"the capture does not show a complete handshake for {peer.name}",
                  expected="SYN, SYN-ACK, ACK", saw=f"history {c['history']}, handshake {c['handshake']}")
    return c


def expect_time_now(case, f, who):
    """A stamped frame's time field must be the server's current Unix time."""
    try:
        t = int(f.fields[0])
    except ValueError:
        case.fail(f"the time field of the frame {who} received is not a decimal Unix time",
                  expected="decimal Unix seconds, e.g. 1764000000", saw=show_bytes(f.fields[0]))
    if abs(t - time.time()) > 60:
        case.fail(f"the time field of the frame {who} received is not the current time",
                  expected=f"about {int(time.time())} (Unix seconds now)", saw=str(t))


def local_stamp(t):
    """The '[YYYY-MM-DD HH:MM:SS]' headers a client may show for Unix time T (local time or UTC)."""
    return {time.strftime("[%Y-%m-%d %H:%M:%S]", fn(t)) for fn in (time.localtime, time.gmtime)}


def header_pattern(t, sender):
    """A bytes regex for the header line of a message shown by the client."""
    stamps = "|".join(re.escape(s) for s in local_stamp(t))
    return (f"(?:{stamps}) {re.escape(sender)}").encode()


# --- a scripted server for the client cases ----------------------------------

PASSWORD_FILE = "password.txt"


def write_password(case, password):
    path = os.path.join(case.workdir, PASSWORD_FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(password + "\n")
    os.chmod(path, 0o644)
    return PASSWORD_FILE


def start_client(case, user="alice", stdin=None):
    """Start chatclient (password from a file) against a scripted server; accept and
    check its LOGIN, welcome it. Return (client program, server-side peer)."""
    listener = case.tcp_listener(label="scripted server")
    client = case.start("chatclient", "--host", "127.0.0.1", "--port", case.port, "--user", user,
                        "--password-file", write_password(case, USERS[user]), stdin=stdin)
    conn = case.accept_client(listener, client)
    srv = Peer(case, conn, "scripted server")
    expect_login(case, srv, user, USERS[user])
    srv.send("C", str(int(time.time())), "welcome", user)
    return client, srv


def expect_login(case, srv, user, password):
    f = srv.recv()
    want = frame("L", user, password)
    if f is None or frame(f.type, *f.fields) != want:
        case.fail("chatclient did not log in with a LOGIN frame",
                  expected=f"{show_bytes(want)}: length, 'L', user, 0x00, password",
                  saw=describe(f) if f is not None else "no frame", hint="send LOGIN with chat_send()")


# --- many clients in one selector loop ------------------------------------------

class Crowd:
    """N scripted clients driven together by one selector loop (one thread),
    counting what each receives."""

    def __init__(self, case, names, port, pace=0.0):
        self.case = case
        self.names = names
        self.sel = selectors.DefaultSelector()
        self.socks = {}
        self.bufs = {}
        self.frames = {n: [] for n in names}   # every frame each client received
        self.closed = {}
        for name in names:
            if pace and self.socks:
                time.sleep(pace)   # shapes the burst of handshakes so that the capture keeps every one
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setblocking(False)
            self.socks[name] = s
            self.bufs[name] = b""
            self.sel.register(s, selectors.EVENT_READ, name)

    def send(self, name, data):
        s = self.socks[name]
        view = memoryview(data)
        deadline = time.monotonic() + WAIT
        while view:
            try:
                view = view[s.send(view):]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                self.pump(0.01)   # the server's answers must be read while we wait to send
            except OSError:
                return False
        return True

    def pump(self, timeout):
        """Receive whatever arrives within TIMEOUT s."""
        for key, _ in self.sel.select(timeout):
            name = key.data
            try:
                chunk = key.fileobj.recv(1 << 18)
            except OSError as e:
                chunk, self.closed[name] = b"", e.strerror
            if not chunk:
                self.closed.setdefault(name, "closed by the server")
                self.sel.unregister(key.fileobj)
                continue
            buf = self.bufs[name] + chunk
            got = self.frames[name]
            while len(buf) >= 4:
                n = struct.unpack_from(">I", buf)[0]
                if len(buf) < 4 + n:
                    break
                got.append(parse(buf[4:4 + n]))
                buf = buf[4 + n:]
            self.bufs[name] = buf

    def run_until(self, done, timeout):
        """Pump until done() holds or TIMEOUT s pass; return done()."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return done()
            self.pump(min(left, 0.05))
        return True

    def close(self):
        for s in self.socks.values():
            s.close()
        self.sel.close()


# --- a client killed in the middle of a frame --------------------------------------

VICTIM = r"""
import socket, struct, sys, time
port, name, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
payload = b"L" + name.encode() + b"\0" + password.encode()
s.sendall(struct.pack(">I", len(payload)) + payload)
head = b""
while len(head) < 4:
    head += s.recv(4 - len(head))
body = b""
while len(body) < struct.unpack(">I", head)[0]:
    body += s.recv(struct.unpack(">I", head)[0] - len(body))
s.sendall(struct.pack(">I", 60) + b"Mhalf a message, and then")
print("sent half a frame", flush=True)
time.sleep(30)
"""


def crash_mid_frame(case, name):
    """A scripted client in a process of its own logs in as NAME, sends part of a
    frame, and is killed with SIGKILL (the kernel closes its socket)."""
    proc = subprocess.Popen(["/usr/bin/python3", "-c", VICTIM, str(case.port), name, USERS[name]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        ready = select.select([proc.stdout], [], [], 5)[0]
        line = proc.stdout.readline() if ready else b""
        if b"sent half a frame" not in line:
            err = proc.stderr.read1(2000) if proc.poll() is not None else b""
            case.fail(f"the client {name} to be killed could not log in",
                      expected=f"the welcome for {name}, then 'sent half a frame' from its process",
                      saw=show_bytes(line + err),
                      hint="log a client in as soon as its LOGIN frame has arrived")
        case.step(f"client {name} (a process of its own) logged in and sent 29 bytes of a 64-byte frame")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)
        proc.stdout.close()
        proc.stderr.close()
    case.step(f"client {name} was killed with SIGKILL in the middle of its frame")


# --- a program in a pseudo-terminal --------------------------------------------------

class _TerminalStream:
    """What the program shows on its terminal (stdout and stderr together),
    read by a thread from the pty's master side."""

    def __init__(self, fd, name="terminal"):
        self.name = name
        self.data = bytearray()
        self.closed = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._pump, args=(fd,), daemon=True, name="chat-pty")
        self.thread.start()

    def _pump(self, fd):
        try:
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                with self.cond:
                    self.data += chunk[:max(0, (1 << 20) - len(self.data))]
                    self.cond.notify_all()
        except OSError:
            pass   # EIO: every writer of the terminal has gone
        finally:
            os.close(fd)
            with self.cond:
                self.closed = True
                self.cond.notify_all()

    def wait_for(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self._text()):
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    return predicate(self._text())
                self.cond.wait(left)
            return True

    def _text(self):
        """What a person reads: the terminal's "\r\n" line ends as "\n"."""
        return bytes(self.data).replace(b"\r\n", b"\n")

    def wait_closed(self, timeout):
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def bytes(self):
        with self.cond:
            return self._text()

    def tail(self, lines=15, chars=2000):
        text = self.bytes()[-4 * chars:].decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])[-chars:]


class TerminalProgram(Program):
    """The student's BINARY run in the case's sandbox with a pseudo-terminal as
    its standard input, output and error, as when a person runs it."""

    def __init__(self, case, binary, *args):
        self.trace = case.trace
        self.name = binary
        self.argv = [binary, *map(str, args)]
        self.killed_by_grader = False
        self.limits = case.limits
        master, slave = pty.openpty()
        cmd = case.limits.slrun_args(case.workdir, case.lab.case_timeout) + ["--env-clear", "--"]
        cmd += [os.path.join(case.workdir, binary)] + self.argv[1:]
        try:
            self.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                                         start_new_session=True, cwd=case.workdir)
        finally:
            os.close(slave)
        self.master = master
        self.stdout = self.stderr = _TerminalStream(os.dup(master))
        case.programs.append(self)   # stopped, and checked for crashes, with the case's programs
        case.step(f"started in a terminal: {' '.join(self.argv)}")

    def type(self, text, note=None):
        """Type TEXT on the terminal's keyboard."""
        os.write(self.master, text.encode())
        self.trace.step(f"typed on the terminal: {note or repr(text)}")

    def feed(self, data, close=False, quiet=False):
        raise NotImplementedError("a terminal program is typed to: use type()")

    def close_input(self):
        """The terminal is the program's input: close our side of it."""
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
