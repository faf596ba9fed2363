"""Student uid blocks: two grading runs on one machine never share one."""
import json
import os
import subprocess
import sys

import pytest

from socklab import uidblocks
from socklab.paths import ROOT

GRADE = os.path.join(ROOT, "grader", "grade")


@pytest.fixture
def lock_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(uidblocks.LOCK_DIR_VAR, str(tmp_path / "locks"))
    return tmp_path / "locks"


def test_two_holders_get_two_blocks_and_a_freed_block_is_taken_again(lock_dir):
    a = uidblocks.reserve(10, 13, start=10)
    b = uidblocks.reserve(10, 13, start=10)
    assert a.index == 10 and b.index == 11 and a.base != b.base
    a.close()
    c = uidblocks.reserve(10, 13, start=10)
    assert c.index == 10
    b.close(), c.close()


def test_a_block_another_process_holds_is_not_given(lock_dir):
    holder = subprocess.Popen([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]);"
                               "from socklab import uidblocks; b = uidblocks.reserve(20, 22, start=20);"
                               "print(b.index, flush=True); sys.stdin.read()", os.path.join(ROOT, "grader")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, **{uidblocks.LOCK_DIR_VAR: str(lock_dir)}))
    try:
        assert holder.stdout.readline().strip() == "20"
        mine = uidblocks.reserve(20, 22, start=20)
        assert mine.index == 21
        with pytest.raises(uidblocks.NoFreeBlock):
            uidblocks.reserve(20, 22)
        mine.close()
    finally:
        holder.stdin.close()
        holder.wait(10)
    again = uidblocks.reserve(20, 22, start=20)   # the holder ended: its lock went with it
    assert again.index == 20
    again.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="student uids need root")
def test_a_grading_run_takes_the_one_block_no_other_run_holds(tmp_path, lock_dir):
    first, last = uidblocks.SINGLE_RUNS
    free = first + 7
    held = [uidblocks.reserve(i, i + 1) for i in range(first, last) if i != free]   # other runs, as it were
    try:
        out = subprocess.run([GRADE, "echo", "-q", "-k", "udp_client_uppercase", "--results", str(tmp_path / "r")],
                             cwd=ROOT, capture_output=True, text=True, timeout=240,
                             env=dict(os.environ, **{uidblocks.LOCK_DIR_VAR: str(lock_dir)}))
        assert out.returncode == 0, out.stderr
        uids = json.loads((tmp_path / "r" / "results.json").read_text())["student_uids"]
        assert uids[0] == uidblocks.Block(free, None).base, uids
        out = subprocess.run([GRADE, "echo", "-q", "-k", "udp_client_uppercase", "--results", str(tmp_path / "r2")],
                             cwd=ROOT, capture_output=True, text=True, timeout=240,
                             env=dict(os.environ, **{uidblocks.LOCK_DIR_VAR: str(lock_dir)}))
        assert out.returncode == 0, out.stderr   # the first run ended: its block is free again
    finally:
        for block in held:
            block.close()
