"""The submissions of a class: one entry per student in a folder (a
directory, a .tar.gz/.tgz or a .zip named after the student), unpacked
safely, each with a fingerprint so a re-run can skip what is already graded.

Archives come from students: an entry with an absolute path, a `..`, a
link, a device, or more bytes or files than a lab could need is refused
with a message, and nothing of it is written outside the target folder.
"""

import hashlib
import os
import re
import shutil
import stat
import tarfile
import zipfile

from .build import MAX_SUBMISSION_BYTES

MAX_FILES = 2000
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")


class SubmissionError(Exception):
    """A submission that cannot be graded as it is (the message says why)."""


class Entry:
    """One student's submission in the class folder."""

    def __init__(self, student, path):
        self.student = student
        self.path = path
        self.kind = "dir" if os.path.isdir(path) else ("zip" if path.endswith(".zip") else "tar")

    def fingerprint(self):
        """A SHA-256 of the submission's bytes (file names and contents for a folder)."""
        h = hashlib.sha256()
        if self.kind != "dir":
            _hash_file(h, self.path)
            return h.hexdigest()
        for base, dirs, files in os.walk(self.path):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(base, name)
                if os.path.islink(full) or not os.path.isfile(full):
                    continue
                h.update(os.path.relpath(full, self.path).encode() + b"\0")
                _hash_file(h, full)
        return h.hexdigest()

    def unpack(self, dest, lab_name):
        """Put the submission's files in DEST; return the folder that holds its
        Makefile (an archive often wraps everything in one top folder)."""
        if self.kind == "dir":
            _refuse_links(self.path)
            shutil.copytree(self.path, dest, ignore=shutil.ignore_patterns(".git"))
        elif self.kind == "zip":
            _unzip(self.path, dest)
        else:
            _untar(self.path, dest)
        return _top_with_makefile(dest, lab_name)


def _refuse_links(top):
    """Links could point the grader (root) at files outside the submission."""
    for base, dirs, files in os.walk(top):
        for name in dirs + files:
            if os.path.islink(os.path.join(base, name)):
                rel = os.path.relpath(os.path.join(base, name), top)
                raise SubmissionError(f"the submission has a symbolic link: {rel} (only files and folders "
                                      "are graded)")


def _hash_file(h, path):
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)


def student_name(filename):
    """The student's name from an entry's file name, or None when it is not a submission."""
    for suffix in ARCHIVE_SUFFIXES:
        if filename.endswith(suffix):
            filename = filename[:-len(suffix)]
            break
    return filename if NAME_RE.fullmatch(filename) else None


def find(class_dir):
    """The entries of CLASS_DIR sorted by student, and the names skipped with why."""
    entries, skipped = {}, []
    for filename in sorted(os.listdir(class_dir)):
        path = os.path.join(class_dir, filename)
        if filename.startswith("."):
            continue
        student = student_name(filename)
        is_archive = filename.endswith(ARCHIVE_SUFFIXES) and os.path.isfile(path)
        if student is None or not (is_archive or os.path.isdir(path)):
            skipped.append((filename, "not a folder, .tar.gz, .tgz or .zip named after a student "
                                      "(letters, digits, . _ @ + -)"))
        elif student in entries:
            skipped.append((filename, f"a second submission of {student}: {os.path.basename(entries[student].path)} "
                                      "is graded"))
        else:
            entries[student] = Entry(student, path)
    return [entries[s] for s in sorted(entries)], skipped


def _safe_member_path(dest, name):
    """DEST/NAME, refusing names that would leave DEST."""
    if name.startswith("/") or "\\" in name or any(part == ".." for part in name.split("/")):
        raise SubmissionError(f"the archive has an unsafe path: {name!r}")
    path = os.path.normpath(os.path.join(dest, name))
    if not (path == dest or path.startswith(dest + os.sep)):
        raise SubmissionError(f"the archive has an unsafe path: {name!r}")
    return path


class _Budget:
    """Counts the files and bytes written, to stop an archive bomb early."""

    def __init__(self):
        self.files = 0
        self.bytes = 0

    def add_file(self):
        self.files += 1
        if self.files > MAX_FILES:
            raise SubmissionError(f"the archive has more than {MAX_FILES} files")

    def add_bytes(self, n):
        self.bytes += n
        if self.bytes > MAX_SUBMISSION_BYTES:
            raise SubmissionError(f"the archive unpacks to more than {MAX_SUBMISSION_BYTES >> 20} MiB")


def _copy_limited(src, path, budget):
    """Copy the open member SRC to PATH, counting its bytes as they come (the
    sizes an archive declares may lie)."""
    budget.add_file()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as out:
        for block in iter(lambda: src.read(1 << 16), b""):
            budget.add_bytes(len(block))
            out.write(block)


def _untar(archive, dest):
    os.makedirs(dest, exist_ok=True)
    dest = os.path.realpath(dest)
    budget = _Budget()
    try:
        with tarfile.open(archive, "r:*") as tar:
            for m in tar:
                path = _safe_member_path(dest, m.name)
                if m.isdir():
                    os.makedirs(path, exist_ok=True)
                elif m.isreg():
                    _copy_limited(tar.extractfile(m), path, budget)
                    os.chmod(path, 0o755 if m.mode & stat.S_IXUSR else 0o644)
                else:
                    raise SubmissionError(f"the archive has a link or special file: {m.name!r} "
                                          "(only files and folders are graded)")
    except (tarfile.TarError, EOFError, OSError) as e:
        raise SubmissionError(f"cannot read the archive: {e}") from e


def _unzip(archive, dest):
    os.makedirs(dest, exist_ok=True)
    dest = os.path.realpath(dest)
    budget = _Budget()
    try:
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                path = _safe_member_path(dest, info.filename.rstrip("/") or ".")
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise SubmissionError(f"the archive has a link: {info.filename!r}")
                if info.is_dir():
                    os.makedirs(path, exist_ok=True)
                    continue
                with z.open(info) as src:
                    _copy_limited(src, path, budget)
                os.chmod(path, 0o755 if mode & stat.S_IXUSR else 0o644)
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError) as e:
        raise SubmissionError(f"cannot read the archive: {e}") from e


def _top_with_makefile(dest, lab_name):
    """The folder of the submission that holds its Makefile: DEST itself, or
    the one subfolder with a Makefile (the lab's folder when several have one),
    looking through folders that only wrap others."""
    if os.path.isfile(os.path.join(dest, "Makefile")):
        return dest
    inner = [n for n in sorted(os.listdir(dest))
             if not n.startswith(".") and n != "__MACOSX" and os.path.isdir(os.path.join(dest, n))]
    with_makefile = [n for n in inner if os.path.isfile(os.path.join(dest, n, "Makefile"))]
    if len(with_makefile) == 1:
        return os.path.join(dest, with_makefile[0])
    if lab_name in with_makefile:
        return os.path.join(dest, lab_name)
    if len(inner) == 1:
        return _top_with_makefile(os.path.join(dest, inner[0]), lab_name)
    return dest
