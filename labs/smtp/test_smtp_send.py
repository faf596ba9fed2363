"""smtpclient against a real SMTP server (aiosmtpd) in plaintext, and
against a scripted one that sends its replies in small pieces."""

import base64
import random
import re

from socklab.feedback import show_bytes

from maillib import (FROM, TO, MailServer, ScriptedServer, client_connection, expect_body,
                     expect_clean_close, expect_delivery, expect_exit, expect_header, expect_quit,
                     parse, put_file, run_client, search)

END_HINT = ("if smtpclient is still waiting, the server is too: the message ends with a line holding "
            "only '.', i.e. the bytes CRLF . CRLF after the last line")


def test_smtp_plain_send(case):
    server = MailServer(case)
    body = b"Hello Bob,\n\nthe SMTP lab works.\n-- \nAlice\n"
    client = run_client(case, subject="Lab report, week 6", body=body)
    got = expect_delivery(case, server, client, hint=END_HINT)
    if got["mail_from"] != FROM or got["rcpt_tos"] != [TO]:
        case.fail("the envelope is not the one asked for",
                  expected=f"MAIL FROM:<{FROM}>, RCPT TO:<{TO}>",
                  saw=f"MAIL FROM {got['mail_from']!r}, RCPT TO {got['rcpt_tos']!r}")
    msg = parse(got["content"])
    expect_header(case, msg, "From", FROM)
    expect_header(case, msg, "To", TO)
    expect_header(case, msg, "Subject", "Lab report, week 6")
    expect_body(case, msg, body)
    if not got["content"].endswith(b"\r\nAlice\r\n"):
        case.fail("the message does not end with the body's last line",
                  expected="...\\r\\nAlice\\r\\n, then the line '.'",
                  saw=show_bytes(got["content"][-30:]),
                  hint="add a CRLF before the final '.' only when the message does not already end with one")
    for name in ("Date", "MIME-Version"):
        if msg.get(name) is None:
            case.fail(f"the message has no {name} header", expected=f"a {name} header (see the handout's DATA example)")
    expect_message_id(case, got["content"])
    expect_exit(case, client, 0, "after the server accepted the mail")
    expect_quit(case, server, client)
    _expect_dialogue_logged(case, client, body)
    # The capture: QUIT is the last thing the client sent, then a FIN each way.
    expect_clean_close(case)
    (c,) = search(case, [b"QUIT\r\n"])
    quit_hits = c["orig_stream"]["matches"][0]
    sent = c["orig_stream"]["bytes"]
    if not quit_hits["count"] or quit_hits["offsets"][-1]["offset"] + 6 != sent:
        case.fail("in the capture, the client's last bytes are not 'QUIT' CRLF",
                  expected="QUIT\\r\\n at the end of the client's stream, then its FIN",
                  saw=f"{quit_hits['count']} QUIT line(s) in {sent} bytes")


# RFC 5322, 3.6.4: msg-id = "<" id-left "@" id-right ">", both dot-atom-text here.
ATEXT = rb"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
MESSAGE_ID = re.compile(rb"<(" + ATEXT + rb"(?:\." + ATEXT + rb")*)@(" + ATEXT + rb"(?:\." + ATEXT + rb")*)>")


def expect_message_id(case, content, others=()):
    """The raw message has one Message-ID header, <left@the sender's domain>, none of OTHERS'."""
    head = content.split(b"\r\n\r\n", 1)[0]
    found = re.findall(rb"(?im)^message-id:[ \t]*(.*)$", head)
    if len(found) != 1:
        case.fail("the message does not have one Message-ID header",
                  expected="Message-ID: <time.random@socklab.test> (RFC 5322, 3.6.4), once",
                  saw=f"{len(found)} Message-ID headers",
                  hint="mime_make_message_id() makes the id, add_envelope_headers() writes it")
    value = found[0].strip()
    m = MESSAGE_ID.fullmatch(value)
    domain = FROM.split("@")[1].encode()
    if m is None or m.group(2) != domain:
        case.fail("the Message-ID is not of the RFC 5322 form with the sender's domain",
                  expected=f"<id@{domain.decode()}>: printable ASCII without spaces, one '@', the domain of "
                           f"{FROM} after it",
                  saw=f"Message-ID: {value.decode(errors='replace')}")
    if value in others:
        case.fail("two messages have the same Message-ID",
                  expected="a Message-ID of its own for every message (the time and random digits)",
                  saw=f"Message-ID: {value.decode(errors='replace')} twice")
    return value


