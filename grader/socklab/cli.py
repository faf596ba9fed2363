"""grader/grade: build a submission, run a lab's cases, report the score."""

import argparse
import concurrent.futures
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from . import batch, classreport, isolation, report, safetext, similarity, uidblocks
from . import capture as capmod
from . import build as buildmod
from .case import unrun_record, unrun_records
from .labspec import Lab, SpecError
from .paths import HIDE_VAR, LABS, PCAPCHECK, PYTHON, ROOT, SLFAULT, SLRUN, SOLUTIONS
from .proc import MAX_WORKERS_PER_UID_BLOCK, Limits, interrupt_group

EXIT_FULL, EXIT_PARTIAL, EXIT_USAGE, EXIT_GRADER = 0, 1, 2, 3

DESCRIPTION = """\
Grade a submission of a socklab lab.

Builds the submission with its own Makefile (plain 'make', in a sandbox),
runs every case of the lab against scripted peers, each case in a fresh
network namespace with its traffic captured, and prints the score table
with feedback for every case that lost points.  Reports are written to the
results folder: results.json, junit.xml, gradescope.json, captures/*.pcap.
"""

EPILOG = """\
examples:
  grader/grade echo                               grade the reference solution
  grader/grade echo --submission skeletons/echo   grade a student's copy
  grader/grade echo --submission mywork --sanitize -j 2
  grader/grade echo --submission mywork -x -k tcp_   the tcp_ cases, up to the first failure

  grader/grade echo --class submissions/ -j 4      grade a whole class (see below)

a whole class (--class DIR):
  DIR holds one entry per student, named after the student: a folder, a
  .tar.gz/.tgz or a .zip (an archive may wrap its files in one folder).
  Each submission is graded in its own process, sandbox and namespaces,
  -j N at a time, each with a deadline. Results go to results/LAB-class/
  (or --results): gradebook.csv, class.json, index.html (the class report)
  and students/NAME/ with what that student would see. A re-run skips the
  submissions graded before and unchanged since (--force regrades all), so
  an interrupted run resumes where it stopped.

exit status:
  0  graded, full marks          1  graded, points lost (or build failed)
  2  bad usage or unknown lab    3  the grader itself failed (see the message)
  with --class: 0 when every submission was graded (whatever its score),
  3 when the grader failed on some of them (their cases say so)
"""


def parse_args(argv):
    labs = sorted(d for d in os.listdir(LABS) if os.path.isfile(os.path.join(LABS, d, "lab.toml")))
    p = argparse.ArgumentParser(prog="grade", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lab", help=f"the lab to grade: {', '.join(labs) or '(none found)'}")
    p.add_argument("--submission", metavar="DIR",
                   help="the submission folder (default: the reference solution solutions/LAB)")
    p.add_argument("--class", dest="class_dir", metavar="DIR",
                   help="grade every submission in DIR (one per student) and write a class report")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="cases run in parallel; with --class, submissions graded in parallel (default 1)")
    p.add_argument("--results", metavar="DIR", help="where reports go (default: results/LAB, "
                                                    "or results/LAB-class with --class)")
    p.add_argument("--force", action="store_true", help="with --class: regrade unchanged submissions too")
    p.add_argument("--similarity", action="store_true",
                   help="with --class: list pairs of similar submissions (Debian similarity-tester)")
    p.add_argument("--sanitize", action="store_true",
                   help="build with AddressSanitizer and UndefinedBehaviorSanitizer; their reports fail the case")
    p.add_argument("-k", "--case", metavar="NAME", action="append",
                   help="run only this case (repeatable)")
    p.add_argument("-x", "--exitfirst", action="store_true",
                   help="stop at the first case that does not pass; the cases left are reported as not run")
    p.add_argument("--json", action="store_true", help="print results.json instead of the table")
    p.add_argument("--autolab", action="store_true", help="end the output with Autolab's JSON score line")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.add_argument("-v", "--verbose", action="store_true", help="show feedback of passed cases and pytest's output")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("-j must be at least 1")
    if args.class_dir:
        if args.submission or args.case or args.autolab or args.exitfirst:
            p.error("--class grades whole submissions: it does not go with --submission, -k, -x or --autolab")
        if args.jobs > batch.MAX_CLASS_JOBS:
            p.error(f"--class: -j at most {batch.MAX_CLASS_JOBS}")
    elif args.force or args.similarity:
        p.error("--force and --similarity go with --class")
    return args


