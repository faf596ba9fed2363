"""pcapcheck search from the command line, on two captures of the smtp
lab's reference client (pcaps/smtp): where TLS starts after STARTTLS, and
that nothing of the SMTP session follows it in clear; strings split across
segments; escapes, the text view, bad usage. The search engine itself has
CUnit tests (test_search.c)."""

import json
import os

import pytest

from pcapcheck_util import PCAPS, run

STARTTLS = os.path.join(PCAPS, "smtp", "smtp_starttls.pcap")
PLAIN = os.path.join(PCAPS, "smtp", "smtp_plain_send.pcap")
# The smtp lab's test password, and its base64 form (what AUTH LOGIN sends).
PASSWORD = "Tr0ub4dor&3-s3cr3t-7q"
PASSWORD_B64 = "VHIwdWI0ZG9yJjMtczNjcjN0LTdx"


def search(pcapcheck, pcap, *strings):
    done = run([pcapcheck, "search", pcap, "--json", *strings])
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


def matches(side):
    return {m["string"]: m for m in side["matches"]}


def test_starttls_then_nothing_in_clear(pcapcheck):
    (c,) = search(pcapcheck, STARTTLS, "STARTTLS\\r\\n", "AUTH", "MAIL FROM", "RCPT TO", "QUIT",
                  PASSWORD, PASSWORD_B64, "EHLO")["tcp"]
    orig, resp = c["orig_stream"], c["resp_stream"]
    # The client's ClientHello follows its STARTTLS line; the server's
    # ServerHello follows its "220 ... TLS" reply.
    assert orig["tls"]["record"] == "ClientHello"
    assert orig["tls"]["offset"] == len("EHLO [127.0.0.1]\r\nSTARTTLS\r\n")
    assert resp["tls"]["record"] == "ServerHello"
    assert resp["tls"]["time"] > orig["tls"]["time"]
    m = matches(orig)
    assert m["STARTTLS\r\n"]["count"] == 1 and m["STARTTLS\r\n"]["after_tls"] == 0
    assert m["EHLO"]["count"] == 1      # the second EHLO went inside TLS
    for secret in ("AUTH", "MAIL FROM", "RCPT TO", "QUIT", PASSWORD, PASSWORD_B64):
        assert m[secret]["count"] == 0, secret
    # The whole attachment was reassembled and searched.
    assert orig["searched"] == orig["bytes"] > 200_000


def test_plaintext_session(pcapcheck):
    (c,) = search(pcapcheck, PLAIN, "MAIL FROM:<", "QUIT\\r\\n", "\\r\\n.\\r\\n", "250 ")["tcp"]
    assert c["orig_stream"]["tls"] is None and c["resp_stream"]["tls"] is None
    m = matches(c["orig_stream"])
    assert m["MAIL FROM:<"]["count"] == 1 and m["MAIL FROM:<"]["after_tls"] == 0
    # QUIT is the last thing the client sent; the end of data comes before it.
    assert m["QUIT\r\n"]["offsets"][0]["offset"] + 6 == c["orig_stream"]["bytes"]
    assert m["\r\n.\r\n"]["offsets"][0]["offset"] < m["QUIT\r\n"]["offsets"][0]["offset"]
    assert matches(c["resp_stream"])["250 "]["count"] >= 4
    times = [o["time"] for o in m["MAIL FROM:<"]["offsets"] + m["QUIT\r\n"]["offsets"]]
    assert times == sorted(times)


def test_text_view(pcapcheck):
    done = run([pcapcheck, "search", STARTTLS, "MAIL FROM", "STARTTLS"])
    assert done.returncode == 0
    text = done.stdout.decode()
    assert "TLS from byte 28 (ClientHello at " in text
    assert '"MAIL FROM"  no match' in text
    assert '"STARTTLS"  1 match, 0 after TLS: byte 18' in text


def test_strings_may_start_with_a_dash(pcapcheck):
    (c,) = search(pcapcheck, PLAIN, "--", "-- ")["tcp"]
    assert c["orig_stream"]["matches"][0]["string"] == "-- "


@pytest.mark.parametrize("args, message", [
    ([], b"search needs a capture FILE"),
    ([PLAIN], b"search needs at least one STRING"),
    ([PLAIN, "--bogus"], b"unknown option: --bogus"),
    ([PLAIN, "a\\q"], b"bad escape"),
    ([PLAIN, ""], b"must not be empty"),
    ([PLAIN] + ["x"] * 65, b"too many strings"),
])
def test_usage_errors(pcapcheck, args, message):
    done = run([pcapcheck, "search", *args])
    assert done.returncode == 2
    assert message in done.stderr and b"--help" in done.stderr


def test_unreadable_file(pcapcheck, tmp_path):
    done = run([pcapcheck, "search", str(tmp_path / "none.pcap"), "x"])
    assert done.returncode == 1 and done.stderr.startswith(b"pcapcheck: ")


def test_help(pcapcheck):
    done = run([pcapcheck, "search", "--help"])
    assert done.returncode == 0 and b"pcapcheck search FILE [--json] STRING..." in done.stdout
    assert b"search" in run([pcapcheck, "--help"]).stdout
