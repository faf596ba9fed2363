"""Hints follow what was seen: the usual differences between what a case
expected and what a program sent are named, so that a reply missing its
newline is not hinted at as a threading problem."""
import pytest

from socklab.feedback import explain_difference

CASES = [
    (b"HB 1\n", b"HB 1", "the newline ('\\n') that must end it"),
    (b"HB 1\n", b"HB 1\n\n", "one newline ('\\n') too many"),
    (b"HTTP/1.1 200 OK\r\nA: b\r\n", b"HTTP/1.1 200 OK\nA: b\n", "requires CRLF"),
    (b"OK\n", b"OK\r\n", "CRLF ('\\r\\n') where '\\n' alone"),
    (b"\x00\x05hello", b"\x05\x00hello", "bytes 0-1 are in the opposite order"),
    (b"L\x00\x00\x10\x00zz", b"L\x00\x10\x00\x00zz", "bytes 1-4 are in the opposite order: a 32-bit"),
    (b"x" * 1000, b"x" * 400, "only the first 400 of 1000 bytes came"),
    (b"abc\n", b"abc\nabc\n", "then 4 bytes too many"),
    (b"abcd", b"abcde"[:3] + b"xy", "one byte too many"),
    (b"HELLO\n", b"hello\n", "upper and lower case"),
    (b"reply\n", b"", "never arrived"),
    (b"HTTP/1.1 200 OK\r\n", b" HTTP/1.1 200 OK\r\n", "extra spaces at its start"),
]


@pytest.mark.parametrize("expected, seen, words", CASES)
def test_usual_differences_are_named(expected, seen, words):
    got = explain_difference(expected, seen)
    assert got and words in got, got


def test_unusual_differences_keep_the_cases_own_hint():
    assert explain_difference(b"abcdef", b"abxdef") is None
    assert explain_difference(b"same", b"same") is None


def test_sanitizer_failure_names_the_kind_of_report():
    from socklab.case import sanitizer_failure
    race = sanitizer_failure("hbserver", "WARNING: ThreadSanitizer: data race (pid=12)\n  Write of size 8")
    assert "found a data race" in race.summary
    misuse = sanitizer_failure("hbclient", "WARNING: ThreadSanitizer: unlock of an unlocked mutex (or by a "
                                           "wrong thread) (pid=9)")
    assert "misuse of a lock" in misuse.summary and "data race" not in misuse.summary
    asan = sanitizer_failure("tcpserver", "==1==ERROR: AddressSanitizer: heap-buffer-overflow on address")
    assert "memory or undefined-behaviour error" in asan.summary
