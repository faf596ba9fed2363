"""Running student binaries: sandboxed, deadlined, output captured and capped.

Every student process goes through grader/sandbox/slrun (rlimits, no core
dumps, an unprivileged uid and a PID namespace when we may), in a session
and process group of its own that is killed whole at the end of the case.
"""

import os
import queue
import re
import signal
import subprocess
import threading
import time

from . import safetext
from .paths import HIDE_VAR, ROOT, SLRUN

OUTPUT_CAP = 1 << 20          # bytes kept per stream
STUDENT_UID_BASE = 61000        # student processes run as uids from here on (never root)
MAX_WORKERS_PER_UID_BLOCK = 8   # one uid per pytest worker of a grading run
DEFAULT_LIMITS = {"cpu": 10, "mem": "1G", "nproc": 64, "fsize": "64M", "nofile": 256}
SCRATCH_SIZE = "64M"            # each private /tmp, /var/tmp and /dev/shm (slrun --fs-size)


# The top-level folders a student process sees (read-only): the system and
# its toolchain.  Every other one (/home, /root, /srv, /opt, /mnt, ...: where
# copies of the kit, other students' work or the instructor's files may be)
# is hidden.
SYSTEM_FOLDERS = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "run", "sbin", "sys",
                  "tmp", "usr", "var"}


def hidden_folders():
    """The folders no student process may see (slrun --fs-hide): the kit's own
    tree (solutions, hidden cases, results), those the grading run names in
    SOCKLAB_HIDE (a class's submissions and results folders), and every
    top-level folder that is not the system's."""
    extra = [p for p in os.environ.get(HIDE_VAR, "").split(os.pathsep) if os.path.isabs(p) and p != "/"]
    others = []
    for name in sorted(os.listdir("/")):
        path = os.path.join("/", name)
        # A link would hide what it points to (/bin -> usr/bin): only real folders.
        if name not in SYSTEM_FOLDERS and os.path.isdir(path) and not os.path.islink(path):
            others.append(path)
    return list(dict.fromkeys([ROOT] + extra + others))


class Limits:
    """Resource limits and identity for student processes.  PRIVATE_FS: each
    process sees the file system read-only, with private scratch folders and
    the grader's folders hidden (slrun --private-fs); READABLE: more paths it
    may read there."""

    def __init__(self, uid=None, pidns=False, sanitize=False, private_fs=False, readable=(), **overrides):
        self.uid = uid
        self.pidns = pidns
        self.private_fs = private_fs
        self.readable = tuple(readable)
        self.values = dict(DEFAULT_LIMITS, **overrides)
        if uid is None:
            # RLIMIT_NPROC counts every thread of the real uid, the grader's own included.
            self.values["nproc"] = _threads_of_uid(os.getuid()) + int(self.values["nproc"]) * 4
        if sanitize:
            # ASan reserves terabytes of address space: RLIMIT_AS would kill it at start.
            self.values.pop("mem", None)

    def in_groups(self, groups):
        """These limits for programs run in the case's control GROUPS: the
        groups' pids.max and memory limit bound them all together (and the
        kernel counts what they refuse), the per-uid and per-process limits
        stay as a backstop above them."""
        copy = Limits(uid=self.uid, pidns=self.pidns, private_fs=self.private_fs, readable=self.readable)
        copy.values = dict(self.values)
        copy.groups = groups
        copy.values["nproc"] = int(copy.values["nproc"]) * 2
        if groups.memory_dir and "mem" in copy.values:
            # The group's limit counts memory in use; address space only reserved
            # (a large calloc never touched) is bounded far above it.
            copy.values["mem"] = str(size_bytes(copy.values["mem"]) * 4)
        return copy

    groups = None      # cgroups.CaseGroups the programs run in, or None

    def slrun_args(self, cwd, wall=None, writable=None):
        """slrun's options for a program run in CWD; with a private file
        system, WRITABLE is the only folder it may change (default: the
        case's folder, the one above CWD)."""
        args = [SLRUN, "--die-with-parent", "--chdir", cwd]
        for folder in self.groups.dirs if self.groups else ():
            args += ["--cgroup", folder]
        for name, value in self.values.items():
            args += [f"--{name}", str(value)]
        if self.uid is not None:
            args += ["--user", f"{self.uid}:{self.uid}"]
        if self.pidns:
            args.append("--pidns")
        if self.private_fs:
            args += ["--private-fs", "--fs-size", SCRATCH_SIZE]
            for folder in hidden_folders():
                args += ["--fs-hide", folder]
            for path in self.readable:
                args += ["--fs-ro", os.path.abspath(path)]
            args += ["--fs-rw", os.path.abspath(writable or os.path.dirname(os.path.abspath(cwd)))]
        if wall:
            args += ["--wall", str(int(wall) + 1)]
        return args


