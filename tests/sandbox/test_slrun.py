"""Tests of grader/sandbox/slrun, the launcher of untrusted student programs.

Every process started here gets its own session with a timeout, and its
whole process group is SIGKILLed at the end. Nothing sleeps to synchronise:
a test waits for a line on a pipe or polls a condition with a deadline.
Tests that need root (--user, --pidns) skip with the reason when not root.

SLRUN=path runs the tests against another build (make sanitize).
"""

import ast
import fcntl
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "grader" / "sandbox"
SLRUN = Path(os.environ.get("SLRUN", SANDBOX / "slrun"))
PYTHON = "/usr/bin/python3"
TIMEOUT = 10.0  # seconds any single slrun run may take before the test fails

# The kernel counts RLIMIT_NPROC per real uid across the whole machine, so
# each fork bomb case runs as a uid no other test (and no account) uses.
BOMB_UIDS = {10: 64123, None: 64124}

needs_root = pytest.mark.skipif(
    os.geteuid() != 0,
    reason="needs root: --user needs CAP_SETUID/CAP_SETGID, --pidns CAP_SYS_ADMIN",
)
both_modes = pytest.mark.parametrize(
    "ns", [[], pytest.param(["--pidns"], marks=needs_root)], ids=["direct", "pidns"]
)

# A daemon the classic way: fork, setsid, fork again. The grandchild writes
# its host pid (/proc is the host's) to argv[1] and then holds on to the
# program's stdout (argv[2] == "keep") or to /dev/null, running `sleep 30`.
# The program exits once the daemon has written its pid: the daemon closes
# the last write end of a pipe the program reads to EOF.
DAEMON = r"""
import os, sys
pidfile, keep = sys.argv[1], sys.argv[2] == "keep"
r, w = os.pipe()
if os.fork() == 0:
    os.close(r)
    os.setsid()
    if os.fork() == 0:
        with open(pidfile + ".tmp", "w") as f:
            f.write(os.readlink("/proc/self"))
        os.rename(pidfile + ".tmp", pidfile)
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2) if not keep else (0, 2):
            os.dup2(null, fd)
        os.close(w)
        os.execvp("sleep", ["sleep", "30"])
    os._exit(0)
os.close(w)
os.read(r, 1)
print("daemon started", flush=True)
if len(sys.argv) > 3:
    print("ready", os.readlink("/proc/self"), flush=True)
    os.execvp("sleep", ["sleep", "30"])
"""

# Forks up to 100 children that all stay alive together, then prints how
# many forks worked and how many failed with EAGAIN.
FORK_BOMB = r"""
import os
r, w = os.pipe()
kids, failed = [], 0
for _ in range(100):
    try:
        pid = os.fork()
    except BlockingIOError:
        failed += 1
        continue
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os._exit(0)
    kids.append(pid)
os.close(w)
for pid in kids:
    os.waitpid(pid, 0)
print(len(kids), failed)
"""


@pytest.fixture(scope="session", autouse=True)
def build_slrun(tmp_path_factory):
    """Build slrun once; xdist workers take turns through a file lock."""
    if "SLRUN" in os.environ:
        assert SLRUN.is_file(), f"SLRUN={SLRUN} does not exist"
        return
    lock_path = tmp_path_factory.getbasetemp().parent / "slrun-build.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(
            ["make", "-C", str(SANDBOX)], capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, f"make -C {SANDBOX} failed:\n{done.stdout}{done.stderr}"
    assert SLRUN.is_file()


def kill_group(pgid):
    """SIGKILL a process group; fine if it is already empty."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def start(args, **kw):
    """Start slrun ARGS in its own session, stdout and stderr piped (bytes)."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.Popen([str(SLRUN), *args], start_new_session=True, **kw)


