"""A corpus of hostile programs graded as submissions (issue 14, what it
must show): a program that never says a word and one that answers
everything with garbage stand in for every binary of a lab
(tests/hostile/generic.py), and programs that hit each resource limit
stand in for echo's. For each: no case ends in `error` (a misbehaving
program is the program's failure, never the grader's; a third floods every
peer), every report parses
and holds no raw control byte, the results folder stays under its cap,
and each limit hit is named in the feedback.

`make test` grades a few cases of echo, chat and webserver; `make
test-hostile` (SOCKLAB_HOSTILE_ALL=1) grades every case of every lab, 20 to
60 s a lab and mode."""

import json
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from socklab import gradecmd
from socklab.cli import RESULTS_CAP
from socklab.labspec import Lab
from socklab.paths import LABS, ROOT

GENERIC = os.path.join(ROOT, "tests", "hostile", "generic.py")
ALL = os.environ.get("SOCKLAB_HOSTILE_ALL") == "1"
LABS_GRADED = sorted(n for n in os.listdir(LABS) if os.path.exists(os.path.join(LABS, n, "lab.toml"))) \
    if ALL else ["echo", "chat", "webserver"]
# What `make test` grades of each (a few cases each, chosen for helpers that
# read much of what a program sends: the chat_200_clients among
# them); `make test-hostile` grades every case.
SELECTED = {
    "echo": ["tcp_server_uppercase", "tcp_client_uppercase", "udp_client_uppercase", "udp_server_two_clients"],
    "chat": ["chat_200_clients", "chat_login_accepted", "chat_client_sends_and_escapes"],
    "webserver": ["ws_get_html", "ws_request_in_pieces", "hg_get_body", "hg_large_body_in_pieces"],
}
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def run_dir():
    path = Path(tempfile.mkdtemp(prefix="socklab-hostile-"))   # open to the student uid
    os.chmod(path, 0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _submission(folder, programs):
    """A submission with a do-nothing Makefile and PROGRAMS ({binary: text})."""
    sub = folder / "sub"
    sub.mkdir()
    (sub / "Makefile").write_text("all:\n\ttrue\n")
    for name, text in programs.items():
        (sub / name).write_text(text)
        (sub / name).chmod(0o755)
    sub.chmod(0o777)
    return sub


def _generic(lab, mode):
    with open(GENERIC) as f:
        text = f.read().replace('MODE = "silent"', f'MODE = "{mode}"', 1)
    return {binary: text for binary in Lab(lab).binaries}


def _selection(lab):
    if ALL:
        return []
    known = set(Lab(lab).cases)
    missing = set(SELECTED[lab]) - known
    assert not missing, f"cases no longer in {lab}: {missing}"
    return [a for name in SELECTED[lab] for a in ("-k", name)]


def _check_reports(results):
    """Every report parses and holds no raw control byte; the folder is under its cap."""
    folder = Path(results)
    json.loads((folder / "results.json").read_text())
    json.loads((folder / "gradescope.json").read_text())
    ET.parse(folder / "junit.xml")
    for name in ("results.json", "gradescope.json", "junit.xml"):
        text = (folder / name).read_text(encoding="utf-8")
        assert not RAW.search(text), f"{name} holds a raw control character"
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    assert size <= RESULTS_CAP, f"results folder of {size} bytes, over its cap of {RESULTS_CAP}"
    return size


RUNS = [(lab, mode) for mode in ("silent", "garbage", "flood") for lab in LABS_GRADED
        if mode != "flood" or ALL or lab == "echo"]


@pytest.mark.parametrize("lab, mode", RUNS, ids=[f"{mode}-{lab}" for lab, mode in RUNS])
def test_a_silent_or_garbage_program_is_failed_never_an_error(lab, mode, run_dir):
    sub = _submission(run_dir, _generic(lab, mode))
    jobs = "6" if mode == "silent" else "4"      # a silent case only waits
    out, data = gradecmd.run(lab, sub, run_dir / "r", "-j", jobs, *_selection(lab), timeout=900)
    errors = {c["name"]: c["summary"] for c in data["cases"] if c["status"] == "error"}
    assert not errors, f"cases that ended in a grader error: {errors}"
    assert out.returncode == 1, f"grade exit {out.returncode} (1: graded, points lost)\n{out.stderr[-2000:]}"
    assert data["score"] < 20, f"a {mode} program scored {data['score']}"
    _check_reports(run_dir / "r")


LIMITS = {
    # A fork bomb: more processes than the limit, each waiting a while.
    "tcpserver": """#!/bin/sh
i=0; while [ $i -lt 400 ]; do sleep 5 & i=$((i+1)); done 2>/dev/null; wait
""",
    # Memory filled at once (MAP_POPULATE: no page fault each) before it
    # would listen.
    "udpserver": """#!/usr/bin/python3
import mmap
kept = mmap.mmap(-1, 2 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x8000)
""",
    # Files without end (each under the file size limit), their blocks
    # taken at once (fallocate) as a fast writer would fill them.
    "udpclient": """#!/usr/bin/python3
import os
for n in range(10000):
    with open(f"junk-{n}.bin", "wb") as f:
        os.posix_fallocate(f.fileno(), 0, 60 << 20)
""",
    # Descriptors opened until the kernel refuses, as a leaking server does.
    "tcpclient": """#!/usr/bin/python3
import sys
kept = []
try:
    while True:
        kept.append(open("/dev/null"))
except OSError as e:
    sys.exit(f"tcpclient: open: {e.strerror}")
""",
}


@pytest.mark.skipif(os.geteuid() != 0, reason="control groups need root")
def test_each_limit_hit_is_named(run_dir):
    programs = dict(LIMITS)
    sub = _submission(run_dir, programs)
    cases = ["tcp_server_uppercase", "udp_server_two_clients", "tcp_client_uppercase", "udp_client_uppercase"]
    out, data = gradecmd.run("echo", sub, run_dir / "r", "-j", "4", *[a for c in cases for a in ("-k", c)])
    by = {c["name"]: c for c in data["cases"]}
    assert set(by) == set(cases), by.keys()
    assert all(c["status"] == "failed" for c in by.values()), {n: c["status"] for n, c in by.items()}
    assert re.search(r"tried to run more than \d+ processes and threads at once: the kernel refused \d+",
                     by["tcp_server_uppercase"]["feedback"]), by["tcp_server_uppercase"]["feedback"]
    assert by["udp_server_two_clients"]["summary"].startswith("udpserver was killed at the memory limit of 1 GiB"), \
        by["udp_server_two_clients"]["summary"]
    assert re.search(r"tcpclient ran out of file descriptors .*the limit is 256 open at once",
                     by["tcp_client_uppercase"]["feedback"]), by["tcp_client_uppercase"]["feedback"]
    assert by["udp_client_uppercase"]["summary"].startswith(
        "the case's programs wrote more than 512 MiB into the case's folder"), by["udp_client_uppercase"]["summary"]
    _check_reports(run_dir / "r")
