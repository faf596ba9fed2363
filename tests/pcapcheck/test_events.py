"""The grader's events on a capture's timeline (--event, CAPTURE.events):
each side's first FIN or RST says which event it came after, in the JSON,
the text report, the timeline and the HTML page."""

import json
import os
import shutil

import pytest

from pcapcheck_util import PCAPCHECK, PCAPS, run

PCAP = os.path.join(PCAPS, "chat", "chat_client_fin_teardown.pcap")


def _closes(verdict):
    c = verdict["tcp"][0]
    return {(x["from"], x["flag"]): x for x in c["closes"]}


def _analyze(pcap, *options):
    done = run([PCAPCHECK, "analyze", pcap, "--json", *options])
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def times():
    """(first packet, client's FIN, server's FIN) of the capture, seconds since the epoch."""
    v = _analyze(PCAP)
    closes = _closes(v)
    orig, resp = closes[("orig", "FIN")]["time"], closes[("resp", "FIN")]["time"]
    assert orig < resp, "the capture: the client closes first"
    return orig - closes[("orig", "FIN")]["at"], orig, resp


def test_without_events_no_close_is_after_one(times):
    v = _analyze(PCAP)
    assert v["events"] == []
    assert [x["after_event"] for x in v["tcp"][0]["closes"]] == [None, None]
    assert v["tcp"][0]["teardown"]["resp_close_after_event"] is None


def test_a_close_after_an_event_names_it(times):
    first, orig, resp = times
    between = (orig + resp) / 2
    v = _analyze(PCAP, "--event", f"{between:.9f}=grader stopped chatserver",
                 "--event", f"{first - 5:.9f}=case started")
    assert [e["label"] for e in v["events"]] == ["case started", "grader stopped chatserver"]
    closes = _closes(v)
    assert closes[("orig", "FIN")]["after_event"] == "case started"
    assert closes[("resp", "FIN")]["after_event"] == "grader stopped chatserver"
    td = v["tcp"][0]["teardown"]
    assert td["orig_close_after_event"] == "case started"
    assert td["resp_close_after_event"] == "grader stopped chatserver"
    assert abs(v["events"][1]["at"] - (between - first)) < 1e-6


def test_an_event_after_every_close_marks_none(times):
    _, _, resp = times
    v = _analyze(PCAP, "--event", f"{resp + 1:.6f}=grader stopped chatserver")
    assert [x["after_event"] for x in v["tcp"][0]["closes"]] == [None, None]


def test_the_sidecar_file_is_read_with_the_capture(times, tmp_path):
    _, orig, resp = times
    pcap = tmp_path / "case.pcap"
    shutil.copy(PCAP, pcap)
    (tmp_path / "case.pcap.events").write_text(f"# the grader's\n\n{(orig + resp) / 2:.9f}=grader stopped x\n")
    v = _analyze(str(pcap))
    assert _closes(v)[("resp", "FIN")]["after_event"] == "grader stopped x"
    text = run([PCAPCHECK, "analyze", str(pcap)]).stdout.decode()
    assert "events    " in text and "resp's first FIN at" in text and "'grader stopped x'" in text
    timeline = run([PCAPCHECK, "inspect", str(pcap)]).stdout.decode()
    lines = timeline.splitlines()
    marker = next(i for i, line in enumerate(lines) if "---- event: grader stopped x ----" in line)
    assert "FIN" in "\n".join(lines[:marker]) and "FIN" in "\n".join(lines[marker + 1:])
    assert "=> resp closed only after the event 'grader stopped x'" in timeline
    page = tmp_path / "page.html"
    done = run([PCAPCHECK, "report", str(pcap), "--html", "-o", str(page)])
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    assert html.count('<g class="mark">') == 1
    assert "server closed</dt><dd class=\"after-mark\">only after the event ‘grader stopped x’" in html


@pytest.mark.parametrize("bad", ["abc=x", "12", "1.0000000001=x", "5="])
def test_a_bad_event_is_bad_usage(bad):
    done = run([PCAPCHECK, "analyze", PCAP, "--event", bad])
    assert done.returncode == 2
    assert b"--event" in done.stderr


def test_a_bad_sidecar_line_says_where(tmp_path):
    pcap = tmp_path / "c.pcap"
    shutil.copy(PCAP, pcap)
    (tmp_path / "c.pcap.events").write_text("1764000000=fine\nnonsense\n")
    done = run([PCAPCHECK, "analyze", str(pcap), "--json"])
    assert done.returncode == 1
    assert b"c.pcap.events:2:" in done.stderr
