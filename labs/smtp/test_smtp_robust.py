"""smtpclient against scripted servers that misbehave or speak SMTP in ways
the RFC allows: silent servers (--timeout; in plaintext and over TLS),
greetings that are no reply or no 220, a reply of 000, EHLO keywords in
lower case, 200, 251 and 299 as successes, the exact AUTH PLAIN line, bytes
injected after the 220 to STARTTLS, and a server whose SIZE is small."""

import base64
import re
import time

from socklab.feedback import show_bytes

from maillib import (FROM, PASSWORD, TO, USER, ScriptedServer, auth_args, cafile, expect_exit, parse,
                     run_client, unstuffed)

TIMEOUT = 2          # the --timeout the cases pass
EARLIEST = 1.5       # a client may not give up much before its --timeout
LATEST = 7.0         # ... nor long after it (the grader's load included)


def _commands(server):
    return [c.split(" ")[0].split(":")[0].upper() for c in server.commands]


def _gives_up(case, greeting, replies, what, allowed, tls=None, extra=(), server_name="127.0.0.1"):
    """Run the client (with EXTRA options) against a scripted server that says
    GREETING and answers with REPLIES (after a TLS handshake with certificate
    TLS, if given); it must exit 1, having sent only commands of ALLOWED.
    Returns the seconds it took, the server and the client."""
    server = ScriptedServer(case, replies, greeting=greeting, tls=tls)
    started = time.monotonic()
    client = run_client(case, "--timeout", str(TIMEOUT), *extra, subject="a server that misbehaves",
                        server=server_name)
    server.serve(client)
    rc = case.wait_exit(client, timeout=LATEST + 3, why=f"against {what}")
    took = time.monotonic() - started
    server.wait(3)
    server.close()
    if rc != 1:
        case.fail(f"smtpclient's exit status is wrong against {what}", expected="exit status 1",
                  saw=client.status_text(),
                  hint="a session that cannot deliver the mail ends with exit status 1")
    sent = [c for c in _commands(server) if c not in allowed]
    if sent:
        case.fail(f"smtpclient went on against {what}",
                  expected=f"no command but {', '.join(sorted(allowed)) or 'none'}",
                  saw=f"commands {server.commands!r}",
                  hint="check every reply: a session goes on only after the reply it needs")
    if b"ERROR" not in client.stderr.bytes():
        case.fail(f"smtpclient did not say why it stopped against {what}",
                  expected="an ERROR line on standard error", saw=client.stderr.tail(4) or "nothing")
    return took, server, client


SILENT = (
    # what, greeting, replies, commands allowed, the server's TLS certificate, the client's options
    ("a server that never sends its greeting", None, {}, set(), None, False),
    ("a server that never answers EHLO", b"220 mail.socklab.test ESMTP\r\n", {"EHLO": None}, {"EHLO"}, None,
     False),
    ("a server that never answers MAIL FROM", b"220 mail.socklab.test ESMTP\r\n", {"MAIL": None},
     {"EHLO", "MAIL"}, None, False),
    ("a TLS server (--tls) silent in the handshake", None, {}, set(), None, True),
    ("a TLS server (--tls) that never sends its greeting after the handshake", None, {}, set(), "good", True),
)


def _expect_timeout_named(case, client, what):
    """The ERROR line says how long the client waited, as in plaintext: 'no progress in 2 s'."""
    errors = [line for line in client.stderr.bytes().splitlines() if b"ERROR" in line]
    if not any(f"no progress in {TIMEOUT} s".encode() in line for line in errors):
        case.fail(f"smtpclient's ERROR line does not say that {what} made no progress for {TIMEOUT} s",
                  expected=f"an ERROR line such as 'receive from 127.0.0.1:{case.port}: no progress in "
                           f"{TIMEOUT} s' (the same words over TLS)",
                  saw=b" / ".join(errors[-2:]).decode(errors="replace") or "no ERROR line",
                  hint="a receive that times out fails with EAGAIN; over TLS, OpenSSL reports it as "
                       "SSL_ERROR_WANT_READ (tlsconn.c, written for you, names both the same way)")


