"""TLS: STARTTLS on a 587-style server, implicit TLS on a 465-style one, and
certificates that must be refused. The capture must show nothing of the
session in clear after the TLS handshake starts."""

import random
import re

from maillib import (FROM, PASSWORD, USER, MailServer, auth_args, cafile, expect_clean_close,
                     expect_delivery, expect_exit, expect_no_secret_in_log, expect_quit, parse,
                     put_file, run_client, search, secrets)
from test_smtp_send import expect_attachments, expect_short_base64_lines

SUBJECT = "Over TLS"
# What must never be seen in clear once TLS has started.
CLIENT_SECRETS = [b"AUTH", b"MAIL FROM", b"RCPT TO", b"DATA\r\n", b"QUIT", b"Subject:", FROM.encode(),
                  *secrets()]
SERVER_SECRETS = [b"235 ", b"354 ", b"221 "]


def expect_tls_everywhere(case, implicit=False):
    """The capture: TLS starts in both directions (at byte 0 for implicit
    TLS), and no SMTP command, credential or reply follows in clear."""
    (c,) = search(case, CLIENT_SECRETS + SERVER_SECRETS)
    for side, who in (("orig_stream", "smtpclient"), ("resp_stream", "the server")):
        tls = c[side]["tls"]
        if tls is None or (implicit and tls["offset"] != 0):
            case.fail(f"the capture shows no TLS handshake from {who}"
                      f"{' at the first byte' if implicit else ' after STARTTLS'}",
                      expected="a TLS handshake record (ClientHello / ServerHello)",
                      saw=f"{c[side]['bytes']} bytes, no TLS record at a line start")
    leaks = [(m["string"], m["after_tls"]) for side in ("orig_stream", "resp_stream")
             for m in c[side]["matches"] if m["after_tls"]]
    if leaks:
        case.fail("the capture shows SMTP in clear after TLS started",
                  expected="after the ClientHello, only TLS records: every command, credential and "
                           "reply encrypted",
                  saw=", ".join(f"{s!r} ×{n}" for s, n in leaks),
                  hint="after 220 to STARTTLS, send and receive only through SSL_write()/SSL_read()")
    before = {m["string"]: m["count"] - m["after_tls"] for m in c["orig_stream"]["matches"]}
    if not implicit and (before.get("AUTH") or before.get("MAIL FROM")):
        case.fail("smtpclient sent AUTH or MAIL FROM in clear before STARTTLS",
                  expected="EHLO, STARTTLS, then everything else inside TLS",
                  saw=f"AUTH ×{before.get('AUTH', 0)}, MAIL FROM ×{before.get('MAIL FROM', 0)} before TLS")
    return c


def test_smtp_starttls(case):
    server = MailServer(case, tls="starttls", users={USER: PASSWORD})
    data = bytes(random.Random(587).getrandbits(8) for _ in range(200_000))
    path = put_file(case, "scan.pdf", data)
    client = run_client(case, "--starttls", "--cafile", cafile(case), *auth_args(case, "login"),
                        "--attach", path, subject=SUBJECT, server="localhost",
                        body=b"The scan, sent over TLS.\n")
    got = expect_delivery(case, server, client,
                          hint="EHLO, STARTTLS (220), the TLS handshake, EHLO again, AUTH, MAIL...: "
                               "the first wrong reply is named on stderr")
    ehlo_tls = [e for e in server.seen("EHLO") if e["tls"]]
    auth = server.seen("AUTH")
    if not got["tls"] or not ehlo_tls or not auth or not auth[0]["tls"]:
        case.fail("the session did not go EHLO, STARTTLS, EHLO, AUTH over TLS",
                  expected="message over TLS: True; EHLO after TLS: True; AUTH over TLS: True",
                  saw=f"message over TLS: {got['tls']}; EHLO after TLS: {bool(ehlo_tls)}; "
                      f"AUTH over TLS: {bool(auth and auth[0]['tls'])}",
                  hint="after the handshake say EHLO again: the server forgets what came before TLS")
    msg = parse(got["content"])
    expect_short_base64_lines(case, got["content"])
    expect_attachments(case, msg, {"scan.pdf": ("application/pdf", data)})
    expect_exit(case, client, 0, "after the server accepted the mail")
    expect_quit(case, server, client)
    expect_no_secret_in_log(case, client)
    expect_clean_close(case)
    expect_tls_everywhere(case)


def _refused(case, cert, also_ip=False):
    server = MailServer(case, tls="starttls", cert=cert, users={USER: PASSWORD})
    clients = []
    for host in ("localhost", "127.0.0.1") if also_ip else ("localhost",):
        client = run_client(case, "--starttls", "--cafile", cafile(case), *auth_args(case, "plain"),
                            server=host, subject="must not be sent")
        expect_exit(case, client, 1, f"after the server showed a certificate it must refuse (--server {host})")
        _expect_nothing_after(case, client, host)
        clients.append(client)
    client = clients[0]
    if server.seen("AUTH") or server.seen("message"):
        case.fail("smtpclient accepted a certificate it must refuse, and went on",
                  expected="the TLS handshake fails, smtpclient exits 1 without sending anything more",
                  saw=f"AUTH: {bool(server.seen('AUTH'))}, message: {bool(server.seen('message'))}",
                  hint="SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL), the --cafile loaded, and the "
                       "host name set with SSL_set1_host() before SSL_connect()")
    err = client.stderr.bytes()
    if not re.search(rb"(?i)certificate|verif", err):
        case.fail("smtpclient does not say that the certificate was refused",
                  expected="an ERROR line about the server's certificate (its reason from OpenSSL)",
                  saw=client.stderr.tail(4) or "nothing")
    for c in search(case, [b"AUTH", b"QUIT"]):
        if c["orig_stream"]["tls"] is None:
            case.fail("the capture shows no TLS handshake attempt",
                      expected="STARTTLS, then a ClientHello", saw="no TLS record from smtpclient")
        if any(m["count"] for m in c["orig_stream"]["matches"]):
            case.fail("smtpclient sent AUTH or QUIT after the certificate was refused",
                      expected="nothing more after the failed handshake", saw="AUTH or QUIT in the capture")


def _expect_nothing_after(case, client, host):
    """After a refused certificate, the client tries no more commands: no 'C: QUIT' in its log."""
    if re.search(rb"C: (QUIT|AUTH|MAIL)", client.stderr.bytes()):
        case.fail(f"smtpclient went on after the certificate of the server was refused (--server {host})",
                  expected="exit status 1 and nothing sent after the failed handshake: no QUIT either",
                  saw=client.stderr.tail(4),
                  hint="a failed handshake marks the session broken: hang_up() then sends no QUIT")


def test_smtp_tls_wrong_host(case):
    _refused(case, "wronghost", also_ip=True)


def test_smtp_tls_unknown_ca(case):
    _refused(case, "rogue")


def test_smtp_implicit_tls(case):
    server = MailServer(case, tls="implicit", users={USER: PASSWORD}, auth_require_tls=False)
    client = run_client(case, "--tls", "--cafile", cafile(case), *auth_args(case, "plain"),
                        subject=SUBJECT, body=b"TLS from the first byte.\n")
    got = expect_delivery(case, server, client,
                          hint="with --tls, the TLS handshake comes first, before the greeting")
    if not got["authenticated"]:
        case.fail("the mail was sent without AUTH", expected="AUTH PLAIN accepted (235)")
    expect_exit(case, client, 0, "after the server accepted the mail")
    expect_quit(case, server, client)
    expect_clean_close(case)
    expect_tls_everywhere(case, implicit=True)