def size_bytes(text):
    """'64M' -> 67108864: a size as slrun takes it (suffix K, M or G)."""
    text = str(text)
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper(), 1)
    return int(text[:-1] if scale > 1 else text) * scale


def size_text(n):
    """67108864 -> '64 MiB'."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def chown_tree(top, uid):
    """Give TOP and everything below it to UID (the student uid)."""
    for base, dirs, files in os.walk(top):
        for name in [base] + [os.path.join(base, n) for n in dirs + files]:
            os.lchown(name, uid, uid)


def make_case_folder(top, uid):
    """TOP, the folder above a case's work dir, stays the grader's: owned by
    root, but open to UID for new entries (a server's --root folder made at
    start) with the sticky bit, so that UID can neither remove nor replace
    what the grader put there (the fault injector, a users file)."""
    os.chown(top, 0, uid)
    os.chmod(top, 0o1775)


def _threads_of_uid(uid):
    """How many threads (what RLIMIT_NPROC counts) UID runs right now."""
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            pass
    return count


class _Stream:
    """One output stream read by a thread into a capped buffer."""

    def __init__(self, pipe, name):
        self.name = name
        self.data = bytearray()
        self.dropped = 0
        self.closed = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True,
                                       name=f"socklab-{name}")
        self.thread.start()

    def _pump(self, pipe):
        try:
            while True:
                chunk = os.read(pipe.fileno(), 65536)
                if not chunk:
                    break
                with self.cond:
                    room = OUTPUT_CAP - len(self.data)
                    self.data += chunk[:max(room, 0)]
                    self.dropped += max(len(chunk) - max(room, 0), 0)
                    self.cond.notify_all()
        except OSError:
            pass
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()
            pipe.close()

    def wait_for(self, predicate, timeout):
        """Wait until predicate(bytes) is true or the stream closes; return the verdict."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(bytes(self.data)):
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    return predicate(bytes(self.data))
                self.cond.wait(left)
            return True

    def wait_closed(self, timeout):
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def bytes(self):
        with self.cond:
            return bytes(self.data)

    def tail(self, lines=15, chars=2000):
        """The last LINES lines (at most CHARS characters) as text, with a note
        when output was cut."""
        text = safetext.decode(self.bytes()[-4 * chars:])
        kept = text.splitlines()[-lines:]
        while kept and sum(len(k) + 1 for k in kept) > chars:
            if len(kept) == 1:
                kept[0] = "…" + kept[0][-chars:]
                break
            kept.pop(0)
        note = f"[{self.dropped} more bytes were cut: output is capped at {OUTPUT_CAP} bytes]\n" \
            if self.dropped else ""
        return note + "\n".join(kept)


def describe_status(returncode):
    """'exited with status 1' / 'killed by SIGSEGV (Segmentation fault)'."""
    if returncode is None:
        return "still running"
    if returncode >= 0:
        return f"exited with status {returncode}"
    sig = -returncode
    try:
        name = signal.Signals(sig).name
        desc = signal.strsignal(sig)
        return f"killed by {name} ({desc})"
    except ValueError:
        return f"killed by signal {sig}"


