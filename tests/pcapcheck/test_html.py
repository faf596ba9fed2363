"""pcapcheck report --html: the TA's page of a capture.

The page is parsed with html.parser: its svg, table, g, section and text
elements must be balanced, each connection's ladder must have one arrow
(<g class="seg ...">) per segment that `analyze --json` counted, a RST
arrow must carry the reset class, and payload bytes must come out escaped.
Captures that the tests need beyond pcaps/ are built in a temporary
folder with the helpers of pcaps/synthetic/make_synthetic.py. Last, the
echo reference capture's page is rendered by headless Chromium and the
PNG must be the requested width and far from blank.
"""

import html.parser
import os
import shutil
import sys

import pytest

from pcapcheck_util import PCAPS, SYNTHETIC, analyze_json, run
from screenshot import CHROMIUM, png_pixels, render

sys.path.insert(0, SYNTHETIC)
import make_synthetic as ms  # noqa: E402  (a script folder, not a package)

ECHO = os.path.join(PCAPS, "echo", "tcp_client_fin_teardown.pcap")
CHECKED = ["echo/tcp_client_fin_teardown.pcap", "echo/tcp_server_clients_in_turn.pcap",
           "echo/udp_client_timeout.pcap", "echo/udp_server_two_clients.pcap",
           "synthetic/reset_by_responder.pcap", "synthetic/retransmission.pcap",
           "synthetic/keepalive.pcap", "synthetic/port_reuse.pcap",
           "synthetic/mid_connection.pcap", "synthetic/rejected.pcap"]
BALANCED = {"html", "body", "main", "svg", "g", "table", "tr", "section", "text", "tspan",
            "details", "dl", "ul"}
VOID = {"meta", "br", "img", "input", "link", "hr", "line", "polygon", "rect"}


