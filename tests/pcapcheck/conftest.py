"""The pcapcheck fixture: grader/pcapcheck built once per test process."""

import fcntl
import os
import subprocess

import pytest

from pcapcheck_util import PCAPCHECK, PCAPCHECK_DIR, ROOT


@pytest.fixture(scope="session")
def pcapcheck():
    """Build grader/pcapcheck (serialised: xdist workers share the build)."""
    lock_path = os.path.join(ROOT, "build", "pcapcheck-build.lock")
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(["make", "-s", "-C", PCAPCHECK_DIR], capture_output=True,
                              text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"make -C grader/pcapcheck failed:\n{done.stdout}{done.stderr}")
    return PCAPCHECK
