"""What the smtp cases share: test certificates made with openssl, a real
SMTP server (aiosmtpd) that records what it received, a scripted SMTP peer
for what aiosmtpd cannot do, running smtpclient, and the checks of the
received message and of the capture."""

import asyncio
import base64
import email
import email.policy
import logging
import os
import re
import socket
import subprocess
import tempfile
import threading
import time

from aiosmtpd.smtp import SMTP, AuthResult

from socklab import capture as capmod
from socklab.feedback import show_bytes
from socklab.paths import session_tmp

SERVER_NAME = "mail.socklab.test"   # what the server calls itself in its replies
FROM = "alice@socklab.test"
TO = "bob@socklab.test"
USER = "alice"
PASSWORD = "Tr0ub4dor&3-s3cr3t-7q"   # never in smtpclient's log, never in clear after STARTTLS
OPENSSL_TIMEOUT = 20
logging.getLogger("mail.log").setLevel(logging.ERROR)   # aiosmtpd's chatter is not the student's
DELIVERY_TIMEOUT = 8.0
SILENT_WAIT = 12.0      # seconds a silent scripted server waits for the client to give up


# --- certificates ---------------------------------------------------------

_certs = None
_certs_lock = threading.Lock()


def _openssl(*args, cwd):
    """Run one openssl command with a deadline; raise with its stderr on failure."""
    try:
        out = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, timeout=OPENSSL_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"openssl {args[0]} took more than {OPENSSL_TIMEOUT} s") from e
    if out.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {out.stderr.decode(errors='replace')}")


def _make_ca(name, cwd):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN=socklab test {name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
             cwd=cwd)


def _make_cert(name, ca, san, cwd):
    """A server certificate NAME.pem/NAME.key for SAN, signed by CA."""
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={san.split(',')[0].split(':')[1]}",
             cwd=cwd)
    with open(os.path.join(cwd, f"{name}.ext"), "w") as f:
        f.write(f"subjectAltName={san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-days", "2", "-out", f"{name}.pem", "-extfile", f"{name}.ext", cwd=cwd)


def certs():
    """The test PKI of this process, made once (a few EC keys, well under a second):
    ca.pem (the CA smtpclient trusts), good (localhost and 127.0.0.1),
    wronghost (another name), rogue (localhost, from an unknown CA)."""
    global _certs  # one PKI per grading process: keys are made at test time, never committed
    with _certs_lock:
        if _certs is None:
            d = tempfile.mkdtemp(prefix="socklab-smtp-pki-", dir=session_tmp())
            _make_ca("ca", d)
            _make_ca("rogueca", d)
            _make_cert("good", "ca", "DNS:localhost,IP:127.0.0.1", d)
            _make_cert("wronghost", "ca", "DNS:mail.elsewhere.test", d)
            _make_cert("rogue", "rogueca", "DNS:localhost,IP:127.0.0.1", d)
            _certs = d
        return _certs


def server_tls_context(cert="good"):
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    d = certs()
    ctx.load_cert_chain(os.path.join(d, f"{cert}.pem"), os.path.join(d, f"{cert}.key"))
    return ctx


# --- the aiosmtpd server -----------------------------------------------------

class _Recorder:
    """aiosmtpd handler: records every step the grader checks, and refuses
    the recipients it was told to."""

    def __init__(self, srv):
        self.srv = srv

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.srv.note("EHLO", tls=self.srv.implicit or server._tls_protocol is not None)
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        self.srv.note("HELO")
        return f"250 {SERVER_NAME}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.srv.reject:
            self.srv.note("RCPT refused", address=address)
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.srv.note("message", mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos),
                      content=envelope.original_content,
                      tls=self.srv.implicit or server._tls_protocol is not None,
                      authenticated=bool(session.authenticated))
        return "250 2.0.0 Message accepted for delivery"

    async def handle_QUIT(self, server, session, envelope):
        self.srv.note("QUIT")
        return "221 2.0.0 Bye"

    def handle_STARTTLS(self, server, session, envelope):
        self.srv.note("TLS started")
        return True


