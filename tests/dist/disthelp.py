"""Shared by the distribution tests: commands with a deadline (their whole
process group killed when it passes), and what an instructor must never ship."""

import glob
import os
import signal
import subprocess
import tomllib

import mkskeleton
from socklab.paths import ROOT

PYTHON = "/usr/bin/python3"


def run(cmd, timeout, **kw):
    """Run CMD in its own process group; on TIMEOUT kill the group and fail.
    Returns a CompletedProcess with text stdout and stderr."""
    proc = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"{cmd} did not finish within {timeout} s:\n{out[-2000:]}\n{err[-2000:]}")
    finally:
        try:  # whatever it left behind in its group
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def solution_regions(text):
    """The solution-only code of each blank of a solution file: the lines between
    BLANK n and END n that are not its SKELETON n placeholder (mkskeleton's markers)."""
    regions = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        m = mkskeleton.BLANK_RE.match(lines[i])
        i += 1
        if not m:
            continue
        body, in_skeleton = [], False
        while i < len(lines) and not mkskeleton.END_RE.match(lines[i]):
            if mkskeleton.SKELETON_RE.match(lines[i]):
                in_skeleton = True
            elif in_skeleton and mkskeleton.SKELETON_CLOSE_RE.match(lines[i]):
                in_skeleton = False
            elif not in_skeleton:
                body.append(lines[i])
            i += 1
        regions.append((int(m["n"]), "".join(body)))
    return regions


def squeeze(text):
    """Whitespace runs as one space: a region re-indented is still found."""
    return " ".join(text.split())


def secrets(given_texts):
    """[(what, text)] that must be in no student file: every solution-only region
    of solutions/*/ (except those a skeleton or handout hands out on purpose,
    say as a later lab's given code: GIVEN_TEXTS are those files, squeezed), every mutant's replace
    text, and every hidden case's name and title. Also returns what was skipped."""
    found, skipped = [], []
    for path in sorted(glob.glob(os.path.join(ROOT, "solutions", "*", "*.[ch]"))):
        with open(path, encoding="utf-8") as f:
            for n, region in solution_regions(f.read()):
                what = f"{os.path.relpath(path, ROOT)} BLANK {n}"
                text = squeeze(region)
                if not text:
                    skipped.append((what, "no solution lines"))
                elif any(text in g for g in given_texts):
                    skipped.append((what, "a skeleton or handout hands this code out"))
                else:
                    found.append((what, text))
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "mutants", "*.toml"))):
        with open(path, "rb") as f:
            for m in tomllib.load(f).get("mutant", []):
                what = f"{os.path.relpath(path, ROOT)} mutant {m['name']}"
                text = squeeze(m["replace"])
                kept = {squeeze(line) for line in m["find"].splitlines()}
                if all(squeeze(line) in kept for line in m["replace"].splitlines()):
                    # its replace text is what the solution has, less some lines
                    skipped.append((what, "removes code: nothing to look for"))
                elif any(text in g for g in given_texts):
                    # the buggy lines are, word for word, code a skeleton has elsewhere
                    skipped.append((what, "a skeleton or handout has these lines for another purpose"))
                else:
                    found.append((what, text))
    for path in sorted(glob.glob(os.path.join(ROOT, "labs", "*", "hidden", "hidden.toml"))):
        with open(path, "rb") as f:
            for name, case in tomllib.load(f).get("cases", {}).items():
                found.append((f"hidden case {name}", name))
                found.append((f"title of hidden case {name}", squeeze(case["title"])))
    return found, skipped


def leaks(files, found):
    """[(file, what)] for every secret of FOUND that one of FILES (name -> bytes) holds."""
    out = []
    for name, data in files.items():
        text = squeeze(data.decode("utf-8", "replace"))
        out += [(name, what) for what, secret in found if secret in text]
    return out
