"""grader/grade LAB --class DIR: a whole class graded, one submission at a
time per slot, each in its own grading process; the gradebook, the class
report and the student pages; re-runs that skip what did not change; and
submissions that are hostile archives or hang."""
import csv
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
import zipfile

import pytest

import mutants as mutmod
from screenshot import CHROMIUM, looks_rendered, render
from socklab import classreport, similarity
from socklab.batch import Batch
from socklab.labspec import Lab
from socklab.paths import ROOT
from socklab.submissions import MAX_FILES, SubmissionError, find, student_name

GRADE = os.path.join(ROOT, "grader", "grade")
MUTANT = "client-reset-close"   # an echo mutant that fails its case quickly


def _tar(path, files, wrap=None):
    """A .tar.gz at PATH with FILES {name: bytes}, optionally inside folder WRAP."""
    with tarfile.open(path, "w:gz") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{wrap}/{name}" if wrap else name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def _tree(top):
    out = {}
    for base, _, files in os.walk(top):
        for name in files:
            path = os.path.join(base, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, top)] = f.read()
    return out


def _class_dir(tmp_path):
    """alice: the reference as a folder; bob: the skeleton as a .tar.gz wrapped
    in a folder; carol: a mutant as a .zip; mallory: an archive that climbs out;
    and a file that is no submission."""
    d = tmp_path / "class"
    d.mkdir()
    shutil.copytree(os.path.join(ROOT, "solutions", "echo"), d / "alice")
    shutil.copytree(os.path.join(ROOT, "solutions", "common"), d / "alice" / "common")
    _tar(d / "bob.tar.gz", _tree(os.path.join(ROOT, "skeletons", "echo")), wrap="echo")
    mutant = next(m for m in mutmod.load("echo") if m["name"] == MUTANT)
    sub = mutmod.make_copy("echo", mutant, str(tmp_path / "carol"), Lab("echo").binaries)
    with zipfile.ZipFile(d / "carol.zip", "w") as z:
        for rel, data in _tree(os.path.dirname(sub)).items():
            z.writestr(rel, data)
    _tar(d / "mallory.tar.gz", {"../../escaped": b"x"})
    (d / "notes for me.txt").write_text("not a submission")
    return d, mutant


def _grade_class(class_dir, results, *extra):
    out = subprocess.run([GRADE, "echo", "--class", str(class_dir), "--results", str(results), "-j", "2",
                          *extra], capture_output=True, text=True, timeout=600, cwd=ROOT)
    with open(os.path.join(results, "class.json")) as f:
        return out, json.load(f)


def test_class_run_grades_every_entry_writes_the_reports_and_resumes(tmp_path):
    class_dir, mutant = _class_dir(tmp_path)
    results = tmp_path / "results"
    out, data = _grade_class(class_dir, results)
    assert out.returncode == 0, out.stdout + out.stderr
    with open(results / "gradebook.csv") as f:
        book = {row["student"]: row for row in csv.DictReader(f)}
    assert set(book) == {"alice", "bob", "carol", "mallory"}
    assert book["alice"]["score"] == "100" and book["alice"]["status"] == "graded"
    assert int(book["bob"]["score"]) <= 10
    lab = Lab("echo")
    caught = mutant["caught_by"]
    assert book["carol"][caught] == "0", "the mutant must lose its case"
    assert int(book["carol"]["score"]) <= 100 - lab.cases[caught].points
    assert book["mallory"]["status"] == "refused" and book["mallory"]["score"] == "0"
    mallory = json.loads((results / "students" / "mallory" / "results.json").read_text())
    assert "unsafe path" in mallory["problem"]
    assert not (tmp_path / "escaped").exists() and not (results / "escaped").exists()
    assert [s["entry"] for s in data["skipped_entries"]] == ["notes for me.txt"]
    assert data["graded_now"] == 4 and data["histogram"][9] >= 1
    for student in book:
        assert (results / "students" / student / "index.html").exists()
    assert (results / "students" / "alice" / "src" / "tcpserver.c").exists()
    page = (results / "index.html").read_text()
    assert "students/carol/index.html" in page and caught in page
    assert "class: 4/4" in out.stderr, "plain progress lines when not on a terminal"

    # Nothing changed: nothing is regraded. Then bob hands in again.
    out, data = _grade_class(class_dir, results)
    assert data["graded_now"] == 0 and data["students"] == 4, out.stderr
    assert "unchanged, not regraded" in out.stderr
    _tar(class_dir / "bob.tar.gz", _tree(os.path.join(ROOT, "solutions", "echo")) |
         {f"common/{k}": v for k, v in _tree(os.path.join(ROOT, "solutions", "common")).items()})
    out, data = _grade_class(class_dir, results)
    assert data["graded_now"] == 1 and data["scores"]["bob"]["score"] == 100, out.stderr