class Program:
    """One running student binary."""

    stopped_at = None             # wall-clock time the grader sent its first signal
    ports_at_stop = frozenset()   # local TCP ports of the sockets it held then

    def __init__(self, trace, name, argv, cwd, limits, stdin=None, env=None, wall=30):
        self.trace = trace
        self.name = name
        self.argv = argv
        self.killed_by_grader = False
        self.limits = limits
        self._stdin_queue = queue.Queue()   # (data, close) for the writer thread, in order
        self._stdin_writer = None
        cmd = limits.slrun_args(cwd, wall) + ["--env-clear"]
        for key, value in (env or {}).items():
            cmd += ["--setenv", f"{key}={value}"]
        cmd += ["--", os.path.join(cwd, argv[0])] + list(argv[1:])
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True, cwd=cwd)
        self.stdout = _Stream(self.proc.stdout, "stdout")
        self.stderr = _Stream(self.proc.stderr, "stderr")
        trace.step(f"started: {' '.join(_shell_word(a) for a in argv)}")
        if stdin is not None:
            self.feed(stdin, close=True)

    @property
    def pid(self):
        return self.proc.pid

    def feed(self, data, close=False, quiet=False):
        """Write DATA to the program's stdin (and close it when asked), in the
        order of the calls but from a thread of its own: a program that never
        reads its input must not hold up the case. QUIET leaves it out of the
        trace (the case says what it typed in bulk)."""
        if data and not quiet:
            self.trace.step(f"{self.name}: typed on stdin {len(data)} bytes: "
                            f"{repr(data[:60])[1:]}{' …' if len(data) > 60 else ''}")
        if self._stdin_writer is None:
            self._stdin_writer = threading.Thread(target=self._write_stdin, daemon=True,
                                                  name=f"stdin-{self.name}")
            self._stdin_writer.start()
        self._stdin_queue.put((data, close))

    def _write_stdin(self):
        while True:
            data, close = self._stdin_queue.get()
            try:
                if data:
                    self.proc.stdin.write(data)
                    self.proc.stdin.flush()
                if close:
                    self.proc.stdin.close()
                    self.trace.step(f"{self.name}: stdin closed (end of input)")
                    return
            except (BrokenPipeError, ValueError, OSError):
                self.trace.step(f"{self.name}: could not write stdin (the program closed it or exited)")
                return

    def wait_input_closed(self, timeout):
        """Wait up to TIMEOUT s until every feed() before this call is written
        and, when one asked for it, stdin is closed: feed() only queues."""
        writer = self._stdin_writer
        if writer is None:
            return True
        writer.join(timeout)
        return not writer.is_alive()

    def wait_exit(self, timeout):
        """Wait up to TIMEOUT s for the program to end; return its return code or None."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.stdout.wait_closed(2)
        self.stderr.wait_closed(2)
        return self.proc.returncode

    @property
    def returncode(self):
        return self.proc.poll()

    def running(self):
        return self.proc.poll() is None

    def thread_count(self):
        """Threads the program runs now, in all its processes (0 once ended)."""
        count = 0
        for pid in _descendants(self.pid)[1:]:     # not slrun itself
            try:
                count += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                pass
        return count

    def wait_threads(self, at_most, timeout):
        """Wait up to TIMEOUT s until the program runs AT_MOST threads; return
        True if it came down to that."""
        deadline = time.monotonic() + timeout
        while self.thread_count() > at_most:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)   # polling /proc: no event says a thread ended
        return True

    def wait_output(self, pattern, timeout, stream="stdout"):
        """Wait until STREAM matches PATTERN (bytes regex); return True if it did."""
        rx = re.compile(pattern)
        return getattr(self, stream).wait_for(lambda b: rx.search(b) is not None, timeout)

    def signal(self, sig):
        """Send SIG to the program.  Catchable signals go to slrun alone, which
        forwards them (a group-wide signal would arrive twice); SIGKILL goes to
        the whole process group."""
        try:
            if sig == signal.SIGKILL:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
        except ProcessLookupError:
            pass

    def stop(self, grace=1.0):
        """End the program: SIGTERM, then SIGKILL for the whole group.  When it
        was still running, remember when and which TCP ports its sockets had:
        the FINs and RSTs the kernel then sends for it are not its own."""
        if self.running():
            self.killed_by_grader = True
            self.ports_at_stop = tcp_ports_of_tree(self.proc.pid)
            self.stopped_at = time.time()
            self.trace.step(f"{self.name} was still running: the grader stopped it (SIGTERM, then SIGKILL); "
                            f"the kernel closes the sockets it still had")
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        self.signal(signal.SIGKILL)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.stdout.wait_closed(2)
        self.stderr.wait_closed(2)
        self.close_input()

    def close_input(self):
        """Close our end of the program's standard input (a pipe here; a
        lab's own kind of program, on a terminal say, closes its own)."""
        writer = getattr(self, "_stdin_writer", None)
        if writer is not None and writer.is_alive():
            writer.join(2)   # the program has ended: its writes fail at once
            if writer.is_alive():
                return
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except (OSError, ValueError):
                pass

    def status_text(self):
        if self.killed_by_grader:
            return "was still running at the end of the case; stopped by the grader"
        return describe_status(self.returncode)

    def limit_notes(self):
        """What this program's end and stderr say of the limits it hit."""
        limits, notes = self.limits.values, []
        rc = self.returncode
        if rc == -signal.SIGXCPU:
            notes.append(f"{self.name} used up its CPU time limit of {limits.get('cpu')} s (SIGXCPU)")
        if rc == -signal.SIGXFSZ:
            notes.append(f"{self.name} wrote past the file size limit of {size_text(size_bytes(limits['fsize']))} "
                         "(SIGXFSZ)")
        err = self.stderr.bytes()
        if b"Too many open files" in err and "nofile" in limits:
            notes.append(f"{self.name} ran out of file descriptors (its stderr says 'Too many open files'): "
                         f"the limit is {limits['nofile']} open at once")
        if "mem" in limits and not self.limits.groups and (b"Cannot allocate memory" in err or
                                                              b"out of memory" in err.lower()):
            notes.append(f"{self.name} had an allocation refused (its stderr says so): the limit is "
                         f"{size_text(size_bytes(limits['mem']))} of address space per process")
        return notes

    def crashed(self):
        """The signal name if the program died of a crash signal, else None."""
        rc = self.returncode
        if rc is not None and rc < 0 and not self.killed_by_grader:
            sig = -rc
            if sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT,
                       signal.SIGXCPU, signal.SIGXFSZ, signal.SIGKILL, signal.SIGSYS, signal.SIGPIPE):
                return signal.Signals(sig).name
        return None