def finish(proc, timeout=TIMEOUT):
    """Wait for proc with a deadline; (returncode, stdout, stderr) as text.
    The process group is killed in every case; a timeout fails the test."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        try:
            _, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # a process outside the group holds a pipe
            err = b"(unavailable: a pipe is still held open)"
        pytest.fail(f"slrun did not finish within {timeout} s; stderr: {err!r}")
    finally:
        kill_group(proc.pid)
    return proc.returncode, out.decode(), err.decode()


def run(args, timeout=TIMEOUT, **kw):
    """Run slrun ARGS to completion; (returncode, stdout, stderr)."""
    return finish(start(args, **kw), timeout)


def read_line(fd, deadline):
    """Read one line from fd before the deadline (monotonic); fail if none."""
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        if not ready:
            pytest.fail(f"no complete line before the deadline; got {data!r}")
        chunk = os.read(fd, 1)
        if not chunk:
            pytest.fail(f"EOF before a complete line; got {data!r}")
        data += chunk
    return data.decode()


def wait_for(condition, timeout, what):
    """Poll condition() until true or the timeout; fail naming what."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.01)  # polling interval, not synchronisation


def identity(pid):
    """(pid, start time) of a live process, or None: a pid alone could be
    reused by a new process while a test waits for the old one to go."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has ended
        return None
    return pid, fields[19]  # field 22 of stat, counted from the state


def alive(ident):
    """Whether the process identified by identity() still runs."""
    return ident is not None and identity(ident[0]) == ident


def read_pid(path, timeout=5.0):
    """Identity of the live process whose pid a daemon wrote to path, waiting
    for the file with a deadline; fails if that process is not running."""
    wait_for(path.exists, timeout, f"daemon pid file {path}")
    pid = int(path.read_text())
    ident = identity(pid)
    assert ident is not None, f"daemon {pid} from {path} is not running"
    return ident


def limits_of(text):
    """Parse /proc/PID/limits into {name: (soft, hard)}."""
    limits = {}
    for line in text.splitlines()[1:]:
        m = re.match(r"(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)", line)
        if m:
            limits[m.group(1)] = (m.group(2), m.group(3))
    return limits


# --- command line ---------------------------------------------------------


def test_help_documents_every_option():
    rc, out, err = run(["--help"])
    assert rc == 0 and err == ""
    for word in ("SYNOPSIS", "EXIT STATUS", "--cpu", "--mem", "--nproc", "--fsize",
                 "--nofile", "--user", "--chdir", "--pidns", "--wall",
                 "--env-clear", "--setenv", "RLIMIT_CORE"):
        assert word in out, f"help text lacks {word}"
    rc2, out2, _ = run(["-h"])
    assert (rc2, out2) == (0, out)


@pytest.mark.parametrize("args", [
    [],
    ["--"],
    ["--cpu", "abc", "--", "true"],
    ["--cpu", "0", "--", "true"],
    ["--mem", "10X", "--", "true"],
    ["--mem", "-5", "--", "true"],
    ["--fsize", "99999999999999999999G", "--", "true"],
    ["--bogus", "--", "true"],
    ["--user", "nobody", "--", "true"],
    ["--setenv", "NOEQUALS", "--", "true"],
    ["--setenv", "=x", "--", "true"],
    ["--wall", "0", "--", "true"],
    ["--cpu"],
])
def test_bad_usage_exits_2(args):
    rc, out, err = run(args)
    assert rc == 2, f"slrun {args}: exit {rc}, stderr {err!r}"
    assert out == ""
    assert err.startswith("slrun: ") and "--help" in err


# --- exit status and signals ----------------------------------------------


@both_modes
@pytest.mark.parametrize("code", [0, 1, 42])
def test_exit_code_passthrough(ns, code):
    rc, _, err = run([*ns, "--", "sh", "-c", f"exit {code}"])
    assert rc == code, err


@both_modes
@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGABRT, signal.SIGINT])
def test_signal_passthrough_without_core(ns, sig, tmp_path):
    rc, _, err = run([*ns, "--", "sh", "-c", f"kill -{sig.name[3:]} $$"], cwd=tmp_path)
    assert rc == -sig, f"expected death by {sig.name}, got {rc}; stderr {err!r}"
    assert not list(tmp_path.iterdir()), "a core file was written"


@both_modes
def test_missing_program_exits_127(ns):
    rc, out, err = run([*ns, "--", "/nonexistent/prog", "x"])
    assert rc == 127
    assert err == "slrun: cannot run /nonexistent/prog: No such file or directory\n"


@both_modes
def test_not_executable_exits_126(ns, tmp_path):
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    rc, _, err = run([*ns, "--", str(script)])
    assert rc == 126
    assert err == f"slrun: cannot run {script}: Permission denied\n"


@needs_root
def test_pidns_program_is_pid_2():
    rc, out, _ = run(["--pidns", "--", "sh", "-c", "echo $$"])
    assert (rc, out) == (0, "2\n")


# --- resource limits -------------------------------------------------------


@both_modes
def test_limits_seen_by_program(ns):
    rc, out, err = run([*ns, "--cpu", "7", "--mem", "512M", "--nproc", "33",
                        "--fsize", "3M", "--nofile", "55", "--", "cat", "/proc/self/limits"])
    assert rc == 0, err
    lim = limits_of(out)
    assert lim["Max cpu time"] == ("7", "8")
    assert lim["Max address space"] == (str(512 << 20),) * 2
    assert lim["Max processes"] == ("33", "33")
    assert lim["Max file size"] == (str(3 << 20),) * 2
    assert lim["Max open files"] == ("55", "55")
    assert lim["Max core file size"] == ("0", "0")


def test_limits_absent_are_inherited():
    own = limits_of(Path("/proc/self/limits").read_text())
    rc, out, err = run(["--mem", "0", "--", "cat", "/proc/self/limits"])
    assert rc == 0, err
    lim = limits_of(out)
    for name in ("Max cpu time", "Max address space", "Max processes",
                 "Max file size", "Max open files"):
        assert lim[name] == own[name], name
    assert lim["Max core file size"] == ("0", "0")


def test_limits_apply_to_program_not_slrun():
    proc = start(["--nofile", "55", "--fsize", "1K", "--", "sh", "-c", "echo ready; exec cat"],
                 stdin=subprocess.PIPE)
    try:
        assert read_line(proc.stdout.fileno(), time.monotonic() + 5) == "ready\n"
        lim = limits_of(Path(f"/proc/{proc.pid}/limits").read_text())
        assert lim["Max open files"] != ("55", "55")
        assert lim["Max file size"] != ("1024", "1024")
    finally:
        rc, _, err = finish(proc)  # communicate closes stdin: cat ends
    assert rc == 0, err


def test_fsize_exceeded_gets_sigxfsz(tmp_path):
    rc, _, err = run(["--fsize", "1K", "--chdir", str(tmp_path), "--",
                      "sh", "-c", "exec head -c 4096 /dev/zero > out"])
    assert rc == -signal.SIGXFSZ, err
    assert (tmp_path / "out").stat().st_size == 1024


def test_cpu_limit_stops_busy_loop():
    started = time.monotonic()
    rc, _, err = run(["--cpu", "1", "--", "sh", "-c", "while :; do :; done"])
    elapsed = time.monotonic() - started
    assert rc in (-signal.SIGXCPU, -signal.SIGKILL), f"rc {rc}, stderr {err!r}"
    assert elapsed < 6, f"took {elapsed:.1f} s for 1 s of CPU"


@pytest.mark.parametrize("mem,expect", [("256M", "MemoryError"), (None, "ok")])
def test_mem_limit_fails_allocation(mem, expect):
    alloc = "try:\n b = bytearray(512 << 20)\n print('ok')\nexcept MemoryError:\n print('MemoryError')"
    limit = ["--mem", mem] if mem else []
    rc, out, err = run([*limit, "--", PYTHON, "-c", alloc])
    assert (rc, out.strip()) == (0, expect), err


@needs_root
@pytest.mark.parametrize("nproc", [10, None], ids=["nproc10", "unlimited"])
def test_nproc_contains_fork_bomb(nproc):
    uid = BOMB_UIDS[nproc]
    assert not [p for p in Path("/proc").glob("[0-9]*") if owned_by(p, uid)], \
        f"processes of uid {uid} exist before the test"
    limit = ["--nproc", str(nproc)] if nproc else []
    started = time.monotonic()
    rc, out, err = run(["--user", f"{uid}:{uid}", *limit, "--chdir", "/",
                        "--", PYTHON, "-c", FORK_BOMB])
    elapsed = time.monotonic() - started
    assert rc == 0, err
    forked, failed = map(int, out.split())
    if nproc:
        # The bomb itself is one of the uid's processes.
        assert forked <= nproc - 1 and failed >= 100 - (nproc - 1)
    else:
        assert (forked, failed) == (100, 0)
    assert elapsed < 8, f"bomb took {elapsed:.1f} s"


def owned_by(proc_dir, uid):
    """Whether the process of a /proc/PID directory has real uid `uid`."""
    try:
        status = (proc_dir / "status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return re.search(r"^Uid:\s+(\d+)", status, re.M).group(1) == str(uid)


# --- user, directory, environment ------------------------------------------


@needs_root
@pytest.mark.parametrize("user", ["65534:65534", "65534"])
def test_user_drop(user):
    # slrun starts with root's group among its supplementary groups.
    rc, out, err = run(["--user", user, "--chdir", "/", "--",
                        "sh", "-c", "id -u; id -g; id -G; cat /proc/self/status"],
                       extra_groups=[0, 4])
    assert rc == 0, err
    uid, gid, groups = out.splitlines()[:3]
    assert (uid, gid) == ("65534", "65534")
    assert groups.split() == ["65534"], f"supplementary groups {groups!r}"
    assert re.search(r"^CapEff:\s+0+$", out, re.M), "capabilities kept"


@needs_root
def test_user_drop_without_privilege_exits_125():
    rc, _, err = run(["--user", "65534", "--chdir", "/", "--",
                      str(SLRUN), "--user", "0", "--", "true"])
    assert rc == 125
    assert err == "slrun: setgroups(0, []): Operation not permitted\n"


@needs_root
def test_pidns_without_privilege_exits_125():
    rc, _, err = run(["--user", "65534", "--chdir", "/", "--",
                      str(SLRUN), "--pidns", "--", "true"])
    assert rc == 125
    assert err.startswith("slrun: unshare(CLONE_NEWPID): Operation not permitted\n")
    assert "CAP_SYS_ADMIN" in err


@both_modes
def test_chdir(ns, tmp_path):
    rc, out, err = run([*ns, "--chdir", str(tmp_path), "--", "pwd"])
    assert (rc, out) == (0, f"{tmp_path}\n"), err


def test_chdir_missing_exits_125(tmp_path):
    missing = tmp_path / "missing"
    rc, _, err = run(["--chdir", str(missing), "--", "true"])
    assert rc == 125
    assert err == f"slrun: chdir({missing}): No such file or directory\n"


def environment_of(args, tmp_path):
    """PROGRAM's environment under slrun ARGS, with SLRUN_SECRET and FOO in
    slrun's own environment."""
    env = dict(os.environ, SLRUN_SECRET="hidden", FOO="old")
    rc, out, err = run([*args, "--", "env", "-0"], env=env, cwd=tmp_path)
    assert rc == 0, err
    return dict(v.split("=", 1) for v in out.split("\0") if v)


