"""--similarity: pairs of submissions that share much of their own code.

Debian's similarity-tester (sim_c) compares C token by token, blind to
layout, comments and names. Every student starts from the same skeleton,
so the lines of the skeleton are taken out of each file first: what is left
is the code the student wrote, and only that is compared.
"""

import os
import re
import shutil
import subprocess
import tempfile

from .paths import ROOT

SIM_C = "/usr/bin/sim_c"
THRESHOLD = 50          # percent of one file's code found in the other
SOURCE_SUFFIXES = (".c", ".h")


class SimilarityError(Exception):
    """sim_c is missing or failed."""


def _skeleton_lines(lab_name):
    """Per file name, the stripped lines of the lab's skeleton."""
    top = os.path.join(ROOT, "skeletons", lab_name)
    lines = {}
    for base, _, files in os.walk(top):
        for name in files:
            if name.endswith(SOURCE_SUFFIXES):
                with open(os.path.join(base, name), encoding="utf-8", errors="replace") as f:
                    lines.setdefault(name, set()).update(l.strip() for l in f if l.strip())
    return lines


def _students_own_code(src, dest, skeleton):
    """Copy each source file of SRC to DEST without the lines its skeleton
    counterpart has; return the files written."""
    written = []
    for base, _, files in os.walk(src):
        if os.path.relpath(base, src).split(os.sep)[0] == "common":
            continue  # the kit's helper library: the same for everybody
        for name in sorted(files):
            if not name.endswith(SOURCE_SUFFIXES):
                continue
            with open(os.path.join(base, name), encoding="utf-8", errors="replace") as f:
                kept = [l for l in f if l.strip() and l.strip() not in skeleton.get(name, ())]
            if kept:
                path = os.path.join(dest, name)
                with open(path, "w", encoding="utf-8") as out:
                    out.writelines(kept)
                written.append(path)
    return written


PERCENT_RE = re.compile(r"^(\S+) consists for (\d+) % of (\S+) material")


def similar_pairs(lab, out_dir, students, threshold=THRESHOLD):
    """Pairs (a, b, percent, file) where sim_c finds at least THRESHOLD % of a's
    own code in b, from the sources kept in OUT_DIR/students/NAME/src."""
    if not os.access(SIM_C, os.X_OK):
        raise SimilarityError("--similarity needs sim_c: run 'tools/deps.sh' as root (Debian package "
                              "similarity-tester)")
    skeleton = _skeleton_lines(lab.name)
    with tempfile.TemporaryDirectory(prefix="socklab-sim-") as tmp:
        files = []
        for student in students:
            src = os.path.join(out_dir, "students", student, "src")
            if os.path.isdir(src):
                dest = os.path.join(tmp, student)
                os.makedirs(dest)
                files += _students_own_code(src, dest, skeleton)
        if len(files) < 2:
            return []
        list_path = os.path.join(tmp, "files.txt")
        with open(list_path, "w") as f:
            f.write("".join(os.path.relpath(p, tmp) + "\n" for p in files))
        with open(list_path) as names:
            out = subprocess.run([SIM_C, "-p", "-e", "-s", "-t", str(threshold), "-i"], stdin=names,
                                 capture_output=True, text=True, cwd=tmp, timeout=300)
        if out.returncode != 0:
            raise SimilarityError(f"sim_c failed (exit {out.returncode}): {out.stderr.strip()[:500]}")
    best = {}
    for line in out.stdout.splitlines():
        m = PERCENT_RE.match(line.strip())
        if not m:
            continue
        a_path, percent, b_path = m.group(1), int(m.group(2)), m.group(3)
        a, b = a_path.split("/")[0], b_path.split("/")[0]
        if a == b or percent < threshold:
            continue
        key = tuple(sorted((a, b)))  # one row per pair, with its highest share
        if key not in best or percent > best[key]["percent"]:
            best[key] = {"a": key[0], "b": key[1], "percent": percent, "file": os.path.basename(a_path)}
    return sorted(best.values(), key=lambda p: (-p["percent"], p["a"], p["b"]))


def keep_sources(submission, dest, limit=2 << 20):
    """Copy the C sources of SUBMISSION to DEST (for --similarity and for TAs),
    at most LIMIT bytes in all."""
    used = 0
    for base, dirs, files in os.walk(submission):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in sorted(files):
            path = os.path.join(base, name)
            if not name.endswith(SOURCE_SUFFIXES) or os.path.islink(path) or not os.path.isfile(path):
                continue
            size = os.path.getsize(path)
            if used + size > limit:
                return
            used += size
            target = os.path.join(dest, os.path.relpath(path, submission))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(path, target)
