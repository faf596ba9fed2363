"""pcapcheck's heartbeat options from the command line: the views for people,
escapes, and bad usage. The verdicts themselves are golden files
(pcaps/synthetic/hb_*.expected.json, analysed with hb_*.options)."""

import json
import os

import pytest

from pcapcheck_util import SYNTHETIC, run

HB = ["--hb-request", "HB ", "--hb-reply", "HBACK "]
CLEAN = os.path.join(SYNTHETIC, "hb_clean.pcap")
STOPS = os.path.join(SYNTHETIC, "hb_client_stops.pcap")


def output(pcapcheck, *args):
    done = run([pcapcheck, *args])
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode()


def test_text_line(pcapcheck):
    text = output(pcapcheck, "analyze", CLEAN, *HB)
    assert ("  heartbeats  5 requests by resp, 5 answered, interval 100.0 ms "
            "(99.9–100.1, jitter 0.071), reply delay max 0.300 ms\n") in text
    text = output(pcapcheck, "analyze", STOPS, *HB)
    assert "5 requests by resp, 2 answered, 3 unanswered (3 in a row)" in text
    assert "heartbeats" not in output(pcapcheck, "analyze", CLEAN)


def test_inspect_marks(pcapcheck):
    lines = output(pcapcheck, "inspect", CLEAN, *HB).splitlines()
    marked = [line for line in lines if "[HEARTBEAT" in line]
    # Five requests and five replies, on the segments that end them.
    assert len(marked) == 10
    assert any('Len=2  "2\\n"  [HEARTBEAT 2]' in line for line in marked)
    assert not any('Len=3  "HB "' in line for line in marked)  # HB 2's first half
    assert any(line.endswith("[HEARTBEAT REPLY 3]") and "MSG" in line for line in marked)
    assert any(line.endswith("[HEARTBEAT 4]") and "BCAST" in line for line in marked)
    assert "[HEARTBEAT" not in output(pcapcheck, "inspect", CLEAN)


def test_escapes_name_the_same_bytes(pcapcheck):
    plain = output(pcapcheck, "analyze", CLEAN, "--json", *HB)
    escaped = output(pcapcheck, "analyze", CLEAN, "--json", "--hb-request", "HB\\x20",
                     "--hb-reply", "\\x48BACK ", "--hb-delim", "\\x0a")
    assert json.loads(plain) == json.loads(escaped)


def test_other_delimiter_finds_nothing(pcapcheck):
    verdict = json.loads(output(pcapcheck, "analyze", CLEAN, "--json", *HB,
                                "--hb-delim", "\\r\\n"))
    conn = verdict["tcp"][0]
    assert conn["messages"] == {"orig": 0, "resp": 0}
    hb = conn["heartbeats"]
    assert hb["requester"] is None and hb["requests"] == 0 and hb["events"] == []
    assert hb["interval_ms"] is None and hb["reply_delay_ms"] is None


@pytest.mark.parametrize("args", [
    ["--hb-request"],
    ["--hb-request", "HB "],
    ["--hb-reply", "HBACK "],
    ["--hb-delim", "\\n"],
    ["--hb-request", "HB ", "--hb-reply", "HB "],
    ["--hb-request", "", "--hb-reply", "HBACK "],
    ["--hb-request", "HB\\q", "--hb-reply", "HBACK "],
    ["--hb-request", "HB ", "--hb-reply", "HBACK ", "--hb-delim", "\\x0"],
    ["--hb-request", "x" * 65, "--hb-reply", "HBACK "],
])
@pytest.mark.parametrize("command", ["analyze", "inspect"])
def test_usage_errors(pcapcheck, command, args):
    done = run([pcapcheck, command, CLEAN, *args])
    assert done.returncode == 2, f"{args}: exit {done.returncode}"
    assert done.stderr.startswith(b"pcapcheck: ") and b"--help" in done.stderr
    assert done.stdout == b""


def test_help_names_the_options(pcapcheck):
    for command in ("analyze", "inspect"):
        assert "--hb-request PREFIX" in output(pcapcheck, command, "--help")
