#!/usr/bin/python3
"""The texts a student reads in the grader's feedback, checked for what
misleads or puzzles: a 'Saw:' with no 'Expected:' beside it, Python's own
renderings (None, b'...'), doubled words.

Two kinds of checks, used by tests/grader/test_feedback_texts.py and, on the
records every skeleton and mutant run produces, by tests/labs/test_lab_proofs.py:
- static, over the source of labs/**/*.py and grader/socklab/*.py: every
  case.fail(...) / CaseFailure(...) that says what it saw says what it
  expected; no string constant doubles a word;
- on feedback as graded (results.json): results_problems(data), for each
  case's summary and feedback, leaving out the lines quoted from a program.

Run it to list what the static checks find:  tools/feedbacktexts.py"""

import ast
import functools
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "grader"))
from socklab.safetext import PROGRAM_PREFIX  # noqa: E402  (a program's own output line)

# "scripted scripted", "Makefile, Makefile": a word, then the same word again
# after a space or a comma.  Letters only ('0 0' or '1, 1' can be data), and
# not a protocol's upper-case tokens ('LOGIN, LIST, DEL, DEL', 'CR CR LF').
DOUBLED = re.compile(r"(?<![\w-])([A-Za-z]+)(?:,? )\1(?![\w-])")
NONE_WORD = re.compile(r"\bNone\b")
# b'...' or b"...": a 'b' that starts a word, then a quote that opens (not
# one that closes a quoted text ending in b, as in 'first from b').
BYTES_LITERAL = re.compile(r"(?<![\w\\])b(['\"])(?![\s,;.)\]]|$)")


def doubled_in(text):
    """The doubled words in TEXT ('scripted scripted', 'Makefile, Makefile')."""
    return [m.group(0) for m in DOUBLED.finditer(text)
            if not (m.group(1).isupper() and len(m.group(1)) > 1)]


def source_files(root=ROOT):
    """The files whose strings reach a student's feedback."""
    return sorted(glob.glob(os.path.join(root, "labs", "**", "*.py"), recursive=True) +
                  glob.glob(os.path.join(root, "grader", "socklab", "*.py")))


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
            if name in ("fail", "CaseFailure"):
                yield node


def saw_without_expected(source, path="<source>"):
    """Line numbers of the fail()/CaseFailure() calls in SOURCE that pass what
    they saw (saw=, or the third positional argument) but not what they expected."""
    found = []
    for call in _calls(ast.parse(source, path)):
        if _passes(call, "saw", 2) and not _passes(call, "expected", 1):
            found.append(call.lineno)
    return sorted(found)


def _passes(call, name, position):
    """Whether CALL passes its argument NAME (keyword, or positional at
    POSITION), and as something other than a plain None."""
    given = [k.value for k in call.keywords if k.arg == name]
    if len(call.args) > position:
        given.append(call.args[position])
    return any(not (isinstance(v, ast.Constant) and v.value is None) for v in given)


def _string_pieces(tree):
    """(line, text) of every string constant, f-strings' literal parts included;
    docstrings and comments are not feedback, but checking them costs nothing."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def doubled_words(source, path="<source>"):
    """(line, the doubled words) for every string constant in SOURCE that says a
    word twice in a row."""
    return sorted((line, words) for line, text in _string_pieces(ast.parse(source, path))
                  for words in doubled_in(text))


@functools.lru_cache(maxsize=None)
def static_findings(root=ROOT):
    """{'saw without expected': [...], 'doubled word': [...]} as 'path:line' strings."""
    found = {"saw without expected": [], "doubled word": []}
    for path in source_files(root):
        with open(path, encoding="utf-8") as f:
            source = f.read()
        rel = os.path.relpath(path, root)
        found["saw without expected"] += [f"{rel}:{n}" for n in saw_without_expected(source, rel)]
        found["doubled word"] += [f"{rel}:{n}: {w!r}" for n, w in doubled_words(source, rel)]
    return found


def grader_lines(text):
    """The lines of a feedback TEXT that the grader wrote: not the program's
    own output, which is quoted behind '│ ' and is the student's."""
    return [line for line in text.splitlines() if not line.lstrip().startswith(PROGRAM_PREFIX.strip())]


def text_problems(text):
    """What is wrong with a feedback TEXT, as short phrases (none: it is fine)."""
    problems = []
    lines = grader_lines(text)
    expected_open = False    # an 'Expected:' since the last blank line
    for line in lines:
        if not line.strip():
            expected_open = False
        if line.startswith("Expected:"):
            expected_open = True
        if line.startswith("Saw:") and not expected_open:
            problems.append(f"'Saw:' without an 'Expected:': {line!r}")
        if NONE_WORD.search(line):
            problems.append(f"None: {line!r}")
        if BYTES_LITERAL.search(line):
            problems.append(f"a Python bytes literal (use socklab.feedback.show_bytes): {line!r}")
        for words in doubled_in(line):
            problems.append(f"doubled word {words!r}: {line!r}")
    return problems


def record_problems(record):
    """What is wrong with the texts of one case's RECORD (results.json)."""
    return [f"{record['name']}: {p}" for field in ("summary", "feedback")
            for p in text_problems(record.get(field) or "")]


def results_problems(data):
    """What is wrong with the texts of every case in results.json's DATA."""
    return [p for record in data.get("cases", []) for p in record_problems(record)]


def main():
    found = static_findings()
    for rule, where in found.items():
        print(f"{rule}: {len(where)}")
        for w in where:
            print(f"    {w}")
    return 1 if any(found.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
