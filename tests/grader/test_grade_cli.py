"""grader/grade on broken and hostile submissions: it always ends, always
writes its reports, and says what went wrong."""
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from socklab.paths import ROOT

GRADE = os.path.join(ROOT, "grader", "grade")
PY = "/usr/bin/python3"


def grade(tmp_path, submission, *extra, timeout=240):
    results = tmp_path / "results"
    t0 = time.monotonic()
    out = subprocess.run([GRADE, "echo", "--submission", str(submission), "--results", str(results), "-q",
                          *extra], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    with open(results / "results.json") as f:
        data = json.load(f)
    return out, data, time.monotonic() - t0


def _submission(tmp_path, makefile, files=None):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "Makefile").write_text(makefile)
    for name, text in (files or {}).items():
        (sub / name).write_text(text)
        os.chmod(sub / name, 0o755)
    os.chmod(tmp_path, 0o755)
    return sub


def test_unknown_lab_is_a_usage_error():
    out = subprocess.run([GRADE, "no-such-lab"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "no lab named 'no-such-lab'" in out.stderr


def test_compile_error_is_feedback_and_zero_points(tmp_path):
    sub = _submission(tmp_path, "all:\n\tgcc -c broken.c -o broken.o\n",
                      {"broken.c": "int main(void) { return missing_semicolon }\n"})
    out, data, _ = grade(tmp_path, sub)
    assert out.returncode == 1
    assert data["score"] == 0 and data["build"]["ok"] is False
    assert {c["status"] for c in data["cases"]} == {"not_run"}
    assert "error" in data["build"]["feedback"] and "broken.c" in data["build"]["feedback"]
    assert "did not build" in out.stdout and "broken.c" in out.stdout
    gs = json.loads((tmp_path / "results" / "gradescope.json").read_text())
    assert gs["score"] == 0 and "broken.c" in gs["output"]
    assert (tmp_path / "results" / "junit.xml").exists()


def test_missing_binaries_are_named(tmp_path):
    sub = _submission(tmp_path, "all:\n\ttrue\n")
    out, data, _ = grade(tmp_path, sub)
    assert out.returncode == 1
    assert "did not produce: tcpclient, tcpserver, udpclient, udpserver" in data["build"]["problem"]


HOSTILE = {
    # never listens; leaves a setsid daemon behind; ignores SIGTERM
    "tcpserver": f"""#!{PY}
import os, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1000)
    os._exit(0)
while True:
    time.sleep(1)
""",
    # floods stdout and never ends
    "tcpclient": f"""#!{PY}
import sys
while True:
    sys.stdout.write("spam " * 1000)
""",
    # fork bomb, contained by RLIMIT_NPROC
    "udpclient": f"""#!{PY}
import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.5)
""",
    "udpserver": f"#!{PY}\nimport os\nos.kill(os.getpid(), 11)\n",
}


def _processes_of(uids):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as f:
                uid = next(int(l.split()[1]) for l in f if l.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if uids[0] <= uid <= uids[1]:
            found.append(pid)
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="student uids and PID namespaces need root")
def test_hostile_submission_is_contained_and_graded(tmp_path):
    sub = _submission(tmp_path, "all:\n\ttrue\n", HOSTILE)
    cases = ["tcp_server_uppercase", "tcp_client_uppercase", "udp_client_uppercase", "udp_server_two_clients"]
    args = [x for c in cases for x in ("-k", c)]
    out, data, seconds = grade(tmp_path, sub, *args)
    assert out.returncode == 1, out.stderr
    by = {c["name"]: c for c in data["cases"]}
    assert set(by) == set(cases)
    assert all(c["status"] == "failed" for c in by.values()), [(c["name"], c["status"]) for c in by.values()]
    assert "was not listening on TCP port" in by["tcp_server_uppercase"]["summary"]
    assert "never connected" in by["tcp_client_uppercase"]["summary"]
    assert "SIGSEGV" in by["udp_server_two_clients"]["feedback"]
    assert seconds < 120
    assert _processes_of(data["student_uids"]) == [], "student processes survived the grading run"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_exitfirst_stops_at_the_first_failure_and_keeps_its_record(tmp_path, jobs):
    out, data, _ = grade(tmp_path, os.path.join(ROOT, "skeletons", "echo"), "-x", "-j", jobs)
    assert out.returncode == 1
    statuses = [c["status"] for c in data["cases"]]
    failed = [c for c in data["cases"] if c["status"] == "failed"]
    assert failed and failed[0]["feedback"], "the failing case keeps its feedback"
    assert statuses.count("not_run") >= len(statuses) - 2, statuses   # at most one more was in flight
    assert all(c["summary"] == "not run: -x stopped at the first failing case"
               for c in data["cases"] if c["status"] == "not_run")


def test_exitfirst_runs_every_case_of_a_passing_submission(tmp_path):
    out, data, _ = grade(tmp_path, os.path.join(ROOT, "solutions", "echo"), "-x", "-j", "2", "-k", "udp_")
    assert out.returncode == 0, out.stderr
    assert data["cases"] and {c["status"] for c in data["cases"]} == {"passed"}


@pytest.fixture
def tmpdir_for_grade():
    """An empty TMPDIR for one grading run: in /tmp (pytest's own folders are
    closed to the student uid that builds), removed afterwards."""
    import shutil
    import tempfile
    path = tempfile.mkdtemp(prefix="socklab-test-tmpdir-")
    os.chmod(path, 0o755)
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


def _grade_in(tmpdir, results, *extra):
    env = dict(os.environ, TMPDIR=str(tmpdir))
    return subprocess.Popen([GRADE, "echo", "--results", str(results), "-q", *extra], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_grading_run_leaves_no_temporary_file(tmp_path, tmpdir_for_grade):
    tmpdir = tmpdir_for_grade
    proc = _grade_in(tmpdir, tmp_path / "results", "-j", "2", "-k", "udp_client_uppercase", "-k", "tcp_server_uppercase")
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    assert list(tmpdir.iterdir()) == [], "the grading run left temporary files behind"


def test_an_interrupted_grading_run_leaves_no_temporary_file(tmp_path, tmpdir_for_grade):
    tmpdir = tmpdir_for_grade
    proc = _grade_in(tmpdir, tmp_path / "results", "-j", "2")
    deadline = time.monotonic() + 120
    # Interrupt once the cases run: the session folder exists in the work dir.
    while not list(tmpdir.glob("socklab-build-*/socklab-session-*")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)   # polling a condition with a deadline, not synchronising on time
    assert list(tmpdir.glob("socklab-build-*/socklab-session-*")), "the cases never started"
    proc.send_signal(2)    # Ctrl-C
    proc.communicate(timeout=120)
    assert list(tmpdir.iterdir()) == [], "the interrupted run left temporary files behind"


def test_a_selection_that_matches_no_case_is_a_usage_error_naming_the_closest():
    out = subprocess.run([GRADE, "echo", "-k", "tcp_servr_uppercase"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stderr
    assert "no case of echo matches 'tcp_servr_uppercase'; the closest: tcp_server_uppercase" in out.stderr


def test_each_case_is_told_as_it_finishes_unless_quiet(tmp_path):
    cases = ["tcp_server_uppercase", "udp_client_uppercase"]
    base = [GRADE, "echo", "--results", str(tmp_path / "r")] + [a for c in cases for a in ("-k", c)]
    out = subprocess.run(base, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    told = [line for line in out.stderr.splitlines() if line.startswith("grade: [")]
    assert sorted(line.split()[2] for line in told) == sorted(cases), out.stderr
    assert all(line.startswith("grade: [") and "/2] " in line and " passed " in line for line in told)
    assert "running 2 cases" in out.stderr
    quiet = subprocess.run(base + ["-q"], capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert quiet.returncode == 0 and "grade: [" not in quiet.stderr, quiet.stderr


def test_each_capture_has_its_ladder_page_linked_from_the_results_page(tmp_path):
    results = tmp_path / "r"
    out = subprocess.run([GRADE, "echo", "--results", str(results), "-q", "-k", "tcp_server_uppercase"],
                         capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    case = json.loads((results / "results.json").read_text())["cases"][0]
    assert case["capture"] and case["ladder"] == "captures/tcp_server_uppercase.html", case
    page = (results / case["ladder"]).read_text()
    assert page.startswith("<!DOCTYPE html>") and "127.0.0.1" in page
    index = (results / "index.html").read_text()
    for link in (case["ladder"], case["capture"], "results.json", "build.log"):
        assert f'href="{link}"' in index, link
