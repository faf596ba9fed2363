"""grader/grade LAB --class DIR: grade every submission of a class.

Each submission is graded by its own `grader/grade` process (its own
build, sandbox uids, namespaces and deadline), N at a time. The batch
only schedules, watches deadlines and collects: a submission that fails
to build, hangs or attacks the grader costs its own slot until its
deadline, nothing more. What was graded stays graded: a re-run (or a run
after an interruption) skips every student whose submission has not
changed since, unless --force.

Layout of the results folder:
  gradebook.csv               student, score, status, points per case
  class.json                  the same, with the batch's figures
  index.html                  the class report (classreport.py)
  students/NAME/results.json  what the student would see, and the
                              grader's other reports, captures/, build.log
  students/NAME/batch.json    what was graded: fingerprint, time, outcome
  students/NAME/grade.log     the grading process's own output
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from . import report, similarity, uidblocks
from .case import unrun_records
from .paths import ROOT
from .proc import interrupt_group
from .submissions import SubmissionError, find

GRADE = os.path.join(ROOT, "grader", "grade")
MAX_CLASS_JOBS = 32
BATCH_VERSION = 1


def grader_fingerprint(lab):
    """A SHA-256 of what decides a grade besides the submission: the grader's
    code and the lab's cases and rubric. A change there regrades everyone."""
    h = hashlib.sha256()
    tops = [os.path.join(ROOT, "grader", "socklab"), lab.dir]
    for top in tops:
        for base, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".toml")):
                    path = os.path.join(base, name)
                    h.update(os.path.relpath(path, ROOT).encode() + b"\0")
                    with open(path, "rb") as f:
                        h.update(f.read())
    return h.hexdigest()


class Outcome:
    """What grading one student gave: a results dict and how it went."""

    def __init__(self, student, results, status, seconds, skipped=False):
        self.student = student
        self.results = results
        self.status = status        # graded, build_failed, refused, grader_error
        self.seconds = seconds
        self.skipped = skipped      # already graded by an earlier run


class Progress:
    """One updating line with a bar and an ETA on a terminal; a plain line per
    finished submission otherwise (logs, CI)."""

    def __init__(self, total, stream=sys.stderr, quiet=False):
        self.total = total
        self.done = 0
        self.running = 0
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.t0 = time.monotonic()
        self.graded_seconds = []
        self.lock = threading.Lock()

    def started(self):
        with self.lock:
            self.running += 1
            self._draw(None)

    def finished(self, outcome):
        with self.lock:
            self.done += 1
            if not outcome.skipped:
                self.running -= 1
                self.graded_seconds.append(outcome.seconds)
            self._draw(outcome)

    def eta(self):
        """Seconds left: the time per graded submission so far, over the slots in use."""
        left = self.total - self.done
        if not self.graded_seconds or left <= 0:
            return None
        elapsed = time.monotonic() - self.t0
        rate = len(self.graded_seconds) / max(elapsed, 1e-6)
        return left / rate

    def _draw(self, outcome):
        if self.quiet:
            return
        score = ""
        if outcome is not None:
            r = outcome.results
            score = f"{outcome.student} {r.get('score', 0)}/{r.get('max_score', '?')}"
            if outcome.skipped:
                score += " (unchanged, not regraded)"
            elif outcome.status != "graded":
                score += f" ({outcome.status.replace('_', ' ')})"
        eta = self.eta()
        eta_text = f"ETA {_duration(eta)}" if eta is not None else "ETA --"
        if self.tty:
            width = 24
            filled = int(width * self.done / max(self.total, 1))
            line = (f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                    f"· {self.running} running · {eta_text}{' · last: ' + score if score else ''}")
            self.stream.write(line[:shutil.get_terminal_size((100, 20)).columns - 1] + "\033[K")
            if self.done == self.total:
                self.stream.write("\n")
        elif outcome is not None:
            self.stream.write(f"class: {self.done}/{self.total} {score} in {outcome.seconds:.1f} s; {eta_text}\n")
        self.stream.flush()


