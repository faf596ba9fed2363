"""Control groups of one case: one process limit (pids.max) and one memory
limit over every program of the case together, and the kernel's own count
of what each limit refused, so that a verdict names the limit a program hit.

Per-uid RLIMIT_NPROC and per-process RLIMIT_AS stay the fallback where the
grader cannot make control groups (not root, no cgroup file system): they
bound too, but the kernel tells nobody when they refuse something.

Both layouts of /sys/fs/cgroup are known: cgroup v1 (one hierarchy per
controller: pids/, memory/) and v2 (one unified tree)."""

import itertools
import os
import signal
import time

FS_VAR = "SOCKLAB_CGROUP_FS"     # tests point it at a folder laid out like /sys/fs/cgroup
TOP = "socklab"                  # our folder in each hierarchy; one group per case below it
_numbers = itertools.count(1)    # of the groups this process made
_sweeps = iter([True])           # the leftovers of dead processes are swept at the first make()


def _fs():
    return os.environ.get(FS_VAR, "/sys/fs/cgroup")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _read_pairs(path):
    """{key: int} of a flat-keyed file ("max 3\\noom_kill 1\\n"); {} if unreadable."""
    try:
        with open(path) as f:
            return {k: int(v) for k, v in (line.split() for line in f if len(line.split()) == 2)}
    except (OSError, ValueError):
        return {}


def _read_int(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


class CaseGroups:
    """The control group(s) of one case; DIRS are what slrun --cgroup joins."""

    def __init__(self, version, pids_dir, memory_dir, pids_max, memory_max):
        self.version = version
        self.pids_dir = pids_dir
        self.memory_dir = memory_dir
        self.pids_max = pids_max
        self.memory_max = memory_max

    @property
    def dirs(self):
        return list(dict.fromkeys(d for d in (self.pids_dir, self.memory_dir) if d))

    def events(self):
        """What the limits refused so far: {"pids_refused": forks and thread
        starts refused at pids.max, "memory_hits": times the memory use reached
        its limit, "oom_kills": processes killed there}."""
        pids = _read_pairs(os.path.join(self.pids_dir, "pids.events")).get("max", 0) if self.pids_dir else 0
        hits = kills = 0
        if self.memory_dir and self.version == 1:
            hits = _read_int(os.path.join(self.memory_dir, "memory.failcnt"))
            kills = _read_pairs(os.path.join(self.memory_dir, "memory.oom_control")).get("oom_kill", 0)
        elif self.memory_dir:
            ev = _read_pairs(os.path.join(self.memory_dir, "memory.events"))
            hits, kills = ev.get("max", 0), ev.get("oom_kill", 0)
        return {"pids_refused": pids, "memory_hits": hits, "oom_kills": kills}

    def remove(self, timeout=3.0):
        """Remove the groups; a process still in one (it should not be: the
        case stopped them all) is killed first."""
        deadline = time.monotonic() + timeout
        for folder in self.dirs:
            while os.path.isdir(folder):
                try:
                    os.rmdir(folder)
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    _kill_members(folder)
                    time.sleep(0.02)   # the kernel takes a moment to free a killed process


def _kill_members(folder):
    try:
        with open(os.path.join(folder, "cgroup.procs")) as f:
            pids = [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        return
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _v1_group(fs, controller, name, settings):
    """FS/CONTROLLER/socklab/NAME with SETTINGS written, or None."""
    base = os.path.join(fs, controller)
    if not os.path.exists(os.path.join(base, "cgroup.procs")):
        return None
    folder = os.path.join(base, TOP, name)
    os.makedirs(folder)
    for key, value in settings.items():
        _write(os.path.join(folder, key), f"{value}\n")
    return folder


def _v2_enable(folder, controllers):
    """Controllers on for FOLDER's children (cgroup.subtree_control)."""
    with open(os.path.join(folder, "cgroup.subtree_control")) as f:
        on = set(f.read().split())
    missing = [c for c in controllers if c not in on]
    if missing:
        _write(os.path.join(folder, "cgroup.subtree_control"), " ".join(f"+{c}" for c in missing))


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def sweep(fs=None):
    """Remove the groups left by grading processes that ended without their
    clean-up (killed): a group is named after the pid that made it."""
    fs = fs or _fs()
    tops = [os.path.join(fs, TOP)] + [os.path.join(fs, c, TOP) for c in ("pids", "memory")]
    for top in tops:
        try:
            names = os.listdir(top)
        except OSError:
            continue
        for name in names:
            pid = name.split("-", 1)[0]
            folder = os.path.join(top, name)
            if pid.isdigit() and os.path.isdir(folder) and not _alive(int(pid)):
                CaseGroups(0, folder, None, 0, None).remove(timeout=1.0)


def make(name, pids_max, memory_max=None):
    """The groups of a case called NAME (unique on the machine), with
    pids.max PIDS_MAX and, when MEMORY_MAX bytes are given, that memory limit;
    None where no control group can be made here."""
    fs = _fs()
    if next(_sweeps, None) is not None:   # once per process
        sweep(fs)
    made = None
    try:
        if os.path.exists(os.path.join(fs, "cgroup.controllers")):
            top = os.path.join(fs, TOP)
            controllers = ["pids"] + (["memory"] if memory_max else [])
            _v2_enable(fs, controllers)
            os.makedirs(top, exist_ok=True)
            _v2_enable(top, controllers)
            folder = os.path.join(top, name)
            os.makedirs(folder)
            made = CaseGroups(2, folder, None, pids_max, memory_max)
            _write(os.path.join(folder, "pids.max"), f"{pids_max}\n")
            if memory_max:
                made.memory_dir = folder
                _write(os.path.join(folder, "memory.max"), f"{memory_max}\n")
            return made
        made = CaseGroups(1, None, None, pids_max, memory_max)
        made.pids_dir = _v1_group(fs, "pids", name, {"pids.max": pids_max})
        if made.pids_dir is None:
            return None
        if memory_max:
            made.memory_dir = _v1_group(fs, "memory", name, {"memory.limit_in_bytes": memory_max})
        return made
    except OSError:
        if made is not None:
            made.remove(timeout=0.5)
        return None


def unique_name(case_name):
    """A group name no other case of this machine uses now."""
    return f"{os.getpid()}-{next(_numbers)}-{case_name}"
