#!/usr/bin/python3
"""mkdist - the student distribution: build/socklab-student-VERSION.tar.gz.

What goes in: the skeletons and handouts of every lab that has all three of
labs/LAB/lab.toml, skeletons/LAB/ and handouts/LAB.md; the grader (grade,
socklab/, the sandbox and pcapcheck sources, built on first use); the
visible cases of those labs (labs/LAB/ without hidden/: lab.toml still says
how many hidden cases there are, so a student run reports what it did not
run); tools/deps.sh; and a README and Makefile for students (tools/dist/).

What never goes in: solutions/, tests/ (with the mutants), labs/*/hidden/,
bench/, pcaps/, .ci/, .git, build products. Before writing, the builder
refuses a file list that holds any of those paths or names a hidden case.
"""

import argparse
import io
import os
import re
import subprocess
import sys
import tarfile
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATES = os.path.join(ROOT, "tools", "dist")
# Never in a student's hands, whatever the include rules say.
FORBIDDEN_TOP = ("solutions", "tests", "bench", "pcaps", ".ci", ".git", "build", "results")
BUILD_PRODUCTS = re.compile(r"(^|/)__pycache__/|\.(o|d|a|pyc)$|^grader/sandbox/slrun(-san)?$"
                            r"|^grader/pcapcheck/pcapcheck$")
WALK_SKIP = {".git", "build", "results", "__pycache__", ".pytest_cache"}


class DistError(Exception):
    """The distribution cannot be built (the message says why)."""


def describe(root=ROOT):
    """`git describe --always --dirty` of the kit, or today's date outside git."""
    try:
        out = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return time.strftime("%Y%m%d")


