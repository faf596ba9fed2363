"""The grader outside the root + network-namespace path: as an unprivileged
user (user namespace) and with no namespaces at all (host loopback), where
capture checks must be reported as not checked, never as passed."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from socklab import gradecmd

FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_echo")
CAPTURE_CASES = {"tcp_client_fin_teardown", "tcp_server_closes_connection"}


def _grade(tmp_path, prefix=(), env=None):
    sub = tmp_path / "sub"
    shutil.copytree(FAKE, sub)
    for base, dirs, files in os.walk(tmp_path):
        for name in dirs + files:
            os.chmod(os.path.join(base, name), 0o777)
    os.chmod(tmp_path, 0o777)
    return gradecmd.run("echo", sub, tmp_path / "r", "-j", "2", prefix=prefix, timeout=300,
                        env=dict(env or {}, HOME=str(tmp_path)))


def test_host_mode_reports_capture_checks_as_not_checked(tmp_path):
    out, data = _grade(tmp_path, env={"SOCKLAB_ISOLATION": "host"})
    by = {c["name"]: c for c in data["cases"]}
    assert data["isolation"] == "host"
    for name in CAPTURE_CASES:
        assert by[name]["status"] == "not_checked" and by[name]["points"] == 0
    failed = {n: c["summary"] for n, c in by.items() if n not in CAPTURE_CASES and c["status"] != "passed"}
    assert not failed, f"{failed}\n{out.stdout[-3000:]}"
    assert data["score"] == 100 - sum(by[n]["max_points"] for n in CAPTURE_CASES)
    assert "points not checked" in out.stdout
    assert "writes not contained (host mode" in out.stdout
    assert out.returncode == 1


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to become another user")
def test_unprivileged_user_grades_in_a_user_namespace_with_captures():
    # pytest's tmp_path sits in a folder only root may enter: use one of our own.
    tmp_path = Path(tempfile.mkdtemp(prefix="socklab-unpriv-"))
    try:
        _check_unprivileged(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _check_unprivileged(tmp_path):
    out, data = _grade(tmp_path, prefix=("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"))
    if data["isolation"] == "host":
        pytest.skip("unprivileged user namespaces are disabled on this machine")
    assert data["isolation"] == "userns", out.stderr
    assert data["score"] == 100, out.stdout
    assert os.path.getsize(tmp_path / "r" / "captures" / "tcp_client_fin_teardown.pcap") > 24