class MailServer:
    """A real SMTP server (aiosmtpd) in a thread of the case, on the case's
    port, in the case's network namespace (the listening socket is made by
    the case's thread; the loop thread it starts inherits the namespace).

    tls: "starttls" (offers STARTTLS, requires it before MAIL and AUTH),
    "implicit" (TLS from the first byte) or None; cert: the certificate it
    shows; users: {user: password} for AUTH (then required); reject:
    recipients refused with 550."""

    def __init__(self, case, tls=None, cert="good", users=None, reject=(), auth_require_tls=None):
        self.case = case
        self.implicit = tls == "implicit"
        self.reject = set(reject)
        self.users = dict(users or {})
        self.events = []
        self.cond = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)   # 127.0.0.1 and ::1 both
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("::", case.port))
        self.sock.listen(16)
        self.sock.setblocking(False)
        context = server_tls_context(cert) if tls else None
        require_tls = tls == "starttls" if auth_require_tls is None else auth_require_tls
        handler = _Recorder(self)

        def factory():
            return SMTP(handler, hostname=SERVER_NAME, ident="socklab aiosmtpd",
                        tls_context=context if tls == "starttls" else None,
                        require_starttls=tls == "starttls",
                        authenticator=self._authenticate if self.users else None,
                        # AUTH before MAIL is required only where it may be sent (aiosmtpd
                        # warns otherwise); the cases check that the session authenticated.
                        auth_required=bool(self.users) and require_tls, auth_require_tls=require_tls,
                        data_size_limit=32 << 20, timeout=30, loop=self.loop)

        self._ready = threading.Event()
        self._failed = None
        self.thread = threading.Thread(target=self._run, args=(factory, context if self.implicit else None),
                                       daemon=True, name="socklab-aiosmtpd")
        self.thread.start()
        if not self._ready.wait(10) or self._failed:
            raise RuntimeError(f"the aiosmtpd server did not start: {self._failed}")
        what = {"starttls": "with STARTTLS", "implicit": "with implicit TLS", None: "in plaintext"}[tls]
        auth = f", AUTH required ({', '.join(self.users)})" if self.users else ""
        case.step(f"SMTP server (aiosmtpd) listening on port {case.port} {what}"
                  f"{f', certificate {cert}' if tls else ''}{auth}")
        case.add_resource(self)

    def _run(self, factory, ssl_context):
        asyncio.set_event_loop(self.loop)
        try:
            self.server = self.loop.run_until_complete(
                self.loop.create_server(factory, sock=self.sock, ssl=ssl_context))
        except Exception as e:  # reported by the constructor
            self._failed = repr(e)
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.server.close()
        for task in asyncio.all_tasks(self.loop):
            task.cancel()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        user = auth_data.login.decode(errors="replace")
        ok = self.users.get(user) == auth_data.password.decode(errors="replace")
        self.note("AUTH", mechanism=mechanism, user=user, ok=ok,
                  tls=self.implicit or server._tls_protocol is not None)
        return AuthResult(success=ok, handled=False)

    def note(self, what, **facts):
        with self.cond:
            self.events.append(dict(facts, what=what))
            self.cond.notify_all()
        detail = ", ".join(f"{k} {v!r}" for k, v in facts.items() if k != "content")
        self.case.step(f"SMTP server: {what}{': ' + detail if detail else ''}")

    def wait_for(self, what, timeout=DELIVERY_TIMEOUT, while_true=None):
        """The first event WHAT, waiting up to TIMEOUT s (and only while
        WHILE_TRUE() holds, if given); None if it never came."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [e for e in self.events if e["what"] == what]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                if while_true is not None and not while_true():
                    # The client ended: what it sent is in, give the loop a moment to record it.
                    left = min(left, 0.5)
                    while_true = None
                    deadline = time.monotonic() + left
                self.cond.wait(min(left, 0.05))

    def seen(self, what):
        with self.cond:
            return [e for e in self.events if e["what"] == what]

    def close(self):
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.sock.close()


# --- running smtpclient ----------------------------------------------------

def put_file(case, name, data, mode=0o644):
    """Write DATA into the case's work folder as NAME, readable by the student's
    program; return the path."""
    path = os.path.join(case.workdir, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    if case.limits.uid is not None:
        os.chown(path, case.limits.uid, case.limits.uid)
    return path


def run_client(case, *extra, to=(TO,), subject="socklab test", body=b"Hello Bob.\n", server="127.0.0.1",
               stdin_body=False):
    """Start smtpclient against the case's port with the usual options and EXTRA."""
    args = ["--server", server, "--port", case.port, "--from", FROM]
    for addr in to:
        args += ["--to", addr]
    args += ["--subject", subject]
    if stdin_body:
        return case.start("smtpclient", *args, *extra, stdin=body)
    args += ["--body-file", put_file(case, "body.txt", body)]
    return case.start("smtpclient", *args, *extra, stdin=b"")