def _expect_dialogue_logged(case, client, body):
    """The log shows each line sent as 'C: line' and each received as 'S: line', the message as its size."""
    err = client.stderr.bytes()
    missing = [want for want in (f"C: MAIL FROM:<{FROM}>".encode(), f"C: RCPT TO:<{TO}>".encode(), b"S: 250",
                                 b"S: 354", b"C: QUIT", b"S: 221") if want not in err]
    if missing:
        case.fail("smtpclient's log does not show the dialogue",
                  expected="'C: <line>' for each line sent and 'S: <line>' for each line received on stderr",
                  saw=f"no {', '.join(repr(m.decode()) for m in missing)}; the log ends: {client.stderr.tail(4)}")
    if b"ERROR" in err:
        case.fail("smtpclient logged an ERROR in a session that went well",
                  expected="no ERROR line when every reply was the one its command needs",
                  saw=next(line for line in err.decode(errors="replace").splitlines() if "ERROR" in line))
    if b"the SMTP lab works." in err:
        case.fail("smtpclient's log shows the message's text",
                  expected="the message logged as its size only", saw="a line of the body on stderr")


def test_smtp_several_recipients(case):
    server = MailServer(case)
    rcpts = [TO, "carol@socklab.test", "dave@example.net"]
    client = run_client(case, to=rcpts, subject="To three")
    got = expect_delivery(case, server, client, hint=END_HINT)
    if got["rcpt_tos"] != rcpts:
        case.fail("the envelope does not hold every recipient, in order",
                  expected=", ".join(f"RCPT TO:<{r}>" for r in rcpts), saw=f"{got['rcpt_tos']!r}",
                  hint="send one RCPT TO per --to, each answered by 250, before DATA")
    to = [a.addr_spec for a in parse(got["content"])["To"].addresses]
    if to != rcpts:
        case.fail("the To header does not list every recipient",
                  expected=f"To: {', '.join(rcpts)}", saw=f"addresses {to}")
    expect_exit(case, client, 0, "after the server accepted the mail")
    expect_quit(case, server, client)


def test_smtp_dot_stuffing(case):
    server = MailServer(case)
    body = (b".hidden line that starts with a dot\n..two dots\n.\nthe line above is a lone dot\n"
            b". and a space\nlast line without a newline")
    client = run_client(case, subject="Dots", body=body)
    got = expect_delivery(case, server, client, hint=END_HINT)
    expect_body(case, parse(got["content"]), body)
    expect_exit(case, client, 0, "after the server accepted the mail")
    expect_quit(case, server, client)
    case.step("the same with CRLF line ends, the body on standard input")
    crlf = b".\r\n..\r\n.starts the last line, which has CRLF\r\n"
    again = run_client(case, subject="Dots again", body=crlf, stdin_body=True)
    expect_exit(case, again, 0, "after the server accepted the second mail")
    later = server.seen("message")
    if len(later) != 2:
        case.fail("the second mail (body on standard input, CRLF line ends) did not arrive",
                  expected="a second message", saw=f"{len(later)} message(s)")
    expect_body(case, parse(later[1]["content"]), crlf)
    if b"\r\r\n" in later[1]["content"]:
        case.fail("a CRLF line end of the body was sent as CR CR LF",
                  expected="every line ended by one CRLF: a CR already there is not doubled",
                  saw="CR CR LF in the message")
    first = expect_message_id(case, later[0]["content"])
    expect_message_id(case, later[1]["content"], others=(first,))


def _transfer_encoding(head):
    """The Content-Transfer-Encoding of a header block, in lower case ('none' without one)."""
    cte = re.search(rb"(?im)^content-transfer-encoding:[ \t]*(\S+)", head)
    return cte.group(1).decode(errors="replace").lower() if cte else "none"


def _qp_lines(case, content):
    """The lines of the text part's body, raw, after checking it is quoted-printable."""
    head, _, body = content.partition(b"\r\n\r\n")
    cte = _transfer_encoding(head)
    if cte != "quoted-printable":
        case.fail("a body with lines over 998 bytes is not sent quoted-printable",
                  expected="Content-Transfer-Encoding: quoted-printable (a line of 999 bytes is one too many)",
                  saw=f"Content-Transfer-Encoding: {cte}",
                  hint="has_long_line() finds a line of more than MIME_LINE_MAX bytes; add_text_part() then "
                       "chooses quoted-printable")
    return body.split(b"\r\n")


def _expect_short_wire_lines(case, content):
    longest = max(len(line) for line in content.split(b"\r\n"))
    if longest > 998:
        case.fail("the message has a line longer than SMTP carries",
                  expected="every line at most 998 bytes before its CRLF (RFC 5321, 4.5.3.1.6)",
                  saw=f"a line of {longest} bytes",
                  hint="a text with a longer line goes quoted-printable, cut by soft line breaks")


