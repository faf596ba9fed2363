"""Building a submission with its own Makefile, in the sandbox.

A compile error is feedback for the student (and zero points), not a crash
of the grader: the build log is kept and its first errors are shown.
"""

import os
import re
import shutil
import subprocess
import time

from . import safetext
from .proc import Limits, chown_tree, describe_status

SANITIZE_CC = "gcc -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g"
# The compilers of the build variants a case may ask for (labspec.BUILD_VARIANTS).
VARIANT_CC = {"thread": "gcc -fsanitize=thread -fno-omit-frame-pointer -g -O1"}
MAX_SUBMISSION_BYTES = 50 << 20
LOG_CAP = 256 << 10
IGNORED = shutil.ignore_patterns(".git", "*.o", "*.pcap", "__pycache__")


class BuildResult:
    def __init__(self, ok, log, seconds, problem=None, warnings=0):
        self.ok = ok
        self.log = log
        self.seconds = seconds
        self.problem = problem      # one line saying what went wrong
        self.warnings = warnings

    def feedback(self, lines=40):
        """The problem and the first errors of the build log."""
        text = safetext.decode(self.log)
        errors = [l for l in text.splitlines() if re.search(r"\berror\b|undefined reference|\*\*\*", l)]
        shown = errors[:lines] if errors else text.splitlines()[-lines:]
        return f"{self.problem}\n" + safetext.quoted("\n".join(shown))


def copy_submission(src, dest):
    """Copy SRC into DEST; add the kit's helper library when the submission has none."""
    size = sum(os.path.getsize(os.path.join(b, f)) for b, _, fs in os.walk(src) for f in fs
               if os.path.isfile(os.path.join(b, f)))
    if size > MAX_SUBMISSION_BYTES:
        raise OSError(f"submission is {size >> 20} MiB; the limit is {MAX_SUBMISSION_BYTES >> 20} MiB")
    # Links are copied as links: following them, the grader (root) would copy
    # whatever they point at into a folder the student's programs can read.
    shutil.copytree(src, dest, ignore=IGNORED, symlinks=True)
    common = os.path.join(os.path.dirname(os.path.abspath(src)), "common")
    if not os.path.exists(os.path.join(dest, "common")) and os.path.isdir(common):
        shutil.copytree(common, os.path.join(dest, "common"), ignore=IGNORED)


def build(lab, src, dest, limits, sanitize=False):
    """Copy SRC to DEST and run make there; return a BuildResult."""
    t0 = time.monotonic()
    try:
        copy_submission(src, dest)
    except OSError as e:
        return BuildResult(False, b"", 0.0, f"cannot copy the submission: {e}")
    if not os.path.isfile(os.path.join(dest, "Makefile")):
        return BuildResult(False, b"", 0.0, "the submission has no Makefile (it must build with plain 'make')")
    return _make(lab, dest, limits, SANITIZE_CC if sanitize else None, t0)


def build_variant(lab, built, dest, limits, variant):
    """Build the submission already copied to BUILT again in DEST, as VARIANT
    (a key of VARIANT_CC); return a BuildResult."""
    t0 = time.monotonic()
    leftovers = shutil.ignore_patterns(".git", "*.o", "*.pcap", "__pycache__", *lab.binaries)
    try:
        shutil.copytree(built, dest, ignore=leftovers, symlinks=False)
    except OSError as e:
        return BuildResult(False, b"", 0.0, f"cannot copy the submission: {e}")
    return _make(lab, dest, limits, VARIANT_CC[variant], t0)


def _make(lab, dest, limits, cc, t0):
    """Run make in DEST (CC=cc when given) in the sandbox; return a BuildResult."""
    if limits.uid is not None:
        chown_tree(dest, limits.uid)
    build_limits = Limits(uid=limits.uid, pidns=limits.pidns, private_fs=limits.private_fs, sanitize=True,
                          cpu=int(lab.build_timeout), nproc=128, fsize="256M", nofile=512)
    # With a private file system, make sees the submission's copy (DEST, its
    # only writable folder), the toolchain, and nothing of the kit's tree.
    cmd = build_limits.slrun_args(dest, wall=lab.build_timeout, writable=dest) + ["--env-clear", "--",
                                                                                  "/usr/bin/make"]
    if cc:
        cmd.append(f"CC={cc}")
    try:
        out = subprocess.run(cmd, cwd=dest, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=lab.build_timeout + 10,
                             start_new_session=True)
        log, rc = out.stdout[:LOG_CAP], out.returncode
    except subprocess.TimeoutExpired as e:
        return BuildResult(False, (e.stdout or b"")[:LOG_CAP], time.monotonic() - t0,
                           f"make did not finish within {lab.build_timeout:.0f} s")
    seconds = time.monotonic() - t0
    warnings = len(re.findall(rb"warning:", log))
    how = f"make CC='{cc}'" if cc else "make"
    if rc != 0:
        return BuildResult(False, log, seconds,
                           f"{how} failed ({describe_status(rc)}): the submission does not compile", warnings)
    missing = [b for b in lab.binaries if not os.access(os.path.join(dest, b), os.X_OK)]
    if missing:
        return BuildResult(False, log, seconds,
                           f"{how} succeeded but did not produce: {', '.join(missing)} "
                           f"(the lab needs {', '.join(lab.binaries)} in the submission's top folder)",
                           warnings)
    return BuildResult(True, log, seconds, None, warnings)
