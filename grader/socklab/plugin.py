"""The pytest side of the grader: fixtures for lab cases and the collection
of one record per case (points, status, feedback, capture).

labs/conftest.py imports this module, so `pytest labs/echo` works on its own
(grading the reference solution); grader/grade runs the same cases on a built
submission with --socklab-build and writes the reports from cases.json.
"""

import json
import os
import shutil
import ssl
import tempfile
import traceback

import pytest

from . import build as buildmod
from . import isolation, uidblocks
from .case import Case, unrun_record
from .feedback import CaseFailure, NotChecked
from .labspec import Lab, case_name_of
from .paths import LABS, SESSION_TMP_VAR, SOLUTIONS
from .proc import MAX_WORKERS_PER_UID_BLOCK, STUDENT_UID_BASE, Limits



def pytest_addoption(parser):
    group = parser.getgroup("socklab", "socklab grading")
    group.addoption("--socklab-build", metavar="DIR",
                    help="a built submission (default: build the lab's reference solution)")
    group.addoption("--socklab-results", metavar="DIR", help="where captures and cases.json go")
    group.addoption("--socklab-sanitize", action="store_true",
                    help="the submission was built with ASan/UBSan (no address-space limit)")
    group.addoption("--socklab-exitfirst", action="store_true",
                    help="stop after the first case that does not pass (grade -x)")
    group.addoption("--socklab-progress", metavar="FILE",
                    help="append one JSON line per finished case (grade's progress lines)")


def _lab_of(path):
    """The Lab a test file belongs to (the nearest labs/<lab>/ folder)."""
    rel = os.path.relpath(str(path), LABS)
    if rel.startswith(".."):
        return None
    return rel.split(os.sep)[0]


_labs = {}


def _load_lab(name):
    if name not in _labs:
        _labs[name] = Lab(name)
    return _labs[name]


def pytest_collection_modifyitems(config, items):
    """Attach each lab case's rubric entry; a case missing from the rubric is an error."""
    for item in items:
        if "case" not in getattr(item, "fixturenames", ()):
            continue
        lab = _load_lab(_lab_of(item.path))
        name = case_name_of(item.originalname)
        if name not in lab.cases:
            raise pytest.UsageError(f"{item.nodeid}: case {name!r} is not in {lab.name}'s lab.toml/hidden.toml")
        item.socklab_lab = lab
        item.socklab_spec = lab.cases[name]
        item.add_marker(pytest.mark.timeout(lab.case_timeout + 15))


class _Env:
    """What every case of this worker shares."""

    def __init__(self, config, tmp):
        self.iso = isolation.choose()
        self.sanitize = config.getoption("--socklab-sanitize")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        base = int(os.environ.get("SOCKLAB_UID_BASE", STUDENT_UID_BASE))
        uid = base + int(worker[2:] or 0) % MAX_WORKERS_PER_UID_BLOCK if self.iso.is_root else None
        contained = self.iso.mode in ("netns", "userns")
        self.limits = Limits(uid=uid, pidns=contained, private_fs=contained, sanitize=self.sanitize)
        self.results = config.getoption("--socklab-results") or os.path.join(tmp, "results")
        os.makedirs(self.results, exist_ok=True)
        self.given_build = config.getoption("--socklab-build")
        self.tmp = tmp
        self.builds = {}

    def build_dir(self, lab):
        """The built submission, building the reference solution when none was given."""
        if self.given_build:
            return self.given_build
        if lab.name not in self.builds:
            dest = os.path.join(self.tmp, f"build-{lab.name}")
            result = buildmod.build(lab, os.path.join(SOLUTIONS, lab.name), dest, self.limits,
                                    self.sanitize)
            if not result.ok:
                raise RuntimeError(f"building the reference solution of {lab.name} failed:\n{result.feedback()}")
            self.builds[lab.name] = dest
        return self.builds[lab.name]

    def variant_build(self, lab, variant):
        """The submission built as VARIANT (say "thread"), built on first use by
        this worker: (folder, None), or (None, the build's feedback) when it failed."""
        key = (lab.name, variant)
        if key not in self.builds:
            dest = os.path.join(self.tmp, f"build-{lab.name}-{variant}")
            result = buildmod.build_variant(lab, self.build_dir(lab), dest, self.limits, variant)
            self.builds[key] = (dest, None) if result.ok else (None, result.feedback())
        return self.builds[key]

    def limits_for(self, variant, overrides=None):
        """Limits for programs of a build VARIANT (sanitizers need no address-space
        cap), with the lab's own OVERRIDES of the defaults ([limits] in lab.toml)."""
        if variant is None and not overrides:
            return self.limits
        return Limits(uid=self.limits.uid, pidns=self.limits.pidns, private_fs=self.limits.private_fs,
                      sanitize=self.sanitize or variant is not None, **(overrides or {}))


