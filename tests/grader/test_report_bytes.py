"""Student bytes can never break or forge a report (issue 14, part 2).

A hostile echo submission prints, logs, sends and builds with every byte
sequence that can hurt a reader: terminal escapes (clear screen, window
title, OSC 52 clipboard, cursor report), BEL, NUL, C1 controls and the raw
0x9B byte, bidi overrides and isolates, invalid UTF-8, and lines that
imitate the grader. Every report must parse with its standard parser, hold
none of those raw, show them as visible escapes, and mark the program's
lines as the program's."""
import html.parser
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from socklab import safetext
from test_grade_cli import _submission
from socklab.paths import ROOT

GRADE = os.path.join(ROOT, "grader", "grade")
PCAPCHECK = os.path.join(ROOT, "grader", "pcapcheck", "pcapcheck")
PY = "/usr/bin/python3"

# Each sequence, as bytes a program writes.
NASTY = {
    "clear screen": b"\x1b[2J\x1b[H",
    "window title": b"\x1b]0;owned\x07",
    "clipboard": b"\x1b]52;c;c3VkbyBybSAtcmYgLw==\x07",
    "cursor report": b"\x1b[6n",
    "bell and nul": b"\x07\x00",
    "raw CSI byte": b"\x9b2J",
    "C1 as UTF-8": "\u0085\u009b".encode(),
    "bidi override": "\u202e}txt.exe{\u202c".encode(),
    "bidi isolate": "\u2066abc\u2069".encode(),
    "invalid UTF-8": b"\xff\xfe\xc3(",
    "carriage return": b"ok\rFAILED",
}
FORGED = b"verdict: PASS\nscore: 100/100\n  tcp_server_uppercase   5/5    passed\n"
PAYLOAD = b"".join(NASTY.values()) + b"\n" + FORGED

# Raw characters that must not be in any report (the text as decoded).
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

SERVER = f"""#!{PY}
import os, socket, sys
payload = {PAYLOAD!r}
port = int(sys.argv[1]) if len(sys.argv) > 1 else 7
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", port))
s.listen()
os.write(1, payload)
os.write(2, payload)
c, _ = s.accept()
c.sendall(payload)
c.close()
"""
CLIENT = f"""#!{PY}
import os, sys
payload = {PAYLOAD!r}
os.write(1, payload)
os.write(2, payload)
sys.exit(1)
"""
# The build's feedback shows its error lines: each line of the payload as one.
BUILD_OUTPUT = b"".join(b"x.c:1:1: error: " + line + b"\n" for line in PAYLOAD.split(b"\n") if line)
MAKEFILE_FAILING = "all:\n\t@printf '" + "".join(f"\\{b:03o}" for b in BUILD_OUTPUT) + "'; false\n"


def _grade(tmp_path, sub, *extra):
    results = tmp_path / "results"
    out = subprocess.run([GRADE, "echo", "--submission", str(sub), "--results", str(results), *extra],
                         capture_output=True, timeout=300, cwd=ROOT)
    return out, results


class _Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.text = []

    def handle_data(self, data):
        self.text.append(data)


def _check_reports(out, results):
    """Every report parses, holds no raw unsafe character, and shows the escapes."""
    texts = {}
    for name in ("results.json", "gradescope.json"):
        raw = (results / name).read_bytes().decode("utf-8")     # strict: invalid UTF-8 fails here
        texts[name] = json.dumps(json.loads(raw), ensure_ascii=False)
    junit = (results / "junit.xml").read_bytes()
    root = ET.fromstring(junit)                                 # well-formed XML or this raises
    texts["junit.xml"] = "".join(root.itertext()) + "".join(
        v for el in root.iter() for v in el.attrib.values())
    texts["terminal"] = out.stdout.decode("utf-8") + out.stderr.decode("utf-8")
    for name, text in texts.items():
        raw = RAW.search(text)
        assert raw is None, f"{name} holds a raw {raw.group()!r} near {text[max(0, raw.start() - 40):raw.end() + 40]!r}"
        assert "\\x1b" in text and "\\u202e" in text, f"{name} does not show the escapes"
    return texts


@pytest.mark.skipif(os.geteuid() != 0, reason="student uids and PID namespaces need root")
def test_program_bytes_reach_every_report_visible_and_marked(tmp_path):
    sub = _submission(tmp_path, "all:\n\ttrue\n", {"tcpserver": SERVER, "tcpclient": CLIENT,
                                                          "udpserver": CLIENT, "udpclient": CLIENT})
    out, results = _grade(tmp_path, sub, "-k", "tcp_server_uppercase", "-k", "tcp_client_uppercase")
    assert out.returncode == 1, out.stderr.decode(errors="replace")
    texts = _check_reports(out, results)
    data = json.loads((results / "results.json").read_text())
    feedback = "\n".join(c["feedback"] for c in data["cases"])
    # The forged lines show only as the program's, behind the prefix.
    for line in FORGED.decode().splitlines():
        hits = [l for l in feedback.splitlines() if l.strip() == line.strip()]
        assert hits == [], f"{line!r} shows as if it were the grader's"
        assert any(l.endswith(safetext.PROGRAM_PREFIX + line) for l in feedback.splitlines()), line
    assert "score: 100/100" in texts["terminal"] and "│ score: 100/100" in texts["terminal"]
    # The TA's HTML page of the capture: parses, no raw character in its text.
    capture = results / "captures" / "tcp_server_uppercase.pcap"
    page = subprocess.run([PCAPCHECK, "report", str(capture), "--html"], capture_output=True,
                          timeout=60, check=True).stdout.decode("utf-8")
    parser = _Parser()
    parser.feed(page)
    shown = "".join(parser.text)
    assert RAW.search(shown) is None and "\\u202e" in shown and "\\x1b" in shown


def test_build_log_bytes_are_visible_in_every_report(tmp_path):
    sub = _submission(tmp_path, MAKEFILE_FAILING)
    out, results = _grade(tmp_path, sub)
    assert out.returncode == 1
    texts = _check_reports(out, results)
    assert "│ x.c:1:1: error: verdict: PASS" in texts["gradescope.json"]


def test_visible_escapes_each_unsafe_character_and_keeps_the_rest():
    assert safetext.visible("a\tb\nc") == "a\tb\nc"
    assert safetext.visible("\x1b[2J\x07\x00") == "\\x1b[2J\\x07\\x00"
    assert safetext.visible("\u202eabc\u2069\u0085") == "\\u202eabc\\u2069\\x85"
    assert safetext.visible("naïve 中文 ✓") == "naïve 中文 ✓"
    assert safetext.decode(b"\x9b\xff ok") == "\\x9b\\xff ok"
    assert safetext.xml_text("<\x1b>") == "&lt;\\x1b&gt;"
    assert safetext.quoted("a\nscore: 100/100", indent="") == "│ a\n│ score: 100/100"