def test_env_clear_hides_parent_variables(tmp_path):
    env = environment_of(["--env-clear", "--setenv", "A=1", "--setenv", "B=x=y"], tmp_path)
    assert env == {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
                   "HOME": "/tmp", "A": "1", "B": "x=y"}


def test_env_clear_home_is_chdir_and_setenv_wins(tmp_path):
    env = environment_of(["--env-clear", "--chdir", str(tmp_path),
                          "--setenv", "PATH=/bin", "--setenv", "PATH=/usr/bin"], tmp_path)
    assert env == {"PATH": "/usr/bin", "LANG": "C.UTF-8", "HOME": str(tmp_path)}


def test_env_kept_without_env_clear(tmp_path):
    env = environment_of(["--setenv", "FOO=new"], tmp_path)
    assert env["SLRUN_SECRET"] == "hidden" and env["FOO"] == "new"


def sig_mask(status, field):
    """A signal mask field (SigIgn, SigBlk) of /proc/PID/status as an int."""
    return int(re.search(rf"^{field}:\s+([0-9a-f]+)$", status, re.M).group(1), 16)


@both_modes
def test_program_starts_with_default_signals(ns):
    # restore_signals=False: slrun inherits Python's ignored SIGPIPE and
    # SIGXFSZ; PROGRAM must not.
    assert sig_mask(Path("/proc/self/status").read_text(), "SigIgn") != 0
    rc, out, err = run([*ns, "--", "cat", "/proc/self/status"], restore_signals=False)
    assert rc == 0, err
    assert sig_mask(out, "SigIgn") == 0, "PROGRAM starts with ignored signals"
    assert sig_mask(out, "SigBlk") == 0, "PROGRAM starts with blocked signals"