def progress(args, text):
    if not args.quiet and not args.json:
        print(f"grade: {text}", file=sys.stderr, flush=True)


def ensure_tools(args):
    """Build slrun and pcapcheck when they are missing (a fresh checkout) or
    older than their sources (a kit updated with git pull)."""
    folders = {"grader/sandbox": (SLRUN, SLFAULT), "grader/pcapcheck": (PCAPCHECK,)}
    for folder, tools in folders.items():
        if folder == "grader/pcapcheck" and os.environ.get("SOCKLAB_ISOLATION") == "host":
            continue  # no capture in host mode
        path = os.path.join(ROOT, folder)
        missing = not all(os.access(t, os.R_OK if t.endswith(".so") else os.X_OK) for t in tools)
        if not missing and subprocess.run(["make", "-q", "-s", "-C", path], capture_output=True).returncode == 0:
            continue
        progress(args, f"building {folder}" if missing else f"rebuilding {folder}: its sources changed")
        out = subprocess.run(["make", "-s", "-C", path], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"cannot build {folder}:\n{out.stdout}{out.stderr}"
                               "\nIs the kit set up? Run 'make deps' as root.")


def student_uid_block():
    """A block of uids of our own, held until this run ends, so that concurrent
    grading runs do not share RLIMIT_NPROC (counted per uid) and their
    leftovers can be told apart. A class run hands each of its children a
    block it holds (SOCKLAB_UID_BLOCK)."""
    given = os.environ.get("SOCKLAB_UID_BLOCK")
    if given:
        return uidblocks.Block.handed_down(int(given))
    return uidblocks.reserve(*uidblocks.SINGLE_RUNS)


def hide_from_students(*folders):
    """Add FOLDERS to those no student process sees (SOCKLAB_HIDE, inherited
    by the grading processes: slrun --fs-hide)."""
    known = [p for p in os.environ.get(HIDE_VAR, "").split(os.pathsep) if p]
    os.environ[HIDE_VAR] = os.pathsep.join(dict.fromkeys(known + [os.path.abspath(f) for f in folders]))


def student_limits(uid_base):
    """Real root: a student uid and a PID namespace; in a user namespace: the
    PID namespace only (no other uid is mapped); otherwise neither.  Both
    with a private file system view, unless host mode was asked for."""
    root = os.geteuid() == 0
    real_root = root and not isolation.in_user_namespace()
    contained = root and os.environ.get("SOCKLAB_ISOLATION", "auto") != "host"
    return Limits(uid=uid_base if real_root else None, pidns=root, private_fs=contained)


def run_cases(args, lab, build_dir, results_dir, uid_base):
    """Run the lab's pytest cases on BUILD_DIR; return the records from cases.json."""
    cmd = [PYTHON, "-m", "pytest", lab.dir, "-q", "-p", "no:cacheprovider", "--rootdir", ROOT,
           "--basetemp", os.path.join(os.path.dirname(build_dir), "pytest"),
           "--socklab-build", build_dir, "--socklab-results", results_dir]
    if args.sanitize:
        cmd.append("--socklab-sanitize")
    if args.jobs > 1:
        cmd += ["-n", str(args.jobs)]
    if args.case:
        cmd += ["-k", " or ".join(args.case)]
    if args.exitfirst:
        cmd.append("--socklab-exitfirst")
    progress_path = os.path.join(os.path.dirname(build_dir), "progress.jsonl")
    cmd += ["--socklab-progress", progress_path]
    n = len(lab.cases)
    deadline = 60 + (lab.case_timeout + 20) * n / args.jobs
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", SOCKLAB_UID_BASE=str(uid_base),
               SOCKLAB_TMP_ROOT=os.path.dirname(build_dir))   # removed with the build
    log_path = os.path.join(results_dir, "pytest.log")
    with open(log_path, "wb") as log:
        # Own process group: on a timeout the workers go too, not only pytest.
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_telling_progress(args, proc, deadline, progress_path, selected_count(lab, args.case))
            finished = (0, 1, 2) if args.exitfirst else (0, 1)   # 2: interrupted, by -x
            problem = None if proc.returncode in finished else f"pytest exited with status {proc.returncode}"
        except subprocess.TimeoutExpired:
            interrupt_group(proc)
            problem = f"the grading run did not finish within {deadline:.0f} s and was stopped"
        except KeyboardInterrupt:
            interrupt_group(proc)
            raise
    if args.verbose:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            sys.stderr.write(f.read())
    path = os.path.join(results_dir, "cases.json")
    records = []
    if os.path.exists(path):
        with open(path) as f:
            records = json.load(f)["cases"]
    return records, problem


