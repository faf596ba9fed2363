#!/usr/bin/python3
"""bench.py - grade a synthetic class of the echo lab and check its gradebook.

Makes a class folder of --students submissions (default 100) in a
temporary folder: 40% the reference solution, 30% the skeleton, 24% the
echo mutants (tests/mutants/echo.toml, in turn) and six hostile ones:
a fork bomb, a program that floods its output, one that eats memory, a
build that never ends, an archive that climbs out of its folder, and an
archive bomb. Every kind comes as a folder, a .tar.gz or a .zip in turn.
Then it runs `grader/grade echo --class DIR -j N` (as an instructor would)
and prints the wall time, the time per submission, the peak memory in use
on the machine (sampled from /proc/meminfo) and the largest single process
(ru_maxrss), and checks every row of the gradebook against what the kind
of submission must score. Exit status 1 when a row is wrong.

Not a test: the figures depend on the machine. Needs root (the grader's
namespaces and uids), like `make grade`.
"""

import argparse
import csv
import io
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "grader"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import mutants as mutmod  # noqa: E402
from socklab.labspec import Lab  # noqa: E402

LAB = "echo"
# Each hostile program: (file, C appended to it). A constructor runs before main().
HOSTILE_CODE = {
    "forkbomb": ("tcpserver.c", "__attribute__((constructor)) static void bomb(void)\n"
                                "{\n\tfor (;;)\n\t\t(void)fork();\n}\n"),
    "flood": ("udpclient.c", "__attribute__((constructor)) static void flood(void)\n"
                             "{\n\tfor (;;)\n\t\t(void)fputs(\"spam spam spam spam\\n\", stdout);\n}\n"),
    "memhog": ("tcpclient.c", "__attribute__((constructor)) static void hog(void)\n"
                              "{\n\tfor (;;) {\n\t\tchar *p = malloc(1 << 20);\n\n"
                              "\t\tif (p != NULL)\n\t\t\tmemset(p, 1, 1 << 20);\n\t}\n}\n"),
}


def copy_solution(dest, source="solutions"):
    shutil.copytree(os.path.join(ROOT, source, LAB), os.path.join(dest, LAB))
    if not os.path.isdir(os.path.join(dest, LAB, "common")):
        shutil.copytree(os.path.join(ROOT, "solutions", "common"), os.path.join(dest, LAB, "common"))
    return os.path.join(dest, LAB)


def hostile(kind, work):
    """A folder with the reference spoiled the way KIND says."""
    sub = copy_solution(work)
    if kind == "hangbuild":
        with open(os.path.join(sub, "Makefile"), "r+") as f:
            text = f.read()
            f.seek(0)
            f.write(text.replace("all: $(PROGS)", "all: $(PROGS)\n\tsleep 100000", 1))
        return sub
    name, code = HOSTILE_CODE[kind]
    path = os.path.join(sub, name)
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:  # after the file's own feature macros and includes
        f.write(text + "\n#include <stdlib.h>\n#include <string.h>\n#include <unistd.h>\n\n" + code)
    return sub


def pack(folder, class_dir, student, how):
    """Put FOLDER into the class as STUDENT: a folder, a .tar.gz or a .zip."""
    if how == "dir":
        shutil.copytree(folder, os.path.join(class_dir, student))
    elif how == "tar":
        with tarfile.open(os.path.join(class_dir, student + ".tar.gz"), "w:gz") as t:
            t.add(folder, arcname=os.path.basename(folder))
    else:
        with zipfile.ZipFile(os.path.join(class_dir, student + ".zip"), "w", zipfile.ZIP_DEFLATED) as z:
            for base, _, files in os.walk(folder):
                for name in files:
                    full = os.path.join(base, name)
                    z.write(full, os.path.relpath(full, os.path.dirname(folder)))


