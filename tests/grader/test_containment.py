"""Writes outside the case, and hidden cases through the build (issue 14 §1).

A hostile echo submission whose four programs each try to write where a
case must not (the shared scratch folders, the folder above the work dir,
the grader's home, the kit's tree, /etc) and to read what they must not
(a hidden case's source, /etc/shadow, the kit through the namespace init's
/proc links), and print what each attempt got as one line of JSON; graded
as root (netns) and as an unprivileged user (userns). And a hostile Makefile
that prints a hidden case's source into the build log and fails: nothing of
it may reach a report.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from socklab import gradecmd
from socklab.paths import ROOT

PY = "/usr/bin/python3"
HIDDEN_SOURCE = os.path.join(ROOT, "labs", "echo", "hidden", "test_hidden.py")
HIDDEN_NAMES = ["tcp_server_survives_bad_clients"]
CASES = ["tcp_server_uppercase", "tcp_client_uppercase", "udp_client_uppercase", "udp_server_two_clients"]
REFUSED = {"EROFS", "EACCES", "EPERM", "ENOENT"}

# What every program of the submission does: try each, report, exit 0.
PROBE = r"""#!{py}
import errno, json, os, sys
TAG, KIT, HOME, HIDDEN = {tag!r}, {kit!r}, {home!r}, {hidden!r}
got = {{}}
def attempt(name, action):
    try:
        action()
        got[name] = "ok"
    except OSError as e:
        got[name] = errno.errorcode.get(e.errno, str(e.errno))
def create(folder):
    with open(os.path.join(folder, TAG + "-" + os.path.basename(sys.argv[0])), "x") as f:
        f.write("left behind by a hostile program\n")
for name, folder in (("tmp", "/tmp"), ("dev_shm", "/dev/shm"), ("var_tmp", "/var/tmp"),
                     ("dotdot", ".."), ("env_home", os.environ.get("HOME", "/")), ("home", HOME),
                     ("kit", KIT), ("kit_labs", os.path.join(KIT, "labs")), ("etc", "/etc")):
    attempt("create_" + name, lambda folder=folder: create(folder))
attempt("read_hidden", lambda: open(HIDDEN).read())
attempt("read_hidden_via_init", lambda: open("/proc/1/root" + HIDDEN).read())
attempt("read_shadow", lambda: open("/etc/shadow").read())
got["env_home_is_cwd"] = os.environ.get("HOME") == os.getcwd()
print("CONTAINMENT " + json.dumps(got, sort_keys=True), flush=True)
"""

# A Makefile that prints a hidden case (and the hidden folder's listing)
# into the build log, by the paths it may know and by looking for any copy
# of the kit on the machine, then fails.
LEAKY_MAKEFILE = """\
all:
\t-cat {hidden}
\t-cat /proc/1/root{hidden}
\t-cat /proc/self/root{hidden}
\t-ls -la {kit}/labs/echo/hidden {kit}
\t-@find / \\( -path /proc -o -path /sys \\) -prune -o -name hidden.toml -print 2>/dev/null | xargs -r cat
\tfalse
"""


def _kit_dir():
    """A folder in /tmp for a grading run (pytest's own are closed to the
    student uid), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="socklab-containment-"))
    os.chmod(path, 0o777)
    return path


@pytest.fixture
def run_dir():
    path = _kit_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _hostile_submission(folder, tag, home):
    sub = folder / "sub"
    sub.mkdir()
    (sub / "Makefile").write_text("all:\n\ttrue\n")
    for name in ("tcpserver", "tcpclient", "udpclient", "udpserver"):
        (sub / name).write_text(PROBE.format(py=PY, tag=tag, kit=ROOT, home=home, hidden=HIDDEN_SOURCE))
    for base, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.chmod(os.path.join(base, name), 0o777)
    return sub


def _probe_reports(data):
    """{program: what each attempt got}, from the programs' stdout in the feedback."""
    found = {}
    for c in data["cases"]:
        lines = c["feedback"].splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"(\w+) stdout \(last lines\):", line)
            if m and i + 1 < len(lines) and "CONTAINMENT " in lines[i + 1]:
                found[m.group(1)] = json.loads(lines[i + 1].split("CONTAINMENT ", 1)[1])
    return found


def _leftovers(tag):
    """Files named after TAG anywhere a program could have reached on the host."""
    places = ["/tmp", "/dev/shm", "/var/tmp", "/etc", ROOT, os.path.join(ROOT, "labs"),
              os.path.expanduser("~")]
    return [os.path.join(p, n) for p in places if os.path.isdir(p) for n in os.listdir(p) if tag in n]


