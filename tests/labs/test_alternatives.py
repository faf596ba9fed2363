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


def test_a_broken_alternative_loses_points(tmp_path):
    # The check can fail: the fork server with its child keeping the
    # connection open after the client's FIN (it never closes) loses points.
    sub = tmp_path / "echo-broken"
    shutil.copytree(os.path.join(ALTERNATIVES, "echo-fork-nohelpers"), sub)
    src = sub / "tcpserver.c"
    text = src.read_text()
    bug = "\tserve(fd, who);\n\tif (close(fd) < 0)"
    assert bug in text
    src.write_text(text.replace(bug, "\tserve(fd, who);\n\tpause();\n\tif (close(fd) < 0)"))
    _, data = gradecmd.run("echo", str(sub), str(tmp_path / "r"), "-j", "2",
                           "-k", "tcp_server_closes_connection", "-k", "tcp_server_uppercase", timeout=600)
    by = {c["name"]: c["status"] for c in data["cases"]}
    assert by["tcp_server_closes_connection"] == "failed", by
    assert by["tcp_server_uppercase"] == "passed", by
    assert data["score"] < 100
