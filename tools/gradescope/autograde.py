#!/usr/bin/python3
"""autograde - grade one Gradescope submission with socklab's grader.

Called by run_autograder. Finds the student's lab folder in ROOT/submission
(the files themselves, or a folder holding them, possibly wrapped once
more), copies it beside the kit's helper library (common/, used when the
submission has none), runs grader/grade on it with every case of the lab
(hidden ones included), and writes ROOT/results/results.json in
Gradescope's format. Whatever goes wrong, results.json is written: a score
of 0 with a message saying what happened, every case listed at 0.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "socklab-autograder.json")
GRADE = os.path.join(HERE, "grader", "grade")
SKIPPED_DIRS = {"__MACOSX", "common", ".git"}
MAX_DEPTH = 4


class SubmissionProblem(Exception):
    """The submission cannot be graded; the message is for the student."""


def load_config():
    with open(CONFIG, encoding="utf-8") as f:
        return json.load(f)


def load_lab(name):
    """The lab's spec (every case, hidden ones included), or None when even that fails."""
    try:
        sys.path.insert(0, os.path.join(HERE, "grader"))
        from socklab.labspec import Lab
        return Lab(name, root=os.path.join(HERE, "labs"))
    except Exception:  # the message that matters is the caller's
        traceback.print_exc()
        return None


def uploaded_files(top, limit=20):
    """A few of the uploaded paths, for a message."""
    found = []
    for base, dirs, files in os.walk(top):
        dirs.sort()
        found += [os.path.relpath(os.path.join(base, f), top) for f in sorted(files)]
        if len(found) >= limit:
            break
    return found[:limit]


def find_submission(top, lab, sources):
    """The folder of TOP holding the lab's Makefile: TOP itself when it has one,
    else the folder below with a Makefile that holds most of the lab's SOURCES
    (then the one named LAB, then the shallowest)."""
    if not os.path.isdir(top):
        raise SubmissionProblem(f"There is no submission folder ({top}).")
    if os.path.isfile(os.path.join(top, "Makefile")):
        return top
    candidates = []
    for base, dirs, files in os.walk(top):
        depth = 0 if base == top else os.path.relpath(base, top).count(os.sep) + 1
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")) \
            if depth < MAX_DEPTH else []
        if "Makefile" in files:
            candidates.append((sum(s in files for s in sources), os.path.basename(base) == lab, -depth, base))
    if not candidates:
        seen = uploaded_files(top)
        listing = "\n".join(f"  {p}" for p in seen) if seen else "  (nothing)"
        raise SubmissionProblem(
            f"Your submission has no Makefile, so it cannot be built. Upload the files of your "
            f"lab folder (Makefile, {', '.join(sources[:4])}{', ...' if len(sources) > 4 else ''}), "
            f"or the folder itself.\nWhat was uploaded:\n{listing}")
    return max(candidates)[3]


def copy_submission(src, work, lab):
    """Copy SRC to WORK/<lab name> with the kit's common/ beside it; leave out
    built objects and programs, so that make builds them from the sources."""
    dest = os.path.join(work, lab.name if lab else "submission")
    built = ["*.o", "*.d", *(lab.binaries if lab else [])]
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns(".git", "__MACOSX", *built))
    shutil.copytree(os.path.join(HERE, "common"), os.path.join(work, "common"))
    return dest


def deadline_of(lab, jobs):
    """Seconds the whole grading run may take: the grader's own deadlines, and a margin."""
    if lab is None:
        return 1800
    return lab.build_timeout + 120 + (lab.case_timeout + 20) * len(lab.cases) / jobs


