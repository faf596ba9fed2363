"""make dist: the student tarball works on its own (unpacked in an empty
folder: build a skeleton, grade it, grade a full solution to the visible
points) and holds no solution code, no mutant and no hidden case."""

import json
import os
import shutil
import tarfile

import pytest

import mkdist
from disthelp import PYTHON, leaks, run, secrets, squeeze
from socklab.paths import ROOT

MKDIST = os.path.join(ROOT, "tools", "mkdist.py")
TAG = "test"
PREFIX = f"socklab-student-{TAG}"


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist") / "student.tar.gz"
    done = run([PYTHON, MKDIST, "-o", out, "--tag", TAG], timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("student.tar.gz"), done.stdout
    return out


@pytest.fixture(scope="module")
def unpacked(tarball, tmp_path_factory):
    """The tarball unpacked in an empty folder, as a student would."""
    top = tmp_path_factory.mktemp("student")
    with tarfile.open(tarball) as tar:
        # Debian 12's Python has no extraction filters: check the members instead.
        assert all(i.name.startswith(PREFIX + "/") and ".." not in i.name.split("/")
                   and (i.isfile() or i.isdir()) for i in tar.getmembers())
        tar.extractall(top)
    assert os.listdir(top) == [PREFIX]
    yield top / PREFIX
    shutil.rmtree(top, ignore_errors=True)


def members(tarball):
    with tarfile.open(tarball) as tar:
        return tar.getmembers()


def test_dist_holds_the_student_parts_and_nothing_for_instructors(tarball):
    infos = members(tarball)
    names = {i.name[len(PREFIX) + 1:] for i in infos}
    assert all(i.name.startswith(PREFIX + "/") and ".." not in i.name.split("/") for i in infos)
    assert all(i.isfile() for i in infos), [i.name for i in infos if not i.isfile()]
    labs, _ = mkdist.complete_labs()
    assert "echo" in labs
    needed = {"README.md", "Makefile", "VERSION", "tools/deps.sh", "grader/grade", "grader/socklab/cli.py",
              "grader/sandbox/slrun.c", "grader/sandbox/Makefile", "grader/pcapcheck/main.c",
              "grader/pcapcheck/Makefile", "labs/conftest.py"}
    for lab in labs:
        needed |= {f"labs/{lab}/lab.toml", f"skeletons/{lab}/Makefile", f"handouts/{lab}.md"}
    assert needed <= names, sorted(needed - names)
    for name in names:
        parts = name.split("/")
        assert parts[0] not in ("solutions", "tests", "bench", "pcaps", ".ci", ".git", "build", "results"), name
        assert "hidden" not in parts and "hidden.toml" not in parts[-1], name
        assert "__pycache__" not in parts and not name.endswith((".o", ".d", ".pyc")), name
        assert name not in ("grader/sandbox/slrun", "grader/pcapcheck/pcapcheck"), name
    grade = next(i for i in infos if i.name.endswith("/grader/grade"))
    assert grade.mode & 0o111, "grader/grade must stay executable"


def test_dist_has_no_solution_code_no_mutant_and_no_hidden_case(tarball):
    with tarfile.open(tarball) as tar:
        files = {i.name: tar.extractfile(i).read() for i in tar.getmembers() if i.isfile()}
    # What a skeleton or a handout hands out on purpose is no secret.
    handed_out = {n: d for n, d in files.items() if n.startswith((f"{PREFIX}/skeletons/", f"{PREFIX}/handouts/"))}
    given = [squeeze(d.decode("utf-8", "replace")) for d in handed_out.values()]
    found, skipped = secrets(given)
    regions = [w for w, _ in found if " BLANK " in w]
    # The search must have teeth: most blanks and every lab's mutants and hidden cases.
    assert len(regions) >= 40 and len(regions) >= 3 * len(skipped), (regions, skipped)
    assert sum(" mutant " in w for w, _ in found) >= 20, found
    assert sum(w.startswith("hidden case ") for w, _ in found) >= 3, found
    assert leaks(files, found) == []
    # And the search would see a leak: a solution file among them is caught.
    solution = os.path.join(ROOT, "solutions", "echo", "tcpserver.c")
    with open(solution, "rb") as f:
        planted = dict(files, **{"planted/tcpserver.c": f.read()})
    assert any(name == "planted/tcpserver.c" for name, _ in leaks(planted, found))


def test_student_makefile_builds_and_grades_a_skeleton(unpacked):
    built = run(["make", "-s", "-C", unpacked / "skeletons" / "echo"], timeout=120)
    assert built.returncode == 0, built.stdout + built.stderr
    assert all(os.access(unpacked / "skeletons" / "echo" / b, os.X_OK)
               for b in ("tcpclient", "tcpserver", "udpclient", "udpserver"))
    run(["make", "-s", "-C", unpacked / "skeletons" / "echo", "clean"], timeout=60)
    no_lab = run(["make", "-s", "grade"], timeout=60, cwd=unpacked)
    assert no_lab.returncode != 0 and "make grade LAB=echo" in no_lab.stderr, no_lab.stderr
    graded = run(["make", "-s", "grade", "LAB=echo", "JOBS=2"], timeout=240, cwd=unpacked)
    text = graded.stdout + graded.stderr
    assert "1 hidden case(s) worth 5 points were not run here" in text, text
    assert os.access(unpacked / "grader" / "sandbox" / "slrun", os.X_OK), "the sandbox was built on first use"
    assert os.access(unpacked / "grader" / "pcapcheck" / "pcapcheck", os.X_OK), "pcapcheck was built on first use"
    with open(unpacked / "results" / "echo" / "results.json") as f:
        data = json.load(f)
    assert data["build"]["ok"], data["build"]
    assert data["score"] <= 10 and data["max_score"] == 100
    assert data["hidden"] == {"count": 1, "points": 5, "present": False}
    assert all(c["visibility"] != "hidden" for c in data["cases"])


def test_student_copy_grades_a_complete_submission_to_its_visible_points(unpacked, tmp_path):
    # A student who got everything right: the reference, as a submission from outside the copy.
    shutil.copytree(os.path.join(ROOT, "solutions", "echo"), tmp_path / "mine" / "echo",
                    ignore=shutil.ignore_patterns("*.o", "*.d", "tcpclient", "tcpserver", "udpclient", "udpserver"))
    shutil.copytree(os.path.join(ROOT, "solutions", "common"), tmp_path / "mine" / "common",
                    ignore=shutil.ignore_patterns("*.o", "*.d"))
    graded = run([unpacked / "grader" / "grade", "echo", "--submission", tmp_path / "mine" / "echo",
                  "--results", tmp_path / "r", "-j", "2", "-q"], timeout=240, cwd=unpacked)
    with open(tmp_path / "r" / "results.json") as f:
        data = json.load(f)
    failed = [(c["name"], c["summary"]) for c in data["cases"] if c["status"] != "passed"]
    assert failed == [], graded.stdout
    assert (data["score"], data["max_score"]) == (95, 100), graded.stdout
    assert graded.returncode == 1  # not full marks: the hidden case is the instructor's


def test_student_copy_without_a_submission_says_what_to_pass(unpacked):
    done = run([unpacked / "grader" / "grade", "echo"], timeout=60, cwd=unpacked)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no solutions/ in a student copy" in done.stderr, done.stderr
    assert "--submission skeletons/echo" in done.stderr, done.stderr


def test_mkdist_usage_and_refusals(tmp_path):
    helped = run([PYTHON, MKDIST, "--help"], timeout=60)
    assert helped.returncode == 0 and "student" in helped.stdout
    bad = run([PYTHON, MKDIST, "--tag", "a/b", "-o", tmp_path / "x.tar.gz"], timeout=60)
    assert bad.returncode == 2 and "--tag" in bad.stderr
    assert not (tmp_path / "x.tar.gz").exists()
    with pytest.raises(mkdist.DistError, match="hidden case"):
        mkdist.check_members(["skeletons/echo/x.c"], {"skeletons/echo/x.c": b"tcp_server_survives_bad_clients"},
                             ["tcp_server_survives_bad_clients"])
    with pytest.raises(mkdist.DistError, match="instructor-only"):
        mkdist.check_members(["labs/echo/hidden/test_hidden.py"], {}, [])
