"""What students see from --sanitize, and what everyone gets when the grader
itself fails: a failing case with the sanitizer's report, and a results file
that blames the grader, never the student."""
import json
import os
import shutil

import mutants as mutmod
from socklab import gradecmd
from socklab.labspec import Lab
from socklab.paths import ROOT


# A heap overflow on every datagram: harmless-looking without sanitizers.
HEAP_OVERFLOW = {
    "name": "heap-overflow", "file": "udpserver.c",
    "find": "\tsent = sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, peerlen);\n",
    "replace": ("\tchar *copy = malloc((size_t)n);\n\n\tif (copy != NULL) {\n"
                "\t\tmemcpy(copy, buf, (size_t)n);\n\t\tcopy[n] = '\\0'; /* one past the end */\n"
                "\t\tfree(copy);\n\t}\n"
                "\tsent = sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, peerlen);\n"),
}


def _grade(sub, results, *extra, env=None):
    return gradecmd.run("echo", sub, results, *extra, env=env, timeout=300)


def test_sanitizer_report_fails_the_case_and_is_shown(tmp_path):
    sub = mutmod.make_copy("echo", HEAP_OVERFLOW, str(tmp_path), Lab("echo").binaries)
    path = os.path.join(sub, "udpserver.c")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("#include <errno.h>\n", "#include <errno.h>\n#include <stdlib.h>\n", 1))
    _, plain = _grade(sub, str(tmp_path / "plain"), "-k", "udp_server_two_clients")
    out, san = _grade(sub, str(tmp_path / "san"), "--sanitize", "-k", "udp_server_two_clients")
    case = san["cases"][0]
    assert case["status"] == "failed", case
    assert "heap-buffer-overflow" in case["feedback"] and "AddressSanitizer" in case["feedback"]
    assert case["summary"].startswith("udpserver: the sanitizer found"), case["summary"]
    assert "udpserver.c:" in case["feedback"], "the report should point at the source line"
    assert plain["cases"][0]["status"] in ("passed", "failed")  # it ran; the bug may hide without sanitizers


def test_grader_failure_still_writes_results_and_blames_the_grader(tmp_path):
    out, data = _grade(os.path.join(ROOT, "solutions", "echo"), str(tmp_path / "r"),
                       "-k", "tcp_server_uppercase", env={"SOCKLAB_ISOLATION": "bogus"})
    assert out.returncode == 3, out.stdout + out.stderr
    assert data["score"] == 0
    case = data["cases"][0]
    assert case["status"] == "error"
    assert "grader itself failed" in case["feedback"] or "grader" in case["summary"]
    gs = json.loads((tmp_path / "r" / "gradescope.json").read_text())
    assert gs["tests"][0]["score"] == 0


def test_student_copy_without_hidden_cases_says_what_it_did_not_run(tmp_path):
    import shutil
    from socklab import report
    labs = tmp_path / "labs"
    shutil.copytree(os.path.join(ROOT, "labs", "echo"), labs / "echo",
                    ignore=shutil.ignore_patterns("hidden", "__pycache__"))
    lab = Lab("echo", root=str(labs))
    assert not lab.hidden_present and lab.hidden_count >= 1
    assert lab.total_points == 100
    assert all(c.visibility != "hidden" for c in lab.cases.values())
    results = {"lab": "echo", "max_score": lab.total_points, "cases": [],
               "hidden": {"count": lab.hidden_count, "points": lab.hidden_points, "present": False}}
    line = report.headline(results)
    assert f"{lab.hidden_count} hidden case(s) worth {lab.hidden_points} points were not run" in line


def test_a_failed_thread_sanitizer_build_fails_its_case_and_says_why(tmp_path):
    # A Makefile that breaks when CC is not plain gcc: the normal build works,
    # the ThreadSanitizer build of hb_server_table_is_locked does not.
    sub = tmp_path / "heartbeat"
    shutil.copytree(os.path.join(ROOT, "solutions", "heartbeat"), sub)
    shutil.copytree(os.path.join(ROOT, "solutions", "common"), tmp_path / "common")
    makefile = sub / "Makefile"
    makefile.write_text(makefile.read_text().replace(
        "CFLAGS ?= -O2 -g\n", "CFLAGS ?= -O2 -g\nifneq ($(CC),gcc)\n$(error only gcc, please)\nendif\n", 1))
    out, data = gradecmd.run("heartbeat", sub, tmp_path / "r", "-k", "hb_server_table_is_locked",
                             "-k", "hb_server_prints_messages", timeout=300)
    cases = {c["name"]: c for c in data["cases"]}
    assert cases["hb_server_prints_messages"]["status"] == "passed", out.stdout
    locked = cases["hb_server_table_is_locked"]
    assert locked["status"] == "failed", locked
    assert "ThreadSanitizer" in locked["summary"] and "build failed" in locked["summary"], locked["summary"]
    assert "only gcc, please" in locked["feedback"], locked["feedback"]
