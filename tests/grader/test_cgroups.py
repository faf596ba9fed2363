"""The case's control groups (grader/socklab/cgroups.py) and the limits a
verdict names (issue 14 §4)."""
import os
import signal
import subprocess

import pytest

from socklab import cgroups
from socklab.feedback import Trace
from socklab.paths import ROOT, SLRUN
from socklab.proc import Limits, Program, size_bytes, size_text

V1 = "/sys/fs/cgroup/pids/cgroup.procs"


@pytest.fixture(scope="module", autouse=True)
def slrun_built():
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "grader", "sandbox")], check=True)


def test_sizes_read_and_print_as_slrun_takes_them():
    assert size_bytes("64M") == 64 << 20 and size_bytes("1G") == 1 << 30 and size_bytes("512") == 512
    assert size_text(1 << 30) == "1 GiB" and size_text(64 << 20) == "64 MiB" and size_text(1000) == "1000 bytes"


def test_no_control_group_where_none_can_be_made(tmp_path, monkeypatch):
    monkeypatch.setenv(cgroups.FS_VAR, str(tmp_path / "missing"))
    assert cgroups.make("x", 10, 1 << 20) is None


def test_cgroup_v2_layout_limits_and_events(tmp_path, monkeypatch):
    # A folder laid out as a v2 tree: the files the kernel would show.
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("cpu\n")
    monkeypatch.setenv(cgroups.FS_VAR, str(tmp_path))
    top = tmp_path / cgroups.TOP
    top.mkdir()
    (top / "cgroup.subtree_control").write_text("")
    groups = cgroups.make("c1", 66, 1 << 30)
    assert groups.version == 2 and groups.dirs == [str(top / "c1")]
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+pids +memory"
    assert (top / "c1" / "pids.max").read_text() == "66\n"
    assert (top / "c1" / "memory.max").read_text() == f"{1 << 30}\n"
    (top / "c1" / "pids.events").write_text("max 3\n")
    (top / "c1" / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n")
    assert groups.events() == {"pids_refused": 3, "memory_hits": 7, "oom_kills": 1}


@pytest.mark.skipif(not (os.geteuid() == 0 and os.path.exists(V1)), reason="needs root and cgroup v1")
def test_a_fork_bomb_meets_the_groups_pids_max_and_the_group_goes():
    groups = cgroups.make(cgroups.unique_name("test"), 8, 64 << 20)
    assert groups is not None and groups.version == 1
    bomb = "for i in $(seq 30); do sleep 2 & done 2>/dev/null; wait"
    args = [SLRUN] + [a for d in groups.dirs for a in ("--cgroup", d)] + ["--", "/bin/sh", "-c", bomb]
    subprocess.run(args, capture_output=True, timeout=30)
    assert groups.events()["pids_refused"] > 0
    groups.remove()
    assert not any(os.path.exists(d) for d in groups.dirs)


def test_slrun_refuses_a_group_it_cannot_join(tmp_path):
    out = subprocess.run([SLRUN, "--cgroup", str(tmp_path / "none"), "--", "/bin/true"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 125 and "cgroup.procs" in out.stderr


def test_the_cpu_and_file_size_limits_are_named(tmp_path):
    os.chmod(tmp_path, 0o755)
    spin = tmp_path / "spin"
    spin.write_text("#!/bin/sh\nwhile :; do :; done\n")
    big = tmp_path / "big"
    big.write_text("#!/bin/sh\nexec head -c 3000000 /dev/zero > out.bin\n")
    for p in (spin, big):
        p.chmod(0o755)
    prog = Program(Trace(), "spin", ["spin"], str(tmp_path), Limits(cpu=1))
    assert prog.wait_exit(20) == -signal.SIGXCPU
    assert prog.limit_notes() == ["spin used up its CPU time limit of 1 s (SIGXCPU)"]
    prog = Program(Trace(), "big", ["big"], str(tmp_path), Limits(fsize="1M"))
    assert prog.wait_exit(20) == -signal.SIGXFSZ
    assert prog.limit_notes() == ["big wrote past the file size limit of 1 MiB (SIGXFSZ)"]


@pytest.mark.skipif(not (os.geteuid() == 0 and os.path.exists(V1)), reason="needs root and cgroup v1")
def test_groups_a_killed_grader_left_are_swept():
    dead = next(pid for pid in range(2 ** 22 - 1, 0, -1) if not cgroups._alive(pid))   # a pid no process has
    folder = os.path.join("/sys/fs/cgroup/pids", cgroups.TOP, f"{dead}-1-left-behind")
    os.makedirs(folder)
    cgroups.sweep()
    assert not os.path.exists(folder)
