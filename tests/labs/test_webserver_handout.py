"""The curl session in handouts/webserver.md works as a user would type it.

Every ```console block of the handout is a session: lines starting with
"$ " are commands, the lines after one are its output ("..." alone stands
for any lines, a line ending in "..." for any rest of that line). The test
builds the reference solution, runs the commands in order in a scratch
folder holding the binaries, with a free port instead of 8080, each in a
pseudo-terminal as a user's shell would (curl, for one, prints a progress
meter when its output is not a terminal). The one ending in '&' starts the
reference webserver in the background. Each command has a deadline and its
process group is killed after it; so is the server's at the end.
"""
import os
import pty
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import time

import pytest

from socklab.paths import ROOT, SOLUTIONS

HANDOUT = os.path.join(ROOT, "handouts", "webserver.md")
DEFAULT_PORT = "8080"
COMMAND_DEADLINE = 20.0
LISTEN_DEADLINE = 5.0
ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")


def sessions(text):
    """[(command, [expected output lines])] of every ```console block, in order."""
    steps = []
    for block in re.findall(r"^```console\n(.*?)^```", text, re.M | re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
    return steps


def matches(expected, actual):
    """ACTUAL (lines) fits EXPECTED: '...' alone matches any lines, a line
    ending in '...' any line starting with what comes before it."""
    memo = {}

    def fit(i, j):
        if (i, j) not in memo:
            if i == len(expected):
                ok = j == len(actual)
            elif expected[i] == "...":
                ok = fit(i + 1, j) or (j < len(actual) and fit(i, j + 1))
            elif j == len(actual):
                ok = False
            elif expected[i].endswith("..."):
                ok = actual[j].startswith(expected[i][:-3]) and fit(i + 1, j + 1)
            else:
                ok = actual[j] == expected[i] and fit(i + 1, j + 1)
            memo[i, j] = ok
        return memo[i, j]

    return fit(0, 0)


def trimmed(lines):
    while lines and lines[-1] == "":
        lines = lines[:-1]
    return lines


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, server, deadline):
    """Until a TCP connect to PORT succeeds; False if SERVER ended or time ran out."""
    end = time.monotonic() + deadline
    while time.monotonic() < end and server.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)   # polling the condition, with a deadline
    return False


def run_in_terminal(command, cwd, env, deadline):
    """Run COMMAND with sh in a pseudo-terminal; return (its output, timed out?)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(["/bin/sh", "-c", command], cwd=cwd, env=env, stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True)
    os.close(slave)
    out, end, timed_out = b"", time.monotonic() + deadline, False
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:         # EIO: every writer of the terminal has gone
                break
            if not data:
                break
            out += data
    finally:
        kill_group(proc)
        os.close(master)
    return out, timed_out


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(5)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A scratch folder holding the built reference webserver and httpget."""
    build = tmp_path_factory.mktemp("webserver-build")
    shutil.copytree(os.path.join(SOLUTIONS, "webserver"), build / "webserver",
                    ignore=shutil.ignore_patterns("*.o", "webserver", "httpget"))
    shutil.copytree(os.path.join(SOLUTIONS, "common"), build / "common",
                    ignore=shutil.ignore_patterns("*.o"))
    out = subprocess.run(["make", "-C", str(build / "webserver")], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return build / "webserver"


def test_handout_session_uses_curl_and_both_programs():
    with open(HANDOUT, encoding="utf-8") as f:
        steps = sessions(f.read())
    commands = [c for c, _ in steps]
    assert sum(c.startswith("curl ") for c in commands) >= 8, commands
    assert any(c.startswith("./webserver ") and c.endswith("&") for c in commands)
    assert any(c.startswith("./httpget ") for c in commands)
    assert all(DEFAULT_PORT in c for c in commands if c.startswith(("curl", "./httpget")))


def test_handout_session_runs_against_the_reference(reference, tmp_path):
    with open(HANDOUT, encoding="utf-8") as f:
        steps = sessions(f.read())
    work = tmp_path / "session"
    work.mkdir()
    for name in ("webserver", "httpget"):
        shutil.copy2(reference / name, work / name)
    port = str(free_port())
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "LC_ALL": "C"}
    server, server_log = None, open(tmp_path / "server.log", "wb")
    try:
        for command, expected in steps:
            command = command.replace(DEFAULT_PORT, port)
            if command.endswith("&"):
                assert server is None, "the session starts one server"
                server = subprocess.Popen(shlex.split(command[:-1]), cwd=work, env=env,
                                          stdin=subprocess.DEVNULL, stdout=server_log,
                                          stderr=server_log, start_new_session=True)
                assert wait_listening(int(port), server, LISTEN_DEADLINE), \
                    f"{command}: not listening within {LISTEN_DEADLINE} s"
                continue
            out, timed_out = run_in_terminal(command, work, env, COMMAND_DEADLINE)
            assert not timed_out, f"{command}: still running after {COMMAND_DEADLINE} s"
            # The terminal turns each \n into \r\n (an HTTP head's \r\n arrives as \r\r\n),
            # and curl shows header names in bold: compare what a user reads.
            text = ANSI_STYLE.sub("", out.decode("utf-8", "replace").replace("\r", ""))
            actual = trimmed(text.split("\n"))
            assert matches(trimmed(expected), actual), (
                f"$ {command}\nexpected (from the handout):\n" + "\n".join(expected) +
                "\ngot:\n" + "\n".join(actual))
    finally:
        if server is not None:
            kill_group(server)
        server_log.close()