# --- descriptors ----------------------------------------------------------

OPEN_FDS = "import os\nfds=[]\nfor fd in range(3, 256):\n try: os.fstat(fd); fds.append(fd)\n except OSError: pass\nprint(fds)"


@both_modes
def test_no_descriptor_leaks_to_program(ns):
    rc, out, err = run([*ns, "--", PYTHON, "-c", OPEN_FDS])
    assert (rc, out) == (0, "[]\n"), err


def test_inherited_descriptor_is_seen_by_the_check():
    # Control for the test above: a descriptor slrun got does reach PROGRAM.
    r, w = os.pipe()
    try:
        rc, out, err = run(["--", PYTHON, "-c", OPEN_FDS], pass_fds=(w,))
    finally:
        os.close(r)
        os.close(w)
    assert rc == 0, err
    assert w in ast.literal_eval(out)


# --- signals forwarded, wall limit -----------------------------------------

TRAP_TERM = ("trap 'echo term > marker; exit 0' TERM; echo ready; "
             "sleep 30 </dev/null >/dev/null 2>&1 & wait")


@both_modes
def test_sigterm_reaches_program_that_traps_it(ns, tmp_path):
    proc = start([*ns, "--chdir", str(tmp_path), "--", "sh", "-c", TRAP_TERM])
    try:
        assert read_line(proc.stdout.fileno(), time.monotonic() + 5) == "ready\n"
        proc.send_signal(signal.SIGTERM)
    finally:
        rc, _, err = finish(proc)
    assert rc == 0, err
    assert (tmp_path / "marker").read_text() == "term\n"