def run_grader(lab_name, submission, results, jobs, deadline):
    """Run grader/grade; return its exit status (None when it was stopped at DEADLINE)."""
    cmd = [sys.executable or "/usr/bin/python3", GRADE, lab_name, "--submission", submission,
           "--results", results, "-j", str(jobs)]
    proc = subprocess.Popen(cmd, cwd=HERE, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        return proc.wait(deadline)
    except subprocess.TimeoutExpired:
        for sig, grace in ((signal.SIGINT, 15), (signal.SIGKILL, None)):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(grace)
                break
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                break
        proc.wait()
        return None


def failure(lab, message):
    """Score 0 with MESSAGE, every case of LAB listed at 0 (so the rubric shows)."""
    tests = []
    for name, spec in (lab.cases.items() if lab else []):
        tests.append({"name": f"{name}: {spec.title}", "score": 0, "max_score": spec.points,
                      "status": "failed", "output": "Not run: " + message.split("\n")[0],
                      "visibility": spec.visibility})
    return {"score": 0, "output": message, "tests": tests, "visibility": "visible",
            "stdout_visibility": "hidden"}


# The grader's feedback points at the case's capture file, which stays on
# Gradescope's machine: say where a student gets one.
CAPTURE_MARK = "Capture (captures/"
CAPTURE_NOTE = ("\n\nThe capture file named above is not kept on Gradescope; the lines under it "
                "summarise it. To open it in Wireshark or with pcapcheck, run the grader on your own "
                "machine: grader/grade LAB --submission YOUR_FOLDER writes it to results/LAB/captures/.")


def finish(data, lab, results_json):
    """Fields Gradescope shows beyond the grader's own: numbers, formats, the
    typical bugs of a failed case as its tags (a passed case names none: it
    would tell the student of a bug they do not have), and a note when the
    capture checks could not run on this machine."""
    for i, test in enumerate(data.get("tests", []), 1):
        test.setdefault("number", str(i))
        test.setdefault("name_format", "text")
        test.setdefault("output_format", "text")
        case = lab.cases.get(test["name"].split(":")[0]) if lab else None
        test.setdefault("tags", list(case.bugs) if case and test.get("status") == "failed" else [])
        if CAPTURE_MARK in test.get("output", ""):
            test["output"] += CAPTURE_NOTE
    data.setdefault("output_format", "text")
    iso = (results_json or {}).get("isolation", "")
    if "host" in iso.split(","):
        data["output"] += ("\n\nThis autograder's machine allows no network namespaces, so the capture "
                           "checks were not checked (no points). Please tell your instructor.")
    return data


def hold_back(data, lab, when):
    """Give the tests of LAB's hidden cases Gradescope's visibility WHEN
    ('after_published' or 'after_due_date'; see socklab.report)."""
    for test in data.get("tests", []):
        case = lab.cases.get(test["name"].split(":")[0]) if lab else None
        if case is not None and case.visibility == "hidden":
            test["visibility"] = when
    return data


def grade(root, config, jobs):
    """Grade ROOT/submission: (Gradescope's results, the grader's exit status or None)."""
    lab = load_lab(config["lab"])
    data, status = grade_lab(root, config, jobs, lab)
    return hold_back(data, lab, config.get("hidden_cases", "after_published")), status


def grade_lab(root, config, jobs, lab):
    if lab is None:
        return failure(None, "The autograder could not read the lab's grading spec. This is not your "
                             "fault: please tell your instructor."), None
    work = tempfile.mkdtemp(prefix="socklab-gradescope-")
    os.chmod(work, 0o755)
    try:
        try:
            src = find_submission(os.path.join(root, "submission"), lab.name, config.get("sources", []))
        except SubmissionProblem as e:
            return failure(lab, str(e)), None
        print(f"autograde: grading {os.path.relpath(src, root)} as lab {lab.name}", flush=True)
        try:
            sub = copy_submission(src, work, lab)
        except (OSError, shutil.Error) as e:
            return failure(lab, f"Your submission could not be copied for grading: {e}"), None
        results = os.path.join(work, "results")
        status = run_grader(lab.name, sub, results, jobs, deadline_of(lab, jobs))
        gs_path = os.path.join(results, "gradescope.json")
        if status is None:
            return failure(lab, f"Grading did not finish within {deadline_of(lab, jobs):.0f} s and was "
                                f"stopped. Does a program of yours wait forever?"), None
        if not os.path.exists(gs_path):
            return failure(lab, f"The grader failed (exit status {status}) without a report. This is "
                                f"not your fault: please tell your instructor."), None
        with open(gs_path, encoding="utf-8") as f:
            data = json.load(f)
        results_json = None
        try:
            with open(os.path.join(results, "results.json"), encoding="utf-8") as f:
                results_json = json.load(f)
        except (OSError, ValueError):
            pass
        return finish(data, lab, results_json), status
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_json(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(prog="autograde", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"),
                   help="Gradescope's tree: submission/ in, results/results.json out (default /autograder)")
    p.add_argument("-j", "--jobs", type=int,
                   default=int(os.environ.get("AUTOGRADER_JOBS", min(4, os.cpu_count() or 1))),
                   help="cases run in parallel (default: the CPUs, at most 4)")
    args = p.parse_args(argv)
    t0 = time.monotonic()
    out = os.path.join(args.root, "results", "results.json")
    try:
        config = load_config()
        data, status = grade(args.root, config, max(1, args.jobs))
    except Exception as e:  # results.json must exist whatever happened
        traceback.print_exc()
        data = failure(None, f"The autograder failed: {e}. This is not your fault: please tell your "
                             f"instructor.")
        status = None
    data["execution_time"] = round(time.monotonic() - t0, 1)
    write_json(out, data)
    print(f"autograde: score {data['score']} (grader exit status {status}); wrote {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
