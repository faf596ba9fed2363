"""slrun --private-fs: a program's own view of the file system.

A probe (Python) tries what a hostile student program would: write in the
shared scratch folders, beside and above its work dir, in the kit's tree and
in /etc; read hidden folders; undo a mount. It prints one JSON object with
what each attempt got; the tests check that and what is left on the host.
Everything here needs root (mount namespaces); the user-namespace tests run
slrun as nobody inside `unshare --user --map-root-user`, as the grader does
without root.
"""

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from test_slrun import PYTHON, ROOT, SLRUN, build_slrun, needs_root, run  # noqa: F401 (fixture)

STUDENT = 64125   # a uid of its own (no other test and no account uses it)

PROBE = r"""
import ctypes, json, os, sys
tag, keep, hidden = sys.argv[1], sys.argv[2], sys.argv[3]
got = {}
def attempt(name, action):
    try:
        action()
        got[name] = "ok"
    except OSError as e:
        got[name] = os.strerror(e.errno)
def write(path):
    with open(path, "w") as f:
        f.write("left by the probe\n")
for name, folder in (("tmp", "/tmp"), ("var_tmp", "/var/tmp"), ("dev_shm", "/dev/shm"),
                     ("work", "."), ("case", ".."), ("above", "../.."), ("kit", hidden), ("etc", "/etc")):
    attempt("write_" + name, lambda folder=folder: write(os.path.join(folder, tag)))
attempt("read_keep", lambda: open(keep).read())
attempt("write_keep", lambda: write(keep))
attempt("dev_null", lambda: write("/dev/null"))
got["kit_listing"] = sorted(os.listdir(hidden)) if os.path.isdir(hidden) else None
got["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
got["cwd"] = os.getcwd()
got["tmp_listing"] = sorted(os.listdir("/tmp"))
with open("/proc/self/status") as f:
    got["caps"] = {l.split(":")[0]: int(l.split()[1], 16) for l in f if l.startswith("Cap")}
libc = ctypes.CDLL(None, use_errno=True)
def syscall_result(rc):
    return "ok" if rc == 0 else os.strerror(ctypes.get_errno())
got["umount_tmp"] = syscall_result(libc.umount2(b"/tmp", 2))       # MNT_DETACH
got["remount_rw"] = syscall_result(libc.mount(None, b"/", None, 0x20 | 0x1000, None))  # MS_REMOUNT|MS_BIND
try:
    with open("/tmp/big", "wb") as f:
        f.write(b"x" * (3 << 20))
    got["fill_tmp"] = "ok"
except OSError as e:
    got["fill_tmp"] = os.strerror(e.errno)
print(json.dumps(got))
"""


@pytest.fixture
def case_dir():
    """A case folder in /tmp, as the grader makes it: TOP (root, 0755) holding
    work/ (the student's) and keep.txt (the grader's, to be read)."""
    top = Path(tempfile.mkdtemp(prefix="slrun-privfs-"))
    os.chmod(top, 0o755)
    (top / "work").mkdir()
    (top / "keep.txt").write_text("read me\n")
    (top / "work" / "probe.py").write_text(PROBE)
    yield top
    shutil.rmtree(top, ignore_errors=True)


def host_leftovers(tag, top):
    """Files named TAG that the probe left outside its work dir."""
    places = ["/tmp", "/var/tmp", "/dev/shm", str(top), str(top.parent), str(ROOT), "/etc"]
    return [p for p in places if os.path.exists(os.path.join(p, tag))]


def private_args(top, *extra):
    return ["--pidns", "--private-fs", "--fs-size", "1M", "--fs-hide", str(ROOT),
            "--fs-ro", str(top / "keep.txt"), "--fs-rw", str(top / "work"), *extra,
            "--chdir", str(top / "work")]


def probe(top, args, prefix=()):
    tag = f"probe-{uuid.uuid4().hex[:8]}"
    cmd = [*prefix, str(SLRUN), *args, "--", PYTHON, "probe.py", tag, str(top / "keep.txt"), str(ROOT)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, start_new_session=True)
    assert out.returncode == 0, out.stderr
    return tag, json.loads(out.stdout)


