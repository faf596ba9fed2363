"""make gradescope LAB=echo: the autograder zip in Gradescope's layout.

run_autograder runs in a simulated /autograder tree (AUTOGRADER_ROOT) on
the echo reference, the skeleton and a mutant, uploaded the three ways a
student may (the files, the folder, a folder wrapped in another), and on
submissions that cannot be graded; every results.json is checked against
the fields of Gradescope's results format. setup.sh runs with a fake
apt-get (it records what it would install) and builds the grader's tools.
"""

import json
import os
import shutil
import stat
import zipfile

import pytest

import mutants as mutmod
from disthelp import PYTHON, leaks, run, secrets, squeeze
from socklab.labspec import Lab
from socklab.paths import ROOT

MKGRADESCOPE = os.path.join(ROOT, "tools", "mkgradescope.py")
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
            "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
             "tags", "visibility", "extra_data"}
ECHO = Lab("echo")


def number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def validate(data):
    """Check DATA against Gradescope's results.json fields and types; return it."""
    assert isinstance(data, dict) and set(data) <= TOP_KEYS, set(data) - TOP_KEYS
    assert number(data["score"])
    assert number(data.get("execution_time", 0))
    assert isinstance(data.get("output", ""), str)
    assert data.get("output_format", "text") in FORMATS
    assert data.get("visibility", "visible") in VISIBILITIES
    assert data.get("stdout_visibility", "visible") in VISIBILITIES
    assert isinstance(data.get("leaderboard", []), list)
    assert isinstance(data["tests"], list)
    for t in data["tests"]:
        assert isinstance(t, dict) and set(t) <= TEST_KEYS, set(t) - TEST_KEYS
        assert number(t["score"]) and number(t["max_score"]) and 0 <= t["score"] <= t["max_score"], t
        assert t.get("status", "passed") in ("passed", "failed"), t
        assert isinstance(t["name"], str) and t["name"], t
        assert t.get("name_format", "text") in FORMATS and t.get("output_format", "text") in FORMATS
        assert isinstance(t.get("number", ""), str) and isinstance(t.get("output", ""), str)
        assert isinstance(t.get("tags", []), list) and all(isinstance(x, str) for x in t.get("tags", []))
        assert t.get("visibility", "visible") in VISIBILITIES, t
        # Gradescope's rule: a "hidden" test is never shown and carries no points.
        assert t.get("visibility") != "hidden" or t["max_score"] == 0, t
    if data["tests"]:
        assert data["score"] == sum(t["score"] for t in data["tests"])
    return data