def wait_telling_progress(args, proc, deadline, path, total):
    """Wait for PROC (pytest) up to DEADLINE s, printing a line for each case
    as it finishes (the plugin appends them to PATH); TimeoutExpired after."""
    end, shown, offset = time.monotonic() + deadline, 0, 0
    while True:
        try:
            proc.wait(min(0.25, max(0.0, end - time.monotonic())))
            done = True
        except subprocess.TimeoutExpired:
            done = False
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                f.seek(offset)
                lines = f.read().splitlines(keepends=True)
            complete_lines = [line for line in lines if line.endswith("\n")]
            offset += sum(len(line.encode()) for line in complete_lines)
            for line in complete_lines:
                shown += 1
                r = json.loads(line)
                progress(args, f"[{shown:{len(str(total))}}/{total}] {r['name']:<40} "
                               f"{r['points']:>2}/{r['max_points']:<2} {r['status']:<11} {r['seconds']:5.1f} s")
        if done:
            return
        if time.monotonic() >= end:
            raise subprocess.TimeoutExpired(proc.args, deadline)


RESULTS_CAP = 64 << 20   # bytes of one submission's results folder (a class of 200: under 13 GiB)


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(base, f)) for base, _, files in os.walk(path) for f in files
               if not os.path.islink(os.path.join(base, f)))


def keep_under_cap(results_dir, cases, cap=RESULTS_CAP):
    """Remove the largest captures until the results folder fits in CAP; say
    so in each case that lost its capture. Returns the cases whose went."""
    total = folder_bytes(results_dir)
    if total <= cap:
        return []
    removed = []
    by_size = sorted((c for c in cases if c.get("capture")),
                     key=lambda c: -os.path.getsize(os.path.join(results_dir, c["capture"])))
    for case in by_size:
        if total <= cap:
            break
        path = os.path.join(results_dir, case["capture"])
        size = os.path.getsize(path)
        for leftover in (path, path + ".events"):
            if os.path.exists(leftover):
                os.remove(leftover)
        total -= size
        removed.append(case["name"])
        case["capture"] = None
        case["feedback"] = (case.get("feedback") or "") + (
            f"\n(This case's capture, {size >> 20} MiB, was removed: the results of one submission are "
            f"capped at {cap >> 20} MiB, and the program sent far more than the cases ask for.)")
    return removed


def check_selection(lab, selected):
    """SpecError naming the closest cases when a -k NAME matches none."""
    for sel in selected or ():
        if not any(sel in name for name in lab.cases):
            close = difflib.get_close_matches(sel, list(lab.cases), n=3, cutoff=0.4)
            hint = f"; the closest: {', '.join(close)}" if close else f"; {lab.name}'s cases: {', '.join(lab.cases)}"
            raise SpecError(f"no case of {lab.name} matches '{sel}'{hint}")


def write_ladders(lab, results_dir, cases):
    """Beside each case's capture, its ladder page (captures/CASE.html, what a
    TA opens first); each case gets "ladder" set to it."""
    def one(case):
        pcap = os.path.join(results_dir, case["capture"])
        page = os.path.splitext(pcap)[0] + ".html"
        problem = capmod.ladder_page(pcap, page, lab.pcapcheck_options)
        case["ladder"] = None if problem else os.path.relpath(page, results_dir)

    with_capture = [c for c in cases if c.get("capture")]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(one, with_capture))


def selected_count(lab, selected):
    """How many of LAB's cases -k SELECTED names (all when none)."""
    return sum(1 for name in lab.cases if not selected or any(sel in name for sel in selected))