# The one case both submissions run takes the reference about 3 s; 15 s is
# far shorter than the build's own 120 s: the whole test waits this long for
# the hanging build.
DEADLINE = 15
CASE = "tcp_server_uppercase"


def test_a_hanging_submission_costs_only_its_own_deadline(tmp_path):
    class_dir = tmp_path / "class"
    (class_dir / "hangs").mkdir(parents=True)
    (class_dir / "hangs" / "Makefile").write_text("all:\n\tsleep 600\n")
    shutil.copytree(os.path.join(ROOT, "solutions", "echo"), class_dir / "alice")
    shutil.copytree(os.path.join(ROOT, "solutions", "common"), class_dir / "alice" / "common")
    # The deadline holds for every submission: long enough for the reference
    # on a loaded machine, far shorter than the build's own 120 s.
    batch = Batch(Lab("echo"), str(class_dir), str(tmp_path / "r"), jobs=2, quiet=True,
                  per_submission_timeout=DEADLINE, cases=[CASE])
    t0 = time.monotonic()
    outcomes, _, _ = batch.run()
    took = time.monotonic() - t0
    by = {o.student: o for o in outcomes}
    assert by["hangs"].status == "grader_error"
    assert f"did not finish within {DEADLINE} s" in by["hangs"].results["problem"]
    alice = by["alice"].results
    assert [c["name"] for c in alice["cases"] if c["status"] == "passed"] == [CASE], alice.get("problem")
    assert took < DEADLINE + 15 + 30, f"the batch took {took:.0f} s"
    leftover = subprocess.run(["pgrep", "-f", "sleep 600"], capture_output=True, text=True)
    assert leftover.stdout.strip() == "", "the hanging build must be killed with its process group"


# --- unpacking --------------------------------------------------------------------
def _entry(tmp_path, name):
    entries, _ = find(str(tmp_path))
    return next(e for e in entries if e.student == name)


@pytest.mark.parametrize("member", ["/etc/evil", "../evil", "a/../../evil"])
def test_archive_paths_that_leave_the_folder_are_refused(tmp_path, member):
    _tar(tmp_path / "eve.tar.gz", {member: b"x"})
    with pytest.raises(SubmissionError, match="unsafe path"):
        _entry(tmp_path, "eve").unpack(str(tmp_path / "out"), "echo")


def test_links_are_refused_in_archives_and_folders(tmp_path):
    with tarfile.open(tmp_path / "eve.tar.gz", "w:gz") as t:
        info = tarfile.TarInfo("Makefile")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/shadow"
        t.addfile(info)
    with pytest.raises(SubmissionError, match="link"):
        _entry(tmp_path, "eve").unpack(str(tmp_path / "out"), "echo")
    (tmp_path / "zed").mkdir()
    os.symlink("/etc/shadow", tmp_path / "zed" / "Makefile")
    with pytest.raises(SubmissionError, match="symbolic link: Makefile"):
        _entry(tmp_path, "zed").unpack(str(tmp_path / "out2"), "echo")


def test_archive_bombs_stop_early(tmp_path):
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as z:
        for i in range(MAX_FILES + 1):
            z.writestr(f"f{i}.c", "")
    with pytest.raises(SubmissionError, match="more than 2000 files"):
        _entry(tmp_path, "many").unpack(str(tmp_path / "o1"), "echo")
    with zipfile.ZipFile(tmp_path / "big.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.c", bytes(51 << 20))
    with pytest.raises(SubmissionError, match="more than 50 MiB"):
        _entry(tmp_path, "big").unpack(str(tmp_path / "o2"), "echo")


def test_the_folder_with_the_makefile_is_found_inside_wrappers(tmp_path):
    _tar(tmp_path / "ann.tar.gz", {"Makefile": b"all:\n", "x.c": b""}, wrap="handin/echo")
    top = _entry(tmp_path, "ann").unpack(str(tmp_path / "o1"), "echo")
    assert top.endswith(os.path.join("handin", "echo"))
    _tar(tmp_path / "ben.tar.gz", {"echo/Makefile": b"", "heartbeat/Makefile": b"", "common/x.h": b""})
    assert _entry(tmp_path, "ben").unpack(str(tmp_path / "o2"), "echo").endswith("echo")