# A line of 999 bytes; one of 2400 with '=', UTF-8, tabs and runs of dots (so that encoded
# lines start with '.', which dot-stuffing must still double); lines that end with a space
# and with a tab; short lines between.
LONG_BODY = ("Short line.\n" + "x" * 999 + "\n" + ("grüße, 1 + 1 = 2\t" + "." * 100 + " ") * 20
             + "\nends with a space \nends with a tab\t\n.a dot first\n").encode()


def test_smtp_long_lines(case):
    server = MailServer(case)
    client = run_client(case, subject="Long lines", body=LONG_BODY)
    got = expect_delivery(case, server, client,
                          hint="a line over 998 bytes is refused by the server ('500 Line too long'): "
                               "send such a text quoted-printable")
    _expect_short_wire_lines(case, got["content"])
    lines = _qp_lines(case, got["content"])
    longest = max(len(line) for line in lines)
    if longest > 76:
        case.fail("the quoted-printable text has lines longer than 76 characters",
                  expected="encoded lines of at most 76 characters, a soft break '=' ending each but the "
                           "last of a long line (RFC 2045, 6.7)", saw=f"a line of {longest} characters")
    bare = next((line for line in lines if line.endswith((b" ", b"\t"))), None)
    if bare is not None:
        case.fail("a quoted-printable line ends with a space or a tab as it is",
                  expected="a space or tab that ends a line encoded as =20 or =09 (a server may remove "
                           "white space at the end of a line)",
                  saw=f"the line {show_bytes(bare[-30:])}")
    expect_body(case, parse(got["content"]), LONG_BODY)
    expect_exit(case, client, 0, "after the server accepted the mail")
    case.step("a body whose longest line is 998 bytes: sent as it is")
    fits = b"y" * 998 + b"\nand a short line\n"
    again = run_client(case, subject="Just fits", body=fits)
    expect_exit(case, again, 0, "after the server accepted the second mail")
    later = server.seen("message")
    if len(later) != 2:
        case.fail("the second mail (a line of 998 bytes) did not arrive", expected="2 messages",
                  saw=f"{len(later)} message(s)")
    cte = _transfer_encoding(later[1]["content"].split(b"\r\n\r\n", 1)[0])
    if cte != "7bit":
        case.fail("a body whose lines all fit SMTP was not sent as it is",
                  expected="Content-Transfer-Encoding: 7bit for an ASCII text whose longest line is 998 bytes",
                  saw=f"Content-Transfer-Encoding: {cte}",
                  hint="998 bytes is the limit itself: only a longer line needs quoted-printable")
    expect_body(case, parse(later[1]["content"]), fits)


GREETING = (b"220-mail.socklab.test ESMTP scripted\r\n"
            b"220-this greeting has three lines\r\n"
            b"220 and arrives three bytes at a time\r\n")
EHLO_REPLY = (b"250-mail.socklab.test greets you\r\n"
              b"250-PIPELINING\r\n"
              b"250-SIZE 10240000\r\n"
              b"250-8BITMIME\r\n"
              b"250-ENHANCEDSTATUSCODES\r\n"
              b"250 HELP\r\n")
MAIL_REPLY = b"250-2.1.0 sender ok\r\n250 2.1.0 and a second line\r\n"


def test_smtp_multiline_reply_in_pieces(case):
    server = ScriptedServer(case, {"EHLO": EHLO_REPLY, "MAIL": MAIL_REPLY}, chunk=3, pace=0.002,
                            greeting=GREETING)
    client = run_client(case, subject="Pieces", body=b"Read every line of every reply.\n")
    server.serve(client)
    server.wait()
    words = [c.split(" ")[0].split(":")[0].upper() for c in server.commands]
    if words[:6] != ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"][:len(words[:6])] or server.message is None:
        case.fail("smtpclient lost its place in the dialogue",
                  expected="EHLO, MAIL FROM, RCPT TO, DATA, the message, QUIT, each after the whole "
                           "previous reply",
                  saw=f"commands {server.commands!r}; message {'received' if server.message else 'never came'}",
                  hint="a reply ends with the line whose code is followed by a space: '250-' means more "
                       "lines follow. Read until that last line, however the bytes are split")
    if b"Read every line of every reply." not in server.message:
        case.fail("the message's text did not arrive",
                  expected="the body, with the line 'Read every line of every reply.'",
                  saw=show_bytes(server.message, 200))
    expect_exit(case, client, 0, "after the server accepted the mail")
    if not server.quit:
        case.fail("smtpclient did not end the session with QUIT",
                  expected="QUIT after the 250 that accepted the message", saw=f"commands {server.commands!r}")


