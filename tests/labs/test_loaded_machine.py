"""Timing checks judge only the student's program (issue 13, section 4).

On a loaded machine the references of the timing-heavy labs (heartbeat,
pinger) must still score full points, every time: a case measures what the
program controls (a reply's delay after what caused it, a rhythm against
the program's own schedule), and when the grader itself was late the case
runs its scenario again or says it could not judge, never that the program
failed.  The test loads every core with a busy loop and grades the timing
cases of both references six times each (six rounds of those cases in one
grading session; ten took 100 s of `make test`, near its 15 minutes).
Only the timing cases, not the whole labs, and in one session with the
reference built once: ten full grades of both took five and a half minutes
of `make test`; the other cases do not measure time.

The rest checks the shared timing logic (labs/*/gradertiming.py) itself.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from socklab.feedback import CaseFailure, NotChecked
from socklab.labspec import Lab
from socklab.paths import LABS, ROOT, SOLUTIONS

sys.path.insert(0, os.path.join(LABS, "heartbeat"))
import gradertiming  # noqa: E402

GRADES = 6
TIMING_CASES = {
    "heartbeat": ["hb_client_answers_heartbeats", "hb_server_sends_heartbeats",
                  "hb_server_drops_silent_client", "hb_server_survives_reset_client"],
    "pinger": ["pinger_timeout_per_ping", "pinger_late_replies", "pinger_statistics",
               "pingserver_delays_without_blocking", "hbclient_sends_heartbeats",
               "hbserver_reports_lost_and_delay", "hbserver_two_clients"],
}


@pytest.fixture
def busy_cores():
    """One busy-loop process per core, in a process group of their own,
    killed with the group at the end."""
    cores = os.cpu_count() or 1
    loop = "; ".join(["for i in $(seq %d); do (while :; do :; done) & done" % cores, "wait"])
    group = subprocess.Popen(["/bin/sh", "-c", loop], start_new_session=True)
    try:
        yield cores
    finally:
        os.killpg(group.pid, signal.SIGKILL)
        group.wait(5)


def build_reference(lab, dest):
    """The reference of LAB built once, as the grader's cases take it (--socklab-build)."""
    shutil.copytree(os.path.join(SOLUTIONS, lab), dest,
                    ignore=shutil.ignore_patterns("*.o", "*.d", *Lab(lab).binaries))
    if not os.path.exists(os.path.join(dest, "common")):
        shutil.copytree(os.path.join(SOLUTIONS, "common"), os.path.join(dest, "common"),
                        ignore=shutil.ignore_patterns("*.o", "*.d"))
    out = subprocess.run(["make", "-C", str(dest)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return str(dest)


def node_id(lab, case):
    """The pytest node of CASE in LAB's folder (test_<case> in one of its files)."""
    for name in sorted(os.listdir(os.path.join(LABS, lab))):
        path = os.path.join(LABS, lab, name)
        if name.startswith("test_") and name.endswith(".py"):
            with open(path, encoding="utf-8") as f:
                if re.search(rf"^def test_{case}\(", f.read(), re.M):
                    return f"{path}::test_{case}"
    raise AssertionError(f"no test_{case} in labs/{lab}")


def grade_rounds(lab, build, results, cases, rounds):
    """ROUNDS rounds of LAB's CASES on BUILD in one grading session, as
    grader/grade runs them (the same plugin, namespaces and captures), one
    case at a time; without grade's build, which does not change between
    rounds, and without a new session per round, which would take most of
    the time.  Returns the records and pytest's output."""
    os.makedirs(results)
    nodes = [node_id(lab, c) for c in cases]
    cmd = ["/usr/bin/python3", "-m", "pytest", *nodes, "-p", "repeat_cases", "-q", "-p", "no:cacheprovider",
           "--rootdir", ROOT, "--basetemp", os.path.join(results, "pytest"),
           "--socklab-build", build, "--socklab-results", results]
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", SOCKLAB_ROUNDS=str(rounds),
               PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT, env=env,
                         stdin=subprocess.DEVNULL)
    path = os.path.join(results, "cases.json")
    assert os.path.exists(path), out.stdout[-3000:] + out.stderr[-3000:]
    with open(path) as f:
        return json.load(f)["cases"], out


@pytest.mark.parametrize("lab", sorted(TIMING_CASES))
def test_reference_scores_full_points_on_a_loaded_machine(lab, busy_cores, tmp_path):
    cases = TIMING_CASES[lab]
    build = build_reference(lab, tmp_path / "build")
    records, out = grade_rounds(lab, build, str(tmp_path / "results"), cases, GRADES)
    lost = [f"{c['name']}: {c['status']}: {c['summary']}" for c in records if c["status"] != "passed"]
    assert not lost, (f"{len(lost)} of {len(records)} timing cases lost points with {busy_cores} busy cores:\n"
                      + "\n".join(lost) + "\n" + out.stdout[-3000:])
    assert sorted(c["name"] for c in records) == sorted(cases * GRADES)
    spec = Lab(lab).cases
    assert sum(c["points"] for c in records) == GRADES * sum(spec[c].points for c in cases)


def test_timing_module_is_the_same_in_both_labs():
    # Each lab ships alone, so each has its copy; they must not drift apart.
    with open(os.path.join(LABS, "heartbeat", "gradertiming.py"), "rb") as a, \
            open(os.path.join(LABS, "pinger", "gradertiming.py"), "rb") as b:
        assert a.read() == b.read()


# --- the schedule: each message against the program's own ---------------

I = 0.1     # the interval (s)
TOL = 0.02  # 20% of it


def test_schedule_on_time():
    assert gradertiming.schedule_misses([0.1, 0.2, 0.3, 0.4, 0.5], 0.0, I, TOL) == ([], 0.0)


def test_schedule_late_message_makes_no_later_one_early():
    # An absolute schedule sends the overdue heartbeat late, then goes on at
    # the planned times: the one after the late one is not early.
    early, late = gradertiming.schedule_misses([0.1, 0.2, 0.38, 0.4, 0.5, 0.6], 0.0, I, TOL)
    assert early == [] and late == 0.0


def test_schedule_that_starts_again_after_a_late_message_is_not_late():
    early, late = gradertiming.schedule_misses([0.1, 0.2, 0.38, 0.48, 0.58, 0.68], 0.0, I, TOL)
    assert early == [] and late == 0.0


def test_schedule_too_fast_is_early():
    early, _ = gradertiming.schedule_misses([0.05, 0.1, 0.15, 0.2, 0.25], 0.0, I, TOL)
    assert [k for k, _ in early] == [1, 2, 3, 4, 5]


def test_schedule_too_slow_is_late():
    early, late = gradertiming.schedule_misses([0.2, 0.4, 0.6, 0.8, 1.0], 0.0, I, TOL)
    assert early == [] and late == pytest.approx(0.1)


def test_schedule_one_late_message_is_not_most():
    _, late = gradertiming.schedule_misses([0.1, 0.2, 0.6, 0.7, 0.8], 0.0, I, TOL)
    assert late == 0.0


# --- judged(): the grader's lateness excuses, never a failure ------------

class FakeCase:
    port = 24000

    class iso:
        mode = "netns"

    def __init__(self):
        self.steps = []
        self.resources = []

    def step(self, text):
        self.steps.append(text)

    def add_resource(self, resource):
        self.resources.append(resource)
        return resource

    def close(self):
        for r in self.resources:
            r.close()


def test_judged_runs_again_on_fresh_ports_while_the_grader_is_late():
    case, ports = FakeCase(), []

    def scenario(attempt):
        ports.append(gradertiming.attempt_port(case, attempt))
        if attempt < 2:
            raise gradertiming.GraderLate("the scripted server sent a datagram 80 ms late")
        return "judged"

    try:
        assert gradertiming.judged(case, scenario, tolerance_ms=None) == "judged"
    finally:
        case.close()
    assert ports == [24000, 24001, 24002]
    assert sum("could not judge" in s for s in case.steps) == 2


def test_judged_says_not_checked_when_the_grader_stays_late():
    case = FakeCase()

    def scenario(attempt):
        raise gradertiming.GraderLate("the grader was late")

    try:
        with pytest.raises(NotChecked, match="could not judge: the grader was late"):
            gradertiming.judged(case, scenario, tolerance_ms=None)
    finally:
        case.close()


def test_judged_reports_a_failure_when_the_grader_was_on_time():
    case, attempts = FakeCase(), []

    def scenario(attempt):
        attempts.append(attempt)
        raise CaseFailure("hbserver did not drop the silent client")

    try:
        with pytest.raises(CaseFailure):
            gradertiming.judged(case, scenario, tolerance_ms=10_000)
    finally:
        case.close()
    assert attempts == [0]


def _one_call_holding_the_interpreter(at_least):
    """A sum over a range runs in C without giving up the interpreter; grow it
    until one call holds the interpreter AT_LEAST seconds on this machine."""
    size = 1_000_000
    while True:
        began = time.monotonic()
        sum(range(size))
        if time.monotonic() - began >= at_least or size >= 1 << 34:
            return size
        size *= 2


def test_probe_sees_the_grader_held_back():
    size = _one_call_holding_the_interpreter(0.2)
    probe = gradertiming.LatenessProbe()
    try:
        start = time.monotonic()
        sum(range(size))  # the probe's thread cannot wake for about 0.2 s
        assert probe.worst(start) >= 100
    finally:
        probe.close()