def unzip(path, dest):
    """Unpack like unzip(1): keep the modes (Gradescope runs setup.sh and run_autograder)."""
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            assert not info.filename.startswith("/") and ".." not in info.filename.split("/")
            z.extract(info, dest)
            mode = info.external_attr >> 16
            if mode:
                os.chmod(os.path.join(dest, info.filename), stat.S_IMODE(mode))


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """The zip, and its source tree set up by setup.sh (with a fake apt-get)."""
    top = tmp_path_factory.mktemp("gradescope")
    zip_path = top / "gradescope-echo.zip"
    done = run([PYTHON, MKGRADESCOPE, "echo", "-o", zip_path], timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    source = top / "source"
    unzip(zip_path, source)
    fakebin = top / "fakebin"
    fakebin.mkdir()
    (fakebin / "apt-get").write_text(f'#!/bin/sh\necho "$*" >> {top}/apt-get.log\n')
    (fakebin / "apt-get").chmod(0o755)
    setup = run(["sh", source / "setup.sh"], timeout=300, cwd=top,
                env=dict(os.environ, PATH=f"{fakebin}:{os.environ['PATH']}"))
    assert setup.returncode == 0, setup.stdout + setup.stderr
    yield {"zip": zip_path, "source": source, "apt": (top / "apt-get.log").read_text().splitlines(), "top": top}
    shutil.rmtree(top, ignore_errors=True)


def autograde(autograder, tmp_path, fill, source=None):
    """Make a Gradescope tree in TMP_PATH (source/ linked to the set-up one),
    let FILL(submission folder) upload, run run_autograder there; return
    (the run, the validated results.json)."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    os.symlink(source or autograder["source"], root / "source")
    shutil.copy(autograder["source"] / "run_autograder", root / "run_autograder")  # as Gradescope does
    fill(root / "submission")
    done = run([root / "run_autograder"], timeout=300, cwd=root,
               env=dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_JOBS="2"))
    assert done.returncode == 0, done.stdout + done.stderr
    with open(root / "results" / "results.json") as f:
        return done, validate(json.load(f))


def copy_lab(src, dest, common=True):
    built = shutil.ignore_patterns("*.o", "*.d", *ECHO.binaries)
    shutil.copytree(src, dest, ignore=built)
    if common:
        shutil.copytree(os.path.join(ROOT, "solutions", "common"), os.path.join(dest, "common"), ignore=built)


def by_name(data):
    return {t["name"].split(":")[0]: t for t in data["tests"]}


def test_zip_layout_hidden_cases_in_no_solutions_out(autograder):
    with zipfile.ZipFile(autograder["zip"]) as z:
        infos = {i.filename: i for i in z.infolist()}
        files = {n: z.read(n) for n in infos}
    for top in ("setup.sh", "run_autograder"):
        assert top in infos and (infos[top].external_attr >> 16) & 0o111, f"{top} executable at the top"
    assert {"labs/echo/lab.toml", "labs/echo/hidden/hidden.toml", "labs/echo/hidden/test_hidden.py",
            "grader/grade", "grader/sandbox/slrun.c", "grader/pcapcheck/main.c", "common/sl_io.c"} <= set(infos)
    for name in infos:
        assert name.split("/")[0] not in ("solutions", "tests", "skeletons", "bench", "pcaps", ".git"), name
        assert not name.startswith("labs/") or name.startswith(("labs/echo/", "labs/conftest.py")), name
    given = [squeeze(open(os.path.join(d, n), errors="replace").read())
             for d in (os.path.join(ROOT, "skeletons", lab) for lab in os.listdir(os.path.join(ROOT, "skeletons")))
             for n in os.listdir(d) if os.path.isfile(os.path.join(d, n))]
    found, _ = secrets(given)
    # Hidden cases belong here; solution code and mutants do not.
    assert leaks(files, [(w, s) for w, s in found if "hidden case" not in w]) == []


def test_setup_sh_installs_the_packages_of_deps_sh(autograder, tmp_path):
    setup = autograder["source"] / "setup.sh"
    assert run(["sh", "-n", setup], timeout=30).returncode == 0
    # deps.sh's own list, as it says it when nothing is installed and we are not root.
    fakebin = tmp_path / "bin"
    fakebin.mkdir()
    for name, body in (("dpkg-query", "exit 1"), ("id", "echo 1000")):
        (fakebin / name).write_text(f"#!/bin/sh\n{body}\n")
        (fakebin / name).chmod(0o755)
    deps = run(["sh", os.path.join(ROOT, "tools", "deps.sh"), "grade"], timeout=30,
               env=dict(os.environ, PATH=f"{fakebin}:{os.environ['PATH']}"))
    line = next(l for l in deps.stderr.splitlines() if "missing Debian packages:" in l)
    wanted = line.split("packages:", 1)[1].split()
    assert len(wanted) >= 10 and "libpcap-dev" in wanted
    installs = [l.split() for l in autograder["apt"] if l.split()[:1] == ["install"]]
    assert len(installs) == 1, autograder["apt"]
    assert [p for p in installs[0] if not p.startswith("-")][1:] == wanted
    assert os.access(autograder["source"] / "grader" / "sandbox" / "slrun", os.X_OK)
    assert os.access(autograder["source"] / "grader" / "pcapcheck" / "pcapcheck", os.X_OK)


def test_reference_uploaded_as_files_scores_100(autograder, tmp_path):
    def fill(sub):  # the lab folder's files, without common/ (the autograder has it)
        copy_lab(os.path.join(ROOT, "solutions", "echo"), sub / "x", common=False)
        for name in os.listdir(sub / "x"):
            shutil.move(sub / "x" / name, sub / name)
        (sub / "x").rmdir()
    done, data = autograde(autograder, tmp_path, fill)
    assert data["score"] == 100, done.stdout
    tests = by_name(data)
    assert set(tests) == set(ECHO.cases)
    assert all(t["status"] == "passed" for t in tests.values())
    # Visibility comes from lab.toml and hidden.toml; a hidden case, which
    # carries points, is held back until the grades are published.
    assert {n: t["visibility"] for n, t in tests.items()} == {
        n: "after_published" if c.visibility == "hidden" else c.visibility for n, c in ECHO.cases.items()}
    assert tests["tcp_server_survives_bad_clients"]["visibility"] == "after_published"
    # What a student reads before publication tells nothing of the hidden cases' points.
    seen = [c for c in ECHO.cases.values() if c.visibility != "hidden"]
    held = [c for c in ECHO.cases.values() if c.visibility == "hidden"]
    assert held and seen
    points = sum(c.points for c in seen)
    assert data["output"].startswith(f"echo: {points}/{points} in the {len(seen)} case(s) you can see; "
                                     f"the other {len(held)} case(s), worth {100 - points} points, and your "
                                     f"total are shown when your instructor publishes the grades"), data["output"]
    assert "100/100" not in data["output"]
    # A passed case names no bug: the student has none of them.
    assert all(t["tags"] == [] for t in tests.values())


def test_skeleton_uploaded_as_its_folder_scores_low(autograder, tmp_path):
    done, data = autograde(autograder, tmp_path,
                           lambda sub: copy_lab(os.path.join(ROOT, "skeletons", "echo"), sub / "echo", common=False))
    assert data["score"] <= 10, done.stdout
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert len(failed) >= 10 and all(t["output"] for t in failed)


def test_mutant_in_a_wrapped_folder_loses_its_case(autograder, tmp_path):
    mutant = next(m for m in mutmod.load("echo") if m["name"] == "client-reset-close")
    caught = mutant["caught_by"]

    def fill(sub):
        mutmod.make_copy("echo", mutant, sub / "handin", binaries=ECHO.binaries)
    done, data = autograde(autograder, tmp_path, fill)
    tests = by_name(data)
    assert tests[caught]["status"] == "failed" and tests[caught]["score"] == 0, tests[caught]
    assert data["score"] <= 100 - ECHO.cases[caught].points, done.stdout
    assert "reset" in tests[caught]["output"], tests[caught]["output"]
    assert tests[caught]["tags"] == ECHO.cases[caught].bugs, "a failed case names its typical bugs"
    # Its feedback names a capture file Gradescope does not keep: the output says where to get one.
    assert "Capture (captures/" in tests[caught]["output"]
    assert "not kept on Gradescope" in tests[caught]["output"]


def test_a_build_failure_scores_0_with_the_errors(autograder, tmp_path):
    def fill(sub):
        copy_lab(os.path.join(ROOT, "solutions", "echo"), sub / "echo")
        with open(sub / "echo" / "tcpserver.c", "a") as f:
            f.write("\nthis is not C;\n")
    done, data = autograde(autograder, tmp_path, fill)
    assert data["score"] == 0 and "did not build" in data["output"], data["output"]
    assert "tcpserver.c" in data["output"]
    assert len(data["tests"]) == len(ECHO.cases)


def test_no_makefile_scores_0_and_says_what_to_upload(autograder, tmp_path):
    done, data = autograde(autograder, tmp_path, lambda sub: (sub / "tcpserver.c").write_text("int main;\n"))
    assert data["score"] == 0
    assert "no Makefile" in data["output"] and "tcpserver.c" in data["output"], data["output"]
    assert set(by_name(data)) == set(ECHO.cases), "the rubric is still shown"


def test_a_grader_crash_or_a_missing_autograde_still_writes_results(autograder, tmp_path):
    broken = tmp_path / "broken-source"
    shutil.copytree(autograder["source"], broken, symlinks=True)
    (broken / "grader" / "grade").write_text("#!/usr/bin/python3\nraise SystemExit('grader exploded')\n")
    reference = lambda sub: copy_lab(os.path.join(ROOT, "solutions", "echo"), sub / "echo")  # noqa: E731
    done, data = autograde(autograder, tmp_path / "crash", reference, source=broken)
    assert data["score"] == 0 and "grader failed" in data["output"], data["output"]
    assert "grader exploded" in done.stdout + done.stderr
    os.remove(broken / "autograde.py")
    done, data = autograde(autograder, tmp_path / "gone", reference, source=broken)
    assert data["score"] == 0 and data["tests"] == [] and "autograder failed" in data["output"], data


def test_mkgradescope_usage(tmp_path):
    helped = run([PYTHON, MKGRADESCOPE, "--help"], timeout=60)
    assert helped.returncode == 0 and "Gradescope" in helped.stdout
    missing = run([PYTHON, MKGRADESCOPE, "nosuchlab", "-o", tmp_path / "x.zip"], timeout=60)
    assert missing.returncode == 2 and "no lab named 'nosuchlab'" in missing.stderr
    assert not (tmp_path / "x.zip").exists()
    no_lab = run(["make", "-s", "-C", ROOT, "gradescope"], timeout=60)
    assert no_lab.returncode != 0 and "LAB=echo" in no_lab.stderr
