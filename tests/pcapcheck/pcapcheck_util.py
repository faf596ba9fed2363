"""Paths and helpers shared by pcapcheck's pytest tests."""

import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PCAPCHECK_DIR = os.path.join(ROOT, "grader", "pcapcheck")
PCAPCHECK = os.path.join(PCAPCHECK_DIR, "pcapcheck")
PCAPS = os.path.join(ROOT, "pcaps")
SYNTHETIC = os.path.join(PCAPS, "synthetic")
RUN_DEADLINE = 60  # seconds for any one pcapcheck run


def run(args, timeout=RUN_DEADLINE, **kwargs):
    """Run a command with a deadline (killed when it passes); the CompletedProcess."""
    return subprocess.run(args, capture_output=True, timeout=timeout, **kwargs)


def analyze_json(pcapcheck_path, pcap):
    """pcapcheck analyze --json of PCAP, which must succeed; the parsed verdict."""
    done = run([pcapcheck_path, "analyze", pcap, "--json"])
    assert done.returncode == 0, (f"pcapcheck analyze {pcap} exited {done.returncode}: "
                                  f"{done.stderr.decode(errors='replace')}")
    return json.loads(done.stdout)
