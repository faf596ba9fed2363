#!/usr/bin/python3
"""mkskeleton - write the student skeletons from the reference solutions.

A solution marks each blank like this (C comments, so the solution compiles):

    /* BLANK 3: Read one reply line from the server with sl_reader. */
    ...solution lines...
    /* SKELETON 3:
    n = -1;
    SL_TODO(3);
    */
    /* END 3 */

The skeleton gets "/* TODO 3: <task> */" followed by the SKELETON lines
(uncommented, indentation kept); the solution lines disappear.  The helper
library solutions/common is copied beside each lab as common/.
"""

import argparse
import filecmp
import os
import re
import shutil
import sys
import tempfile

BLANK_RE = re.compile(r"^(?P<indent>\s*)/\* BLANK (?P<n>\d+): (?P<task>.+?) \*/\s*$")
SKELETON_RE = re.compile(r"^\s*/\* SKELETON (?P<n>\d+):\s*$")
SKELETON_CLOSE_RE = re.compile(r"^\s*\*/\s*$")
END_RE = re.compile(r"^\s*/\* END (?P<n>\d+) \*/\s*$")
ANY_MARKER_RE = re.compile(r"/\* (BLANK|SKELETON|END) \d+")

# Files of a solution directory that never go to students.
EXCLUDED_NAMES = {"MUTANTS", ".gitignore"}
BUILD_PRODUCT_SUFFIXES = (".o", ".d", ".a")


class MarkerError(Exception):
    """A malformed blank marker; the message names file and line."""


def transform_source(text, path):
    """Return (skeleton_text, [(number, task), ...]) for one source file."""
    out = []
    blanks = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        m = BLANK_RE.match(line)
        if not m:
            if ANY_MARKER_RE.search(line):
                raise MarkerError(f"{path}:{i + 1}: marker outside a BLANK block: {line.strip()}")
            out.append(line)
            i += 1
            continue
        number, task, indent = int(m["n"]), m["task"], m["indent"]
        start = i + 1
        skeleton_lines, i = _read_blank_body(lines, i + 1, number, path, start)
        blanks.append((number, task))
        out.append(f"{indent}/* TODO {number}: {task} */\n")
        out.extend(skeleton_lines)
    return "".join(out), blanks


def _read_blank_body(lines, i, number, path, start):
    """Skip the solution lines of blank NUMBER; return its skeleton lines and
    the index just after its END marker."""
    skeleton = []
    while i < len(lines):
        line = lines[i]
        if END_RE.match(line):
            if int(END_RE.match(line)["n"]) != number:
                raise MarkerError(f"{path}:{i + 1}: END {END_RE.match(line)['n']} closes BLANK {number}")
            return skeleton, i + 1
        s = SKELETON_RE.match(line)
        if s:
            if int(s["n"]) != number:
                raise MarkerError(f"{path}:{i + 1}: SKELETON {s['n']} inside BLANK {number}")
            i += 1
            while i < len(lines) and not SKELETON_CLOSE_RE.match(lines[i]):
                if ANY_MARKER_RE.search(lines[i]):
                    raise MarkerError(f"{path}:{i + 1}: marker inside SKELETON {number}")
                skeleton.append(lines[i])
                i += 1
            if i == len(lines):
                raise MarkerError(f"{path}:{start}: SKELETON {number} has no closing */ line")
            i += 1
            continue
        if BLANK_RE.match(line):
            raise MarkerError(f"{path}:{i + 1}: BLANK inside BLANK {number} (opened at line {start})")
        i += 1
    raise MarkerError(f"{path}:{start}: BLANK {number} has no END {number}")


def is_source(name):
    return name.endswith((".c", ".h"))


def generate_lab(solutions, lab, dest):
    """Write the skeleton of LAB into DEST; return the blanks [(n, task)]."""
    src = os.path.join(solutions, lab)
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    blanks = []
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if name in EXCLUDED_NAMES or name.endswith(BUILD_PRODUCT_SUFFIXES):
            continue
        if not os.path.isfile(path) or (os.access(path, os.X_OK) and not name.endswith((".sh", ".py"))):
            continue  # directories and built binaries
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if is_source(name):
            text, found = transform_source(text, path)
            blanks.extend(found)
        with open(os.path.join(dest, name), "w", encoding="utf-8") as f:
            f.write(text)
    check_numbers(lab, blanks)
    copy_common(os.path.join(solutions, "common"), os.path.join(dest, "common"))
    return blanks


def copy_common(src, dest):
    """Copy the helper library sources (no build products)."""
    os.makedirs(dest)
    for name in sorted(os.listdir(src)):
        if name.endswith(BUILD_PRODUCT_SUFFIXES) or name in EXCLUDED_NAMES:
            continue
        path = os.path.join(src, name)
        if os.path.isfile(path):
            shutil.copyfile(path, os.path.join(dest, name))


def check_numbers(lab, blanks):
    """Blank numbers must be 1..N, each once, increasing in file order."""
    numbers = [n for n, _ in blanks]
    if numbers != list(range(1, len(numbers) + 1)):
        raise MarkerError(f"{lab}: blank numbers must run 1..N in file order, found {numbers}")


def labs_with_blanks(solutions):
    return sorted(d for d in os.listdir(solutions)
                  if d != "common" and os.path.isdir(os.path.join(solutions, d)))


def trees_equal(a, b):
    """True when directory trees A and B hold the same files with the same bytes."""
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    if mismatch or errors:
        return False
    return all(trees_equal(os.path.join(a, d), os.path.join(b, d)) for d in cmp.common_dirs)


def main(argv=None):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser(
        description="Generate skeletons/<lab> from solutions/<lab> by replacing every "
                    "BLANK n ... END n region with a TODO n comment and its SKELETON placeholder.")
    p.add_argument("labs", nargs="*", help="labs to generate (default: every lab in solutions/)")
    p.add_argument("--solutions", default=os.path.join(root, "solutions"), help="solutions directory")
    p.add_argument("--out", default=os.path.join(root, "skeletons"), help="skeletons directory")
    p.add_argument("--check", action="store_true",
                   help="do not write; exit 1 if the committed skeletons differ from what would be generated")
    p.add_argument("--list", action="store_true",
                   help="do not write; print each lab's blanks as 'lab<TAB>n<TAB>task'")
    args = p.parse_args(argv)
    labs = args.labs or labs_with_blanks(args.solutions)
    stale = []
    try:
        for lab in labs:
            if args.check or args.list:
                with tempfile.TemporaryDirectory() as tmp:
                    fresh = os.path.join(tmp, lab)
                    blanks = generate_lab(args.solutions, lab, fresh)
                    target = os.path.join(args.out, lab)
                    if args.check and (not os.path.isdir(target) or not trees_equal(fresh, target)):
                        stale.append(lab)
            else:
                blanks = generate_lab(args.solutions, lab, os.path.join(args.out, lab))
                if not args.list:
                    print(f"mkskeleton: skeletons/{lab}: {len(blanks)} blanks")
            if args.list:
                for n, task in blanks:
                    print(f"{lab}\t{n}\t{task}")
    except (MarkerError, OSError) as e:
        print(f"mkskeleton: {e}", file=sys.stderr)
        return 1
    if stale:
        print("mkskeleton: skeletons out of date for: " + ", ".join(stale) +
              "\nmkskeleton: run 'make skeletons' and commit the result", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
