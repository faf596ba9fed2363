"""Correct programs written differently from the reference (a fork() or
poll() server, no helper library) score 100 too: the grader checks the
handout's promises, not the reference's design.  Each folder of
tests/alternatives/ is a whole submission named LAB-VARIANT; the ones the
README there lists as held back (a grader bug open) are not graded."""
import os
import re
import shutil

import pytest

from socklab import gradecmd
from socklab.paths import ROOT

ALTERNATIVES = os.path.join(ROOT, "tests", "alternatives")


def _held_back():
    """Variants the README lists under 'Held back' (each line '- `NAME`: why')."""
    with open(os.path.join(ALTERNATIVES, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Held back", 1)[1] if "## Held back" in text else ""
    return set(re.findall(r"^- `([^`]+)`", section, re.M))


VARIANTS = sorted(d for d in os.listdir(ALTERNATIVES)
                  if os.path.isfile(os.path.join(ALTERNATIVES, d, "Makefile")) and d not in _held_back())


def _lab(variant):
    return variant.split("-", 1)[0]


def _grade(lab, submission, results):
    return gradecmd.run(lab, submission, results, "-j", "2", timeout=900)


def _failures(data):
    return "\n\n".join(f"{c['name']} ({c['status']}): {c['feedback']}"
                       for c in data["cases"] if c["status"] != "passed")


def test_every_variant_names_a_lab():
    assert VARIANTS, "no alternative submissions found"
    for v in VARIANTS:
        assert os.path.isfile(os.path.join(ROOT, "labs", _lab(v), "lab.toml")), v


@pytest.mark.parametrize("variant", VARIANTS)
def test_alternative_scores_100(variant, tmp_path):
    out, data = _grade(_lab(variant), os.path.join(ALTERNATIVES, variant), str(tmp_path / "r"))
    assert data["build"]["ok"], f"{variant} does not build: {data['build']}"
    assert data["score"] == 100, f"{variant} scored {data['score']}:\n{_failures(data)}"
    assert out.returncode == 0


# One deliberate bug in a copy of a variant, the case that must catch it,
# and a case that must still pass: the check above can fail, and for a
# design the reference does not have.
BROKEN = [
    ("echo-fork-nohelpers", "tcpserver.c", "\tserve(fd, who);\n\tif (close(fd) < 0)",
     "\tserve(fd, who);\n\tpause();\n\tif (close(fd) < 0)",
     "tcp_server_closes_connection", "tcp_server_uppercase"),
    ("heartbeat-poll", "hbserver.c", "if (c->sent - c->acked >= srv.misses)",
     "if (0 && c->sent - c->acked >= srv.misses)",
     "hb_server_drops_silent_client", "hb_server_sends_heartbeats"),
    ("chat-poll", "chatserver.c", "#define STALL_MS 1000\t", "#define STALL_MS 1000000\t",
     "chat_stuck_reader_dropped", "chat_broadcast_order"),
]


@pytest.mark.parametrize("variant, source, find, replace, caught_by, still_passes", BROKEN,
                         ids=[b[0] for b in BROKEN])
def test_a_broken_alternative_loses_points(variant, source, find, replace, caught_by, still_passes,
                                           tmp_path):
    sub = tmp_path / f"{variant}-broken"
    shutil.copytree(os.path.join(ALTERNATIVES, variant), sub)
    src = sub / source
    text = src.read_text()
    assert text.count(find) == 1, f"{variant}/{source} changed: the bug cannot be put in"
    src.write_text(text.replace(find, replace))
    _, data = gradecmd.run(_lab(variant), str(sub), str(tmp_path / "r"), "-j", "2",
                           "-k", caught_by, "-k", still_passes, timeout=600)
    by = {c["name"]: c for c in data["cases"]}
    assert by[caught_by]["status"] == "failed", f"{caught_by}: {by[caught_by]['status']}"
    assert by[caught_by]["feedback"], "a failed case must explain itself"
    assert by[still_passes]["status"] == "passed", _failures(data)
    assert data["score"] < data["max_score"]
