#!/usr/bin/python3
"""mkgradescope LAB - build/gradescope-LAB.zip, a Gradescope autograder for one lab.

Gradescope's layout: setup.sh and run_autograder at the top of the zip
(tools/gradescope/). setup.sh installs the packages of tools/deps.sh (the
list is read from there now, not copied by hand) and builds the grader's
tools; run_autograder grades /autograder/submission and always writes
/autograder/results/results.json. Beside them: autograde.py (what
run_autograder runs), socklab-autograder.json (the lab, its source files,
the kit's version), the grader (grade, socklab/, the sandbox and pcapcheck
sources), labs/LAB with its hidden cases (the autograder is for
instructors only), and common/, the helper library a submission may leave
out. No solutions, no tests, no other lab.
"""

import argparse
import json
import os
import re
import sys
import time
import zipfile

import mkdist

ROOT = mkdist.ROOT
TEMPLATES = os.path.join(ROOT, "tools", "gradescope")
DEPS = os.path.join(ROOT, "tools", "deps.sh")


class ZipError(Exception):
    """The autograder cannot be built (the message says why)."""


def deps_packages(path=DEPS):
    """What grading needs: tools/deps.sh's GRADE_PACKAGES="..." list."""
    with open(path, encoding="utf-8") as f:
        m = re.search(r'^GRADE_PACKAGES="([^"$`]*)"', f.read(), re.M)
    if not m or not m.group(1).split():
        raise ZipError(f"{path}: no GRADE_PACKAGES=\"...\" list found")
    return m.group(1).split()


def is_member(path, lab):
    """Whether PATH (relative to the kit's root) goes into LAB's autograder."""
    parts = path.split("/")
    if path in ("grader/grade", "tools/deps.sh", "labs/conftest.py"):
        return True
    if parts[0] == "grader":
        return len(parts) > 2 and parts[1] in ("socklab", "sandbox", "pcapcheck")
    return parts[0] == "labs" and len(parts) > 2 and parts[1] == lab


def lab_sources(lab):
    """The C files and Makefile at the top of the lab's skeleton (to find them in an upload)."""
    top = os.path.join(ROOT, "skeletons", lab)
    return sorted(n for n in os.listdir(top)
                  if os.path.isfile(os.path.join(top, n)) and (n.endswith((".c", ".h")) or n == "Makefile"))


def generated_files(lab, version, hidden_cases="after_published"):
    """name -> (bytes, executable?) for the files made from tools/gradescope/."""
    def template(name):
        with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
            return f.read()
    setup = template("setup.sh").replace("@PACKAGES@", " ".join(deps_packages())).replace("@LAB@", lab)
    config = {"lab": lab, "version": version, "sources": lab_sources(lab), "hidden_cases": hidden_cases}
    return {
        "setup.sh": (setup.encode(), True),
        "run_autograder": (template("run_autograder").encode(), True),
        "autograde.py": (template("autograde.py").encode(), True),
        "socklab-autograder.json": (json.dumps(config, indent=1).encode() + b"\n", False),
    }


def write_zip(path, members, generated):
    """MEMBERS: [(path in the zip, file on disk)]; GENERATED: name -> (bytes, executable?).
    Written atomically; modes kept (Gradescope runs setup.sh and run_autograder)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    now = time.localtime()[:6]
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name, (data, executable) in sorted(generated.items()):
                info = zipfile.ZipInfo(name, now)
                info.external_attr = (0o100755 if executable else 0o100644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
            for arcname, disk in members:
                z.write(disk, arcname)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv=None):
    labs = sorted(d for d in os.listdir(os.path.join(ROOT, "labs"))
                  if os.path.isfile(os.path.join(ROOT, "labs", d, "lab.toml")))
    p = argparse.ArgumentParser(
        prog="mkgradescope", description="Build a Gradescope autograder zip for one socklab lab "
        "(setup.sh and run_autograder at its top, the grader and every case of the lab, hidden ones included).",
        epilog="exit status: 0 written, 1 cannot build (the message says why), 2 bad usage. "
               "On Gradescope, choose a base image with Python 3.11 or later (Ubuntu 24.04).")
    p.add_argument("lab", help=f"the lab: {', '.join(labs) or '(none found)'}")
    p.add_argument("-o", "--output", metavar="FILE", help="the zip to write (default: build/gradescope-LAB.zip)")
    p.add_argument("--list", action="store_true", help="print the files that would go in; write nothing")
    p.add_argument("--hidden-shown", choices=("after_published", "after_due_date"), default="after_published",
                   help="when students see the hidden cases and their total score (Gradescope holds back the "
                        "total while any case is held back; default: after_published, when you publish the grades)")
    args = p.parse_args(argv)
    if args.lab not in labs:
        p.error(f"no lab named {args.lab!r} (labs: {', '.join(labs)})")
    t0 = time.monotonic()
    output = args.output or os.path.join(ROOT, "build", f"gradescope-{args.lab}.zip")
    try:
        common = os.path.join("skeletons", args.lab, "common")
        if not os.path.isdir(os.path.join(ROOT, common)):
            raise ZipError(f"no {common}/ (run 'make skeletons')")
        files = mkdist.kit_files()
        members = [(m, os.path.join(ROOT, m)) for m in files if is_member(m, args.lab)]
        members += [("common/" + m[len(common) + 1:], os.path.join(ROOT, m))
                    for m in files if m.startswith(common + "/")]
        if not any(a.startswith(f"labs/{args.lab}/hidden/") for a, _ in members) \
                and os.path.isdir(os.path.join(ROOT, "labs", args.lab, "hidden")):
            raise ZipError(f"labs/{args.lab}/hidden/ exists but none of it was found to ship")
        generated = generated_files(args.lab, mkdist.describe(), args.hidden_shown)
        if args.list:
            print("\n".join(sorted(generated) + [a for a, _ in members]))
            return 0
        write_zip(output, members, generated)
    except (ZipError, OSError) as e:
        print(f"mkgradescope: {e}", file=sys.stderr)
        return 1
    print(f"mkgradescope: {len(members) + len(generated)} files for lab {args.lab}; "
          f"{os.path.getsize(output) / 1024:.0f} KiB in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    print(os.path.relpath(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