def _descendants(pid):
    """PID and every process below it (through /proc/PID/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return found


def _socket_inodes(pid):
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _tcp_ports_by_inode(pid):
    """{socket inode: local port} of the TCP sockets in PID's network namespace."""
    ports = {}
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                next(f)
                for line in f:
                    fields = line.split()
                    ports[fields[9]] = int(fields[1].rsplit(":", 1)[1], 16)
        except (OSError, StopIteration, IndexError, ValueError):
            continue
    return ports


def tcp_ports_of_tree(pid):
    """The local TCP ports of every socket held by PID and its descendants."""
    ports = set()
    for p in _descendants(pid):
        inodes = _socket_inodes(p)
        if inodes:
            by_inode = _tcp_ports_by_inode(p)
            ports |= {by_inode[i] for i in inodes if i in by_inode}
    return ports


def _shell_word(arg):
    return arg if re.fullmatch(r"[\w./:@=+-]+", arg) else repr(arg)


SANITIZER_RE = re.compile(rb"((ERROR|WARNING): (Address|Leak|Memory|Thread)Sanitizer|runtime error:)")


# Where the grader built the submission: the frames of a report are clearer
# as "hbserver.c:209" than with the build folder in front.
BUILD_PREFIX_RE = re.compile(r"/\S*?/socklab-[^/\s]+/(?:build-[^/\s]+|src)/")


def sanitizer_report(stderr_bytes, lines=25):
    """The sanitizer report in STDERR_BYTES (first LINES lines), or None."""
    m = SANITIZER_RE.search(stderr_bytes)
    if not m:
        return None
    start = stderr_bytes.rfind(b"\n", 0, m.start()) + 1
    text = stderr_bytes[start:].decode("utf-8", "replace").splitlines()
    return "\n".join(BUILD_PREFIX_RE.sub("", line) for line in text[:lines])


def interrupt_group(proc, grace=10):
    """Stop PROC, the leader of its own process group (a grading run): SIGINT
    first, so that its cases tear down (student programs, captures), then,
    once it has ended or after GRACE seconds, SIGKILL to whatever of its
    group is left (pytest's workers, say)."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