def test_smtp_rcpt_rejected(case):
    nobody = "nobody@socklab.test"
    server = MailServer(case, reject={nobody})
    client = run_client(case, to=[TO, nobody, "carol@socklab.test"], subject="Refused")
    expect_exit(case, client, 1, "after the server refused a recipient")
    if server.seen("message"):
        case.fail("smtpclient went on after the server refused a recipient",
                  expected="no DATA after '550' to RCPT TO; QUIT instead",
                  saw="the server received a message",
                  hint="check every reply's code; stop at the first one that is not what the command needs")
    errors = [line for line in client.stderr.bytes().splitlines() if b"ERROR" in line]
    if not any(b"RCPT" in line and b"550" in line for line in errors):
        case.fail("smtpclient's error does not name the refused command and the server's reply",
                  expected=f"an ERROR line naming RCPT TO:<{nobody}> and the reply '550 ...'",
                  saw=b"\n".join(errors[-3:]).decode(errors="replace") or "no ERROR line",
                  hint="log 'COMMAND: the server replied REPLY (expected CODE)'")
    expect_quit(case, server, client)
    expect_clean_close(case)
    (c,) = search(case, [b"DATA\r\n"])
    if c["orig_stream"]["matches"][0]["count"]:
        case.fail("the capture shows DATA after a refused recipient",
                  expected="MAIL, RCPT, RCPT (refused), QUIT", saw="a DATA command")


def _png_like(size, seed):
    rng = random.Random(seed)
    return b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(size - 8))


def expect_attachments(case, msg, files):
    """Each of FILES {name: (content type, bytes)} is an attachment of MSG, byte for byte."""
    if not msg.is_multipart() or msg.get_content_type() != "multipart/mixed":
        case.fail("a message with attachments is not multipart/mixed",
                  expected="Content-Type: multipart/mixed; boundary=\"...\"",
                  saw=f"Content-Type: {msg.get_content_type()}")
    defects = [d for part in msg.walk() for d in part.defects]
    if defects:
        case.fail("Python's email parser found the MIME structure broken",
                  expected="no defect: every part between '--BOUNDARY' lines, '--BOUNDARY--' after the last",
                  saw=", ".join(type(d).__name__ for d in defects[:4]),
                  hint="each part starts after a line '--BOUNDARY', the last part is followed by "
                       "'--BOUNDARY--'; the boundary in the header must be the same string")
    got = {p.get_filename(): p for p in msg.iter_attachments()}
    for name, (ctype, data) in files.items():
        part = got.get(name)
        if part is None:
            case.fail(f"the attachment {name} is missing",
                      expected=f"a part with Content-Disposition: attachment; filename=\"{name}\"",
                      saw=f"attachments {sorted(k for k in got if k)}")
        if part.get_content_type() != ctype:
            case.fail(f"the attachment {name} has the wrong Content-Type",
                      expected=ctype, saw=part.get_content_type())
        content = part.get_payload(decode=True)
        if content != data:
            case.fail(f"the attachment {name} did not arrive byte-identical",
                      expected=f"{len(data)} bytes", saw=f"{len(content or b'')} bytes, "
                      f"first difference at byte "
                      f"{next((i for i, (a, b) in enumerate(zip(data, content or b'')) if a != b), min(len(data), len(content or b'')))}",
                      hint="read the file in binary, encode all of it in base64 (3 bytes -> 4 characters, "
                           "'=' padding only at the very end)")


def expect_short_base64_lines(case, raw):
    """Every base64 line of the raw message is at most 76 characters (RFC 2045),
    and only the last line of a part may end with '=' padding."""
    lines = raw.split(b"\r\n")
    b64 = [bool(re.fullmatch(rb"[A-Za-z0-9+/]+=*", line)) for line in lines]
    padded = [i for i, line in enumerate(lines)
              if b64[i] and line.endswith(b"=") and i + 1 < len(lines) and b64[i + 1]]
    if padded:
        case.fail("a base64 line in the middle of an attachment ends with '=' padding",
                  expected="'=' only at the very end of the encoded file: every line but the last encodes "
                           "57 bytes (76 characters)",
                  saw=f"line {padded[0] + 1}: {lines[padded[0]][-20:].decode()} ({len(lines[padded[0]])} characters)",
                  hint="encode the file 57 bytes at a time: 57 is a multiple of 3, so only the last piece pads")
    longest = max((len(line) for line, is_b64 in zip(lines, b64) if is_b64), default=0)
    if longest > 76:
        case.fail("the base64 text has lines longer than 76 characters",
                  expected="lines of at most 76 characters (57 bytes each), each ended by CRLF",
                  saw=f"a line of {longest} characters",
                  hint="RFC 2045 limits encoded lines to 76 characters: encode 57 bytes at a time")