def check_contained(got, tag, top, private_tmp_owned=False):
    """PRIVATE_TMP_OWNED: the program is root of its user namespace, so the
    folders made in its private /tmp to hold the case folder's mount point
    are its own: a write there works, and is gone with the namespace."""
    for name in ("tmp", "var_tmp", "dev_shm"):
        assert got[f"write_{name}"] == "ok", got      # private scratch: writable, and gone
    assert got["write_work"] == "ok"
    refused = ("Read-only file system", "Permission denied")
    for name in ("case", "kit", "etc"):
        if private_tmp_owned and name == "case":
            continue
        # A kit under /tmp (a clone in /tmp, as CI may make) is not even
        # there: the private /tmp covers it.
        gone = ("No such file or directory",) if name == "kit" else ()
        assert got[f"write_{name}"] in refused + gone, (name, got)
    # The folder above the case folder is the private /tmp: a write there
    # works, and host_leftovers proves it went nowhere.
    assert got["write_keep"] in ("Read-only file system", "Permission denied") and got["read_keep"] == "ok"
    assert got["dev_null"] == "ok"
    assert got["kit_listing"] in ([], None), "the hidden kit's tree is visible"   # None: not there at all
    assert got["pids"] == [1, 2], "the host's /proc is visible"
    assert got["cwd"] == str(top / "work")
    assert got["caps"]["CapBnd"] == 0 and got["caps"]["CapEff"] == 0
    assert got["umount_tmp"] == "Operation not permitted" and got["remount_rw"] == "Operation not permitted"
    assert got["fill_tmp"] == "No space left on device", "the scratch tmpfs has no size cap"
    assert (top / "work" / tag).exists(), "a write in the work dir did not reach the host"
    assert host_leftovers(tag, top) == []


@needs_root
def test_private_fs_as_a_student_uid(case_dir):
    os.chown(case_dir / "work", STUDENT, STUDENT)
    tag, got = probe(case_dir, private_args(case_dir, "--user", f"{STUDENT}:{STUDENT}"))
    check_contained(got, tag, case_dir)
    # The case folder in /tmp is there, and the host's other /tmp entries are not.
    assert got["tmp_listing"] == sorted([case_dir.name, tag])


@needs_root
@pytest.mark.skipif(not shutil.which("unshare") or not shutil.which("setpriv"), reason="needs util-linux")
def test_private_fs_as_root_of_a_user_namespace(case_dir):
    """The grader's mode without root: the program is uid 0 of a user namespace
    (the grader's own uid on the host); without capabilities it cannot undo a
    mount, and everything but its work dir is read-only whatever it owns."""
    for path in (case_dir, case_dir / "work", case_dir / "keep.txt", case_dir / "work" / "probe.py"):
        os.chown(path, 65534, 65534)
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
              "unshare", "--user", "--map-root-user", "--net", "--"]
    probe_ok = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
    if probe_ok.returncode != 0:
        pytest.skip(f"no unprivileged user namespaces here: {probe_ok.stderr.decode().strip()}")
    tag, got = probe(case_dir, private_args(case_dir), prefix)
    check_contained(got, tag, case_dir, private_tmp_owned=True)


@needs_root
def test_kept_path_missing_exits_125_naming_it(case_dir):
    missing = case_dir / "missing"
    rc, _, err = run(["--pidns", "--private-fs", "--fs-ro", str(missing), "--", "true"])
    assert rc == 125
    assert err == f"slrun: open_tree({missing}, OPEN_TREE_CLONE): No such file or directory\n"


@needs_root
def test_private_fs_without_privilege_exits_125():
    rc, _, err = run(["--user", "65534", "--chdir", "/", "--", str(SLRUN), "--private-fs", "--", "true"])
    assert rc == 125
    assert err.startswith("slrun: unshare(CLONE_NEWNS): Operation not permitted\n")
    assert "CAP_SYS_ADMIN" in err


@needs_root
def test_working_directory_is_entered_again_without_chdir(case_dir):
    rc, out, err = run(["--private-fs", "--fs-rw", str(case_dir / "work"), "--", "sh", "-c",
                        "pwd; echo x > inside && echo wrote"], cwd=case_dir / "work")
    assert (rc, out) == (0, f"{case_dir / 'work'}\nwrote\n"), err
    assert (case_dir / "work" / "inside").exists()


@pytest.mark.parametrize("args", [
    ["--fs-rw", "/tmp", "--", "true"],                       # without --private-fs
    ["--private-fs", "--fs-rw", "relative/path", "--", "true"],
    ["--private-fs", "--fs-hide", "", "--", "true"],
    ["--private-fs", "--fs-size", "0", "--", "true"],
    ["--private-fs", "--fs-size", "12Q", "--", "true"],
])
def test_private_fs_bad_usage_exits_2(args):
    rc, out, err = run(args)
    assert rc == 2, f"slrun {args}: exit {rc}, stderr {err!r}"
    assert out == "" and err.startswith("slrun: ") and "--help" in err


def test_help_documents_private_fs():
    rc, out, _ = run(["--help"])
    assert rc == 0
    for word in ("--private-fs", "--fs-size", "--fs-rw", "--fs-ro", "--fs-hide", "read-only", "/dev/shm"):
        assert word in out, f"help text lacks {word}"