def complete(lab, records, problem, selected, exitfirst=False):
    """Records in rubric order; a case without a record counts as a grader error,
    or as not run when -x stopped the run at a failure."""
    by_name = {r["name"]: r for r in records}
    stopped = exitfirst and not problem and any(r["status"] != "passed" for r in records)
    out = []
    for name, spec in lab.cases.items():
        if selected and not any(sel in name for sel in selected):
            continue
        if name in by_name:
            out.append(by_name[name])
            continue
        if stopped:
            out.append(unrun_record(name, spec.title, spec.visibility, spec.points, "not_run",
                                    "not run: -x stopped at the first failing case",
                                    "Not run: grading stopped at the first case that did not pass (-x)."))
            continue
        why = problem or "the grader did not report this case"
        out.append(unrun_record(name, spec.title, spec.visibility, spec.points, "error", why,
                                f"{why} (see pytest.log in the results folder)"))
    return out


def not_run(lab, build_result):
    """Every case at zero because the submission did not build."""
    return unrun_records(lab, "not_run", "not run: the submission did not build",
                         "Not run: the submission did not build (the build errors are shown above "
                         "the table, and in build.log).")


def prepare_results(path):
    """Create the results folder, removing only what an earlier run of ours wrote there."""
    os.makedirs(path, exist_ok=True)
    for name in ("captures",):
        shutil.rmtree(os.path.join(path, name), ignore_errors=True)
    for name in ("cases.json", "results.json", "junit.xml", "gradescope.json", "pytest.log", "build.log",
                 "index.html"):
        try:
            os.remove(os.path.join(path, name))
        except FileNotFoundError:
            pass


def grade(args):
    t0 = time.monotonic()
    lab = Lab(args.lab)
    check_selection(lab, args.case)
    if args.submission is None and not os.path.isdir(SOLUTIONS):
        raise SpecError(f"no solutions/ in a student copy: pass your folder, e.g. "
                        f"--submission skeletons/{lab.name}")
    submission = os.path.abspath(args.submission or os.path.join(SOLUTIONS, lab.name))
    if not os.path.isdir(submission):
        raise SpecError(f"no submission folder {submission}")
    results_dir = os.path.abspath(args.results or os.path.join("results", lab.name))
    hide_from_students(results_dir)
    prepare_results(results_dir)
    ensure_tools(args)
    uid_block = student_uid_block()   # held by this process until it ends
    uid_base = uid_block.base
    work = tempfile.mkdtemp(prefix="socklab-build-")
    os.chmod(work, 0o755)
    results = {"lab": lab.name, "title": lab.title, "submission": shown_path(submission),
               "max_score": lab.total_points, "sanitize": args.sanitize,
               "student_uids": ([uid_base, uid_base + MAX_WORKERS_PER_UID_BLOCK - 1]
                                if student_limits(uid_base).uid is not None else None),
               "hidden": lab.hidden_summary()}
    try:
        progress(args, f"building {shown_path(submission)}{' with sanitizers' if args.sanitize else ''}")
        built = buildmod.build(lab, submission, os.path.join(work, "src"), student_limits(uid_base),
                               args.sanitize)
        with open(os.path.join(results_dir, "build.log"), "wb") as f:
            f.write(built.log)
        results["build"] = {"ok": built.ok, "seconds": round(built.seconds, 2), "warnings": built.warnings,
                            "problem": built.problem}
        if built.ok:
            progress(args, f"built in {built.seconds:.1f} s ({built.warnings} warnings); "
                           f"running {selected_count(lab, args.case)} cases with -j {args.jobs}")
            records, problem = run_cases(args, lab, os.path.join(work, "src"), results_dir, uid_base)
            results["cases"] = complete(lab, records, problem, args.case, args.exitfirst)
            results["problem"] = problem
        else:
            progress(args, f"build failed: {built.problem}")
            results["build"]["feedback"] = built.feedback()
            results["cases"] = not_run(lab, built)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.case:
        # Only some cases ran: the maximum is theirs, and the report says so.
        results["max_score"] = sum(c["max_points"] for c in results["cases"])
        results["selected"] = [c["name"] for c in results["cases"]]
    results["score"] = report.total(results)
    results["seconds"] = round(time.monotonic() - t0, 2)
    results["isolation"] = ",".join(sorted({c["isolation"] for c in results["cases"] if c.get("isolation")}))
    results["captures_removed"] = keep_under_cap(results_dir, results["cases"])
    write_ladders(lab, results_dir, results["cases"])
    results = safetext.cleaned(results)   # student bytes: no raw control character in any report
    paths = report.write_all(results, results_dir)
    report.write_atomic(os.path.join(results_dir, "index.html"), classreport.student_page(None, results))
    if args.json:
        print(json.dumps(results, indent=1, ensure_ascii=False))
    else:
        report.terminal(results, show_passed_feedback=args.verbose)
        print(f"\nreports: {shown_path(paths['results'])} (also junit.xml, gradescope.json, captures/)")
    if args.autolab:
        print(report.autolab_line(results))
    if any(c["status"] == "error" for c in results["cases"]):
        return EXIT_GRADER
    return EXIT_FULL if results["score"] == results["max_score"] else EXIT_PARTIAL