def make_class(class_dir, work, students):
    """The class folder; returns {student: (kind, detail)} with what each must score."""
    lab = Lab(LAB)
    mutants = mutmod.load(LAB)
    n_ref, n_skel = students * 40 // 100, students * 30 // 100
    n_hostile = 6
    n_mut = students - n_ref - n_skel - n_hostile
    plan = ([("reference", None)] * n_ref + [("skeleton", None)] * n_skel
            + [("mutant", mutants[i % len(mutants)]) for i in range(n_mut)]
            + [("hostile", k) for k in ("forkbomb", "flood", "memhog", "hangbuild")]
            + [("refused", "unsafe"), ("refused", "bomb")])
    expected = {}
    for i, (kind, detail) in enumerate(plan):
        student = f"s{i:03d}-{kind}"
        how = ("dir", "tar", "zip")[i % 3]
        tmp = os.path.join(work, student)
        os.makedirs(tmp)
        if kind == "reference":
            pack(copy_solution(tmp), class_dir, student, how)
        elif kind == "skeleton":
            pack(copy_solution(tmp, "skeletons"), class_dir, student, how)
        elif kind == "mutant":
            sub = mutmod.make_copy(LAB, detail, tmp, lab.binaries)
            pack(os.path.dirname(sub), class_dir, student, how)  # the lab's folder and common/ beside it
            detail = detail["caught_by"]
        elif kind == "hostile":
            pack(hostile(detail, tmp), class_dir, student, how)
        elif detail == "unsafe":
            with tarfile.open(os.path.join(class_dir, student + ".tar.gz"), "w:gz") as t:
                info = tarfile.TarInfo("../../../etc/cron.d/owned")
                info.size = 5
                t.addfile(info, io.BytesIO(b"owned"))
        else:
            with zipfile.ZipFile(os.path.join(class_dir, student + ".zip"), "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("Makefile", bytes(200 << 20))  # 200 MiB of zeros in about 200 KB
        expected[student] = (kind, detail)
    return expected


class MemorySampler(threading.Thread):
    """The peak of (MemTotal - MemAvailable) over the run, sampled every 0.2 s."""

    def __init__(self):
        super().__init__(daemon=True)
        self.base = self.used()
        self.peak = self.base
        self.stop = threading.Event()

    @staticmethod
    def used():
        info = {}
        with open("/proc/meminfo") as f:
            for line in f:
                key, value = line.split(":")
                info[key] = int(value.split()[0]) * 1024
        return info["MemTotal"] - info["MemAvailable"]

    def run(self):
        while not self.stop.wait(0.2):
            self.peak = max(self.peak, self.used())


def check(row, kind, detail, max_score):
    """None when ROW (a gradebook row) is what a KIND submission must get, else why not."""
    score, status = int(row["score"]), row["status"]
    if kind == "reference" and (score != max_score or status != "graded"):
        return f"the reference scored {score} ({status})"
    if kind == "skeleton" and score > 10:
        return f"a skeleton scored {score}"
    if kind == "mutant" and (row[detail] != "0" or score >= max_score or status != "graded"):
        return f"the mutant kept the points of {detail} or did not build (score {score}, {status})"
    if kind == "hostile" and detail == "hangbuild" and (score != 0 or status != "build_failed"):
        return f"a build that never ends scored {score} ({status})"
    if kind == "hostile" and detail != "hangbuild" and (score >= max_score or status != "graded"):
        return f"a hostile submission scored {score} ({status})"
    if kind == "refused" and (score != 0 or status != "refused"):
        return f"a refused archive scored {score} ({status})"
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--students", type=int, default=100)
    p.add_argument("-j", "--jobs", type=int, default=2)
    p.add_argument("--keep", action="store_true", help="keep the class and results folders")
    args = p.parse_args()
    if os.geteuid() != 0:
        print("bench: run as root (the grader's namespaces and uids need it)", file=sys.stderr)
        return 2
    top = tempfile.mkdtemp(prefix="socklab-class-bench-")
    class_dir, results = os.path.join(top, "class"), os.path.join(top, "results")
    os.makedirs(class_dir)
    expected = make_class(class_dir, os.path.join(top, "work"), args.students)
    print(f"bench: {len(expected)} submissions in {class_dir}; grading with -j {args.jobs}", flush=True)
    sampler = MemorySampler()
    sampler.start()
    t0 = time.monotonic()
    out = subprocess.run([os.path.join(ROOT, "grader", "grade"), LAB, "--class", class_dir, "--results", results,
                          "-j", str(args.jobs)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=7200)
    wall = time.monotonic() - t0
    sampler.stop.set()
    sampler.join()
    print("\n".join(l for l in out.stdout.splitlines() if l.startswith((LAB + ":", "reports:", "grade:")))
          or out.stdout[-2000:])
    with open(os.path.join(results, "gradebook.csv")) as f:
        book = {row["student"]: row for row in csv.DictReader(f)}
    max_score = Lab(LAB).total_points
    wrong = [f"{s}: {why}" for s, (kind, detail) in sorted(expected.items())
             if (why := (check(book[s], kind, detail, max_score) if s in book else "missing from the gradebook"))]
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\n| submissions | -j | wall s | s per submission | peak memory in use MiB | largest process MiB |")
    print(f"| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {len(expected)} | {args.jobs} | {wall:.1f} | {wall / len(expected):.2f} | "
          f"{(sampler.peak - sampler.base) / (1 << 20):.0f} | {largest:.0f} |")
    print(f"\ngradebook: {len(book)} rows, {len(wrong)} wrong")
    for line in wrong:
        print("  " + line)
    if args.keep:
        print(f"kept: {top}")
    else:
        shutil.rmtree(top, ignore_errors=True)
    return 1 if wrong or out.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