@pytest.fixture(scope="session")
def socklab_env(request):
    return _Env(request.config, request.config.socklab_tmp)


@pytest.fixture
def case(request, socklab_env):
    """A fresh grading case: own network namespace, capture running."""
    item = request.node
    env = socklab_env
    env.iso.enter_case()
    spec, lab = item.socklab_spec, item.socklab_lab
    build_dir, build_problem = env.build_dir(lab), None
    if spec.build is not None:
        build_dir, build_problem = env.variant_build(lab, spec.build)
    c = Case(spec, lab, build_dir or env.build_dir(lab), env.iso, env.results,
             env.limits_for(spec.build, lab.limits), build_problem=build_problem)
    item.socklab_case = c
    yield c
    late = c.finish()
    c.cleanup()
    if late is not None:
        item.socklab_late = late   # a crash or sanitizer report: the cause, reported first
        if not hasattr(item, "socklab_exc"):
            raise late


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not hasattr(item, "socklab_spec"):
        return
    if call.excinfo is not None and not hasattr(item, "socklab_exc"):
        item.socklab_exc = (call.when, call.excinfo)
    if call.when == "teardown":
        report.user_properties.append(("socklab", _record(item)))


def _record(item):
    """The case's record from what happened in its phases."""
    c = getattr(item, "socklab_case", None)
    when, excinfo = getattr(item, "socklab_exc", (None, None))
    exc = excinfo.value if excinfo is not None else None
    failure, error_text = None, None
    if exc is None:
        status = "passed"
    elif isinstance(exc, CaseFailure):
        status, failure = "failed", exc
    elif isinstance(exc, NotChecked):
        status, error_text = "not_checked", f"Not checked: {exc}"
    elif (fault := program_fault(exc, c)) is not None:
        status, failure = "failed", fault
    elif excinfo.typename == "Failed" and "Timeout" in str(exc):
        status = "failed"
        failure = CaseFailure(f"the case did not finish within its time limit "
                              f"({item.socklab_lab.case_timeout:.0f} s)",
                              hint="something waited forever: a blocking call without a timeout?")
    else:
        status = "error"
        tb = _our_frames(exc)
        error_text = (f"The grader itself failed in the {when} of this case (not your fault; "
                      f"please report it):\n{tb}")
    late = getattr(item, "socklab_late", None)
    if late is not None and late is not exc and status in ("passed", "failed"):
        if failure is not None:
            error_text = "What the case saw because of it:\n" + failure.text()
        status, failure = "failed", late
    if c is None:
        spec = item.socklab_spec
        return unrun_record(spec.name, spec.title, spec.visibility, spec.points, "error",
                            (error_text or "the case could not start").split("\n")[0], error_text or "")
    return c.record(status, failure, error_text)


# What a misbehaving program makes a peer's socket calls raise: a reset, a
# refused or dropped connection, a wait that timed out, a TLS handshake it
# broke, bytes that are not the text they must be. The program's failure,
# never a grader error, once the case has started one of its programs.
PROGRAM_FAULTS = (ConnectionError, TimeoutError, EOFError, UnicodeDecodeError, ssl.SSLError)