def _check_probes(data, tag, mode):
    assert data["isolation"] == mode, data.get("isolation")
    probes = _probe_reports(data)
    assert set(probes) == {"tcpserver", "tcpclient", "udpclient", "udpserver"}, \
        [c["feedback"][-600:] for c in data["cases"]]
    for program, got in probes.items():
        # The scratch folders are the program's own fresh tmpfs: creating works, and leaves nothing.
        for name in ("tmp", "dev_shm", "var_tmp"):
            assert got[f"create_{name}"] == "ok", (program, name, got)
        # HOME is the work dir (slrun --env-clear), removed with the case.
        assert got["env_home_is_cwd"] and got["create_env_home"] == "ok", (program, got)
        for name in ("home", "kit", "kit_labs", "etc"):
            assert got[f"create_{name}"] in REFUSED, (program, name, got)
        for name in ("read_hidden", "read_hidden_via_init", "read_shadow"):
            assert got[name] in REFUSED, (program, name, got)
        # The case's folder takes new entries (a server's --root folder), and goes with the case.
        assert got["create_dotdot"] in REFUSED | {"ok"}, (program, got)
    assert _leftovers(tag) == [], "a hostile program left files on the host"
    return probes


@pytest.mark.skipif(os.geteuid() != 0, reason="netns mode needs root")
def test_hostile_programs_are_contained_as_root(run_dir):
    tag = f"socklab-hostile-{uuid.uuid4().hex[:8]}"
    sub = _hostile_submission(run_dir, tag, os.path.expanduser("~"))
    args = [x for c in CASES for x in ("-k", c)]
    out, data = gradecmd.run("echo", sub, run_dir / "results", "-j", "2", *args, timeout=300)
    probes = _check_probes(data, tag, "netns")
    # The case folder (root's, sticky) takes new entries, as a server's --root folder; they go
    # with the case, and the grader's own entries there cannot be removed or replaced.
    assert all(p["create_dotdot"] == "ok" for p in probes.values()), probes


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to become another user")
def test_hostile_programs_are_contained_in_a_user_namespace(run_dir):
    tag = f"socklab-hostile-{uuid.uuid4().hex[:8]}"
    home = str(run_dir / "home")
    os.mkdir(home)
    os.chmod(home, 0o777)
    sub = _hostile_submission(run_dir, tag, home)
    args = [x for c in CASES for x in ("-k", c)]
    out, data = gradecmd.run("echo", sub, run_dir / "results", "-j", "2", *args, timeout=300,
                             env={"HOME": home},
                             prefix=("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"))
    if data.get("isolation") == "host":
        pytest.skip("unprivileged user namespaces are disabled on this machine")
    _check_probes(data, tag, "userns")
    assert os.listdir(home) == [], "a hostile program wrote into the grader's home"


@pytest.mark.skipif(os.geteuid() != 0, reason="the contained build needs root (or a user namespace)")
def test_a_makefile_cannot_leak_a_hidden_case_into_any_report(run_dir):
    sub = run_dir / "sub"
    sub.mkdir()
    (sub / "Makefile").write_text(LEAKY_MAKEFILE.format(hidden=HIDDEN_SOURCE, kit=ROOT))
    results = run_dir / "results"
    out, data = gradecmd.run("echo", sub, results, "-k", CASES[0], timeout=300)
    assert data["build"]["ok"] is False and "make failed" in data["build"]["problem"]
    with open(HIDDEN_SOURCE) as f:
        secret_lines = [l.strip() for l in f if len(l.strip()) > 25]
    assert secret_lines, "the hidden case has no line to look for"
    reports = {name: (results / name).read_text(errors="replace")
               for name in ("results.json", "junit.xml", "gradescope.json", "build.log")}
    reports["terminal"] = out.stdout + out.stderr
    for name, text in reports.items():
        for line in secret_lines:
            assert line not in text, f"{name} holds a line of the hidden case: {line!r}"
    # The build's own output names no hidden case and no hidden file.
    build_text = reports["build.log"] + data["build"].get("feedback", "")
    for word in HIDDEN_NAMES + ["hidden.toml", "test_hidden.py:"]:
        assert word not in build_text.replace(HIDDEN_SOURCE, ""), f"the build log shows {word!r}"
    assert "No such file or directory" in reports["build.log"], reports["build.log"][-2000:]
