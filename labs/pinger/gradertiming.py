"""Timing checks that judge only the student's program.

Two things make a timing verdict unfair on a loaded machine: measuring
something the grader did (its own scripted peer's pace, its own late
answer), and measuring one packet against the packet before it, so that
one late packet makes the next look early.  This module gives the cases
of the timing-heavy labs what they need to avoid both:

- LatenessProbe: a thread of the grader that wakes every few ms and notes
  how late it woke.  When the grader's own threads were held back for
  longer than a case's tolerance, what the case saw may be the grader's
  doing: the case runs its scenario again (judged()), and after a few
  attempts reports "could not judge: the grader was late" (NotChecked),
  never a failure.
- schedule_misses(): each periodic message measured against the program's
  own schedule (an origin plus k intervals, or one interval after the
  message before it, whichever is kinder), not against the message before.

The same file is in labs/heartbeat and labs/pinger (each lab ships alone);
tests/labs/test_loaded_machine.py checks that the copies agree.
"""

import threading
import time

from socklab.feedback import CaseFailure, NotChecked


class GraderLate(Exception):
    """The grader itself was too late for this attempt to be judged."""


class LatenessProbe:
    """A thread that wakes every TICK s and records how late it woke: how
    long the grader's own threads may have been held back at each moment."""

    TICK = 0.005

    def __init__(self):
        self.samples = []           # (monotonic wake time, seconds late)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="socklab-lateness-probe")
        self.thread.start()

    def _run(self):
        due = time.monotonic() + self.TICK
        while not self.stopping.wait(max(0.0, due - time.monotonic())):
            now = time.monotonic()
            self.samples.append((now, now - due))
            due = now + self.TICK

    def worst(self, start, end=None):
        """The longest the grader was held back between START and END
        (monotonic seconds; END: now), in ms."""
        end = time.monotonic() if end is None else end
        return 1000 * max((late for woke, late in list(self.samples)
                           if woke >= start and woke - late <= end), default=0.0)

    def close(self):
        self.stopping.set()
        self.thread.join(1)


def probe(case):
    """The case's lateness probe (one per case, stopped with its peers)."""
    if getattr(case, "_lateness_probe", None) is None:
        case._lateness_probe = case.add_resource(LatenessProbe())
    return case._lateness_probe


def judged(case, scenario, tolerance_ms, attempts=3):
    """Run scenario(attempt) (attempt counts from 0) until it is judged.

    An attempt is not judged when the scenario raises GraderLate, or when it
    fails while the grader itself was held back for more than TOLERANCE_MS
    (None: a failure always counts): then it runs again (the scenario must use fresh peers and ports, see
    attempt_port()).  After ATTEMPTS such attempts the case is not checked."""
    lateness = probe(case)
    why = None
    for attempt in range(attempts):
        started = time.monotonic()
        try:
            return scenario(attempt)
        except GraderLate as e:
            why = str(e)
        except CaseFailure as e:
            late = lateness.worst(started)
            if tolerance_ms is None or late <= tolerance_ms:
                raise
            why = f"the grader's own threads were held back {late:.0f} ms (more than {tolerance_ms} ms)"
            case.step(f"what attempt {attempt + 1} saw: {e.summary}")
        case.step(f"could not judge attempt {attempt + 1}: {why}; "
                  + ("running the scenario again" if attempt + 1 < attempts else "giving up"))
    raise NotChecked(f"could not judge: the grader was late in {attempts} attempts ({why}); "
                     "grade again on a less busy machine")


def attempt_port(case, attempt):
    """The port of attempt ATTEMPT: the case's own first, then fresh ones
    (a program of an earlier attempt may still hold the case's port)."""
    if attempt == 0:
        return case.port
    if case.iso.mode == "host":
        from socklab import isolation
        return isolation.free_port()
    return case.port + attempt


def schedule_misses(times, origin, interval, tolerance):
    """Judge periodic messages against the program's own schedule.

    TIMES: when messages 1, 2, ... left (seconds); message k is due at
    ORIGIN + k * INTERVAL (an absolute schedule), or one INTERVAL after
    message k-1 (a schedule that starts again after a late message).  A
    message is early when it left more than TOLERANCE before the earlier of
    the two, late by how much it left after the later of the two: a late
    message never makes the next one look early or late.

    Returns (early, late): [(k, seconds early)] for every early message, and
    the median lateness (seconds, 0 or more; the lower median: more than
    half of the messages must be late for it to be)."""
    early, lateness = [], []
    prev = None
    for k, t in enumerate(times, 1):
        fixed = origin + k * interval
        after_prev = fixed if prev is None else prev + interval
        if t < min(fixed, after_prev) - tolerance:
            early.append((k, min(fixed, after_prev) - t))
        lateness.append(max(0.0, t - max(fixed, after_prev)))
        prev = t
    ordered = sorted(lateness)
    return early, ordered[(len(ordered) - 1) // 2] if ordered else 0.0
