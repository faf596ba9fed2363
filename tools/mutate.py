#!/usr/bin/python3
"""mutate - mutation testing of a lab's grader with mutants made by machine.

Makes mutants of the reference solution of LAB with the standard operators
of mutation testing on C, each a copy of the solution with one change on
one line of the code students write (the BLANK regions; --all: every line
of the lab's own C files), builds each, grades it, and prints the mutation
score: killed / (generated - not compiled - equivalent).

Operators (each occurrence on a line is its own mutant):
  ror   relational operator replaced: <  <=  >  >=  ==  !=
  lcr   logical connector replaced: && and ||
  aor   arithmetic operator replaced: + and -, * and /, ++ and --, += and -=
  crp   an integer constant N replaced by N+1, N-1 and 0
  neg   the condition of an if or while negated
  sdl   a call statement, break or continue deleted
Lines that only log (sl_log, perror, fprintf to stderr) are not mutated.
  swp   the two arguments of a two-argument call swapped

A mutant is 'equivalent' when its binaries are the reference's, byte for
byte in code and data (trivial compiler equivalence: gcc -O2 made the
same program), or when it is listed in tests/mutants/LAB-equivalent.toml
with the reason no program of the handout could tell it apart:

    [[equivalent]]
    file = "tcpserver.c"
    original = "if (n < 0)"        # the line, without its indentation
    mutated = "if (n <= 0)"
    why = "n is never 0 here: sl_reader_line returns -1 or a length > 0"
    function = "serve_client"    # optional: only this function's copies of the line

A mutant is graded only on the cases that run a binary it changed (the
reference's results say which binaries each case ran). Grading stops at the
first case that fails (grade -x), and that case is run once more: a mutant
counts as killed when its case fails twice. When the second run passes,
every case is graded, and the failures run once more; a mutant whose
failures all pass the second time is 'flaky' (a timing case on a loaded
machine).
The full record goes to results/mutation/LAB.json.

This is a benchmark-like command, not part of make test: all mutants of a
lab take minutes. `--max N --seed S` grades a fixed sample.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "grader"))
from socklab import gradecmd  # noqa: E402
from socklab.labspec import Lab  # noqa: E402

SOLUTIONS = os.path.join(ROOT, "solutions")
BUILD_TIMEOUT = 120
COMPARED_SECTIONS = (".text", ".rodata", ".data")

BLANK_RE = re.compile(r"^\s*/\* BLANK (\d+):")
END_RE = re.compile(r"^\s*/\* END (\d+) \*/")
SKELETON_RE = re.compile(r"^\s*/\* SKELETON \d+:\s*$")
COMMENT_CLOSE_RE = re.compile(r"^\s*\*/\s*$")


# --- which lines may be mutated ------------------------------------------------

def masked(line):
    """LINE with the insides of string and character literals and any comment
    replaced by '@', so that operators are found only in code."""
    out = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in "\"'":
            j = i + 1
            while j < n and line[j] != c:
                j += 2 if line[j] == "\\" else 1
            out.append(c + "@" * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        elif line.startswith("//", i) or line.startswith("/*", i):
            out.append("@" * (n - i))
            break
        else:
            out.append(c)
            i += 1
    return "".join(out)[:n]


# Logging calls are left alone, as mutation tools for other languages do by
# default (PIT's avoidCallsTo): a log line's wording is no promise of a handout.
LOGGING_RE = re.compile(r"^\s*(\(void\))?\s*(sl_log|sl_logv|perror|fprintf\s*\(\s*stderr)\b")


def code_lines(text, whole_file=False):
    """[(line number, line)] of the lines that may be mutated: solution lines of
    the BLANK regions (or every code line), without comments or preprocessor."""
    lines = text.splitlines()
    result = []
    in_blank = whole_file
    in_comment = False
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if BLANK_RE.match(line):
            in_blank = True
            continue
        if END_RE.match(line):
            in_blank = whole_file
            continue
        if in_comment:
            in_comment = not ("*/" in line)
            continue
        if stripped.startswith("/*") and "*/" not in stripped:
            in_comment = True
            continue
        if not in_blank or not stripped or stripped.startswith(("#", "//", "/*", "*")):
            continue
        if LOGGING_RE.match(line):
            continue
        result.append((number, line))
    return result


# --- operators ----------------------------------------------------------------

def _replace_all(line, mask, pattern, replacements, op):
    """A mutant for each match of PATTERN in the code part of LINE and each
    replacement of the matched text (REPLACEMENTS: matched text -> list)."""
    for m in re.finditer(pattern, mask):
        for new in replacements.get(m.group(0), []):
            yield op, line[:m.start()] + new + line[m.end():]


ROR = {" < ": [" <= "], " <= ": [" < "], " > ": [" >= "], " >= ": [" > "],
       " == ": [" != "], " != ": [" == "]}
LCR = {" && ": [" || "], " || ": [" && "]}
AOR = {" + ": [" - "], " - ": [" + "], " * ": [" / "], " / ": [" * "],
       "++": ["--"], "--": ["++"], " += ": [" -= "], " -= ": [" += "]}


def _constants(line, mask):
    for m in re.finditer(r"(?<![\w.])(\d+)(?![\w.])", mask):
        value = int(m.group(1))
        for new in sorted({value + 1, value - 1, 0} - {value}):
            if new >= 0:
                yield "crp", line[:m.start()] + str(new) + line[m.end():]


def _closing_paren(mask, start):
    """Index of the ')' that closes the '(' at START, or -1."""
    depth = 0
    for i in range(start, len(mask)):
        if mask[i] == "(":
            depth += 1
        elif mask[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _negations(line, mask):
    for m in re.finditer(r"\b(if|while) \(", mask):
        open_at = m.end() - 1
        close_at = _closing_paren(mask, open_at)
        if close_at > 0:
            cond = line[open_at + 1:close_at]
            yield "neg", line[:open_at + 1] + f"!({cond})" + line[close_at:]


CALL_STATEMENT_RE = re.compile(r"^(\s*)(\(void\))?\s*[A-Za-z_]\w*\s*\(.*\);\s*$")


def _deletions(line, mask):
    mask = mask.rstrip("@ \t")       # a trailing comment
    stripped = mask.strip()
    if stripped in ("break;", "continue;"):
        yield "sdl", line[:len(line) - len(line.lstrip())] + ";"
    elif CALL_STATEMENT_RE.match(mask) and _closing_paren(mask, mask.index("(")) == len(mask) - 2:
        yield "sdl", line[:len(line) - len(line.lstrip())] + ";"


def _top_level_commas(mask, open_at, close_at):
    depth, commas = 0, []
    for i in range(open_at + 1, close_at):
        if mask[i] in "([{":
            depth += 1
        elif mask[i] in ")]}":
            depth -= 1
        elif mask[i] == "," and depth == 0:
            commas.append(i)
    return commas


def _swaps(line, mask):
    for m in re.finditer(r"\b[a-z_]\w*\(", mask):
        if m.group(0)[:-1] in ("if", "while", "for", "switch", "return", "sizeof"):
            continue
        open_at = m.end() - 1
        close_at = _closing_paren(mask, open_at)
        if close_at < 0:
            continue
        commas = _top_level_commas(mask, open_at, close_at)
        if len(commas) != 1:
            continue
        a = line[open_at + 1:commas[0]].strip()
        b = line[commas[0] + 1:close_at].strip()
        if a and b and a != b:
            yield "swp", line[:open_at + 1] + f"{b}, {a}" + line[close_at:]


def mutations(line):
    """Every (operator, mutated line) of one line of code."""
    mask = masked(line)
    found = []
    found += _replace_all(line, mask, r" (<=|>=|==|!=|<|>) ", ROR, "ror")
    found += _replace_all(line, mask, r" (&&|\|\|) ", LCR, "lcr")
    found += _replace_all(line, mask, r" (\+=|-=|\+|-|\*|/) |\+\+|--", AOR, "aor")
    found += _constants(line, mask)
    found += _negations(line, mask)
    found += _deletions(line, mask)
    found += _swaps(line, mask)
    seen, unique = set(), []
    for op, new in found:
        if new != line and new not in seen:
            seen.add(new)
            unique.append((op, new))
    return unique


def generate(lab, whole_file=False):
    """Every mutant of LAB's solution: dicts with id, file, line, op, original, mutated."""
    folder = os.path.join(SOLUTIONS, lab)
    mutants = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".c"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            text = f.read()
        functions = enclosing_functions(text)
        for number, line in code_lines(text, whole_file):
            for op, new in mutations(line):
                mutants.append({"id": f"{name}:{number}:{op}:{len(mutants)}", "file": name, "line": number,
                                "function": functions.get(number), "op": op, "original": line.strip(),
                                "mutated": new.strip(), "new_line": new})
    return mutants


