"""Each lab proves its grader: the reference scores 100 (also with sanitizers),
the generated skeleton scores at most 10, and every mutant (the solution with
one typical student bug, tests/mutants/<lab>.toml) loses points in the case
named for that bug."""
import glob
import os
import re
import shutil
import subprocess

import pytest

import feedbacktexts
import mutants as mutmod
from socklab import gradecmd
from socklab.labspec import Lab
from socklab.paths import LABS, ROOT, SKELETONS, SOLUTIONS

LAB_NAMES = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(LABS, "*", "lab.toml")))
MUTANTS = [(lab, m) for lab in LAB_NAMES for m in mutmod.load(lab)]


def run_grade(lab, submission, results, *extra):
    return gradecmd.run(lab, submission, results, *extra, timeout=600)


def _failed(data):
    return {c["name"]: c["summary"] for c in data["cases"] if c["status"] != "passed"}


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_reference_scores_100(lab, tmp_path):
    out, data = run_grade(lab, os.path.join(SOLUTIONS, lab), str(tmp_path / "r"), "-j", "2")
    assert data["score"] == 100, f"{_failed(data)}\n{out.stdout[-3000:]}"
    assert out.returncode == 0
    assert data["isolation"] == "netns" or os.geteuid() != 0


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_reference_scores_100_with_sanitizers(lab, tmp_path):
    out, data = run_grade(lab, os.path.join(SOLUTIONS, lab), str(tmp_path / "r"), "--sanitize", "-j", "2")
    assert data["sanitize"] is True
    assert data["score"] == 100, f"{_failed(data)}\n{out.stdout[-3000:]}"


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_skeleton_scores_low_and_says_why(lab, tmp_path):
    out, data = run_grade(lab, os.path.join(SKELETONS, lab), str(tmp_path / "r"), "-j", "2")
    assert data["build"]["ok"], "the skeleton must compile"
    assert data["score"] <= 10, f"skeleton scored {data['score']}"
    assert re.search(r"TODO \d+ not done yet", out.stdout), "feedback should show the skeleton's TODO messages"
    # The feedback a student reads: no None, no b'...', no Saw: alone, no doubled word.
    assert feedbacktexts.results_problems(data) == []


@pytest.mark.parametrize("lab, mutant", MUTANTS, ids=[f"{lab}-{m['name']}" for lab, m in MUTANTS])
def test_mutant_loses_points_in_its_case(lab, mutant, tmp_path):
    # Only the named case runs: the proof is that it fails (tools/mutants.py
    # shows every case a mutant loses, for the notes).
    sub = mutmod.make_copy(lab, mutant, str(tmp_path), Lab(lab).binaries)
    out, data = run_grade(lab, sub, str(tmp_path / "r"), "-k", mutant["caught_by"])
    assert data["build"]["ok"], f"mutant does not compile: {data['build']}"
    by = {c["name"]: c for c in data["cases"]}
    assert mutant["caught_by"] in by, f"unknown case {mutant['caught_by']}"
    caught = by[mutant["caught_by"]]
    assert caught["status"] == "failed", f"{mutant['name']} was not caught by {mutant['caught_by']}: {caught['status']}"
    assert data["score"] < data["max_score"]
    assert caught["feedback"], "a failed case must explain itself"
    assert feedbacktexts.record_problems(caught) == []


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_every_lab_has_mutants_naming_real_cases(lab):
    mutants = mutmod.load(lab)
    assert len(mutants) >= 5
    cases = Lab(lab).cases
    for m in mutants:
        assert m["caught_by"] in cases, m["name"]
        assert m["bug"] and m["name"]


def test_committed_skeletons_are_what_the_generator_writes():
    out = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "mkskeleton.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_skeleton_and_solution_compile_without_warnings(lab, tmp_path):
    for src in (os.path.join(SKELETONS, lab), os.path.join(SOLUTIONS, lab)):
        dest = tmp_path / os.path.basename(os.path.dirname(src)) / lab
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.o", "*.d", *Lab(lab).binaries))
        if not (dest / "common").exists():
            shutil.copytree(os.path.join(SOLUTIONS, "common"), dest / "common",
                            ignore=shutil.ignore_patterns("*.o", "*.d"))
        out = subprocess.run(["make", "-C", str(dest)], capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "warning:" not in out.stdout + out.stderr, out.stdout + out.stderr


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_handout_names_every_blank_in_order(lab):
    out = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "mkskeleton.py"), "--list", lab], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    blanks = [line.split("\t") for line in out.stdout.splitlines()]
    assert blanks, "a lab without blanks?"
    with open(os.path.join(ROOT, "handouts", f"{lab}.md"), encoding="utf-8") as f:
        handout = f.read()
    positions = []
    for _, n, task in blanks:
        m = re.search(rf"^#+ TODO {n}\b.*$", handout, re.M)
        assert m, f"handouts/{lab}.md has no heading for TODO {n}"
        assert task.rstrip(".") in m.group(0), f"TODO {n} heading should repeat its task: {task}"
        positions.append(m.start())
    assert positions == sorted(positions), "the handout must list the blanks in order"
