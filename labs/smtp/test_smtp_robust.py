"""smtpclient against scripted servers that misbehave or speak SMTP in ways
the RFC allows: silent servers (--timeout), greetings that are no reply or
no 220, a reply of 000, EHLO keywords in lower case, 200, 251 and 299 as
successes, the exact AUTH PLAIN line, and bytes injected after the 220 to
STARTTLS."""

import base64
import re
import time

from maillib import PASSWORD, TO, USER, ScriptedServer, auth_args, cafile, expect_exit, run_client

TIMEOUT = 2          # the --timeout the cases pass
EARLIEST = 1.5       # a client may not give up much before its --timeout
LATEST = 7.0         # ... nor long after it (the grader's load included)


def _commands(server):
    return [c.split(" ")[0].split(":")[0].upper() for c in server.commands]


def _gives_up(case, greeting, replies, what, allowed):
    """Run the client against a scripted server that says GREETING and answers
    with REPLIES; it must exit 1, having sent only commands of ALLOWED.
    Returns the seconds it took, the server and the client."""
    server = ScriptedServer(case, replies, greeting=greeting)
    started = time.monotonic()
    client = run_client(case, "--timeout", str(TIMEOUT), subject="a server that misbehaves")
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


def test_smtp_silent_or_broken_server(case):
    for what, greeting, replies, allowed in (
            ("a server that never sends its greeting", None, {}, set()),
            ("a server that never answers EHLO", b"220 mail.socklab.test ESMTP\r\n", {"EHLO": None}, {"EHLO"}),
            ("a server that never answers MAIL FROM", b"220 mail.socklab.test ESMTP\r\n", {"MAIL": None},
             {"EHLO", "MAIL"})):
        took, server, _ = _gives_up(case, greeting, replies, what, allowed)
        if not EARLIEST <= took <= LATEST:
            case.fail(f"smtpclient did not give up on {what} after its --timeout of {TIMEOUT} s",
                      expected=f"exit status 1 between {EARLIEST:g} and {LATEST:g} s after it started",
                      saw=f"it ended after {took:.1f} s",
                      hint="conn_open() bounds every send and receive by --timeout (SO_RCVTIMEO): a "
                           "receive that times out fails, and the session ends without QUIT")
        if server.tail.strip() or "QUIT" in _commands(server):
            case.fail(f"smtpclient sent more to {what} after its timeout",
                      expected="nothing after the command that got no reply, no QUIT either: after a "
                               "timeout the connection is in no state to carry one",
                      saw=f"commands {server.commands!r}, then {server.tail!r}",
                      hint="a receive that timed out fails the step: the session ends there (broken)")
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