def _duration(seconds):
    seconds = int(seconds + 0.5)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Batch:
    def __init__(self, lab, class_dir, out_dir, jobs=1, force=False, sanitize=False, quiet=False,
                 per_submission_timeout=None, cases=()):
        self.lab = lab
        self.class_dir = os.path.abspath(class_dir)
        self.out_dir = os.path.abspath(out_dir)
        self.jobs = jobs
        self.force = force
        self.sanitize = sanitize
        self.quiet = quiet
        # Only these cases (grade -k NAME each), for a quick regrade of one case.
        self.cases = list(cases)
        cases = len(lab.cases)
        # The child's own run deadline (cli.run_cases) plus its build and some slack.
        self.timeout = per_submission_timeout or (lab.build_timeout + 90 + (lab.case_timeout + 20) * cases)
        self.slots = []             # uid blocks (uidblocks.Block) free for a child, held by run()
        self.slot_lock = threading.Lock()
        self.stopping = threading.Event()
        self.children = set()
        self.grader = grader_fingerprint(lab)

    def student_dir(self, student):
        return os.path.join(self.out_dir, "students", student)

    # --- one student ------------------------------------------------------
    def already_graded(self, entry, fingerprint):
        if self.force:
            return None
        d = self.student_dir(entry.student)
        try:
            with open(os.path.join(d, "batch.json")) as f:
                mark = json.load(f)
            with open(os.path.join(d, "results.json")) as f:
                results = json.load(f)
        except (OSError, ValueError):
            return None
        same = (mark.get("fingerprint") == fingerprint and mark.get("grader") == self.grader
                and mark.get("lab") == self.lab.name
                and mark.get("sanitize") == self.sanitize and mark.get("version") == BATCH_VERSION
                and mark.get("cases", []) == self.cases
                and mark.get("status") != "grader_error")
        return Outcome(entry.student, results, mark["status"], mark.get("seconds", 0), skipped=True) if same else None

    def grade_one(self, entry, progress):
        if self.stopping.is_set():
            return None
        fingerprint = entry.fingerprint()
        done = self.already_graded(entry, fingerprint)
        if done is not None:
            progress.finished(done)
            return done
        progress.started()
        t0 = time.monotonic()
        d = self.student_dir(entry.student)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        with tempfile.TemporaryDirectory(prefix="socklab-class-") as tmp:
            try:
                submission = entry.unpack(os.path.join(tmp, "submission"), self.lab.name)
                similarity.keep_sources(submission, os.path.join(d, "src"))
                results, status = self._run_child(entry, submission, d)
            except SubmissionError as e:
                results, status = self._refused(entry, str(e)), "refused"
                report.write_all(results, d)
        outcome = Outcome(entry.student, results, status, time.monotonic() - t0)
        if not self.stopping.is_set():
            mark = {"version": BATCH_VERSION, "lab": self.lab.name, "fingerprint": fingerprint,
                    "grader": self.grader, "sanitize": self.sanitize, "cases": self.cases, "status": status,
                    "seconds": round(outcome.seconds, 2), "source": os.path.basename(entry.path),
                    "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            report.write_atomic(os.path.join(d, "batch.json"), json.dumps(mark, indent=1))
        progress.finished(outcome)
        return outcome

    def _take_slot(self):
        with self.slot_lock:
            return self.slots.pop()

    def _give_slot(self, slot):
        with self.slot_lock:
            self.slots.append(slot)

    def _run_child(self, entry, submission, d):
        slot = self._take_slot()
        try:
            cmd = [GRADE, self.lab.name, "--submission", submission, "--results", d, "-q", "--json"]
            if self.sanitize:
                cmd.append("--sanitize")
            for name in self.cases:
                cmd += ["-k", name]
            env = dict(os.environ, SOCKLAB_UID_BLOCK=str(slot.base))
            with open(os.path.join(d, "grade.log"), "wb") as log:
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL,
                                        cwd=ROOT, env=env, start_new_session=True)
                self.children.add(proc)
                try:
                    proc.wait(self.timeout)
                except subprocess.TimeoutExpired:
                    interrupt_group(proc, grace=15)
                    return self._grader_failed(entry, d, f"grading did not finish within {self.timeout:.0f} s "
                                                         "and was stopped")
                finally:
                    self.children.discard(proc)
        finally:
            self._give_slot(slot)
        if self.stopping.is_set():
            return {}, "interrupted"
        try:
            with open(os.path.join(d, "results.json")) as f:
                results = json.load(f)
        except (OSError, ValueError) as e:
            return self._grader_failed(entry, d, f"the grading process (exit {proc.returncode}) left no "
                                                 f"readable results.json: {e}")
        if any(c["status"] == "error" for c in results["cases"]):
            return results, "grader_error"
        return results, "graded" if results.get("build", {}).get("ok") else "build_failed"

    def _base_results(self, entry):
        return {"lab": self.lab.name, "title": self.lab.title, "submission": entry.student,
                "max_score": self.lab.total_points, "score": 0, "sanitize": self.sanitize,
                "hidden": self.lab.hidden_summary()}

    def _refused(self, entry, why):
        results = self._base_results(entry)
        results["problem"] = why
        results["build"] = {"ok": False, "problem": why, "feedback": f"The submission was not graded: {why}"}
        results["cases"] = unrun_records(self.lab, "not_run", "not run: the submission could not be unpacked",
                                         why)
        return results

    def _grader_failed(self, entry, d, why):
        results = self._base_results(entry)
        results["problem"] = why
        results["cases"] = unrun_records(self.lab, "error", why,
                                         f"{why} (see grade.log in the student's results folder)")
        report.write_all(results, d)
        return results, "grader_error"

    # --- the whole class ----------------------------------------------------
    def run(self):
        """Grade every entry; return (outcomes, skipped entries, seconds)."""
        t0 = time.monotonic()
        # One uid block per child at a time, held for the whole class run.
        blocks = []
        try:
            blocks += [uidblocks.reserve(*uidblocks.CLASS_SLOTS) for _ in range(self.jobs)]
            self.slots = list(blocks)
            return self._run_all(t0)
        finally:
            for block in blocks:
                block.close()

    def _run_all(self, t0):
        entries, skipped = find(self.class_dir)
        os.makedirs(os.path.join(self.out_dir, "students"), exist_ok=True)
        progress = Progress(len(entries), quiet=self.quiet)
        outcomes = []
        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="class")
        futures = [pool.submit(self.grade_one, e, progress) for e in entries]
        try:
            for fut in futures:
                outcome = fut.result()
                if outcome is not None:
                    outcomes.append(outcome)
        except KeyboardInterrupt:
            self.stopping.set()
            for proc in list(self.children):
                interrupt_group(proc, grace=15)
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return outcomes, skipped, time.monotonic() - t0