def test_smtp_silent_or_broken_server(case):
    for what, greeting, replies, allowed, cert, tls in SILENT:
        extra = ("--tls", "--cafile", cafile(case)) if tls else ()
        took, server, client = _gives_up(case, greeting, replies, what, allowed, tls=cert, extra=extra,
                                         server_name="localhost" if tls else "127.0.0.1")
        if not EARLIEST <= took <= LATEST:
            case.fail(f"smtpclient did not give up on {what} after its --timeout of {TIMEOUT} s",
                      expected=f"exit status 1 between {EARLIEST:g} and {LATEST:g} s after it started",
                      saw=f"it ended after {took:.1f} s",
                      hint="conn_open() bounds every send and receive by --timeout (SO_RCVTIMEO): a "
                           "receive that times out fails, and the session ends without QUIT")
        # In a TLS handshake, what the client sent before it gave up is its ClientHello.
        tail = b"" if tls and cert is None and server.tail.startswith(b"\x16\x03") else server.tail
        if tail.strip() or "QUIT" in _commands(server):
            case.fail(f"smtpclient sent more to {what} after its timeout",
                      expected="nothing after the command that got no reply, no QUIT either: after a "
                               "timeout the connection is in no state to carry one",
                      saw=f"commands {server.commands!r}, then {show_bytes(server.tail)}",
                      hint="a receive that timed out fails the step: the session ends there (broken)")
        _expect_timeout_named(case, client, what)
    _gives_up(case, b"hello, this is not an SMTP server\r\n", {}, "a greeting that is not an SMTP reply",
              {"QUIT"})
    _gives_up(case, b"554 5.3.2 mail.socklab.test has no service for you\r\n", {},
              "a greeting of 554 (not 220)", {"QUIT"})
    _, server, client = _gives_up(case, b"220 mail.socklab.test ESMTP\r\n",
                                  {"MAIL": b"000 a code whose first digit is no 2\r\n"},
                                  "a reply of 000 to MAIL FROM", {"EHLO", "MAIL", "QUIT"})
    errors = [line for line in client.stderr.bytes().splitlines() if b"ERROR" in line]
    if not server.quit or not any(b"MAIL" in line and b"000" in line for line in errors):
        case.fail("smtpclient did not treat a reply of 000 to MAIL FROM as a refusal",
                  expected="an ERROR line naming MAIL FROM and the reply '000 ...', then QUIT and exit 1 "
                           "(000 is three digits: a reply, whose first digit is not the 2 MAIL needs)",
                  saw=f"commands {server.commands!r}; errors: "
                      f"{b' / '.join(errors[-2:]).decode(errors='replace') or 'none'}",
                  hint="a line is no reply only when line_code() returns -1; any other code is compared "
                       "by its first digit")


LOWER_EHLO = (b"250-mail.socklab.test greets you\r\n"
              b"250-size 10240000\r\n"
              b"250-auth cram-md5 login plain\r\n"
              b"250 8bitmime\r\n")
