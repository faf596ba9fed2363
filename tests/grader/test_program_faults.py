"""What a misbehaving program makes the grader's peers raise is that
program's failure, never a grader error (issue 14, part 4)."""
import ssl

from socklab.plugin import program_fault


class _Prog:
    def __init__(self, name):
        self.name = name


class _Case:
    def __init__(self, *names):
        self.programs = [_Prog(n) for n in names]


def test_a_reset_or_a_timeout_is_the_programs_failure():
    failure = program_fault(ConnectionResetError(104, "Connection reset by peer"), _Case("chatserver"))
    assert failure.summary == ("chatserver reset the connection "
                               "(ConnectionResetError: [Errno 104] Connection reset by peer)")
    assert "did not answer in time (TimeoutError)" in program_fault(TimeoutError(), _Case("a", "b")).summary
    assert program_fault(TimeoutError(), _Case("b", "a")).summary.startswith("a, b ")
    garbage = UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
    assert "sent bytes that are not UTF-8 text" in program_fault(garbage, _Case("chatserver")).summary
    assert program_fault(ssl.SSLError(1, "bad record"), _Case("smtpclient")) is not None


def test_before_any_program_ran_or_for_a_bug_of_the_grader_it_stays_an_error():
    assert program_fault(ConnectionResetError(), _Case()) is None, "no program ran: the grader's own problem"
    assert program_fault(ConnectionResetError(), None) is None
    assert program_fault(KeyError("x"), _Case("chatserver")) is None
    assert program_fault(ValueError("bad"), _Case("chatserver")) is None