def cafile(case):
    """The test CA's certificate, copied where smtpclient can read it."""
    with open(os.path.join(certs(), "ca.pem"), "rb") as f:
        return put_file(case, "ca.pem", f.read())


def auth_args(case, mech, password=PASSWORD):
    return ["--auth", mech, "--user", USER,
            "--password-file", put_file(case, "password.txt", password.encode() + b"\n", 0o600)]


def expect_exit(case, client, status, why, timeout=DELIVERY_TIMEOUT):
    rc = case.wait_exit(client, timeout=timeout, why=why)
    if rc != status:
        case.fail(f"smtpclient's exit status is wrong {why}",
                  expected=f"exit status {status}", saw=client.status_text(),
                  hint="exit 0 when the server accepted the mail, 1 when anything failed")


def expect_delivery(case, server, client, hint=None):
    """The message the server received, or fail saying what happened instead."""
    got = server.wait_for("message", while_true=client.running)
    if got is None:
        last = [e["what"] for e in server.events][-4:]
        if not client.running():
            hint = "smtpclient gave up: its log below names the first step or reply that went wrong"
        case.fail("the SMTP server received no message",
                  expected="MAIL FROM, RCPT TO, DATA, the message and a line '.', then QUIT",
                  saw=f"smtpclient {client.status_text()}; the server's last steps: "
                      f"{', '.join(last) or 'none'}",
                  hint=hint or "read the log on stderr: the first reply that went wrong is named there")
    return got


def parse(content):
    """The received message, parsed by Python's email package."""
    return email.message_from_bytes(content, policy=email.policy.default)


def expect_header(case, msg, name, expected):
    got = msg.get(name)
    if got is None or str(got) != expected:
        case.fail(f"the message's {name} header is not what was asked for",
                  expected=f"{name}: {expected}", saw=f"{name}: {got}" if got is not None else "no such header",
                  hint=f"write the {name} header from the command line's options")


def text_of(msg):
    """The text part's content, with CRLF turned into LF."""
    part = msg.get_body(preferencelist=("plain",)) if msg.is_multipart() else msg
    if part is None:
        return None
    return part.get_content().replace("\r\n", "\n")


def expect_body(case, msg, body):
    text = text_of(msg)
    want = body.decode().replace("\r\n", "\n")
    if text is None or text.rstrip("\n") != want.rstrip("\n"):
        seen = (text or "").encode()
        case.expect_bytes("the text of the message the server received", want.rstrip("\n").encode(),
                          seen.rstrip(b"\n"),
                          hint="send the body file's lines, each ended by CRLF, after the headers "
                               "and an empty line; a line starting with '.' needs one more '.'")