FUNCTION_RE = re.compile(r"^(?:[A-Za-z_][\w \t\*]*?[ \t\*])?([A-Za-z_]\w*)\s*\([^;]*$")


def enclosing_functions(text):
    """{line number: the name of the function it is in} (a definition starts
    at column 0, as the kit's C style has it, and its body ends at a '}' there)."""
    names, current = {}, None
    for number, line in enumerate(text.split("\n"), 1):
        m = FUNCTION_RE.match(line)
        if m and not line.startswith(("static const", "#")) and "=" not in line:
            current = m.group(1)
        names[number] = current
        if line.startswith("}"):
            current = None
    return names


# --- equivalents listed by hand -----------------------------------------------

def equivalents_path(lab):
    return os.path.join(ROOT, "tests", "mutants", f"{lab}-equivalent.toml")


def load_equivalents(lab):
    """{(file, original, mutated, function or None): why} of the mutants judged
    equivalent by hand (an entry's optional `function` limits it to the
    occurrences of its line in that function)."""
    misplaced = os.path.join(ROOT, "labs", lab, "equivalent-mutants.toml")
    if os.path.exists(misplaced):
        raise SystemExit(f"mutate: move {misplaced} to {equivalents_path(lab)}: it quotes solution code, "
                         f"which must never reach the student tarball (labs/ goes into it)")
    path = equivalents_path(lab)
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as f:
        table = tomllib.load(f)
    listed = {}
    for entry in table.get("equivalent", []):
        try:
            key = (entry["file"], " ".join(entry["original"].split()), " ".join(entry["mutated"].split()),
                   entry.get("function"))
            why = entry["why"].strip()
        except (KeyError, AttributeError) as e:
            raise SystemExit(f"mutate: {path}: each [[equivalent]] needs file, original, mutated and why") from e
        if not why:
            raise SystemExit(f"mutate: {path}: {key[0]}: '{key[1]}' -> '{key[2]}' gives no reason")
        listed[key] = why
    return listed


