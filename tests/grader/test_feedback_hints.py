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