def test_smtp_attachment(case):
    server = MailServer(case)
    photo = _png_like(300_000, seed=6)
    notes = ("Notes on the lab — UTF-8 inside a text file.\n" * 22).encode()[:1000]
    blob = bytes(random.Random(8).getrandbits(8) for _ in range(1001))
    paths = [put_file(case, "photo.png", photo), put_file(case, "notes.txt", notes), put_file(case, "data.q7z", blob)]
    client = run_client(case, "--attach", paths[0], "--attach", paths[1], "--attach", paths[2],
                        subject="Three files", body=b"See the attached files.\n")
    got = expect_delivery(case, server, client, hint=END_HINT)
    expect_short_base64_lines(case, got["content"])
    msg = parse(got["content"])
    expect_attachments(case, msg, {"photo.png": ("image/png", photo), "notes.txt": ("text/plain", notes),
                                   "data.q7z": ("application/octet-stream", blob)})
    expect_body(case, msg, b"See the attached files.\n")
    expect_exit(case, client, 0, "after the server accepted the mail")


def _expect_words_whole(case, head):
    """Each encoded word of the Subject holds whole UTF-8 characters on its own."""
    lines = head.split(b"\r\n")
    first = next((i for i, line in enumerate(lines) if line.lower().startswith(b"subject:")), None)
    if first is None:
        case.fail("the message has no Subject header", expected="Subject: =?UTF-8?B?...?=")
    folded = [lines[first]]
    for line in lines[first + 1:]:
        if not line.startswith((b" ", b"\t")):
            break
        folded.append(line)
    for word in re.findall(rb"=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=", b"".join(folded), flags=re.I):
        piece = base64.b64decode(word)
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            case.fail("an encoded word of the subject cuts a UTF-8 character in two",
                      expected="each =?UTF-8?B?...?= word decodes to whole characters on its own",
                      saw=f"a word whose bytes begin {show_bytes(piece[:6])} and end {show_bytes(piece[-6:])}",
                      hint="word_cut(): move the cut back while the next byte is a continuation byte 10xxxxxx")


SUBJECT = "Grüße aus 北京 — ein Betreff, der länger ist als ein encoded word, mit Ümläuten ✓"


def test_smtp_utf8_subject(case):
    server = MailServer(case)
    client = run_client(case, subject=SUBJECT, body="Der Text: schön.\n".encode())
    got = expect_delivery(case, server, client, hint=END_HINT)
    head = got["content"].split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    if not all(line.isascii() for line in lines):
        bad = next(line for line in lines if not line.isascii())
        case.fail("a header line holds bytes that are not ASCII",
                  expected="Subject: =?UTF-8?B?...?= (RFC 2047 encoded words: ASCII only)",
                  saw=bad.decode(errors="replace")[:100],
                  hint="headers are ASCII: encode a UTF-8 subject as =?UTF-8?B?<base64>?= words")
    words = re.findall(rb"=\?[^?]+\?[BbQq]\?[^?]*\?=", head)
    if not words or max(len(w) for w in words) > 75:
        case.fail("the subject is not made of RFC 2047 encoded words of at most 75 characters",
                  expected="=?UTF-8?B?...?= words, each at most 75 characters, on folded lines",
                  saw=f"{len(words)} encoded word(s), the longest {max((len(w) for w in words), default=0)}",
                  hint="cut the UTF-8 text into pieces of at most 45 bytes (60 base64 characters), "
                       "never inside a character, one word per line")
    _expect_words_whole(case, head)
    subject = str(parse(got["content"])["Subject"])
    if subject != SUBJECT:
        case.fail("the subject does not decode to the text asked for", expected=SUBJECT, saw=subject,
                  hint="a character's bytes must stay in one word (do not cut a UTF-8 sequence)")
    expect_exit(case, client, 0, "after the server accepted the mail")
    short = "é" + "a" * 44     # 46 bytes: a word of 45, then a word of one byte
    case.step(f"a subject of {len(short.encode())} bytes: one word of 45 bytes and one of 1")
    again = run_client(case, subject=short, body=b"The last byte.\n")
    expect_exit(case, again, 0, "after the server accepted the second mail")
    later = server.seen("message")
    got_short = str(parse(later[-1]["content"])["Subject"]) if len(later) == 2 else None
    if got_short != short:
        case.fail("a subject whose last encoded word holds one byte did not arrive whole",
                  expected=short, saw=str(got_short),
                  hint="encode while any byte of the subject is left, the last single one too")
