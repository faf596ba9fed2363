"""A FIN the kernel sent because the grader stopped a program is not the
program's own close: the case attributes each side's first FIN or RST to a
program it stopped when that program held the connection's port then, and
expect_fin_teardown fails such a side."""
import socket
import subprocess
import sys
import time

import pytest

from socklab.case import Case
from socklab.feedback import CaseFailure
from socklab.proc import tcp_ports_of_tree


class _Stopped:
    def __init__(self, name, stopped_at, ports):
        self.name, self.stopped_at, self.ports_at_stop = name, stopped_at, frozenset(ports)


class _FakeCase:
    """Just what _grader_closed and expect_fin_teardown use of a Case."""
    _grader_closed = Case._grader_closed
    expect_fin_teardown = Case.expect_fin_teardown

    def __init__(self, programs):
        self.programs = programs

    def _stopped_programs(self):
        return [p for p in self.programs if p.stopped_at is not None]

    def fail(self, summary, **details):
        raise CaseFailure(summary, **details)


def _conn(closes, kind="four-way-fin", first="orig"):
    return {"orig": {"addr": "127.0.0.1", "port": 40000}, "resp": {"addr": "127.0.0.1", "port": 24680},
            "conn_state": "SF", "history": "ShADadFf",
            "teardown": {"kind": kind, "first_closer": first},
            "closes": [{"from": side, "flag": flag, "time": t} for side, flag, t in closes]}


def test_a_fin_after_the_stop_of_the_port_holder_is_the_graders():
    case = _FakeCase([_Stopped("tcpserver", 100.0, {24680})])
    c = _conn([("orig", "FIN", 99.0), ("resp", "FIN", 100.2)])
    assert case._grader_closed(c) == {"orig": None, "resp": ("tcpserver", "FIN")}
    c["grader_closed"] = case._grader_closed(c)
    with pytest.raises(CaseFailure) as e:
        case.expect_fin_teardown(c, "orig", "tcpserver")
    assert "never closed the connection itself" in e.value.summary
    assert "stopped tcpserver" in e.value.summary


def test_a_fin_before_the_stop_is_the_programs_own():
    case = _FakeCase([_Stopped("tcpserver", 100.0, {24680})])
    c = _conn([("orig", "FIN", 99.0), ("resp", "FIN", 99.5)])
    c["grader_closed"] = case._grader_closed(c)
    assert c["grader_closed"] == {"orig": None, "resp": None}
    case.expect_fin_teardown(c, "orig", "tcpserver")   # passes: raises nothing


def test_a_fin_of_a_port_the_stopped_program_did_not_hold_is_not_the_graders():
    case = _FakeCase([_Stopped("tcpclient", 100.0, {51000}), _Stopped("other", None, {24680})])
    c = _conn([("orig", "FIN", 99.0), ("resp", "FIN", 101.0)])
    assert case._grader_closed(c) == {"orig": None, "resp": None}


def test_a_reset_after_the_stop_counts_too():
    case = _FakeCase([_Stopped("tcpclient", 100.0, {40000})])
    c = _conn([("orig", "RST", 100.5)], kind="reset-by-originator")
    assert case._grader_closed(c)["orig"] == ("tcpclient", "RST")


def test_the_ports_a_process_tree_holds_are_found():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    child = subprocess.Popen([sys.executable, "-c",
                              "import socket,sys,time\n"
                              f"s=socket.create_connection(('127.0.0.1',{port}))\n"
                              "print(s.getsockname()[1],flush=True)\n"
                              "time.sleep(30)\n"], stdout=subprocess.PIPE)
    try:
        conn, _ = listener.accept()
        theirs = int(child.stdout.readline())
        deadline = time.monotonic() + 5
        while theirs not in tcp_ports_of_tree(child.pid) and time.monotonic() < deadline:
            time.sleep(0.01)   # polling the condition, with a deadline
        assert theirs in tcp_ports_of_tree(child.pid)
        assert port not in tcp_ports_of_tree(child.pid)
        conn.close()
    finally:
        child.kill()
        child.wait(5)
        listener.close()
