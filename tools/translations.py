#!/usr/bin/python3
"""translations - keep the Chinese handouts in step with the English ones.

Each handouts/LAB.md may have a translation, handouts/zh/LAB.md. A
translation rewrites the prose for Chinese students but keeps, byte for
byte and in the same order, what a student types or compares against:

  - the fenced code blocks (wire formats, command lines, output examples);
  - the `### TODO n: ...` heading lines (the skeleton's comments are English;
    the translation puts each TODO's text in Chinese on the line below);
  - the value cells of every table (cells that are a number or one code
    span: ports, limits, exit codes, header names), by table, row and column.

handouts/zh/SYNC.toml records, for each translated lab, the SHA-256 of the
English handout's code blocks, TODO headings and value cells when the
translation was last reviewed:

    [echo]
    english_sha256 = "..."

The check fails when a translation's blocks, headings or value cells differ
from the English handout's, when the English handout changed them since the
recorded hash (so the translation was not revised with it), or when a TODO's
first line below its heading is not Chinese. Labs with no translation yet are
listed as such and do not fail.

    translations.py               check every lab (exit 1 on a failure)
    translations.py LAB ...       check these labs
    translations.py --record LAB  after reviewing the translation of LAB
                                  against the English handout: record the
                                  English hash (refused while they differ)
    --root DIR                    the socklab tree (default: this one)
"""
import argparse
import hashlib
import os
import re
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LANG = "zh"

FENCE = re.compile(r"^( *)(`{3,}|~{3,})(.*)$")
TODO = re.compile(r"^### TODO \d+:")
CJK = re.compile(r"[\u4e00-\u9fff]")
VALUE = re.compile(r"^(`[^`]+`|[-+]?\d[\d.,:/ ]*(ms|s|%)?|-)$")