def grade_class(args):
    """--class: grade every submission of DIR; print where the reports are."""
    lab = Lab(args.lab)
    if not os.path.isdir(args.class_dir):
        raise SpecError(f"no class folder {args.class_dir}")
    out_dir = os.path.abspath(args.results or os.path.join("results", f"{lab.name}-class"))
    hide_from_students(args.class_dir, out_dir)   # the other students' submissions and results
    ensure_tools(args)
    run = batch.Batch(lab, args.class_dir, out_dir, jobs=args.jobs, force=args.force,
                      sanitize=args.sanitize, quiet=args.quiet or args.json)
    progress(args, f"grading the class in {args.class_dir} with -j {args.jobs} into {shown_path(out_dir)}")
    outcomes, skipped, seconds = run.run()
    similar = None
    if args.similarity:
        progress(args, "comparing submissions with sim_c")
        try:
            similar = similarity.similar_pairs(lab, out_dir, [o.student for o in outcomes])
        except similarity.SimilarityError as e:
            print(f"grade: {e}; the class report has no similarity section", file=sys.stderr)
    data = classreport.write_all(out_dir, lab, outcomes, skipped, seconds, similar)
    if args.json:
        print(json.dumps(data, indent=1, ensure_ascii=False))
    else:
        statuses = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(data["statuses"].items()))
        print(f"{lab.name}: {data['students']} submissions ({statuses or 'none'}) in {seconds:.1f} s; "
              f"mean {data['mean']}, median {data['median']} of {data['max_score']}")
        for name, why in skipped:
            print(f"  not graded: {safetext.visible(name)}: {why}")
        print(f"reports: {shown_path(os.path.join(out_dir, 'index.html'))} "
              f"(also gradebook.csv, class.json, students/NAME/)")
    return EXIT_GRADER if data["statuses"].get("grader_error") else EXIT_FULL


def shown_path(path):
    """PATH as a reader finds it: relative to the current folder when inside
    it, whole otherwise (not '../../tmp/r')."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel == ".." or rel.startswith("../") else rel


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = isolation.enter_user_namespace_early()
    if problem:
        progress(args, f"{problem}; capture checks will be reported as not checked")
    try:
        if args.class_dir:
            return grade_class(args)
        return grade(args)
    except SpecError as e:
        print(f"grade: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("grade: interrupted; every process of the run was stopped", file=sys.stderr)
        return 130
    except Exception as e:  # the result file must exist whatever happened
        import traceback
        traceback.print_exc()
        if args.class_dir:  # each student's results are written as they are graded
            print(f"grade: the class run failed: {e}", file=sys.stderr)
            return EXIT_GRADER
        write_crash_report(args, e)
        return EXIT_GRADER


def write_crash_report(args, exc):
    """Leave results.json (and gradescope.json) saying that the grader failed, and why."""
    results_dir = os.path.abspath(args.results or os.path.join("results", args.lab))
    os.makedirs(results_dir, exist_ok=True)
    results = {"lab": args.lab, "title": args.lab, "submission": args.submission or "reference",
               "max_score": 100, "score": 0, "problem": f"the grader failed: {exc}",
               "hidden": {}, "cases": [unrun_record(
                   "grader", "the grader itself", "visible", 100, "error", f"the grader failed: {exc}",
                   f"The grader failed before it could grade this submission: {exc}")]}
    report.write_all(results, results_dir)
    print(f"grade: the grader failed: {exc}; wrote {results_dir}/results.json", file=sys.stderr)