class Page(html.parser.HTMLParser):
    """The parts of a report page the tests look at, and any nesting error."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []
        self.ladders = {}      # svg id -> list of arrows
        self.ladder_attrs = {}  # svg id -> its attributes
        self.svg = None
        self.arrow = None
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg" and (attrs.get("id") or "").startswith("ladder-"):
            self.svg = attrs["id"]
            self.ladders[self.svg] = []
            self.ladder_attrs[self.svg] = attrs
        if tag == "g" and "seg" in (attrs.get("class") or "").split() and self.svg:
            self.arrow = {"classes": attrs["class"].split(), "label": ""}
            self.ladders[self.svg].append(self.arrow)
        if tag in BALANCED:
            self.stack.append(tag)
        elif tag not in VOID and tag not in {"p", "td", "th", "dt", "dd", "li"}:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        """Self-closed SVG elements (<line/>) open and close at once."""
        self.handle_starttag(tag, attrs)
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID or tag in {"p", "td", "th", "dt", "dd", "li"}:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag == "svg":
            self.svg = None
        if tag == "g":
            self.arrow = None

    def handle_data(self, data):
        self.text.append(data)
        if self.arrow is not None:
            self.arrow["label"] += data


def report(pcapcheck, pcap, tmp_path, *options):
    """The page for PCAP (written with -o); (its text, the parsed Page)."""
    out = os.path.join(tmp_path, os.path.basename(pcap) + ".html")
    done = run([pcapcheck, "report", pcap, "--html", "-o", out, *options])
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    with open(out, "rb") as f:
        text = f.read().decode("utf-8")  # strict: the page must be valid UTF-8
    page = Page()
    page.feed(text)
    page.close()
    assert not page.errors, page.errors[:5]
    assert page.stack == [], f"unclosed elements: {page.stack}"
    return text, page


def write_capture(path, build):
    """A capture in PATH of the segments BUILD(Tcp) appends."""
    clock, frames = ms.Clock(), []
    build(ms.Tcp(clock, frames))
    with open(path, "wb") as f:
        f.write(ms.pcap_file(ms.LINKTYPE_ETHERNET, frames))
    return path


@pytest.mark.parametrize("name", CHECKED)
def test_one_arrow_per_segment(pcapcheck, tmp_path, name):
    pcap = os.path.join(PCAPS, name)
    verdict = analyze_json(pcapcheck, pcap)
    _, page = report(pcapcheck, pcap, tmp_path)
    assert len(page.ladders) == len(verdict["tcp"]) + len(verdict["udp"])
    for i, conn in enumerate(verdict["tcp"], 1):
        arrows = page.ladders[f"ladder-tcp-{i}"]
        assert len(arrows) == conn["orig_pkts"] + conn["resp_pkts"], f"TCP {i}"
    for i, flow in enumerate(verdict["udp"], 1):
        arrows = page.ladders[f"ladder-udp-{i}"]
        assert len(arrows) == flow["orig_dgrams"] + flow["resp_dgrams"], f"UDP {i}"


def test_rst_and_fin_have_their_classes(pcapcheck, tmp_path):
    _, page = report(pcapcheck, os.path.join(SYNTHETIC, "reset_by_responder.pcap"), tmp_path)
    arrows = page.ladders["ladder-tcp-1"]
    kinds = [a["classes"][1] for a in arrows]
    assert kinds == ["hs", "hs", "hs", "data", "fin", "rst"], kinds
    assert "[RST, ACK]" in arrows[-1]["label"]
    assert arrows[0]["label"] == "0.000000[SYN] Seq=0 Len=0", arrows[0]["label"]


def test_retransmissions_and_keepalives_are_marked(pcapcheck, tmp_path):
    _, page = report(pcapcheck, os.path.join(SYNTHETIC, "retransmission.pcap"), tmp_path)
    rexmit = [a for a in page.ladders["ladder-tcp-1"] if "rexmit" in a["classes"]]
    assert rexmit and all("TCP Retransmission" in a["label"] for a in rexmit)
    _, page = report(pcapcheck, os.path.join(SYNTHETIC, "keepalive.pcap"), tmp_path)
    keep = [a for a in page.ladders["ladder-tcp-1"] if "keepalive" in a["classes"]]
    assert len(keep) == 6


HOSTILE = b"<script>alert('x')</script> \"q\" & \x00\xff\xc3\xa9"


def test_payload_is_escaped(pcapcheck, tmp_path):
    def build(t):
        t.handshake()
        t.echo(request=HOSTILE, reply=b"</svg></table>" + HOSTILE[-8:])
        t.close_four_way()
    pcap = write_capture(os.path.join(tmp_path, "hostile.pcap"), build)
    text, page = report(pcapcheck, pcap, tmp_path)
    assert "<script" not in text and "</svg></table>" not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text
    assert "&lt;/svg&gt;&lt;/table&gt;" in text
    assert "\\x00\\xff" in text and "é" in text   # stray bytes escaped, UTF-8 kept
    labels = [a["label"] for a in page.ladders["ladder-tcp-1"]]
    # An arrow shows the first 24 bytes; the summary the stream's first 64.
    assert any("\"<script>alert('x')</scri\"…" in label for label in labels), labels


def test_heartbeats_are_marked(pcapcheck, tmp_path):
    def build(t):
        t.handshake()
        for n in range(3):
            t.echo(request=b"PING %d\n" % n, reply=b"PONG %d\n" % n)
        t.close_four_way()
    pcap = write_capture(os.path.join(tmp_path, "hb.pcap"), build)
    _, page = report(pcapcheck, pcap, tmp_path, "--hb-request", "PING ", "--hb-reply", "PONG ")
    kinds = [a["classes"][1] for a in page.ladders["ladder-tcp-1"]]
    assert kinds.count("hb-req") == 3 and kinds.count("hb-rep") == 3, kinds
    _, plain = report(pcapcheck, pcap, tmp_path)
    assert not any("hb-req" in a["classes"] for a in plain.ladders["ladder-tcp-1"])


def test_long_connection_is_cut(pcapcheck, tmp_path):
    def build(t):
        t.handshake()
        for n in range(1100):
            t.send("c", "PA", b"x%d\n" % n)
            t.send("s", "A")
        t.close_four_way()
    pcap = write_capture(os.path.join(tmp_path, "long.pcap"), build)
    text, page = report(pcapcheck, pcap, tmp_path)
    total = 3 + 2 * 1100 + 4
    assert len(page.ladders["ladder-tcp-1"]) == 2000
    assert page.ladder_attrs["ladder-tcp-1"]["data-segments"] == str(total)
    assert f"{total - 2000} more segments not drawn" in text


def test_stdout_equals_file(pcapcheck, tmp_path):
    text, _ = report(pcapcheck, ECHO, tmp_path)
    done = run([pcapcheck, "report", ECHO, "--html"])
    assert done.returncode == 0
    assert done.stdout.decode("utf-8") == text


@pytest.mark.parametrize("args, status, message", [
    ([], 2, "needs a capture FILE"),
    ([ECHO], 2, "needs a format: --html"),
    ([ECHO, "--html", "--bogus"], 2, "unknown option: --bogus"),
    ([ECHO, "--html", "-o"], 2, "option needs a value: -o"),
    ([ECHO, "--html", "--hb-request", "HB "], 2, "go together"),
    ([ECHO, ECHO, "--html"], 2, "only one capture file"),
    ([os.path.join(SYNTHETIC, "garbage.pcap"), "--html"], 1, "garbage.pcap"),
    (["/nonexistent.pcap", "--html"], 1, "/nonexistent.pcap"),
    ([ECHO, "--html", "-o", "/nonexistent/dir/x.html"], 1, "write /nonexistent/dir/x.html"),
])
def test_usage_and_input_errors(pcapcheck, args, status, message):
    done = run([pcapcheck, "report", *args])
    assert done.returncode == status, done.stderr
    assert message in done.stderr.decode(), done.stderr
    assert done.stdout == b""


def test_help(pcapcheck):
    done = run([pcapcheck, "report", "--help"])
    assert done.returncode == 0
    assert b"pcapcheck report FILE --html [-o OUT.html]" in done.stdout
    assert b"report" in run([pcapcheck, "--help"]).stdout


def test_failed_write_leaves_no_temporary(pcapcheck, tmp_path):
    out = os.path.join(tmp_path, "page.html")
    os.mkdir(out)  # rename() over a directory fails
    done = run([pcapcheck, "report", ECHO, "--html", "-o", out])
    assert done.returncode == 1
    assert os.listdir(tmp_path) == ["page.html"]


# ---------------------------------------------------------------- rendering

@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed "
                    "(make test installs it); the page is not rendered")
def test_screenshot(pcapcheck, tmp_path):
    report(pcapcheck, ECHO, tmp_path)
    page = os.path.join(tmp_path, os.path.basename(ECHO) + ".html")
    blank = os.path.join(tmp_path, "blank.html")
    with open(blank, "w") as f:
        f.write("<!DOCTYPE html><title>blank</title>")
    shot, empty = os.path.join(tmp_path, "echo.png"), os.path.join(tmp_path, "blank.png")
    render(page, shot, 1100, 1500)
    render(blank, empty, 1100, 1500)
    width, height, colours = png_pixels(shot)
    assert (width, height) == (1100, 1500)
    blank_colours = png_pixels(empty)[2]
    assert len(blank_colours) <= 2
    # Text, badges and coloured arrows: many distinct colours.
    assert len(colours) > 50, f"only {len(colours)} colours: the page looks blank"
    keep = os.environ.get("SOCKLAB_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