def test_student_names_and_fingerprints(tmp_path):
    assert student_name("alice.tar.gz") == "alice" and student_name("b.o-b@uni.zip") == "b.o-b@uni"
    assert student_name("two words") is None and student_name(".hidden") is None
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "a.c").write_text("int x;\n")
    first = _entry(tmp_path, "ann").fingerprint()
    assert _entry(tmp_path, "ann").fingerprint() == first
    (tmp_path / "ann" / "a.c").write_text("int y;\n")
    assert _entry(tmp_path, "ann").fingerprint() != first


# --- the class report -------------------------------------------------------------
class _Outcome:
    def __init__(self, student, score, failures):
        self.student, self.status, self.skipped = student, "graded", False
        lab = Lab("echo")
        self.results = {"lab": "echo", "max_score": 100, "score": score, "cases": [
            {"name": n, "status": "failed" if n in failures else "passed", "points": 0,
             "summary": failures.get(n, ""), "max_points": s.points, "title": s.title,
             "feedback": failures.get(n, ""), "visibility": "visible"} for n, s in lab.cases.items()]}


def test_case_statistics_group_failures_whatever_their_numbers():
    lab = Lab("echo")
    outcomes = [_Outcome("a", 90, {"tcp_server_uppercase": "tcpserver ended on port 24680"}),
                _Outcome("b", 90, {"tcp_server_uppercase": "tcpserver ended on port 24681"}),
                _Outcome("c", 95, {"tcp_server_uppercase": "no reply <script>"}),
                _Outcome("d", 100, {})]
    stats = {c["name"]: c for c in classreport.case_stats(lab, outcomes)}
    up = stats["tcp_server_uppercase"]
    assert (up["passed"], up["failed"], up["most_common_count"]) == (1, 3, 2)
    assert up["most_common_failure"] == "tcpserver ended on port 24680"
    assert classreport.histogram([0, 9, 10, 99, 100], 100) == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    # Untouched skeletons do not drown what the students who tried got wrong.
    skeletons = [_Outcome(n, 0, {"tcp_server_uppercase": "no reply; stderr: TODO 3 not done yet (tcpserver.c:40)"})
                 for n in "pqrst"]
    up = {c["name"]: c for c in classreport.case_stats(lab, outcomes + skeletons)}["tcp_server_uppercase"]
    assert (up["failed"], up["untouched"], up["most_common_count"]) == (8, 5, 2)
    assert up["most_common_failure"] == "tcpserver ended on port 24680"
    page = classreport.class_page(classreport.summary(lab, outcomes + skeletons, [], 1.0))
    assert "(2 of the 3 that tried)" in page and "5 more left its TODO undone" in page
    hostile = [_Outcome(n, 0, {"tcp_server_uppercase": "saw <script>alert(1)</script>"}) for n in "xy"]
    page = classreport.class_page(classreport.summary(lab, hostile, [], 1.0))
    assert "<script>" not in page and "saw &lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed (make test installs it)")
def test_class_report_renders_in_chromium(tmp_path):
    lab = Lab("echo")
    outcomes = [_Outcome(f"s{i:02d}", 10 * (i % 11), {"udp_client_timeout": f"waited {i} s"} if i % 2 else {})
                for i in range(30)]
    (tmp_path / "students").mkdir()
    classreport.write_all(str(tmp_path), lab, outcomes, [("x y", "not a submission")], 12.5,
                          similar=[{"a": "s01", "b": "s02", "percent": 87, "file": "tcpserver.c"}])
    shot = str(tmp_path / "class.png")
    render(str(tmp_path / "index.html"), shot, 1100, 1400)
    looks_rendered(shot, 1100, 1400)
    student = str(tmp_path / "student.png")
    render(str(tmp_path / "students" / "s01" / "index.html"), student, 1000, 800)
    looks_rendered(student, 1000, 800, min_colours=10)


@pytest.mark.skipif(not os.path.exists(similarity.SIM_C), reason="sim_c is not installed (make test installs it)")
def test_similarity_finds_copied_code_but_not_the_shared_skeleton(tmp_path):
    students = tmp_path / "students"
    for name, source in (("ann", "solutions"), ("ben", "solutions"), ("cat", "skeletons"), ("dan", "skeletons")):
        similarity.keep_sources(os.path.join(ROOT, source, "echo"), str(students / name / "src"))
    pairs = similarity.similar_pairs(Lab("echo"), str(tmp_path), ["ann", "ben", "cat", "dan"])
    found = {(p["a"], p["b"]) for p in pairs}
    assert ("ann", "ben") in found
    assert not found & {("cat", "dan"), ("dan", "cat")}, "two untouched skeletons share only skeleton lines"
    assert all(p["percent"] >= similarity.THRESHOLD for p in pairs)