def program_fault(exc, case):
    """The CaseFailure for EXC when the student's programs caused it, or None."""
    if not isinstance(exc, PROGRAM_FAULTS) or case is None or not case.programs:
        return None
    names = ", ".join(sorted({p.name for p in case.programs}))
    what = {ConnectionResetError: "reset the connection", ConnectionRefusedError: "refused the connection",
            BrokenPipeError: "closed the connection while the grader was still sending",
            TimeoutError: "did not answer in time", UnicodeDecodeError: "sent bytes that are not UTF-8 text",
            EOFError: "closed the connection before the exchange was over"}
    did = next((text for kind, text in what.items() if isinstance(exc, kind)), "broke the exchange")
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return CaseFailure(f"{names} {did} ({detail})",
                       hint="the grader's peer could not go on with the exchange: see what the test did, and "
                            "what the program printed, below")


def _our_frames(exc):
    """The exception with only the frames of the grader and the lab's cases
    (pytest's and pluggy's own frames say nothing about what went wrong)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.sep + "socklab" + os.sep in f.filename or os.sep + "labs" + os.sep in f.filename]
    text = "".join(traceback.format_list(frames[-8:]))
    return text + "".join(traceback.format_exception_only(type(exc), exc))


class _Collector:
    """Gathers the records on the controlling process and writes cases.json."""

    def __init__(self, config):
        self.config = config
        self.records = []

    def pytest_runtest_logreport(self, report):
        if report.when != "teardown":
            return
        new = [v for k, v in report.user_properties if k == "socklab"]
        self.records.extend(new)
        self._tell_progress(new)
        if self.config.getoption("--socklab-exitfirst") and any(r["status"] != "passed" for r in new):
            self._stop(f"stopping after {new[0]['name']} did not pass (-x)")

    def _tell_progress(self, records):
        path = self.config.getoption("--socklab-progress")
        if not path or not records:
            return
        with open(path, "a", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps({k: r[k] for k in ("name", "points", "max_points", "status", "seconds")}) + "\n")

    def _stop(self, why):
        # pytest's own --maxfail stops xdist before the teardown that carries
        # the record, so a case's record would be lost: stop here instead.
        dsession = self.config.pluginmanager.getplugin("dsession")
        if dsession is not None:
            dsession.shouldstop = why
        elif self.session is not None:
            self.session.shouldstop = why

    session = None

    def pytest_sessionstart(self, session):
        self.session = session

    def pytest_sessionfinish(self, session):
        results = self.config.getoption("--socklab-results")
        if not results or not self.records:
            return
        os.makedirs(results, exist_ok=True)
        modes = sorted({r["isolation"] for r in self.records if r["isolation"]})
        with open(os.path.join(results, "cases.json"), "w") as f:
            json.dump({"isolation": ",".join(modes), "cases": self.records}, f, indent=1)


def pytest_configure(config):
    # The temporary files of this process (builds, cases' work dirs, the
    # labs' own, such as the SMTP test PKI: paths.session_tmp()) go into one
    # folder removed at the end; grader/grade puts it in its own work dir
    # (SOCKLAB_TMP_ROOT), which it removes also when the run is interrupted.
    config.socklab_tmp = tempfile.mkdtemp(prefix="socklab-session-", dir=os.environ.get("SOCKLAB_TMP_ROOT"))
    os.chmod(config.socklab_tmp, 0o755)   # the student uid reaches its case's work dir through it
    os.environ[SESSION_TMP_VAR] = config.socklab_tmp
    if not hasattr(config, "workerinput") and "SOCKLAB_UID_BASE" not in os.environ:
        # `pytest labs/LAB` on its own: a uid block of its own, as grade has;
        # the workers, started after this, inherit it.
        config.socklab_uid_block = uidblocks.reserve(*uidblocks.SINGLE_RUNS)
        os.environ["SOCKLAB_UID_BASE"] = str(config.socklab_uid_block.base)
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Collector(config), "socklab-collector")


def pytest_unconfigure(config):
    tmp = getattr(config, "socklab_tmp", None)
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