EHLO_NAME = re.compile(r"^\[(IPv6:[0-9A-Fa-f:.]+|\d{1,3}(\.\d{1,3}){3})\]$|"
                       r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")


def _check_relaxed_server(case):
    server = ScriptedServer(case, {"EHLO": LOWER_EHLO, "AUTH": b"235 2.7.0 Authentication successful\r\n",
                                   "MAIL": b"200 2.1.0 sender ok\r\n",
                                   "RCPT": [b"251 2.1.5 user not local; will forward\r\n",
                                            b"299 2.1.5 recipient ok\r\n"]})
    rcpts = [TO, "carol@socklab.test"]
    client = run_client(case, *auth_args(case, "plain"), to=rcpts, subject="Relaxed", body=b"Lower case.\n")
    server.serve(client)
    server.wait()
    server.close()
    ehlo = server.commands[0] if server.commands else ""
    name = ehlo[5:] if ehlo.upper().startswith("EHLO ") else None
    if name is None or not EHLO_NAME.match(name):
        case.fail("smtpclient's EHLO does not name its host",
                  expected="EHLO <domain> or EHLO <address literal> such as [127.0.0.1] or [IPv6:::1]",
                  saw=repr(ehlo), hint="the solution sends the address literal of its end of the socket")
    plain = "AUTH PLAIN " + base64.b64encode(b"\0" + USER.encode() + b"\0" + PASSWORD.encode()).decode()
    auth = [c for c in server.commands if c.upper().startswith("AUTH")]
    if auth != [plain]:
        case.fail("smtpclient did not log in with the AUTH PLAIN line the handout gives",
                  expected=f"one line 'AUTH PLAIN <base64 of \\0{USER}\\0password>' (the server offered "
                           "'250-auth cram-md5 login plain': keywords are case-insensitive, in any order)",
                  saw=f"AUTH lines {auth!r}" if auth else f"no AUTH; commands {server.commands!r}",
                  hint="EHLO keywords are case-insensitive (strcasecmp); the base64 covers "
                       "'\\0' user '\\0' password: lengths counted by hand, never strlen()")
    words = _commands(server)
    if words.count("RCPT") != 2 or "DATA" not in words or server.message is None:
        case.fail("smtpclient did not go on after '200' to MAIL FROM, '251' and '299' to RCPT TO",
                  expected="RCPT TO for each recipient, DATA, the message (a reply whose first digit is 2 "
                           "is a success: 200, 251 and 299 too)",
                  saw=f"commands {server.commands!r}",
                  hint="compare the first digit of the reply with the one the command needs")
    expect_exit(case, client, 0, "after the server accepted the mail")


def _check_injected_starttls(case):
    server = ScriptedServer(case, {"EHLO": b"250-mail.socklab.test\r\n250-starttls\r\n250 help\r\n",
                                   "STARTTLS": b"220 2.0.0 Ready to start TLS\r\n"
                                               b"250 2.0.0 injected before TLS by someone on the path\r\n"})
    client = run_client(case, "--starttls", "--cafile", cafile(case), server="localhost", subject="Injected")
    server.serve(client)
    expect_exit(case, client, 1, "after bytes came after the 220 to STARTTLS")
    server.wait(3)
    server.close()
    words = _commands(server)
    if "STARTTLS" not in words:
        case.fail("smtpclient did not send STARTTLS to a server offering it as '250-starttls'",
                  expected="STARTTLS after EHLO (EHLO keywords are case-insensitive)",
                  saw=f"commands {server.commands!r}", hint="compare EHLO keywords with strcasecmp()")
    after = server.commands[words.index("STARTTLS") + 1:]
    hello = b"\x16\x03" in server.tail or any("\x16\x03" in c for c in after)
    if after or hello:
        case.fail("smtpclient went on although the server sent more bytes after its 220 to STARTTLS",
                  expected="no TLS handshake and no command: bytes after the 220 were injected "
                           "(CVE-2011-0411)",
                  saw=f"after STARTTLS: {after!r}{' and a TLS ClientHello' if hello else ''}",
                  hint="smtp_start_tls() refuses to start TLS while the input buffer holds bytes")


def test_smtp_reply_variants(case):
    _check_relaxed_server(case)
    _check_injected_starttls(case)


SIZE_LIMIT = 4000
SIZE_EHLO = (b"250-mail.socklab.test\r\n"
             b"250-PIPELINING\r\n"
             b"250-SIZE 4000\r\n"
             b"250 8BITMIME\r\n")


def _expect_size_given(case, server, offered="SIZE 4000"):
    """The MAIL FROM line gives SIZE=<bytes>, the bytes of the message the server received."""
    mail = [c for c in server.commands if c.upper().startswith("MAIL FROM")]
    if server.message is None:
        case.fail("the mail to a server that offers SIZE did not arrive",
                  expected="MAIL FROM:<...> SIZE=<bytes>, RCPT TO, DATA, the message, QUIT",
                  saw=f"commands {server.commands!r}",
                  hint="a message under the server's SIZE is sent as any other")
    real, wire = len(unstuffed(server.message)), len(server.message)
    m = re.fullmatch(rf"MAIL FROM:<{re.escape(FROM)}> SIZE=(\d+)", mail[0], re.I) if mail else None
    if m is None or not real <= int(m.group(1)) <= wire:
        case.fail("smtpclient's MAIL FROM does not give the message's size to a server that offers SIZE",
                  expected=f"MAIL FROM:<{FROM}> SIZE={real} (the bytes of the message: its CRLFs counted, "
                           "not the dots of dot-stuffing nor the final '.')",
                  saw=mail[0] if mail else f"no MAIL FROM; commands {server.commands!r}",
                  hint=f"the EHLO reply listed '{offered}' (RFC 1870): envelope() adds ' SIZE=<msg->len>' "
                       "to MAIL FROM when caps->size")


def test_smtp_size_limit(case):
    server = ScriptedServer(case, {"EHLO": SIZE_EHLO}, size_limit=SIZE_LIMIT)
    client = run_client(case, subject="Small enough", body=b"A mail well under the server's SIZE.\n")
    server.serve(client)
    expect_exit(case, client, 0, f"after a server offering SIZE {SIZE_LIMIT} accepted a small mail")
    server.wait(3)
    server.close()
    _expect_size_given(case, server)
    body = b"".join(b"line %02d of a mail that is larger than the server takes\n" % i for i in range(100))
    case.step(f"a mail of more than {len(body)} bytes to a server that takes {SIZE_LIMIT}: it must not be sent")
    big = ScriptedServer(case, {"EHLO": SIZE_EHLO}, size_limit=SIZE_LIMIT)
    client = run_client(case, subject="Too large", body=body)
    big.serve(client)
    expect_exit(case, client, 1, f"after the server announced SIZE {SIZE_LIMIT} for a larger mail")
    big.wait(3)
    big.close()
    if _commands(big) != ["EHLO", "QUIT"]:
        case.fail("smtpclient went on with a message larger than the server's SIZE",
                  expected=f"EHLO, then QUIT: a message over the {SIZE_LIMIT} bytes the EHLO reply announced "
                           "is not sent, and needs no MAIL FROM",
                  saw=f"commands {big.commands!r}"
                      f"{'; all of the message crossed the network, to be refused' if big.message else ''}",
                  hint="check_size() compares the message's length with the limit of 'SIZE 4000' after the "
                       "last EHLO")
    errors = [line for line in client.stderr.bytes().splitlines() if b"ERROR" in line]
    if not any(str(SIZE_LIMIT).encode() in line for line in errors):
        case.fail("smtpclient does not say that the message is larger than the server takes",
                  expected=f"an ERROR line naming the message's size and the server's limit ({SIZE_LIMIT} bytes)",
                  saw=b" / ".join(errors[-2:]).decode(errors="replace") or "no ERROR line")
    case.step("the same mail to a server whose EHLO reply says 'SIZE' without a limit: sent, with SIZE=")
    open_ended = ScriptedServer(case, {"EHLO": SIZE_EHLO.replace(b"SIZE 4000", b"SIZE")})
    client = run_client(case, subject="No limit", body=body)
    open_ended.serve(client)
    expect_exit(case, client, 0, "after a server offering SIZE without a limit accepted the mail")
    open_ended.wait(3)
    open_ended.close()
    _expect_size_given(case, open_ended, offered="SIZE")
