#!/usr/bin/python3
"""mutants LAB - grade every mutant of LAB and print which cases caught it.

A mutant is the reference solution with one typical student bug
(tests/mutants/LAB.toml: name, bug, file, find, replace, caught_by).
"""

import argparse
import os
import shutil
import sys
import tempfile
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "grader"))
from socklab import gradecmd  # noqa: E402
MUTANTS_DIR = os.path.join(ROOT, "tests", "mutants")
BUILD_PRODUCTS = ("*.o", "*.d")


class MutantError(Exception):
    """A mutant that does not apply to the current solution."""


def load(lab):
    """The mutants of LAB (an empty list when it has none)."""
    path = os.path.join(MUTANTS_DIR, f"{lab}.toml")
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return tomllib.load(f)["mutant"]


def make_copy(lab, mutant, dest, binaries=()):
    """Write DEST/LAB (the mutated solution) and DEST/common; return DEST/LAB."""
    sub = os.path.join(dest, lab)
    ignore = shutil.ignore_patterns(*BUILD_PRODUCTS, *binaries)
    shutil.copytree(os.path.join(ROOT, "solutions", lab), sub, ignore=ignore)
    shutil.copytree(os.path.join(ROOT, "solutions", "common"), os.path.join(dest, "common"), ignore=ignore)
    path = os.path.join(sub, mutant["file"])
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.count(mutant["find"]) != 1:
        raise MutantError(f"mutant {mutant['name']}: its 'find' text occurs {text.count(mutant['find'])} "
                          f"times in {mutant['file']} (must be exactly once)")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(mutant["find"], mutant["replace"]))
    os.chmod(dest, 0o755)
    return sub


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("lab")
    p.add_argument("names", nargs="*", metavar="MUTANT", help="only these mutants (default: all)")
    args = p.parse_args(argv)
    mutants = [m for m in load(args.lab) if not args.names or m["name"] in args.names]
    unknown = set(args.names) - {m["name"] for m in mutants}
    if unknown:
        p.error(f"no such mutant in tests/mutants/{args.lab}.toml: {', '.join(sorted(unknown))}")
    print(f"{'mutant':32} {'score':>5}  named case caught it?  cases that failed")
    for m in mutants:
        with tempfile.TemporaryDirectory() as tmp:
            sub = make_copy(args.lab, m, tmp)
            _, data = gradecmd.run(args.lab, sub, os.path.join(tmp, "r"), "-j", "2")
        failed = [c["name"] for c in data["cases"] if c["status"] != "passed"]
        caught = "yes" if m["caught_by"] in failed else "NO"
        print(f"{m['name']:32} {data['score']:>5}  {caught:21}  {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
