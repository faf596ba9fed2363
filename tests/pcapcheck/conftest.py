"""Fixtures for pcapcheck's pytest tests: a freshly built pcapcheck, run with deadlines."""

import fcntl
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PCAPCHECK_DIR = os.path.join(ROOT, "grader", "pcapcheck")
PCAPCHECK = os.path.join(PCAPCHECK_DIR, "pcapcheck")
PCAPS = os.path.join(ROOT, "pcaps")
SYNTHETIC = os.path.join(PCAPS, "synthetic")
RUN_DEADLINE = 60  # seconds for any one pcapcheck run


@pytest.fixture(scope="session")
def pcapcheck():
    """Build grader/pcapcheck once per test process (serialised: xdist workers share it)."""
    lock_path = os.path.join(ROOT, "build", "pcapcheck-build.lock")
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(["make", "-s", "-C", PCAPCHECK_DIR], capture_output=True,
                              text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"make -C grader/pcapcheck failed:\n{done.stdout}{done.stderr}")
    return PCAPCHECK


def run(args, timeout=RUN_DEADLINE, **kwargs):
    """Run a command with a deadline (killed when it passes); the CompletedProcess."""
    return subprocess.run(args, capture_output=True, timeout=timeout, **kwargs)


def analyze_json(pcapcheck_path, pcap):
    """pcapcheck analyze --json of PCAP, which must succeed; the parsed verdict."""
    done = run([pcapcheck_path, "analyze", pcap, "--json"])
    assert done.returncode == 0, (f"pcapcheck analyze {pcap} exited {done.returncode}: "
                                  f"{done.stderr.decode(errors='replace')}")
    return json.loads(done.stdout)