def expect_quit(case, server, client):
    if server.wait_for("QUIT", timeout=3, while_true=client.running) is None:
        case.fail("smtpclient did not end the session with QUIT",
                  expected="QUIT, the server's 221 reply, then the connection closed",
                  saw=f"no QUIT; smtpclient {client.status_text()}",
                  hint="after the message (or an error reply) send QUIT and read its reply before closing")


def unstuffed(data):
    """The message of a DATA text as the client made it: the final "." line and the
    dots of dot-stuffing removed (RFC 5321, 4.5.2)."""
    if data.endswith(b"\r\n.\r\n"):
        data = data[:-3]
    return b"".join(line[1:] if line.startswith(b".") else line for line in data.splitlines(keepends=True))


# --- the capture --------------------------------------------------------------

def client_connection(case):
    """The one captured connection to the case's port."""
    conns = case.tcp_connections()
    if len(conns) != 1:
        case.fail("the capture does not show exactly one connection to the SMTP server",
                  expected="1 TCP connection", saw=f"{len(conns)} connections")
    return conns[0]


def expect_clean_close(case):
    """The session's connection ends with a FIN each way, no reset."""
    c = client_connection(case)
    td = c["teardown"]
    if td["kind"].startswith("reset") or c["conn_state"] != "SF":
        case.fail("the SMTP connection did not end with a FIN from each side",
                  expected="conn_state SF (a FIN each way, after QUIT and 221), no reset",
                  saw=f"conn_state {c['conn_state']}, history {c['history']}, teardown {td['kind']}",
                  hint="after 221, shutdown(SHUT_WR), read until the server's end of stream, then close(): "
                       "closing with unread data sends a reset")
    return c


def search(case, strings):
    """pcapcheck search on the case's capture: {id: connection} (stops everything first)."""
    case.verdict()   # settles the case; raises NotChecked without a capture
    found = capmod.search(case.capture.path, strings)
    return [c for c in found["tcp"] if c["resp"]["port"] == case.port]


def secrets(user=USER, password=PASSWORD):
    """The password and the forms it takes on the wire and in logs."""
    plain = b"\0" + user.encode() + b"\0" + password.encode()
    return [password.encode(), base64.b64encode(password.encode()), base64.b64encode(plain)]


def expect_no_secret_in_log(case, client, password=PASSWORD):
    err = client.stderr.bytes()
    for s in secrets(password=password):
        if s in err:
            case.fail("smtpclient's log shows the password",
                      expected=f"the password line masked (C: {'*' * 8})",
                      saw=f"{show_bytes(s)} on stderr",
                      hint="log the lines that carry the password in a masked form: base64 is not "
                           "encryption, anyone can decode it")
    if not re.search(rb"C: AUTH (LOGIN|PLAIN)", err):
        case.fail("smtpclient's log does not show the dialogue",
                  expected="a line 'C: AUTH LOGIN' (or PLAIN) on stderr, then the masked secret",
                  saw=client.stderr.tail(6) or "nothing")