@both_modes
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGUSR1, signal.SIGHUP])
def test_forwarded_signal_kills_program(ns, sig):
    proc = start([*ns, "--", "sh", "-c", "echo ready; exec sleep 30"])
    try:
        assert read_line(proc.stdout.fileno(), time.monotonic() + 5) == "ready\n"
        proc.send_signal(sig)
    finally:
        rc, _, err = finish(proc)
    assert rc == -sig, err


@both_modes
def test_wall_kills_program_ignoring_sigterm(ns):
    started = time.monotonic()
    rc, _, err = run([*ns, "--wall", "0.5", "--", "sh", "-c",
                      "trap '' TERM; while :; do :; done"])
    elapsed = time.monotonic() - started
    assert rc == -signal.SIGKILL
    assert err == "slrun: wall time limit of 0.5 s reached; killed sh\n"
    assert 0.5 <= elapsed < 3, f"{elapsed:.2f} s"


@both_modes
def test_wall_not_reached_leaves_status(ns):
    rc, out, err = run([*ns, "--wall", "5", "--", "sh", "-c", "echo hi; exit 3"])
    assert (rc, out, err) == (3, "hi\n", "")


# --- --pidns: everything the program started ends with it ------------------


@needs_root
def test_pidns_kills_daemon_when_program_exits(tmp_path):
    pidfile = tmp_path / "daemon.pid"
    rc, out, err = run(["--pidns", "--", PYTHON, "-c", DAEMON, str(pidfile), "null"])
    assert (rc, out) == (0, "daemon started\n"), err
    # Written by the daemon before the program could exit, so it exists.
    pid = int(pidfile.read_text())
    wait_for(lambda: identity(pid) is None, 5, f"daemon {pid} gone")


@needs_root
def test_daemon_survives_without_pidns(tmp_path):
    # Control for the test above: without --pidns the daemon escapes.
    pidfile = tmp_path / "daemon.pid"
    rc, out, err = run(["--", PYTHON, "-c", DAEMON, str(pidfile), "null"])
    daemon = read_pid(pidfile)
    try:
        assert (rc, out) == (0, "daemon started\n"), err
    finally:
        os.kill(daemon[0], signal.SIGKILL)


def start_daemon_and_block(tmp_path):
    """slrun --pidns running DAEMON that then blocks; (proc, daemon pid,
    program pid), once the daemon runs."""
    pidfile = tmp_path / "daemon.pid"
    proc = start(["--pidns", "--", PYTHON, "-c", DAEMON, str(pidfile), "null", "block"])
    deadline = time.monotonic() + 5
    assert read_line(proc.stdout.fileno(), deadline) == "daemon started\n"
    program = int(read_line(proc.stdout.fileno(), deadline).split()[1])
    return proc, read_pid(pidfile), identity(program)