def kit_files(root=ROOT):
    """Every file of the kit, relative to ROOT, sorted: what git tracks plus what
    it would track (untracked, not ignored), so build products stay out; a walk
    that skips build products when ROOT is not a git work tree."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, timeout=60)
        listed = out.stdout.decode("utf-8", "surrogateescape").split("\0") if out.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        listed = None
    if listed is None:
        listed = []
        for base, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in WALK_SKIP)
            listed += [os.path.relpath(os.path.join(base, f), root) for f in files]
    return sorted({p for p in listed if p and not BUILD_PRODUCTS.search(p)
                   and os.path.isfile(os.path.join(root, p)) and not os.path.islink(os.path.join(root, p))})


def complete_labs(root=ROOT):
    """(labs to ship, [(lab, why it is left out)]): a lab ships when its grading
    spec, skeleton and handout all exist."""
    ship, left_out = [], []
    for lab in sorted(os.listdir(os.path.join(root, "labs"))):
        if not os.path.isfile(os.path.join(root, "labs", lab, "lab.toml")):
            continue
        missing = [p for p in (f"skeletons/{lab}", f"handouts/{lab}.md")
                   if not os.path.exists(os.path.join(root, p))]
        if missing:
            left_out.append((lab, f"no {' and no '.join(missing)}"))
        else:
            ship.append(lab)
    return ship, left_out


def is_member(path, labs):
    """Whether PATH (relative to the kit's root) goes to students."""
    parts = path.split("/")
    if path in ("grader/grade", "tools/deps.sh", ".clang-format", "labs/conftest.py"):
        return True
    if parts[0] == "grader":
        return len(parts) > 2 and parts[1] in ("socklab", "sandbox", "pcapcheck")
    if parts[0] == "labs":
        return len(parts) > 2 and parts[1] in labs and parts[2] != "hidden"
    if parts[0] == "skeletons":
        return len(parts) > 2 and parts[1] in labs
    if parts[0] == "handouts":
        return len(parts) == 2 and parts[1] in {f"{lab}.md" for lab in labs}
    return False


def hidden_case_names(root=ROOT):
    """The names of every hidden case of every lab (labs/*/hidden/hidden.toml)."""
    names = []
    labs_dir = os.path.join(root, "labs")
    for lab in sorted(os.listdir(labs_dir)):
        path = os.path.join(labs_dir, lab, "hidden", "hidden.toml")
        if os.path.isfile(path):
            with open(path, "rb") as f:
                names += list(tomllib.load(f).get("cases", {}))
    return names


def check_members(members, contents, hidden_names):
    """Refuse a file list with an instructor-only path, or a file naming a hidden case."""
    problems = []
    for path in members:
        parts = path.split("/")
        if parts[0] in FORBIDDEN_TOP or "hidden" in parts[:-1] or parts[-1] == "hidden.toml":
            problems.append(f"{path}: instructor-only path")
    for path, data in contents.items():
        text = data.decode("utf-8", "replace")
        problems += [f"{path}: names the hidden case {n}" for n in hidden_names if n in text]
    if problems:
        raise DistError("refusing to build a student copy that leaks:\n  " + "\n  ".join(problems))


def generated_files(version, labs):
    """The files written for students: README.md, Makefile, VERSION."""
    out = {}
    for name in ("README.md", "Makefile"):
        with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
            text = f.read()
        out[name] = text.replace("@VERSION@", version).replace("@LABS@", ", ".join(labs)).encode()
    out["VERSION"] = f"socklab student copy {version}\n".encode()
    return out


def write_tar(path, prefix, root, members, generated):
    """A gzipped tar of MEMBERS (read from ROOT) and GENERATED (name -> bytes)
    under PREFIX/, owned by root, written atomically."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"

    def clean(info):
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode = 0o755 if info.mode & 0o111 or info.isdir() else 0o644
        return info

    try:
        with tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            for rel in members:
                tar.add(os.path.join(root, rel), arcname=f"{prefix}/{rel}", recursive=False, filter=clean)
            for name, data in sorted(generated.items()):
                info = clean(tarfile.TarInfo(f"{prefix}/{name}"))
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
                tar.addfile(info, io.BytesIO(data))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="mkdist", description="Build the student distribution of socklab: skeletons, handouts, "
        "the grader with the visible cases only, pcapcheck and a README for students.",
        epilog="exit status: 0 written, 1 cannot build (the message says why), 2 bad usage")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="the tarball to write (default: build/socklab-student-VERSION.tar.gz)")
    p.add_argument("--tag", metavar="TEXT",
                   help="the version in the name and in VERSION (default: git describe --always --dirty)")
    p.add_argument("--list", action="store_true", help="print the files that would go in; write nothing")
    args = p.parse_args(argv)
    t0 = time.monotonic()
    version = args.tag or describe()
    if not re.fullmatch(r"[A-Za-z0-9._+-]+", version):
        p.error(f"--tag {version!r}: letters, digits and . _ + - only")
    prefix = f"socklab-student-{version}"
    output = args.output or os.path.join(ROOT, "build", f"{prefix}.tar.gz")
    try:
        labs, left_out = complete_labs()
        if not labs:
            raise DistError("no complete lab (labs/LAB/lab.toml, skeletons/LAB/, handouts/LAB.md)")
        for lab, why in left_out:
            print(f"mkdist: leaving out the lab {lab}: {why}", file=sys.stderr)
        members = [m for m in kit_files() if is_member(m, labs)]
        generated = generated_files(version, labs)
        contents = {m: open(os.path.join(ROOT, m), "rb").read() for m in members}
        check_members(members + list(generated), {**contents, **generated}, hidden_case_names())
        if args.list:
            print("\n".join(members + sorted(generated)))
            return 0
        write_tar(output, prefix, ROOT, members, generated)
    except (DistError, OSError, tomllib.TOMLDecodeError) as e:
        print(f"mkdist: {e}", file=sys.stderr)
        return 1
    size = os.path.getsize(output)
    print(f"mkdist: {len(members) + len(generated)} files, labs {', '.join(labs)}; "
          f"{size / 1024:.0f} KiB in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    print(os.path.relpath(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
