"""The curl commands of handouts/proxy.md work as a user would type them.

The handout's section "Trying it with curl" sets up an origin (python3 -m
http.server on port 8000, serving www/hello.html), starts ./proxy 8888, and
shows a console transcript: each "$ " line a command, the lines after it
what it prints ("…" for lines that vary). This test builds the reference
proxy, runs the same set-up and every command of the transcript on free
ports (8000, 8888 and the unused 8009 are replaced), and checks the output
line by line, and that the origin saw what the handout says it sees.
"""
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time

from socklab.isolation import free_port
from socklab.paths import ROOT, SOLUTIONS

HANDOUT = os.path.join(ROOT, "handouts", "proxy.md")
DEADLINE = 15.0          # seconds for any one command
ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}


def _section():
    with open(HANDOUT, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Trying it with curl\n(.*?)(?=^## )", text, re.M | re.S)
    assert m, "handouts/proxy.md has no section '## Trying it with curl'"
    return m.group(1)


def set_up_lines():
    """The lines of the first code block: make www/, start the origin."""
    m = re.search(r"^```\n(.*?)^```", _section(), re.M | re.S)
    assert m, "the curl section starts with a code block that sets up the origin"
    return m.group(1).splitlines()


def transcript():
    """[(command, [expected output lines])] from the ```console block."""
    m = re.search(r"^```console\n(.*?)^```", _section(), re.M | re.S)
    assert m, "the curl section has a ```console transcript"
    steps = []
    for line in m.group(1).splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"output before the first command: {line!r}"
            steps[-1][1].append(line)
    return steps


def matches(expected, output):
    """Whether OUTPUT (text) is EXPECTED line by line, '…' standing for any lines."""
    text = output.replace("\r\n", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    pattern = "".join(r"(?:.*\n)*?" if line == "…" else re.escape(line) + r"\n" for line in expected)
    return re.fullmatch(pattern, text) is not None


def run(cmd, cwd):
    """Run CMD (argv) in its own process group with a deadline; kill the group after."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"{shlex.join(cmd)} did not finish within {DEADLINE} s")
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def start(cmd, cwd, log):
    """Start a server in its own process group, its output into LOG."""
    with open(log, "wb") as f:
        return subprocess.Popen(cmd, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL, stdout=f,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc):
    """SIGTERM to the server's group, then SIGKILL; wait with a deadline."""
    for sig, wait in ((signal.SIGTERM, 2), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            pass


def wait_listening(port, proc, log, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{proc.args} ended: {open(log, errors='replace').read()}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)   # polling for the port, with a deadline
    raise AssertionError(f"{proc.args} did not listen on port {port} within {timeout} s")


def build_reference(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(os.path.join(SOLUTIONS, "proxy"), src / "proxy",
                    ignore=shutil.ignore_patterns("*.o", "proxy", "cache"))
    shutil.copytree(os.path.join(SOLUTIONS, "common"), src / "common", ignore=shutil.ignore_patterns("*.o"))
    out = subprocess.run(["make", "-s", "-C", str(src / "proxy")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return src / "proxy"


def distinct_free_ports(n):
    ports = set()
    while len(ports) < n:
        ports.add(free_port())
    return list(ports)


def test_handout_shows_curl_commands_with_their_output():
    steps = transcript()
    assert sum(cmd.startswith("curl ") for cmd, _ in steps) >= 5
    assert all(expected for _, expected in steps), "every command shows what it prints"
    assert any("8888" in cmd and "8000" in cmd for cmd, _ in steps)


def test_handout_commands_work_against_the_reference_proxy(tmp_path):
    proxy_dir = build_reference(tmp_path)
    proxy_port, origin_port, closed_port = distinct_free_ports(3)
    ports = {"8888": str(proxy_port), "8000": str(origin_port), "8009": str(closed_port)}

    def local(text):
        return re.sub(r"(?<!\d)(8888|8000|8009)(?!\d)", lambda m: ports[m.group(1)], text)

    setup, origin_cmd = set_up_lines()
    assert run(["sh", "-c", setup], tmp_path)[0] == 0, setup
    argv = shlex.split(local(origin_cmd))
    assert argv[0] == "python3", origin_cmd
    origin = start(["/usr/bin/python3", *argv[1:]], tmp_path, tmp_path / "origin.log")
    proxy = start(["./proxy", str(proxy_port)], proxy_dir, tmp_path / "proxy.log")
    try:
        wait_listening(origin_port, origin, tmp_path / "origin.log")
        wait_listening(proxy_port, proxy, tmp_path / "proxy.log")
        for cmd, expected in transcript():
            argv = shlex.split(local(cmd))
            rc, out, err = run(argv, proxy_dir)
            want = [local(line) for line in expected]
            assert rc == 0, f"$ {shlex.join(argv)}\nexit {rc}\n{err}"
            assert matches(want, out), (f"$ {shlex.join(argv)}\nexpected (… = any lines):\n"
                                        + "\n".join(want) + f"\nsaw:\n{out}")
        assert proxy.poll() is None, "the proxy ended"
    finally:
        stop(proxy)
        stop(origin)
    log = (tmp_path / "origin.log").read_text(errors="replace")
    # The handout says: one miss then two hits for hello.html, the 404 passed through.
    assert log.count('"GET /hello.html HTTP/1.0" 200') == 1, log
    assert log.count('"GET /nothing-here.html HTTP/1.0" 404') == 1, log
    assert "cache hit" in (tmp_path / "proxy.log").read_text(errors="replace")


def test_transcript_matcher():
    assert matches(["a", "…", "z"], "a\nb\nc\nz\n")
    assert matches(["a", "…"], "a\r\nb\r\n")
    assert not matches(["a", "z"], "a\nb\nz\n")
    assert matches(["HTTP/1.0 404 File not found", "…"], "HTTP/1.0 404 File not found\r\nServer: x\r\n\r\n<p>\n")
