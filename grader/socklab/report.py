"""Reports of one graded submission: terminal table, results.json, JUnit XML,
Gradescope's results.json and Autolab's last-line JSON."""

import json
import os
import shutil
import sys
from .safetext import visible, xml_attr, xml_text

STATUS_WORDS = {
    "passed": "passed", "failed": "FAILED", "error": "GRADER ERROR",
    "not_checked": "not checked", "not_run": "not run",
}


def total(results):
    return sum(c["points"] for c in results["cases"])


def write_all(results, out_dir):
    """Write every machine-readable report into OUT_DIR; return their paths."""
    paths = {
        "results": os.path.join(out_dir, "results.json"),
        "junit": os.path.join(out_dir, "junit.xml"),
        "gradescope": os.path.join(out_dir, "gradescope.json"),
    }
    write_atomic(paths["results"], json.dumps(results, indent=1, ensure_ascii=False))
    write_atomic(paths["junit"], junit_xml(results))
    write_atomic(paths["gradescope"], json.dumps(gradescope(results), indent=1, ensure_ascii=False))
    return paths


def write_atomic(path, text):
    """Write TEXT to PATH through a temporary file renamed over it, so that a
    reader never sees half a report (its folder is made when missing)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


# Gradescope's rule for tests held back from students (its autograder
# specification, "Controlling Test Case Visibility"): a "hidden" test is never
# shown and must carry no points; an "after_published" or "after_due_date" test
# carries points, and while any test is held back the student does not see the
# total either.  Our hidden cases carry points: they are held back until the
# instructor publishes the grades (or, when asked, until the due date).
GRADESCOPE_HELD_BACK = ("after_published", "after_due_date")
WHEN_SHOWN = {"after_published": "when your instructor publishes the grades",
              "after_due_date": "after the due date"}


def gradescope(results, hidden_as="after_published"):
    """Gradescope's autograder results.json.  HIDDEN_AS: the visibility that
    our hidden cases get (one of GRADESCOPE_HELD_BACK)."""
    if hidden_as not in GRADESCOPE_HELD_BACK:
        raise ValueError(f"hidden_as must be one of {GRADESCOPE_HELD_BACK}, not {hidden_as!r}")
    tests = []
    for c in results["cases"]:
        tests.append({
            "name": f"{c['name']}: {c['title']}",
            "score": c["points"], "max_score": c["max_points"],
            "status": "passed" if c["status"] == "passed" else "failed",
            "output": c["feedback"] or STATUS_WORDS.get(c["status"], c["status"]),
            "visibility": hidden_as if c["visibility"] == "hidden" else c["visibility"],
        })
    output = gradescope_headline(results, hidden_as)
    if results.get("build", {}).get("feedback"):
        output += "\n\nThe submission did not build:\n" + results["build"]["feedback"]
    return {"score": total(results), "output": output, "tests": tests,
            "visibility": "visible", "stdout_visibility": "hidden"}


def gradescope_headline(results, hidden_as):
    """The headline a student reads on Gradescope before the held-back cases
    are shown: the score of the cases they can see, never the total (which
    would tell how the hidden cases went)."""
    held = [c for c in results["cases"] if c["visibility"] == "hidden"]
    if not held:
        return headline(results)
    seen = [c for c in results["cases"] if c["visibility"] != "hidden"]
    text = (f"{results['lab']}: {sum(c['points'] for c in seen)}/{sum(c['max_points'] for c in seen)} "
            f"in the {len(seen)} case(s) you can see; the other {len(held)} case(s), worth "
            f"{sum(c['max_points'] for c in held)} points, and your total are shown {WHEN_SHOWN[hidden_as]}")
    return text + headline_notes(results)


def autolab_line(results):
    """Autolab reads the last line of the output as {"scores": {...}}."""
    return json.dumps({"scores": {c["name"]: c["points"] for c in results["cases"]},
                       "scoreboard": [total(results)]})


def junit_xml(results):
    cases = results["cases"]
    failures = sum(c["status"] in ("failed", "not_run") for c in cases)
    errors = sum(c["status"] == "error" for c in cases)
    skipped = sum(c["status"] == "not_checked" for c in cases)
    seconds = sum(c.get("seconds", 0) for c in cases)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuite name={xml_attr("socklab." + results["lab"])} tests="{len(cases)}" '
           f'failures="{failures}" errors="{errors}" skipped="{skipped}" time="{seconds:.3f}">',
           f'  <properties><property name="score" value="{total(results)}"/>'
           f'<property name="max_score" value="{results["max_score"]}"/></properties>']
    for c in cases:
        out.append(f'  <testcase classname={xml_attr(results["lab"])} name={xml_attr(c["name"])} '
                   f'time="{c.get("seconds", 0):.3f}">')
        out.append(f'    <properties><property name="points" value="{c["points"]}"/>'
                   f'<property name="max_points" value="{c["max_points"]}"/></properties>')
        tag = {"failed": "failure", "not_run": "failure", "error": "error",
               "not_checked": "skipped"}.get(c["status"])
        if tag:
            out.append(f'    <{tag} message={xml_attr(c["summary"] or c["status"])}>'
                       f'{xml_text(c["feedback"])}</{tag}>')
        out.append("  </testcase>")
    build = results.get("build", {}).get("feedback")
    if build:
        out.append(f"  <system-err>{xml_text('The submission did not build:' + chr(10) + build)}</system-err>")
    out.append("</testsuite>")
    return "\n".join(out) + "\n"


def headline(results):
    """One line: the score and what it does not cover."""
    text = f"{results['lab']}: {total(results)}/{results['max_score']}"
    hidden = results.get("hidden", {})
    if results.get("selected") is not None:
        text += f" (only the {len(results['selected'])} selected case(s) ran)"
    elif hidden.get("count") and not hidden.get("present"):
        text += (f" ({hidden['count']} hidden case(s) worth {hidden['points']} points were not run "
                 f"here: they are graded by your instructor)")
    return text + headline_notes(results)


def headline_notes(results):
    """What the headline adds to the score: points not checked, writes not contained."""
    text = ""
    unchecked = [c for c in results["cases"] if c["status"] == "not_checked"]
    if unchecked:
        whys = sorted({why_not_checked(c) for c in unchecked})
        text += f"; {sum(c['max_points'] for c in unchecked)} points not checked ({'; '.join(whys)})"
    if "host" in (results.get("isolation") or "").split(","):
        text += ("; writes not contained (host mode: the programs could write wherever their user "
                 "may, and read the grader's files)")
    return text


def why_not_checked(case):
    """Why a case was not checked, in a few words for the headline."""
    summary = case.get("summary", "")
    if "capture rights" in summary:
        return "no capture rights on this machine"
    if "grader was late" in summary:
        return "the grader itself was held back, a loaded machine: grade again"
    return "the cases say why"


class Style:
    def __init__(self, stream):
        self.on = stream.isatty() and os.environ.get("NO_COLOR") is None

    def __call__(self, text, code):
        return f"\033[{code}m{text}\033[0m" if self.on else text


def terminal(results, stream=sys.stdout, show_passed_feedback=False):
    """Print the score table, then the feedback of every case that lost points."""
    st = Style(stream)
    width = min(shutil.get_terminal_size((100, 20)).columns, 120)
    cases = results["cases"]
    name_w = max([len(c["name"]) for c in cases] + [10])
    print(st(f"socklab · {results['lab']} · {results['submission']}", "1"), file=stream)
    build = results.get("build", {})
    if build.get("feedback"):
        print(st("The submission did not build:", "31"), file=stream)
        print(build["feedback"], file=stream)
    print(f"  {'case':{name_w}}  {'points':>7}  result", file=stream)
    for c in cases:
        word = STATUS_WORDS.get(c["status"], c["status"])
        color = {"passed": "32", "failed": "31", "error": "35", "not_run": "31"}.get(c["status"], "33")
        note = "" if c["status"] == "passed" else f"  {c['summary']}"
        line = f"  {c['name']:{name_w}}  {c['points']:>3}/{c['max_points']:<3}  {word}{note}"
        if len(line) > width:
            line = line[:width - 1] + "…"
        print(line.replace(word, st(word, color), 1), file=stream)
    print(st(f"  {'total':{name_w}}  {total(results):>3}/{results['max_score']:<3}", "1"), file=stream)
    print(headline(results), file=stream)
    for c in cases:
        if c["status"] not in ("passed", "not_run") or show_passed_feedback:
            print("", file=stream)
            print(st(f"── {c['name']} ({c['points']}/{c['max_points']}): {c['title']}", "1"), file=stream)
            print(c["feedback"], file=stream)