@needs_root
def test_pidns_group_sigkill_kills_daemon(tmp_path):
    proc, daemon, program = start_daemon_and_block(tmp_path)
    try:
        assert alive(program), f"program {program} not running"
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=5) == -signal.SIGKILL
        wait_for(lambda: not alive(daemon), 5, f"setsid daemon {daemon} gone")
        wait_for(lambda: not alive(program), 5, f"program {program} gone")
    finally:
        finish(proc)


@needs_root
def test_pidns_sigkill_of_slrun_alone_kills_namespace(tmp_path):
    proc, daemon, program = start_daemon_and_block(tmp_path)
    try:
        assert alive(program), f"program {program} not running"
        proc.kill()  # slrun only, not its group: the init must follow it
        assert proc.wait(timeout=5) == -signal.SIGKILL
        wait_for(lambda: not alive(program), 5, f"program {program} gone")
        wait_for(lambda: not alive(daemon), 5, f"setsid daemon {daemon} gone")
    finally:
        finish(proc)


@needs_root
def test_pidns_wall_kills_daemon(tmp_path):
    pidfile = tmp_path / "daemon.pid"
    rc, out, err = run(["--pidns", "--wall", "1", "--", PYTHON, "-c", DAEMON,
                        str(pidfile), "null", "block"])
    assert rc == -signal.SIGKILL
    assert err.endswith(f"slrun: wall time limit of 1 s reached; killed {PYTHON}\n")
    pid = int(pidfile.read_text())
    wait_for(lambda: identity(pid) is None, 5, f"daemon {pid} gone")


def read_to_eof(fd, timeout):
    """Everything on fd until EOF; (data, seconds taken), or (data, None) if
    EOF did not come within timeout."""
    started = time.monotonic()
    data = b""
    while True:
        left = started + timeout - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        if not ready:
            return data, None
        chunk = os.read(fd, 4096)
        if not chunk:
            return data, time.monotonic() - started
        data += chunk


@needs_root
def test_pidns_stdout_reaches_eof_when_program_ends(tmp_path):
    pidfile = tmp_path / "daemon.pid"
    proc = start(["--pidns", "--", PYTHON, "-c", DAEMON, str(pidfile), "keep"])
    try:
        data, took = read_to_eof(proc.stdout.fileno(), 5)
    finally:
        rc, _, err = finish(proc)
    assert took is not None, "stdout did not reach EOF: a daemon holds it"
    assert data == b"daemon started\n" and rc == 0, err
    print(f"stdout EOF {took * 1000:.0f} ms after start", file=sys.stderr)


@needs_root
def test_stdout_held_by_daemon_without_pidns(tmp_path):
    # Control for the test above: the daemon keeps stdout open.
    pidfile = tmp_path / "daemon.pid"
    proc = start(["--", PYTHON, "-c", DAEMON, str(pidfile), "keep"])
    try:
        assert proc.wait(timeout=5) == 0
        daemon = read_pid(pidfile)
        try:
            data, took = read_to_eof(proc.stdout.fileno(), 0.5)
            assert took is None and data == b"daemon started\n"
        finally:
            os.kill(daemon[0], signal.SIGKILL)
    finally:
        finish(proc)


@pytest.mark.skipif(os.geteuid() != 0, reason="--pidns needs root here")
def test_die_with_parent_takes_the_namespace_along():
    """A grader killed with SIGKILL runs no teardown: slrun must go with it."""
    marker = "3017"  # an argument no other process here has
    parent = subprocess.Popen([sys.executable, "-c",
                               "import subprocess, sys, time\n"
                               f"subprocess.Popen([{str(SLRUN)!r}, '--die-with-parent', '--pidns', '--', "
                               f"'sleep', '{marker}'])\n"
                               "time.sleep(300)\n"], start_new_session=True)

    def sleepers():
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if argv[:2] == [b"sleep", marker.encode()] and state != "Z":
                found.append(pid)
        return found

    deadline = time.monotonic() + 10
    while not sleepers() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sleepers(), "the program never started"
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while sleepers() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not sleepers(), "the program outlived its grader"
