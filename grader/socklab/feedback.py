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