def equivalent_why(mutant, listed):
    """Why MUTANT is listed as equivalent (in its own function, or anywhere), or None."""
    key = (mutant["file"], " ".join(mutant["original"].split()), " ".join(mutant["mutated"].split()))
    return listed.get(key + (mutant.get("function"),)) or listed.get(key + (None,))


# --- building and comparing -----------------------------------------------------

def write_copy(lab, dest, mutant=None):
    """DEST/LAB: the solution (with MUTANT applied) beside DEST/common."""
    ignore = shutil.ignore_patterns("*.o", "*.d", *Lab(lab).binaries)
    sub = os.path.join(dest, lab)
    shutil.copytree(os.path.join(SOLUTIONS, lab), sub, ignore=ignore)
    shutil.copytree(os.path.join(SOLUTIONS, "common"), os.path.join(dest, "common"), ignore=ignore)
    if mutant is not None:
        path = os.path.join(sub, mutant["file"])
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        lines[mutant["line"] - 1] = mutant["new_line"]
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    os.chmod(dest, 0o755)
    return sub


def build(sub):
    """Run make in SUB; return None on success, else the compiler's last lines."""
    try:
        out = subprocess.run(["make", "-s", "-C", sub], capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"make did not finish in {BUILD_TIMEOUT} s"
    if out.returncode != 0:
        return "\n".join((out.stdout + out.stderr).strip().splitlines()[-3:])
    return None


def program_digest(path):
    """A hash of a binary's code and data (not its debug information, which
    names the folder it was built in)."""
    args = ["objdump", "-s", *sum((["-j", s] for s in COMPARED_SECTIONS), []), path]
    out = subprocess.run(args, capture_output=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"objdump {path}: {out.stderr.decode(errors='replace').strip()}")
    body = out.stdout.split(b"\n", 2)[-1]      # the first lines name the file
    return hashlib.sha256(body).hexdigest()


def digests(sub, binaries):
    return {b: program_digest(os.path.join(sub, b)) for b in binaries if os.path.exists(os.path.join(sub, b))}


# --- grading ---------------------------------------------------------------------

class GraderFailed(Exception):
    """grade itself failed on a mutant (its results say nothing of the mutant)."""


def grade_cases(lab, sub, results, cases, exitfirst=False):
    """{case: status} of CASES graded on the submission SUB (EXITFIRST: stop
    at the first that does not pass; those left are 'not_run')."""
    extra = [a for c in cases for a in ("-k", c)] + ["-j", "2"] + (["-x"] if exitfirst else [])
    out, data = gradecmd.run(lab, sub, results, *extra, timeout=900)
    if "build" not in data:
        raise GraderFailed(f"grade {lab} failed (exit {out.returncode}): {out.stderr.strip()[-500:]}")
    if not data["build"]["ok"]:
        return {c: "build-failed" for c in cases}
    return {c["name"]: c["status"] for c in data["cases"] if c["name"] in cases}


def reference_profile(lab, tmp):
    """(digests of the reference's binaries, {case: binaries it ran}, failures)."""
    sub = write_copy(lab, os.path.join(tmp, "reference"))
    problem = build(sub)
    if problem:
        raise SystemExit(f"mutate: the reference of {lab} does not build:\n{problem}")
    ref = digests(sub, Lab(lab).binaries)
    _, data = gradecmd.run(lab, sub, os.path.join(tmp, "reference-results"), "-j", "2", timeout=900)
    failed = [c["name"] for c in data["cases"] if c["status"] != "passed"]
    return ref, {c["name"]: set(c.get("programs", [])) for c in data["cases"]}, failed


def judge(lab, mutant, ref_digests, case_programs, listed, tmp):
    """Build and grade one mutant; return its record with 'status' set."""
    record = {k: v for k, v in mutant.items() if k != "new_line"}
    why = equivalent_why(mutant, listed)
    if why:
        return dict(record, status="equivalent", why=why)
    folder = tempfile.mkdtemp(prefix="m-", dir=tmp)
    try:
        sub = write_copy(lab, folder, mutant)
        problem = build(sub)
        if problem:
            return dict(record, status="not-compiled", why=problem)
        changed = sorted(b for b, d in digests(sub, Lab(lab).binaries).items() if ref_digests.get(b) != d)
        if not changed:
            return dict(record, status="equivalent", why="same code and data as the reference (gcc -O2)")
        cases = sorted(c for c, progs in case_programs.items() if progs & set(changed))
        record["changed"] = changed
        if not cases:
            return dict(record, status="survived", why=f"no case runs {', '.join(changed)}")
        try:
            return _graded(lab, sub, record, folder, cases, changed)
        except (GraderFailed, gradecmd.GradeCommandError) as e:
            return dict(record, status="error", why=str(e))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _graded(lab, sub, record, folder, cases, changed):
    """RECORD with the status grading the built mutant SUB on CASES gives."""
    # Most mutants fail a case early: stop there (-x) and confirm that case;
    # only when it passes again are all cases run.
    for attempt, exitfirst in (("a", True), ("b", False)):
        first = grade_cases(lab, sub, os.path.join(folder, f"r1{attempt}"), cases, exitfirst)
        failed = sorted(c for c, s in first.items() if s not in ("passed", "not_run"))
        if not failed:
            return dict(record, status="survived", why=f"passed {len(cases)} cases that run {', '.join(changed)}")
        again = grade_cases(lab, sub, os.path.join(folder, f"r2{attempt}"), failed)
        confirmed = sorted(c for c, s in again.items() if s != "passed")
        if confirmed:
            return dict(record, status="killed", by=confirmed)
    return dict(record, status="flaky", by=failed, why="its failing cases passed when run again")


# --- the report -------------------------------------------------------------------

STATUSES = ("killed", "survived", "flaky", "equivalent", "not-compiled", "error")


def score_line(lab, records, generated):
    counts = {s: sum(1 for r in records if r["status"] == s) for s in STATUSES}
    judged = counts["killed"] + counts["survived"] + counts["flaky"]
    score = 100.0 * counts["killed"] / judged if judged else 100.0
    return counts, score, (f"{lab}: {generated} generated, {len(records)} graded, {counts['not-compiled']} not "
                           f"compiled, {counts['equivalent']} equivalent, {counts['killed']} killed, "
                           f"{counts['survived']} survived, {counts['flaky']} flaky, {counts['error']} grader errors: mutation score "
                           f"{score:.1f}%")


def show(record):
    where = f"{record['file']}:{record['line']}"
    extra = record.get("by") or record.get("why", "")
    if isinstance(extra, list):
        extra = ", ".join(extra)
    return f"  {record['status']:12} {record['op']} {where:22} {record['original']}  =>  {record['mutated']}" + \
        (f"\n               {extra}" if record["status"] in ("survived", "flaky", "error") else "")


def sample(mutants, most, seed):
    if most is None or most >= len(mutants):
        return mutants
    chosen = random.Random(seed).sample(range(len(mutants)), most)
    return [mutants[i] for i in sorted(chosen)]


def run(lab, args):
    mutants = generate(lab, args.all)
    if args.op:
        mutants = [m for m in mutants if m["op"] in args.op]
    if args.file:
        mutants = [m for m in mutants if m["file"] in args.file]
    if args.line:
        mutants = [m for m in mutants if m["line"] in args.line]
    chosen = sample(mutants, args.max, args.seed)
    if args.list:
        for m in chosen:
            print(f"{m['id']:32} {m['original']}  =>  {m['mutated']}")
        return 0
    listed = load_equivalents(lab)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"socklab-mutate-{lab}-") as tmp:
        ref, case_programs, failed = reference_profile(lab, tmp)
        if failed:
            raise SystemExit(f"mutate: the reference of {lab} failed {', '.join(failed)}: a quiet machine first")
        print(f"{lab}: {len(mutants)} mutants, grading {len(chosen)}"
              f"{f' (a sample, seed {args.seed})' if len(chosen) < len(mutants) else ''}, {args.jobs} at a time",
              flush=True)
        records = []
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(judge, lab, m, ref, case_programs, listed, tmp) for m in chosen]
            for n, future in enumerate(concurrent.futures.as_completed(futures), 1):
                record = future.result()
                records.append(record)
                if args.verbose or record["status"] in ("survived", "flaky", "error"):
                    print(show(record), flush=True)
                elif sys.stdout.isatty():
                    print(f"\r  {n}/{len(chosen)}", end="", flush=True)
                if not sys.stdout.isatty() and (n % 10 == 0 or n == len(chosen)):
                    survived = sum(r["status"] == "survived" for r in records)
                    print(f"  {n}/{len(chosen)} graded, {survived} survived so far "
                          f"({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    if sys.stdout.isatty():
        print("\r", end="")
    records.sort(key=lambda r: (r["file"], r["line"], r["id"]))
    counts, score, line = score_line(lab, records, len(mutants))
    print(f"{line} ({time.monotonic() - started:.0f} s)")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"{lab}.json"), "w") as f:
        json.dump({"lab": lab, "generated": len(mutants), "graded": len(chosen), "seed": args.seed,
                   "counts": counts, "score": round(score, 1), "mutants": records}, f, indent=1)
    return 0 if score >= args.target else 1


