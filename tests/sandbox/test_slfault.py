"""grader/sandbox/slfault.so: the fault injector some cases load into student
programs. A small C program reports what its socket calls returned; each
fault must show, on sockets only, and a program that loops must still get
every byte through."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLFAULT = ROOT / "grader" / "sandbox" / "slfault.so"

PROBE = r"""
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void report(const char *what, ssize_t n)
{
	printf("%s %zd %s\n", what, n, n < 0 ? strerror(errno) : "");
}

/* send_all - the loop a correct program writes. */
static ssize_t send_all(int fd, const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, buf + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int main(void)
{
	int st[2], dg[2], pp[2];
	char buf[1000];

	memset(buf, 'x', sizeof buf);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) < 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) < 0 ||
	    pipe(pp) < 0)
		return 1;
	report("stream-send-1", send(st[0], buf, 100, 0));
	report("stream-send-2", send(st[0], buf, 100, 0));
	report("dgram-send-1", send(dg[0], buf, 100, 0));
	report("dgram-send-2", send(dg[0], buf, 100, 0));
	report("pipe-write", write(pp[1], buf, 100));
	report("send-all", send_all(st[0], buf, sizeof buf));

	struct pollfd on_socket = {.fd = st[1], .events = POLLIN};
	struct pollfd on_pipe = {.fd = pp[0], .events = POLLIN};

	report("poll-now", poll(&on_socket, 1, 0));
	report("poll-wait-1", poll(&on_socket, 1, 100));
	report("poll-wait-2", poll(&on_socket, 1, 100));
	report("poll-pipe", poll(&on_pipe, 1, 100));

	/* A loop of poll() then recv(), as a server writes it. */
	ssize_t n = -1;
	for (int tries = 0; tries < 4 && n < 0; tries++)
		if (poll(&on_socket, 1, 100) > 0)
			n = recv(st[1], buf, 10, 0);
	report("poll-recv-loop", n);
	return 0;
}
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slfault")
    (folder / "probe.c").write_text(PROBE)
    subprocess.run(["gcc", "-O2", "-o", str(folder / "probe"), str(folder / "probe.c")], check=True, timeout=60)
    return folder / "probe"


def run(probe, faults):
    env = dict(os.environ, LD_PRELOAD=str(SLFAULT), SOCKLAB_FAULTS=faults)
    out = subprocess.run([str(probe)], capture_output=True, text=True, timeout=10, env=env)
    assert out.returncode == 0, out.stderr
    return {line.split()[0]: line.split(None, 1)[1].strip() for line in out.stdout.splitlines()}


def test_no_faults_changes_nothing(probe):
    got = run(probe, "")
    assert got["stream-send-1"] == "100" and got["stream-send-2"] == "100"
    assert got["dgram-send-1"] == "100" and got["pipe-write"] == "100" and got["send-all"] == "1000"
    assert got["poll-wait-1"] == "1" and got["poll-pipe"] == "1" and got["poll-recv-loop"] == "10"


def test_eintr_interrupts_every_other_socket_call(probe):
    got = run(probe, "eintr")
    assert got["stream-send-1"] == "-1 Interrupted system call"
    assert got["stream-send-2"] == "100"
    assert got["dgram-send-1"] == "-1 Interrupted system call" and got["dgram-send-2"] == "100"
    assert got["pipe-write"] == "100", "a pipe is not a socket: left alone"
    assert got["send-all"] == "1000", "a loop that tries again gets every byte through"


def test_eintr_interrupts_every_other_poll_that_waits_on_a_socket(probe):
    got = run(probe, "eintr")
    assert got["poll-now"] == "1", "a poll that does not wait is never interrupted"
    assert got["poll-wait-1"] == "-1 Interrupted system call" and got["poll-wait-2"] == "1"
    assert got["poll-pipe"] == "1", "a poll on no socket is left alone"
    assert got["poll-recv-loop"] == "10", "poll and recv count apart: a poll-then-recv loop gets its data"


def test_short_halves_stream_sends_but_never_a_datagram(probe):
    got = run(probe, "short")
    assert got["stream-send-1"] == "50" and got["stream-send-2"] == "50"
    assert got["dgram-send-1"] == "100" and got["dgram-send-2"] == "100"
    assert got["pipe-write"] == "100"
    assert got["send-all"] == "1000"


def test_both_faults_and_unknown_words(probe):
    got = run(probe, "short,eintr,nonsense")
    assert got["stream-send-1"].startswith("-1") and got["stream-send-2"] == "50"
    assert got["send-all"] == "1000"
