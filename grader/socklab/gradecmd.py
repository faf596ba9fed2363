"""Running grader/grade as a command and reading its results.json, for the
kit's tools and tests that check the grader from the outside (mutant
tables, lab proofs, recorded captures, isolation modes)."""

import json
import os
import subprocess

from .paths import ROOT

GRADE = os.path.join(ROOT, "grader", "grade")


class GradeCommandError(Exception):
    """grader/grade ended without writing results.json."""


def run(lab, submission, results, *extra, env=None, prefix=(), timeout=900):
    """Grade SUBMISSION for LAB into the folder RESULTS, quietly, with EXTRA
    options (e.g. "-j", "2", "-k", CASE); ENV adds to the environment and
    PREFIX goes before the command (e.g. setpriv to run it as another user).
    Returns (CompletedProcess, the results dict)."""
    cmd = [*prefix, GRADE, lab, "--submission", str(submission), "--results", str(results), "-q", *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                         env=dict(os.environ, **env) if env else None)
    path = os.path.join(results, "results.json")
    if not os.path.exists(path):
        raise GradeCommandError(f"grade {lab} wrote no results.json (exit {out.returncode}):\n"
                                f"{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    with open(path) as f:
        return out, json.load(f)