def code_blocks(text):
    """The fenced blocks of a Markdown text, each with its fence lines."""
    blocks, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m.group(1), m.group(2)
        closer = re.compile("^" + indent + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        j = i + 1
        while j < len(lines) and not closer.match(lines[j]):
            j += 1
        blocks.append("\n".join(lines[i:j + 1]))
        i = j + 1
    return blocks


def prose_lines(text):
    """The lines outside fenced blocks, as (index, line)."""
    inside, closer, out = False, None, []
    for n, line in enumerate(text.split("\n")):
        if inside:
            if closer.match(line):
                inside = False
            continue
        m = FENCE.match(line)
        if m:
            inside = True
            closer = re.compile("^" + m.group(1) + re.escape(m.group(2)[0]) + "{" + str(len(m.group(2))) + r",}\s*$")
            continue
        out.append((n, line))
    return out


def todo_headings(text):
    """The `### TODO n: ...` lines, outside code blocks, in order."""
    return [line for _, line in prose_lines(text) if TODO.match(line)]


def _cells(row):
    """The cells of one table row; `|` inside a code span does not split."""
    cells, cur, in_code = [], "", False
    for ch in row.strip().strip("|"):
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
    cells.append(cur.strip())
    return cells


def table_values(text):
    """(table, row, column, cell) of every value cell of every table.

    The header row and the separator row are left out: the header is
    words, translated with the rest."""
    values, table, row, prev_table = [], -1, 0, False
    for _, line in prose_lines(text):
        is_row = line.lstrip().startswith("|")
        if is_row and not prev_table:
            table, row = table + 1, 0
        prev_table = is_row
        if not is_row:
            continue
        row += 1
        cells = _cells(line)
        if row == 1 or all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
            continue
        for col, cell in enumerate(cells):
            if VALUE.match(cell):
                values.append((table, row, col, cell))
    return values


def untranslated_todos(text):
    """TODO headings whose first non-empty line below is not Chinese."""
    lines, bad = text.split("\n"), []
    for n, line in prose_lines(text):
        if not TODO.match(line):
            continue
        below = next((l for l in lines[n + 1:] if l.strip()), "")
        if not CJK.search(below):
            bad.append(line)
    return bad


def substance_sha256(text):
    """The hash of what a translation must carry over unchanged."""
    h = hashlib.sha256()
    for part in code_blocks(text):
        h.update(b"block\0" + part.encode() + b"\0")
    for part in todo_headings(text):
        h.update(b"todo\0" + part.encode() + b"\0")
    for t, r, c, cell in table_values(text):
        h.update(("cell\0%d %d %d %s\0" % (t, r, c, cell)).encode())
    return h.hexdigest()


def labs(root):
    """Every lab with an English handout."""
    return sorted(name[:-3] for name in os.listdir(os.path.join(root, "handouts")) if name.endswith(".md"))


def sync_path(root):
    return os.path.join(root, "handouts", LANG, "SYNC.toml")


def read_sync(root):
    try:
        with open(sync_path(root), "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}


def write_sync(root, sync):
    with open(sync_path(root), "w") as f:
        f.write("# Written by tools/translations.py --record LAB: the hash of the English\n"
                "# handout's code blocks, TODO headings and table values the translation\n"
                "# was last reviewed against. Do not edit by hand.\n")
        for lab in sorted(sync):
            f.write('\n[%s]\nenglish_sha256 = "%s"\n' % (lab, sync[lab]["english_sha256"]))


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _first_difference(name, english, translated):
    """One message for the first item that differs between two lists."""
    for n, (e, t) in enumerate(zip(english, translated)):
        if e != t:
            return "%s %d differs:\n    English:     %s\n    translation: %s" % (
                name, n + 1, e if isinstance(e, str) else e, t)
    return "%d %s in English, %d in the translation" % (len(english), name + "s", len(translated))


def differences(english, translated):
    """What the translation does not carry over from the English text."""
    problems = []
    for name, get in (("code block", code_blocks), ("TODO heading", todo_headings), ("table value", table_values)):
        e, t = get(english), get(translated)
        if e != t:
            problems.append(_first_difference(name, e, t))
    for line in untranslated_todos(translated):
        problems.append("no Chinese line below: %s" % line)
    return problems


def check_lab(root, lab, sync):
    """(status, problems) for one lab: 'ok', 'untranslated' or 'FAIL'."""
    zh = os.path.join(root, "handouts", LANG, lab + ".md")
    if not os.path.exists(zh):
        return "untranslated", []
    english = _read(os.path.join(root, "handouts", lab + ".md"))
    problems = differences(english, _read(zh))
    recorded = sync.get(lab, {}).get("english_sha256")
    if recorded is None:
        problems.append("no hash recorded in handouts/%s/SYNC.toml (review, then --record %s)" % (LANG, lab))
    elif recorded != substance_sha256(english):
        problems.append("handouts/%s.md changed its code blocks, TODO headings or table values since the "
                        "translation was recorded: carry the change into handouts/%s/%s.md, then --record %s"
                        % (lab, LANG, lab, lab))
    return ("FAIL" if problems else "ok"), problems


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check the Chinese handouts (handouts/zh/LAB.md) against the English ones.",
                                 epilog="Labs without a translation are listed as untranslated; they do not fail.")
    ap.add_argument("labs", nargs="*", metavar="LAB", help="labs to check (default: every lab)")
    ap.add_argument("--record", metavar="LAB", action="append", default=[],
                    help="record the English hash for LAB after reviewing its translation")
    ap.add_argument("--root", default=ROOT, help="the socklab tree (default: %(default)s)")
    args = ap.parse_args(argv)
    root, sync = args.root, read_sync(args.root)
    known = labs(root)
    for lab in args.labs + args.record:
        if lab not in known:
            print("translations: no handout handouts/%s.md (labs: %s)" % (lab, ", ".join(known)), file=sys.stderr)
            return 2
    if args.record:
        for lab in args.record:
            zh = os.path.join(root, "handouts", LANG, lab + ".md")
            if not os.path.exists(zh):
                print("translations: no translation %s to record" % zh, file=sys.stderr)
                return 1
            english = _read(os.path.join(root, "handouts", lab + ".md"))
            problems = differences(english, _read(zh))
            if problems:
                print("translations: %s not recorded:\n  %s" % (lab, "\n  ".join(problems)), file=sys.stderr)
                return 1
            sync[lab] = {"english_sha256": substance_sha256(english)}
            print("%s: recorded %s" % (lab, sync[lab]["english_sha256"][:16]))
        write_sync(root, sync)
        return 0
    failed = False
    for lab in args.labs or known:
        status, problems = check_lab(root, lab, sync)
        print("%-10s %s" % (lab, status))
        for p in problems:
            print("  " + p)
        failed |= status == "FAIL"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
