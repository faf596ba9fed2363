"""The sandboxed runner, the scripted peers and the namespace helpers."""
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from socklab import isolation, peers
from socklab.feedback import Trace
from socklab.paths import ROOT
from socklab.proc import OUTPUT_CAP, Limits, Program, describe_status, sanitizer_report

PY = "/usr/bin/python3"


@pytest.fixture(scope="module", autouse=True)
def slrun_built():
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "grader", "sandbox")], check=True)


@pytest.fixture
def workdir(tmp_path):
    os.chmod(tmp_path, 0o755)
    return str(tmp_path)


def _script(workdir, name, body):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(f"#!{PY}\n{body}\n")
    os.chmod(path, 0o755)
    return name


def test_describe_status_names_signals():
    assert describe_status(0) == "exited with status 0"
    assert describe_status(-11) == "killed by SIGSEGV (Segmentation fault)"
    assert describe_status(None) == "still running"


def test_crash_is_reported_with_its_signal(workdir):
    name = _script(workdir, "crasher", "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)")
    prog = Program(Trace(), "crasher", [name], workdir, Limits())
    assert prog.wait_exit(10) == -signal.SIGSEGV
    assert prog.crashed() == "SIGSEGV"
    assert "SIGSEGV" in prog.status_text()


def test_output_is_capped_and_says_so(workdir):
    name = _script(workdir, "chatty", "import sys\nsys.stderr.write('x' * (3 << 20))")
    prog = Program(Trace(), "chatty", [name], workdir, Limits())
    assert prog.wait_exit(10) == 0
    assert len(prog.stderr.bytes()) == OUTPUT_CAP
    assert "more bytes were cut" in prog.stderr.tail()


def test_stop_kills_a_program_that_ignores_sigterm_and_its_children(workdir):
    body = ("import os, signal, time, subprocess\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "child = subprocess.Popen(['sleep', '300'])\nprint(child.pid, flush=True)\n"
            "while True: time.sleep(1)")
    name = _script(workdir, "stubborn", body)
    prog = Program(Trace(), "stubborn", [name], workdir, Limits())
    assert prog.wait_output(rb"\d+\n", 10)
    child = int(prog.stdout.bytes())
    t0 = time.monotonic()
    prog.stop(grace=0.2)
    assert time.monotonic() - t0 < 5
    assert prog.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{child}") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not os.path.exists(f"/proc/{child}") or open(f"/proc/{child}/stat").read().split()[2] == "Z"


def test_wait_output_has_a_deadline(workdir):
    name = _script(workdir, "silent", "import time\ntime.sleep(30)")
    prog = Program(Trace(), "silent", [name], workdir, Limits())
    t0 = time.monotonic()
    assert not prog.wait_output(rb"never", 0.3)
    assert 0.25 < time.monotonic() - t0 < 3
    prog.stop(grace=0.1)


def test_sanitizer_report_is_found():
    text = b"log line\n==1==ERROR: AddressSanitizer: heap-buffer-overflow on address\n#0 main\n"
    assert sanitizer_report(text).startswith("==1==ERROR: AddressSanitizer")
    assert sanitizer_report(b"x.c:3:5: runtime error: signed integer overflow\n").startswith("x.c:3:5")
    assert sanitizer_report(b"all fine\n") is None


def test_tcp_peer_chunks_arrive_whole_and_reset_is_seen():
    trace = Trace()
    listener = peers.TcpListener(trace, 0)
    client, err = peers.tcp_connect(trace, listener.port)
    assert err is None
    server = listener.accept(2)
    client.send(b"a" * 1000 + b"\n", chunk=100)
    got = server.recv_until(b"\n", timeout=2)
    assert got == (b"a" * 1000 + b"\n", "delimiter")
    assert server.recv_until(b"\n", timeout=0.2).how == "timeout"
    client.reset()
    assert server.recv_to_eof(timeout=2).how == "reset"
    assert any("11 pieces of 100 bytes" in s for _, s in trace.steps)
    listener.close()


def test_tcp_connect_refused_reports_the_reason():
    port = isolation.free_port()
    conn, err = peers.tcp_connect(Trace(), port)
    assert conn is None and "refused" in err.lower()


def test_udp_drop_schedule_is_reproducible():
    def run(seed):
        server = peers.UdpServerPeer(Trace(), 0, lambda d: d.upper(), seed=seed, drop=0.5)
        client = peers.UdpPeer(Trace())
        answered = []
        for i in range(12):
            client.sendto(b"p%d" % i, ("127.0.0.1", server.peer.port))
            answered.append(client.recv(timeout=0.3) is not None)
        server.close()
        client.close()
        return answered, [d for _, _, d in server.log]
    first, second = run(7), run(7)
    assert first == second
    assert True in first[0] and False in first[0]
    assert [a for a in first[0]] == [d == "answered" for d in first[1]]


def test_fresh_namespace_has_only_its_own_ports():
    if isolation.choose().mode == "host":
        pytest.skip("no network namespaces on this machine")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            isolation.unshare(isolation.CLONE_NEWNET)
            isolation.bring_loopback_up()
            empty = isolation.bound_ports("tcp") == set()
            listener = peers.TcpListener(Trace(), 24999)
            code = 0 if empty and 24999 in isolation.bound_ports("tcp") else 2
            listener.close()
        finally:
            os.write(w, bytes([code]))
            os._exit(0)
    os.close(w)
    result = os.read(r, 1)
    os.waitpid(pid, 0)
    assert result == b"\0"


def test_a_flood_is_read_up_to_the_limit_and_called_too_large():
    listener = socket.create_server(("127.0.0.1", 0))
    ours = socket.create_connection(listener.getsockname())
    theirs, _ = listener.accept()
    stop = threading.Event()

    def flood():
        try:
            while not stop.is_set():
                theirs.sendall(b"x" * (1 << 16))
        except OSError:
            pass

    threading.Thread(target=flood, daemon=True).start()
    trace = Trace()
    conn = peers.TcpConn(ours, trace, "client")
    try:
        got = conn.recv_to_eof(timeout=10, limit=1 << 20)
        assert got.how == "limit" and (1 << 20) <= len(got.data) < (1 << 20) + (1 << 18)
        conn.pending = b""
        got = conn.recv_exact(1 << 30, timeout=10, limit=1 << 20)
        assert got.how == "limit" and len(got.data) == 1 << 20
    finally:
        stop.set()
        theirs.close()
        conn.close()
        listener.close()
    assert trace.text().count("response too large") == 2


def test_feeding_a_program_that_never_reads_its_input_holds_up_nothing(workdir):
    name = _script(workdir, "deaf", "import time\ntime.sleep(30)")
    prog = Program(Trace(), "deaf", [name], workdir, Limits())
    t0 = time.monotonic()
    prog.feed(b"x" * (4 << 20), close=True)     # far more than a pipe holds
    assert time.monotonic() - t0 < 1.0
    prog.stop(grace=0)
    assert "could not write stdin" in prog.trace.text()
