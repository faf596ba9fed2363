"""Feedback a student can act on: the steps a case ran, what it expected,
what it saw first that differed, and a hint."""

import time

PREVIEW = 72


class CaseFailure(Exception):
    """The submission did not behave as the case expects (not a grader bug)."""

    def __init__(self, summary, expected=None, saw=None, difference=None, hint=None):
        super().__init__(summary)
        self.summary = summary
        self.expected = expected
        self.saw = saw
        self.difference = difference
        self.hint = hint

    def text(self):
        """The failure as indented lines for the report."""
        lines = [self.summary]
        for label, value in (("Expected", self.expected), ("Saw", self.saw),
                             ("First difference", self.difference), ("Hint", self.hint)):
            if value:
                lines.append(f"{label + ':':17} {value}")
        return "\n".join(lines)


class NotChecked(Exception):
    """The case could not be decided here (e.g. no capture rights)."""


def show_bytes(data, limit=PREVIEW):
    """A short, unambiguous rendering of DATA: 'abc\\n' … (N bytes)."""
    if data is None:
        return "nothing"
    if isinstance(data, str):
        data = data.encode()
    if not data:
        return "nothing (0 bytes)"
    head = data[:limit]
    text = repr(head)[1:]  # b'..' -> '..'
    more = f" … ({len(data)} bytes)" if len(data) > limit else ""
    return text + more


def first_difference(expected, seen):
    """Describe where SEEN first differs from EXPECTED (bytes), or None."""
    if expected == seen:
        return None
    n = min(len(expected), len(seen))
    i = next((k for k in range(n) if expected[k] != seen[k]), n)
    lo = max(0, i - 8)
    exp_ctx = show_bytes(expected[lo:i + 8], 32) if i < len(expected) else "end of data"
    saw_ctx = show_bytes(seen[lo:i + 8], 32) if i < len(seen) else "end of data"
    return (f"at byte {i} (of {len(expected)} expected, {len(seen)} seen): "
            f"expected {exp_ctx} near there, saw {saw_ctx}")


def explain_difference(expected, seen):
    """What a student would call the difference between EXPECTED and SEEN
    (bytes), when it is one of the usual ones; None otherwise."""
    if expected == seen:
        return None
    if not seen:
        return "nothing came at all: the reply (or output) never arrived"
    for check in (_line_end_difference, _length_difference, _byte_order_difference, _case_difference):
        found = check(expected, seen)
        if found:
            return found
    return None


def _line_end_difference(expected, seen):
    if seen + b"\n" == expected:
        return "it is right but for the newline ('\\n') that must end it"
    if seen == expected + b"\n":
        return "it is right but for one newline ('\\n') too many at the end"
    if b"\r\n" in expected and seen == expected.replace(b"\r\n", b"\n"):
        return "lines end with '\\n' alone where the protocol requires CRLF ('\\r\\n')"
    if b"\r\n" in seen and seen.replace(b"\r\n", b"\n") == expected:
        return "lines end with CRLF ('\\r\\n') where '\\n' alone is expected"
    if seen.strip(b" ") == expected and seen != expected:
        return "it is right but for extra spaces at its start or end"
    return None


def _length_difference(expected, seen):
    if expected.startswith(seen):
        return (f"only the first {len(seen)} of {len(expected)} bytes came; the rest is missing "
                f"(a message read or sent with one call, or cut at a buffer's size?)")
    if seen.startswith(expected):
        return f"the {len(expected)} expected bytes came, then {len(seen) - len(expected)} bytes too many"
    if abs(len(seen) - len(expected)) == 1:
        return f"one byte too {'many' if len(seen) > len(expected) else 'few'}: a length off by one?"
    return None


def _byte_order_difference(expected, seen):
    """One field of 2, 4 or 8 bytes, reversed, and nothing else different."""
    if len(seen) != len(expected):
        return None
    diffs = [i for i in range(len(seen)) if seen[i] != expected[i]]
    # The widest field first: zeros around a short field fit a wider one too.
    names = {8: "htobe64/be64toh", 4: "htonl/ntohl", 2: "htons/ntohs"}
    for width, convert in names.items():
        for first in range(max(0, diffs[-1] - width + 1), diffs[0] + 1):
            field = slice(first, first + width)
            if first + width <= len(seen) and seen[field] == expected[field][::-1]:
                return (f"bytes {first}-{first + width - 1} are in the opposite order: a {width * 8}-bit "
                        f"number in host byte order, not network byte order (convert with {convert})")
    return None


def _case_difference(expected, seen):
    if seen.lower() == expected.lower():
        return "the same text, but letters differ in upper and lower case"
    return None


class Trace:
    """The steps of a scenario as they ran, with times relative to the start."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.steps = []

    def step(self, text):
        self.steps.append((time.monotonic() - self.t0, text))

    def text(self):
        return "\n".join(f"{i:2}. [{t:6.3f} s] {s}" for i, (t, s) in enumerate(self.steps, 1))


def indent(text, prefix="    "):
    return "\n".join(prefix + line if line else line for line in text.splitlines())
