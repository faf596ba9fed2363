"""Capturing a case's traffic with pcapcheck and reading its verdict."""

import json
import os
import select
import signal
import subprocess
import time

from .feedback import NotChecked
from .paths import PCAPCHECK

READY_MARK = b"pcapcheck: capturing on"
BUDGET_MARK = b"pcapcheck: budget: "
# A case's capture budget: whole packets up to FULL_BYTES of file, then their
# headers only (every segment, length and flag still seen), then nothing
# after MAX_BYTES; a program that floods its peer cannot fill the disk.
FULL_BYTES = 8 << 20
MAX_BYTES = 32 << 20


class CaptureError(Exception):
    """pcapcheck could not capture or analyse (a grader problem, not the student's)."""


class Capture:
    """pcapcheck capture on lo for the duration of one case."""

    def __init__(self, path, iface="lo", ready_timeout=5.0, snaplen=None):
        self.path = path
        snap = ["-s", str(snaplen)] if snaplen else []
        budget = ["--full-bytes", str(FULL_BYTES), "--max-bytes", str(MAX_BYTES)]
        # Same process group as the pytest worker: killing the grading run kills it.
        self.proc = subprocess.Popen([PCAPCHECK, "capture", "-i", iface, *snap, *budget, "-w", path],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.errors = b""
        self._verdict = None
        self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout):
        """Read stderr until pcapcheck says it is capturing (deadline TIMEOUT s)."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stderr.fileno()
        while READY_MARK not in self.errors:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise CaptureError(f"pcapcheck capture did not start: {self.errors.decode(errors='replace')}")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    continue
                self.errors += chunk

    def stop(self, timeout=5.0):
        """SIGTERM pcapcheck (it drains the kernel queue and flushes) and wait for it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=timeout)
            self.errors += err or b""
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise CaptureError("pcapcheck capture did not stop within 5 s after SIGTERM")

    def verdict(self, options=()):
        """pcapcheck analyze --json of the capture (computed once)."""
        if self._verdict is None:
            self._verdict = analyze(self.path, options)
            note = self.budget_note()
            if note:
                self._verdict["budget"] = note
        return self._verdict

    def budget_note(self):
        """What the capture budget cut, in a sentence, or None."""
        for line in self.errors.splitlines():
            if line.startswith(BUDGET_MARK):
                numbers = [int(w) for w in line[len(BUDGET_MARK):].split() if w.isdigit()]
                if len(numbers) == 4:
                    cut, full, unwritten, most = numbers
                    parts = [f"{cut} packets after the first {full >> 20} MiB kept only their headers"] if cut else []
                    if unwritten:
                        parts.append(f"{unwritten} packets after {most >> 20} MiB were not written")
                    return f"the capture was cut by its budget of a case: {', '.join(parts)}"
        return None


def analyze(path, options=(), timeout=30):
    """Run pcapcheck analyze --json [OPTIONS] on PATH and return the parsed verdict."""
    try:
        out = subprocess.run([PCAPCHECK, "analyze", path, "--json", *options], capture_output=True,
                             timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise CaptureError(f"pcapcheck analyze {path} took more than {timeout} s") from e
    if out.returncode != 0:
        raise CaptureError(f"pcapcheck analyze {path} failed: {out.stderr.decode(errors='replace').strip()}")
    return json.loads(out.stdout)


def ladder_page(path, out, options=(), timeout=30):
    """Write the TA's HTML page of the capture PATH (pcapcheck report --html)
    to OUT; None, or why it could not be written."""
    try:
        done = subprocess.run([PCAPCHECK, "report", path, "--html", "-o", out, *options], capture_output=True,
                              text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    return None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["failed"])[-1]


def search(path, strings, timeout=30):
    """Run pcapcheck search --json on PATH for STRINGS (bytes or str, taken
    literally) and return the parsed result: per TCP connection and
    direction, where TLS starts and where each string occurs."""
    raw = [s.encode() if isinstance(s, str) else s for s in strings]
    # Bytes go through pcapcheck's \xHH escapes: argv cannot carry NUL.
    args = ["".join(chr(b) if 0x20 <= b <= 0x7e and b != 0x5c else f"\\x{b:02x}" for b in r) for r in raw]
    try:
        out = subprocess.run([PCAPCHECK, "search", path, "--json", "--", *args], capture_output=True,
                             timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise CaptureError(f"pcapcheck search {path} took more than {timeout} s") from e
    if out.returncode != 0:
        raise CaptureError(f"pcapcheck search {path} failed: {out.stderr.decode(errors='replace').strip()}")
    return json.loads(out.stdout)


def endpoint(e):
    addr = e["addr"]
    return f"[{addr}]:{e['port']}" if ":" in addr else f"{addr}:{e['port']}"


def summarize(verdict, limit=8):
    """One line per connection / flow, for feedback."""
    lines = []
    shown = 0
    for c in verdict.get("tcp", [])[:limit]:
        shown += 1
        td = c.get("teardown", {})
        closer = {"orig": "client closed first", "resp": "server closed first"}.get(
            td.get("first_closer"), "nobody closed")
        lines.append(f"TCP #{c['id']} {endpoint(c['orig'])} → {endpoint(c['resp'])}: "
                     f"conn_state {c['conn_state']}, history {c['history']}, "
                     f"teardown {td.get('kind') or 'unknown'}, {closer}; "
                     f"bytes {c['orig_bytes']} → / ← {c['resp_bytes']}")
        for side, closed in (c.get("grader_closed") or {}).items():
            if closed:
                lines.append(f"    the {'client' if side == 'orig' else 'server'}'s {closed[1]} came only after "
                             f"the grader stopped {closed[0]}: not the program's own close")
        hb = c.get("heartbeats")
        if hb:
            lines.append("    " + heartbeat_text(hb))
    for u in verdict.get("udp", [])[:limit]:
        shown += 1
        lines.append(f"UDP #{u['id']} {endpoint(u['orig'])} → {endpoint(u['resp'])}: "
                     f"{u['orig_dgrams']} datagrams → / ← {u['resp_dgrams']}, "
                     f"{u['pairs']} answered, {u['unanswered']} unanswered")
    if verdict.get("budget"):
        lines.append(verdict["budget"])
    hidden = len(verdict.get("tcp", [])) + len(verdict.get("udp", [])) - shown
    if hidden > 0:
        lines.append(f"… and {hidden} more")
    if not lines:
        lines.append("no TCP connection and no UDP flow in the capture")
    return lines


def heartbeat_text(hb):
    """One line about a connection's heartbeats, as pcapcheck found them."""
    if not hb["requests"]:
        return "heartbeats: none (no heartbeat request in this connection)"
    by = {"orig": " by the client", "resp": " by the server"}.get(hb.get("requester"), "")
    text = (f"heartbeats: {hb['requests']} requests{by}, {hb['pairs']} answered, "
            f"{hb['unanswered']} unanswered (longest run {hb['max_consecutive_unanswered']})")
    iv = hb.get("interval_ms")
    if iv:
        text += f", interval {iv['mean']:.1f} ms ({iv['min']:.1f}–{iv['max']:.1f})"
    rd = hb.get("reply_delay_ms")
    if rd:
        text += f", reply delay max {rd['max']:.1f} ms"
    return text


class NoCapture:
    """Stands in for Capture where we have no capture rights (host mode)."""

    path = None

    def stop(self):
        pass

    def verdict(self, options=()):
        raise NotChecked("no capture rights here (no network namespace): capture checks are not checked")
