"""Network isolation for one grading case.

Each case runs in a fresh network namespace that holds only `lo`, so every
case can use the same fixed ports and cases run in parallel without clashes.
The pytest worker's main thread calls unshare(CLONE_NEWNET); every thread and
child process it starts afterwards (peers, capture, student binaries) lives in
that namespace.  Debian's Python 3.11 has no os.unshare, hence ctypes.

Modes, chosen once per worker (SOCKLAB_ISOLATION=auto|netns|userns|host):
  netns   running as root: unshare(CLONE_NEWNET) per case.
  userns  not root: unshare(CLONE_NEWUSER) once, mapped to root, then netns
          per case (the user namespace grants capture rights on its `lo`).
  host    neither works: host loopback with free ports; capture checks are
          reported as "not checked", never as passed.
"""

import ctypes
import errno
import fcntl
import os
import socket
import struct
import threading

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
IFREQ_SIZE = 40

_libc = ctypes.CDLL(None, use_errno=True)


class IsolationError(Exception):
    """The requested isolation could not be set up."""


def unshare(flags):
    """Call unshare(2) for the calling thread; raise OSError on failure."""
    if _libc.unshare(ctypes.c_int(flags)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(0x{flags:x}): {os.strerror(err)}")


def bring_loopback_up():
    """Set IFF_UP on `lo` in the current network namespace."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH", b"lo", 0).ljust(IFREQ_SIZE, b"\0")
        flags = struct.unpack_from("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        req = struct.pack("16sH", b"lo", flags | IFF_UP).ljust(IFREQ_SIZE, b"\0")
        fcntl.ioctl(s, SIOCSIFFLAGS, req)


def _write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


def _enter_user_namespace():
    """Become root of a new user namespace (the process must be single-threaded)."""
    uid, gid = os.geteuid(), os.getegid()
    unshare(CLONE_NEWUSER)
    _write_file("/proc/self/setgroups", "deny")
    _write_file("/proc/self/uid_map", f"0 {uid} 1")
    _write_file("/proc/self/gid_map", f"0 {gid} 1")


def in_user_namespace():
    """True inside a user namespace that maps only part of the host's uids."""
    try:
        with open("/proc/self/uid_map") as f:
            return f.read().split() != ["0", "0", "4294967295"]
    except OSError:
        return False


def enter_user_namespace_early():
    """For the grade CLI, before it starts pytest: as non-root, become root of
    a user namespace while still single-threaded (pytest-xdist workers are
    threaded and could not).  Children inherit it.  Returns a reason on failure."""
    if os.geteuid() == 0 or os.environ.get("SOCKLAB_ISOLATION", "auto") not in ("auto", "userns"):
        return None
    try:
        _enter_user_namespace()
    except OSError as e:
        return f"cannot create a user namespace: {e.strerror}"
    return None


def _netns_works():
    """Try a throw-away network namespace in a child process."""
    pid = os.fork()
    if pid == 0:
        try:
            unshare(CLONE_NEWNET)
            bring_loopback_up()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


class Isolation:
    """The isolation mode of this process, decided once."""

    def __init__(self, mode, reason):
        self.mode = mode          # "netns", "userns" or "host"
        self.reason = reason      # why this mode, for the report

    @property
    def can_capture(self):
        return self.mode in ("netns", "userns")

    @property
    def is_root(self):
        """True when we may drop student processes to another uid (real root only)."""
        return self.mode == "netns"

    def enter_case(self):
        """Give the calling (main) thread a fresh network namespace with lo up."""
        if self.mode == "host":
            return
        if threading.current_thread() is not threading.main_thread():
            raise IsolationError("a case must start on the worker's main thread")
        unshare(CLONE_NEWNET)
        bring_loopback_up()


_chosen = None


def choose(requested=None):
    """Decide the isolation mode for this process (once) and return it."""
    global _chosen  # one decision per process: unshare(CLONE_NEWUSER) can happen only once
    if _chosen is not None:
        return _chosen
    requested = requested or os.environ.get("SOCKLAB_ISOLATION", "auto")
    if requested not in ("auto", "netns", "userns", "host"):
        raise IsolationError(f"SOCKLAB_ISOLATION={requested}: expected auto, netns, userns or host")
    _chosen = _decide(requested)
    return _chosen


def _decide(requested):
    if requested == "host":
        return Isolation("host", "requested with SOCKLAB_ISOLATION=host")
    if os.geteuid() == 0 and in_user_namespace() and requested in ("auto", "userns"):
        if _netns_works():
            return Isolation("userns", "user namespace (not root): one network namespace per case")
    if os.geteuid() == 0 and not in_user_namespace() and requested in ("auto", "netns"):
        if _netns_works():
            return Isolation("netns", "root: one network namespace per case")
        if requested == "netns":
            raise IsolationError("unshare(CLONE_NEWNET) failed although running as root")
    if requested in ("auto", "userns"):
        try:
            _enter_user_namespace()
            if _netns_works():
                return Isolation("userns", "unprivileged user namespace with one network namespace per case")
        except OSError as e:
            if requested == "userns":
                raise IsolationError(f"cannot create a user namespace: {e}") from e
            reason = e.strerror if e.errno != errno.EINVAL else "process already multi-threaded"
            return Isolation("host", f"no network namespaces here ({reason}); capture checks not checked")
    return Isolation("host", "no network namespaces here; capture checks not checked")


def free_port(kind=socket.SOCK_STREAM):
    """A port that is free on the host right now (host mode only)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_net(name):
    """Lines of /proc/thread-self/net/NAME (this thread's network namespace)."""
    try:
        with open(f"/proc/thread-self/net/{name}") as f:
            return f.read().splitlines()[1:]
    except FileNotFoundError:
        return []


TCP_LISTEN = "0A"
UDP_UNCONNECTED = "07"


def bound_ports(proto):
    """Ports in this namespace that are listening (tcp) or bound (udp)."""
    want = TCP_LISTEN if proto == "tcp" else UDP_UNCONNECTED
    ports = set()
    for table in (proto, proto + "6"):
        for line in _proc_net(table):
            fields = line.split()
            if len(fields) > 3 and fields[3] == want:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
