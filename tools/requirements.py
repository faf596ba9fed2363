#!/usr/bin/python3
"""requirements - check each lab's requirement table against its handout and cases.

A lab's requirement table, labs/LAB/requirements.toml (and, for the hidden
cases, labs/LAB/hidden/requirements.toml), lists every promise of
handouts/LAB.md that a program must keep, each with the cases that check it
or the reason no case can:

    handout_sha256 = "..."      # the handout this table was last reviewed against

    [[requirement]]
    id = "tcpserver.uppercase"
    says = "turned to uppercase"        # words of the handout, verbatim
    cases = ["tcp_server_uppercase"]

    [[requirement]]
    id = "tcpserver.log-level"
    says = "a time and a level"
    untested = "why no case can check it"

The check fails when a case names no requirement, a requirement names
neither a case nor a reason, a requirement's words are not in the handout,
or the handout changed since the table was last reviewed (its hash).  After
a review, `tools/requirements.py --reviewed LAB` records the handout's hash.
"""

import argparse
import hashlib
import os
import re
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "grader"))
from socklab.labspec import Lab  # noqa: E402

TABLE = "requirements.toml"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def handout_path(lab, root=ROOT):
    return os.path.join(root, "handouts", f"{lab}.md")


def handout_hash(lab, root=ROOT):
    with open(handout_path(lab, root), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def normalize(text):
    """Text as a reader sees it: markdown emphasis and code ticks gone, white space folded."""
    text = re.sub(r"[`*_]", "", text)
    return " ".join(text.split())


def table_paths(lab_dir):
    """The lab's table and, when this copy of the kit has it, the hidden cases' table."""
    paths = [os.path.join(lab_dir, TABLE)]
    hidden = os.path.join(lab_dir, "hidden", TABLE)
    if os.path.isfile(hidden):
        paths.append(hidden)
    return paths


def load_tables(lab_dir):
    """[(path, parsed table)] of the tables that exist."""
    tables = []
    for path in table_paths(lab_dir):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                tables.append((path, tomllib.load(f)))
    return tables


def _check_requirement(req, where, cases, handout_text, seen_ids):
    problems = []
    rid = req.get("id")
    if not isinstance(rid, str) or not ID_RE.match(rid):
        return [f"{where}: a requirement needs an id of lower-case letters, digits, '.', '-' or '_' "
                f"(got {rid!r})"]
    if rid in seen_ids:
        problems.append(f"{where}: requirement {rid} is listed twice")
    seen_ids.add(rid)
    says = req.get("says")
    if not isinstance(says, str) or not says.strip():
        problems.append(f"{where}: requirement {rid} needs 'says': the handout's words that make the promise")
    elif normalize(says) not in handout_text:
        problems.append(f"{where}: requirement {rid}: the handout no longer says {says!r}")
    named = req.get("cases", [])
    untested = req.get("untested", "")
    if not isinstance(named, list) or not all(isinstance(c, str) for c in named):
        problems.append(f"{where}: requirement {rid}: 'cases' must be a list of case names")
        named = []
    if not named and not (isinstance(untested, str) and untested.strip()):
        problems.append(f"{where}: requirement {rid} names no case and gives no reason ('untested')")
    if named and untested:
        problems.append(f"{where}: requirement {rid} names cases and says it is untested: choose one")
    for name in named:
        if name not in cases:
            problems.append(f"{where}: requirement {rid} names {name}, which is not a case of the lab")
    return problems


def check(lab, labs_root=None, root=ROOT):
    """Problems with LAB's requirement tables, as a list of strings (empty when sound)."""
    spec = Lab(lab, root=labs_root or os.path.join(root, "labs"))
    tables = load_tables(spec.dir)
    main = os.path.join(spec.dir, TABLE)
    if not tables or tables[0][0] != main:
        return [f"{lab}: {os.path.relpath(main, root)} is missing: list every promise of "
                f"handouts/{lab}.md with the case that checks it"]
    handout_text = normalize(open(handout_path(lab, root), encoding="utf-8").read())
    problems = []
    recorded = tables[0][1].get("handout_sha256")
    if recorded != handout_hash(lab, root):
        problems.append(f"{lab}: handouts/{lab}.md changed since {os.path.relpath(main, root)} was reviewed "
                        f"against it: add or change the requirements its new text makes, then record the "
                        f"review with tools/requirements.py --reviewed {lab}")
    covered = set()
    seen_ids = set()
    for path, table in tables:
        where = os.path.relpath(path, root)
        reqs = table.get("requirement", [])
        if not reqs:
            problems.append(f"{where}: no [[requirement]] entries")
        for req in reqs:
            problems += _check_requirement(req, where, spec.cases, handout_text, seen_ids)
            covered.update(req.get("cases", []) if isinstance(req.get("cases", []), list) else [])
    for name in sorted(set(spec.cases) - covered):
        problems.append(f"{lab}: case {name} checks no requirement of the table (name it under the "
                        f"promise it checks, or remove the case)")
    return problems


def summary(lab, root=ROOT):
    """(requirements, checked by a case, untested) of LAB."""
    reqs = [r for _, t in load_tables(os.path.join(root, "labs", lab)) for r in t.get("requirement", [])]
    checked = sum(1 for r in reqs if r.get("cases"))
    return len(reqs), checked, len(reqs) - checked


def record_review(lab, root=ROOT):
    """Write the handout's current hash into the lab's table."""
    path = os.path.join(root, "labs", lab, TABLE)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    line = f'handout_sha256 = "{handout_hash(lab, root)}"'
    new, n = re.subn(r'^handout_sha256 = ".*"$', line, text, count=1, flags=re.M)
    if n == 0:
        new = line + "\n" + text
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)


def all_labs(root=ROOT):
    labs_dir = os.path.join(root, "labs")
    return sorted(d for d in os.listdir(labs_dir) if os.path.isfile(os.path.join(labs_dir, d, "lab.toml")))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("labs", nargs="*", metavar="LAB", help="labs to check (default: every lab)")
    p.add_argument("--reviewed", action="store_true",
                   help="record that the tables were reviewed against the handouts as they are now")
    args = p.parse_args(argv)
    labs = args.labs or all_labs()
    unknown = sorted(set(labs) - set(all_labs()))
    if unknown:
        p.error(f"no such lab: {', '.join(unknown)} (labs: {', '.join(all_labs())})")
    status = 0
    for lab in labs:
        if args.reviewed:
            record_review(lab)
        problems = check(lab)
        total, checked, untested = summary(lab) if os.path.isfile(os.path.join(ROOT, "labs", lab, TABLE)) \
            else (0, 0, 0)
        print(f"{lab:10} {total:3} requirements, {checked:3} checked by cases, {untested:2} untested"
              f"{'' if not problems else f', {len(problems)} problems'}")
        for line in problems:
            print(f"  {line}")
        status |= bool(problems)
    return status


if __name__ == "__main__":
    sys.exit(main())