def main(argv=None):
    p = argparse.ArgumentParser(prog="mutate", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("labs", nargs="+", metavar="LAB")
    p.add_argument("--all", action="store_true", help="mutate every line of the lab's C files, not only the blanks")
    p.add_argument("--max", type=int, metavar="N", help="grade a sample of N mutants (default: all)")
    p.add_argument("--seed", type=int, default=1, help="the sample's seed (default 1)")
    p.add_argument("--op", action="append", choices=["ror", "lcr", "aor", "crp", "neg", "sdl", "swp"],
                   help="only this operator (repeatable)")
    p.add_argument("--file", action="append", metavar="NAME.c", help="only mutants of this file (repeatable)")
    p.add_argument("--line", action="append", type=int, metavar="N",
                   help="only mutants of line N (repeatable; with --file, of that file's line)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="mutants graded at once (default 1)")
    p.add_argument("--list", action="store_true", help="list the mutants, grade nothing")
    p.add_argument("--target", type=float, default=90.0, help="exit 1 below this score (default 90)")
    p.add_argument("--out", default=os.path.join(ROOT, "results", "mutation"),
                   help="where LAB.json goes (default results/mutation)")
    p.add_argument("-v", "--verbose", action="store_true", help="print every mutant, not only survivors")
    args = p.parse_args(argv)
    status = 0
    for lab in args.labs:
        if not os.path.isdir(os.path.join(SOLUTIONS, lab)):
            p.error(f"no solution for lab {lab!r}")
        status |= run(lab, args)
    return status


if __name__ == "__main__":
    sys.exit(main())
