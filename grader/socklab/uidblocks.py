"""Blocks of student uids, each held by one grading run at a time.

RLIMIT_NPROC counts processes per uid, and the grader tells a run's
leftovers by their uid, so two runs on one machine (two TAs, an instructor
and CI) must never share one. A block is held by an exclusive flock on its
lock file for as long as the holder lives: the kernel drops the lock when
the process ends, however it ends, so a killed run frees its block."""

import errno
import fcntl
import os

from .proc import MAX_WORKERS_PER_UID_BLOCK, STUDENT_UID_BASE

BLOCKS = 1000                  # uids STUDENT_UID_BASE .. + BLOCKS * MAX_WORKERS_PER_UID_BLOCK
SINGLE_RUNS = (1, 500)         # blocks of grade runs and of direct pytest runs of labs/
CLASS_SLOTS = (500, BLOCKS)    # blocks of the children of class runs, one per slot
LOCK_DIR_VAR = "SOCKLAB_LOCK_DIR"


class NoFreeBlock(RuntimeError):
    """Every block of the range is held by another run."""


def _host_uid():
    """Our uid on the host: in a user namespace (the grader without root),
    the one uid_map maps our uid to."""
    try:
        with open("/proc/self/uid_map") as f:
            for line in f:
                inside, outside, count = map(int, line.split())
                if inside <= os.getuid() < inside + count:
                    return outside + os.getuid() - inside
    except (OSError, ValueError):
        pass
    return os.getuid()


def lock_dir():
    """Where the lock files live: one folder for every run of the machine
    (real root's), or one per user; root of a user namespace is not root on
    the host, and cannot write into root's folder."""
    host_uid = _host_uid()
    default = "/run/lock/socklab" if host_uid == 0 else f"/tmp/socklab-locks-{host_uid}"
    path = os.environ.get(LOCK_DIR_VAR) or default
    os.makedirs(path, mode=0o755, exist_ok=True)
    return path


class Block:
    """A held block: its first uid; close() (or the process's end) frees it."""

    def __init__(self, index, fd, base=None):
        self.index = index
        self.fd = fd
        self.base = STUDENT_UID_BASE + index * MAX_WORKERS_PER_UID_BLOCK if base is None else base

    @classmethod
    def handed_down(cls, base):
        """A block a parent run holds for this one (a class run's child)."""
        return cls(None, None, base)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _try_lock(index):
    path = os.path.join(lock_dir(), f"uid-block-{index}.lock")
    # 0600: a student program (which sees /run read-only) must not open it to hold its lock.
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        raise
    return Block(index, fd)


def reserve(first, last, start=None):
    """Hold a free block with an index in FIRST..LAST-1, trying from START
    (default: spread by pid, so that runs rarely try the same block first)."""
    span = last - first
    start = first + (os.getpid() % span if start is None else (start - first) % span)
    for i in range(span):
        block = _try_lock(first + (start - first + i) % span)
        if block is not None:
            return block
    raise NoFreeBlock(f"all {span} student uid blocks ({first}..{last - 1}) are held by other grading runs")