class ScriptedServer:
    """A scripted SMTP peer on a plain socket, for what aiosmtpd will not do
    (replies in small pieces, refusing EHLO, saying nothing). It answers one
    command at a time from a table and records the commands, in a thread.
    A greeting or a reply of None: say nothing, and wait for the client's
    close (then close too); tail: what the client sent last that was not a
    whole line. tls: the certificate of a TLS handshake before the greeting
    (implicit TLS). size_limit: what Postfix does with its message_size_limit
    (a MAIL FROM whose SIZE= is over it, or a message over it, gets 552)."""

    def __init__(self, case, replies, chunk=None, pace=0.0, greeting=b"220 mail.socklab.test ESMTP\r\n",
                 tls=None, size_limit=None):
        self.case = case
        self.replies = replies          # {"EHLO": bytes, ...}: the command's first word -> reply
        self.turns = {}                 # (or a list of replies, one for each time the word comes)
        self.chunk, self.pace = chunk, pace
        self.greeting = greeting
        self.tls = tls
        self.size_limit = size_limit
        self.commands = []              # the command lines received, in order
        self.message = None             # the DATA text up to its CRLF . CRLF
        self.quit = False
        self.tail = b""
        self.listener = case.tcp_listener(label="scripted SMTP server")
        self.done = threading.Event()
        self.conn = None

    def serve(self, client):
        """Accept the client and run the dialogue in a thread."""
        self.conn = self.case.accept_client(self.listener, client)
        threading.Thread(target=self._run, daemon=True, name="socklab-scripted-smtp").start()

    def _send(self, data):
        self.conn.send(data, chunk=self.chunk, pace=self.pace, note=show_bytes(data, 120))

    def _silent(self):
        """Say nothing; wait until the client closes (or SILENT_WAIT s), then close
        (the client waits for our FIN before it exits)."""
        self.case.step("scripted SMTP server says nothing")
        got = self.conn.recv_to_eof(timeout=SILENT_WAIT, what="what the client sends to a silent server")
        self.tail = got.data
        self.conn.close()

    def _start_tls(self):
        """The server's side of a TLS handshake, on the accepted connection."""
        sock = self.conn.sock
        sock.settimeout(5)
        try:
            self.conn.sock = server_tls_context(self.tls).wrap_socket(sock, server_side=True)
        except OSError as e:
            self.case.step(f"scripted SMTP server: the TLS handshake failed: {e}")
            return False
        self.case.step(f"scripted SMTP server: TLS handshake done ({self.conn.sock.version()}, "
                       f"certificate {self.tls})")
        return True

    def _too_large(self, size):
        return self.size_limit is not None and size > self.size_limit

    def _mail_reply(self, line):
        """552 for a MAIL FROM whose SIZE= is over the limit, else the table's reply."""
        m = re.search(r"(?i)\sSIZE=(\d+)", line)
        if m and self._too_large(int(m.group(1))):
            return b"552 5.3.4 Message size exceeds fixed limit\r\n"
        return self.replies.get("MAIL", b"250 2.1.0 OK\r\n")

    def _run(self):
        try:
            if self.tls is not None and not self._start_tls():
                return
            if self.greeting is None:
                self._silent()
                return
            self._send(self.greeting)
            while True:
                got = self.conn.recv_until(b"\n", timeout=5, what="a command")
                if got.how != "delimiter":
                    self.tail = got.data
                    return
                line = got.data.rstrip(b"\r\n").decode(errors="replace")
                self.commands.append(line)
                word = line.split(" ")[0].upper().rstrip(":")
                word = "MAIL" if line.upper().startswith("MAIL FROM") else word
                word = "RCPT" if line.upper().startswith("RCPT TO") else word
                if word == "DATA":
                    self._send(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    data = self.conn.recv_until(b"\r\n.\r\n", timeout=5, what="the message")
                    if data.how != "delimiter":
                        return
                    self.message = data.data
                    self._send(b"552 5.3.4 Message size exceeds fixed limit\r\n"
                               if self._too_large(len(unstuffed(data.data))) else b"250 2.0.0 queued\r\n")
                    continue
                if word == "QUIT":
                    self.quit = True
                    self._send(b"221 2.0.0 Bye\r\n")
                    self.conn.close()
                    return
                reply = self._mail_reply(line) if word == "MAIL" else self.replies.get(word, b"250 2.0.0 OK\r\n")
                if isinstance(reply, list):     # one reply after another, the last one repeated
                    turn = self.turns.get(word, 0)
                    self.turns[word] = turn + 1
                    reply = reply[min(turn, len(reply) - 1)]
                if reply is None:
                    self._silent()
                    return
                self._send(reply)
        finally:
            self.done.set()

    def wait(self, timeout=DELIVERY_TIMEOUT):
        """Wait until the dialogue ended (QUIT, a close, a timeout)."""
        self.done.wait(timeout)

    def close(self):
        """Stop listening and close the connection: the next scripted server may take the port."""
        if self.conn is not None:
            self.conn.discard()
        self.listener.close()
