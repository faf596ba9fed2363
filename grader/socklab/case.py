"""One grading case: its namespace, capture, programs, peers and record.

A test receives a Case through the `case` fixture, starts the student's
binaries and scripted peers through it, and fails through case.fail() with
text a student can act on.  At the end the Case stops everything, looks for
crashes and sanitizer reports, and writes the record the reports are made of.
"""

import os
import shutil
import tempfile
import time

from . import capture as capmod
from . import cgroups, isolation, peers, safetext
from .foldercap import FolderCap
from .feedback import CaseFailure, NotChecked, Trace, explain_difference, first_difference, indent, show_bytes
from .labspec import BUILD_VARIANTS, FAULTS
from .paths import SLFAULT, session_tmp
from .proc import Program, chown_tree, make_case_folder, sanitizer_report, size_bytes, size_text


def unrun_record(name, title, visibility, max_points, status, summary, feedback):
    """The record of a case that did not run (or could not start)."""
    return {"name": name, "title": title, "visibility": visibility, "max_points": max_points,
            "points": 0, "status": status, "summary": summary, "feedback": feedback,
            "seconds": 0, "capture": None, "verdict": [], "isolation": None, "programs": []}


def unrun_records(lab, status, summary, feedback):
    """The records of every case of LAB when none could run (the same why for all)."""
    return [unrun_record(name, spec.title, spec.visibility, spec.points, status, summary, feedback)
            for name, spec in lab.cases.items()]


def sanitizer_failure(name, report):
    """The CaseFailure for program NAME's sanitizer REPORT, by the report's kind."""
    first = report.splitlines()[0]
    if "ThreadSanitizer" in report and "data race" not in first:
        return CaseFailure(f"{name}: ThreadSanitizer found a misuse of a lock",
                           expected="no ThreadSanitizer report", saw=first,
                           hint="read the report below: a mutex unlocked that this thread does not hold, "
                                "destroyed while locked, or locked twice; every lock needs its unlock on "
                                "every path, in the same thread")
    if "ThreadSanitizer" in report:
        return CaseFailure(f"{name}: ThreadSanitizer found a data race (two threads used the same memory, at "
                           "least one writing, with no lock between them)",
                           expected="no ThreadSanitizer report", saw=first,
                           hint="read the report below: it names both accesses and the locks each thread "
                                "held; guard the shared data with one mutex everywhere")
    return CaseFailure(f"{name}: the sanitizer found a memory or undefined-behaviour error",
                       expected="no AddressSanitizer or UndefinedBehaviorSanitizer report", saw=first,
                       hint="read the sanitizer report below: its first frame is the line of the error")


CASE_FOLDER_CAP = 512 << 20    # bytes a case's programs may write into the case's folder


class Case:
    def __init__(self, spec, lab, build_dir, iso, results_dir, limits, build_problem=None):
        self.spec = spec
        self.build_problem = build_problem   # the case's build variant failed: why
        self.lab = lab
        self.iso = iso
        self.groups = self._make_groups(spec.name, limits)
        self.limits = limits.in_groups(self.groups) if self.groups else limits
        self.limit_events = {}
        self.trace = Trace()
        self.programs = []
        self._resources = []
        self.started = time.monotonic()
        self.results_dir = results_dir
        self.port = lab.grading_port if iso.mode != "host" else isolation.free_port()
        self.workdir = self._private_copy(build_dir)
        self.folder_cap = FolderCap(os.path.dirname(self.workdir), CASE_FOLDER_CAP, self._folder_full)
        self.capture = self._start_capture()
        self._verdict = None

    # --- set-up ---------------------------------------------------------
    def _make_groups(self, name, limits):
        """The case's control groups (root only): its programs' processes and
        threads counted together against pids.max (the process limit, plus
        slrun and its init), their memory against one limit."""
        if not self.iso.is_root:
            return None
        memory = size_bytes(limits.values["mem"]) if "mem" in limits.values else None
        return cgroups.make(cgroups.unique_name(name), int(limits.values["nproc"]) + 2, memory)

    def _private_copy(self, build_dir):
        """A private copy of the built submission: the work dir, owned by the
        student uid, in the case's folder (TOP), which stays the grader's."""
        top = tempfile.mkdtemp(prefix=f"socklab-{self.spec.name}-", dir=session_tmp())
        os.chmod(top, 0o755)
        work = os.path.join(top, "work")
        shutil.copytree(build_dir, work, symlinks=True)
        if self.limits.uid is not None:
            chown_tree(work, self.limits.uid)
            make_case_folder(top, self.limits.uid)
        return work

    def _folder_full(self, size):
        """The programs wrote past the case folder's cap: stop them all (from
        the cap's thread; the case then fails on what it no longer gets)."""
        self.step(f"the case's folder holds {size >> 20} MiB, over its cap of {CASE_FOLDER_CAP >> 20} MiB: "
                  "the grader stopped every program of the case")
        for prog in list(self.programs):
            prog.stop(grace=0)

    def _start_capture(self):
        if not self.iso.can_capture:
            return capmod.NoCapture()
        os.makedirs(os.path.join(self.results_dir, "captures"), exist_ok=True)
        path = os.path.join(self.results_dir, "captures", f"{self.spec.name}.pcap")
        return capmod.Capture(path, snaplen=self.spec.snaplen)

    # --- programs and peers --------------------------------------------
    def start(self, binary, *args, stdin=None, wall=None):
        """Start the student's BINARY with ARGS (strings) in the case's sandbox,
        with the faults the case's spec asks for."""
        if self.build_problem:
            self.fail(f"this case runs the programs built for {BUILD_VARIANTS[self.spec.build]}, "
                      "and that build failed",
                      expected=f"a build of {', '.join(self.lab.binaries)} with the compiler from CC "
                               "(make CC=...)",
                      saw=self.build_problem,
                      hint="the Makefile must take the compiler from CC (make CC=...)")
        prog = Program(self.trace, binary, [binary, *map(str, args)], self.workdir, self.limits,
                       stdin=stdin, env=self._fault_env(), wall=wall or self.lab.case_timeout)
        self.programs.append(prog)
        return prog

    def _fault_env(self):
        """The environment that loads the fault injector, or None; the first
        time, a step says what the faults do."""
        if not self.spec.faults:
            return None
        library = os.path.join(os.path.dirname(self.workdir), "slfault.so")
        if not os.path.exists(library):
            shutil.copy(SLFAULT, library)   # beside the work dir: readable by the student uid
            os.chmod(library, 0o755)
            for fault in self.spec.faults:
                self.step(f"fault injection '{fault}': {FAULTS[fault]}")
        # ASan refuses to start when another library is loaded before it.
        return {"LD_PRELOAD": library, "SOCKLAB_FAULTS": ",".join(self.spec.faults),
                "ASAN_OPTIONS": "verify_asan_link_order=0"}

    def tcp_listener(self, port=None, host="127.0.0.1", label="server"):
        listener = peers.TcpListener(self.trace, self.port if port is None else port, host, label)
        self._resources.append(listener)
        return listener

    def tcp_connect(self, port=None, host="127.0.0.1", label="client", timeout=5.0):
        """Connect a scripted client or fail the case saying the server was not there."""
        port = self.port if port is None else port
        conn, error = peers.tcp_connect(self.trace, port, host, timeout, label)
        if conn is None:
            self.fail(f"the {peers.scripted(label)} could not connect to port {port}",
                      expected="the server accepts connections",
                      saw=f"connect failed: {error}")
        self._resources.append(conn)
        return conn

    def udp_peer(self, port=0, host="127.0.0.1", label="scripted client"):
        peer = peers.UdpPeer(self.trace, port, host, label)
        self._resources.append(peer)
        return peer

    def udp_server(self, reply, port=None, **kw):
        server = peers.UdpServerPeer(self.trace, self.port if port is None else port, reply, **kw)
        self._resources.append(server)
        return server

    def add_resource(self, resource):
        """Have RESOURCE (anything with a close() method: a lab's own scripted
        server, say) closed with the case's peers when the case ends."""
        self._resources.append(resource)
        return resource

    def step(self, text):
        self.trace.step(text)

    # --- waiting on conditions -------------------------------------------
    def wait_bound(self, prog, port=None, proto="tcp", timeout=5.0):
        """Wait until PORT is listening (tcp) or bound (udp); fail with what is bound instead."""
        port = self.port if port is None else port
        deadline = time.monotonic() + timeout
        while True:
            if port in isolation.bound_ports(proto):
                self.step(f"{prog.name} is {'listening' if proto == 'tcp' else 'bound'} on "
                          f"{proto.upper()} port {port}")
                return
            if not prog.running():
                hint = ("it crashed: build with --sanitize or run it under gdb to see where"
                        if prog.crashed() else "look at its stderr below: a server runs until it is stopped")
                self.fail(f"{prog.name} ended before it was ready on {proto.upper()} port {port}",
                          expected=f"{prog.name} running, {'listening' if proto == 'tcp' else 'bound'} on "
                                   f"{proto.upper()} port {port}",
                          saw=f"{prog.name} {prog.status_text()}", hint=hint)
            if time.monotonic() >= deadline:
                others = sorted(isolation.bound_ports(proto))
                saw = f"ports in use: {', '.join(map(str, others))}" if others else "no port in use at all"
                hint = None
                if self.lab.default_port in others:
                    hint = (f"it uses port {self.lab.default_port}, the default: does it ignore its "
                            f"PORT argument?")
                self.fail(f"{prog.name} was not {'listening' if proto == 'tcp' else 'bound'} on "
                          f"{proto.upper()} port {port} within {timeout} s",
                          expected=f"{proto.upper()} port {port} in use (given on the command line)",
                          saw=saw, hint=hint)
            time.sleep(0.01)  # polling /proc for the condition, with a deadline

    def accept_client(self, listener, prog, timeout=5.0):
        """Accept the connection of the student's client PROG, or fail saying it never came."""
        conn = listener.accept(timeout=timeout, while_true=prog.running)
        if conn is None:
            self.fail(f"{prog.name} never connected to the {peers.scripted(listener.label)}",
                      expected=f"a TCP connection to 127.0.0.1:{listener.port} "
                               f"(HOST and PORT from the command line)",
                      saw=f"no connection; {prog.name} {prog.status_text()}",
                      hint="connect to the HOST and PORT given as arguments, before reading stdin")
        return conn

    def wait_exit(self, prog, timeout=5.0, why="after its input ended"):
        """Wait for PROG to end; fail if it does not within TIMEOUT s."""
        rc = prog.wait_exit(timeout)
        if rc is None:
            self.fail(f"{prog.name} did not exit within {timeout} s {why}",
                      hint="a client ends when its input ends: close the socket and return from main")
        self.step(f"{prog.name} {prog.status_text()}")
        return rc

    # --- verdicts ---------------------------------------------------------
    def fail(self, summary, expected=None, saw=None, difference=None, hint=None):
        raise CaseFailure(summary, expected, saw, difference, hint)

    def expect_bytes(self, what, expected, seen, hint=None):
        """Fail unless SEEN == EXPECTED, showing the first difference; the hint
        names the difference when it is a usual one (a newline missing, CRLF
        against LF, a byte order swapped, a length off by one), else HINT."""
        if expected != seen:
            self.fail(f"{what} is not what was expected", expected=show_bytes(expected),
                      saw=show_bytes(seen), difference=first_difference(expected, seen),
                      hint=explain_difference(expected, seen) or hint)

    def settle(self):
        """Stop programs and peers, then the capture, so that the capture is complete."""
        for prog in self.programs:
            prog.stop()
        for res in self._resources:
            res.close()
        self.capture.stop()
        self._write_events()

    def _write_events(self):
        """CAPTURE.pcap.events beside the capture: when the grader stopped each
        program still running.  pcapcheck reads it with the capture (analyze,
        inspect, report --html), so a TA sees those moments and the FINs that
        came after them, as the case's verdict does."""
        stopped = self._stopped_programs()
        if not stopped or not self.capture.path or not os.path.exists(self.capture.path):
            return
        with open(self.capture.path + ".events", "w", encoding="utf-8") as f:
            f.write("# written by the grader: SECONDS=LABEL, one per line (pcapcheck analyze --help)\n")
            for p in stopped:
                f.write(f"{p.stopped_at:.6f}=grader stopped {p.name}\n")

    def verdict(self):
        """The capture verdict (stops everything first); raises NotChecked without
        capture.  Each TCP connection gets 'grader_closed': for each side, the
        program whose FIN or RST came only after the grader stopped it, or None."""
        if self._verdict is None:
            self.settle()
            verdict = self.capture.verdict(self.lab.pcapcheck_options)
            for c in verdict.get("tcp", []):
                c["grader_closed"] = self._grader_closed(c)
            self._verdict = verdict
        return self._verdict

    def _stopped_programs(self):
        return [p for p in self.programs if p.stopped_at is not None]

    def _grader_closed(self, c):
        """{side: (program, flag)} for the sides of connection C whose first FIN
        or RST came after the grader stopped the program holding that side."""
        found = {"orig": None, "resp": None}
        for side in found:
            closes = sorted((x["time"], x["flag"]) for x in c.get("closes", []) if x["from"] == side)
            for prog in self._stopped_programs():
                if closes and c[side]["port"] in prog.ports_at_stop and closes[0][0] >= prog.stopped_at:
                    found[side] = (prog.name, closes[0][1])
        return found

    def tcp_connections(self, port=None):
        """Captured TCP connections to PORT (the responder's port)."""
        port = self.port if port is None else port
        return [c for c in self.verdict()["tcp"] if c["resp"]["port"] == port]

    def expect_fin_teardown(self, c, first_closer, who):
        """Captured connection C must end SF with a four-way FIN that FIRST_CLOSER
        ("orig" or "resp") started, and no RST."""
        td = c["teardown"]
        starter = "client" if first_closer == "orig" else "server"
        for side, closed in c.get("grader_closed", {}).items():
            if closed:
                name, flag = closed
                self.fail(f"{who} never closed the connection itself: its {flag} came only when the grader "
                          f"stopped {name} at the end of the case",
                          expected=f"conn_state SF with a four-way FIN teardown started by the {starter}, "
                                   f"while {name} was still running",
                          saw=f"the {'client' if side == 'orig' else 'server'}'s first {flag} after the grader "
                              f"stopped {name}; conn_state {c['conn_state']}, history {c['history']}",
                          hint="close() the socket yourself when the conversation is over (recv() returning 0 "
                               "means the other side closed); the kernel's close at exit is not yours")
        if td["kind"].startswith("reset"):
            self.fail(f"{who} ended the connection with a reset (RST) instead of a FIN",
                      expected=f"conn_state SF with a four-way FIN teardown started by the {starter}",
                      saw=f"conn_state {c['conn_state']}, history {c['history']}, teardown {td['kind']}",
                      hint="an RST is sent when a socket is closed with SO_LINGER set to 0 or with "
                           "unread data: drop the SO_LINGER option and read everything before close()")
        if c["conn_state"] != "SF" or td["kind"] != "four-way-fin" or td["first_closer"] != first_closer:
            self.fail(f"the connection did not end with a four-way FIN teardown started by the {starter}",
                      expected=f"conn_state SF, teardown four-way-fin, first closer {first_closer}",
                      saw=f"conn_state {c['conn_state']}, history {c['history']}, teardown {td['kind']}, "
                          f"first closer {td['first_closer']}")

    # --- the end of the case -----------------------------------------------
    def finish(self):
        """Stop everything; return a failure found afterwards (crash, sanitizer) or None."""
        try:
            self.settle()
        except capmod.CaptureError as e:
            self.step(f"capture problem: {e}")
        if self.groups:
            self.limit_events = self.groups.events()
        if self.folder_cap.exceeded:
            return CaseFailure(f"the case's programs wrote more than {CASE_FOLDER_CAP >> 20} MiB into the case's "
                               "folder: the grader stopped them",
                               hint="a file that grows without end (a log written in a loop, an upload stored "
                                    "again and again)?")
        for prog in self.programs:
            report = sanitizer_report(prog.stderr.bytes())
            if report:
                return sanitizer_failure(prog.name, report)
            limit = self._limit_failure(prog)
            if limit is not None:
                return limit
            crash = prog.crashed()
            if crash:
                return CaseFailure(f"{prog.name} crashed: {prog.status_text()}",
                                   hint="run it under gdb or build with --sanitize to find where")
        return None

    def _limit_failure(self, prog):
        """A failure naming the limit that ended PROG, or None."""
        if prog.crashed() is None:
            return None
        if prog.crashed() == "SIGKILL" and self.limit_events.get("oom_kills"):
            return CaseFailure(f"{prog.name} was killed at the memory limit of "
                               f"{size_text(self.groups.memory_max)} (all programs of the case together)",
                               hint="memory that grows with what a peer sends: cap every buffer the "
                                    "handout limits, and free what each client used when it leaves")
        if prog.crashed() == "SIGXCPU":
            return CaseFailure(f"{prog.name} used up its CPU time limit of {prog.limits.values.get('cpu')} s",
                               hint="a loop that spins instead of waiting: block in poll(), recv() or "
                                    "accept(), or give each wait a timeout")
        return None

    def limit_notes(self):
        """Each limit the case's programs hit, in words."""
        notes, ev = [], self.limit_events
        if self.folder_cap.exceeded:
            notes.append(f"the case's programs wrote more than {CASE_FOLDER_CAP >> 20} MiB into the case's folder "
                         "(the limit): the grader stopped them")
        if ev.get("pids_refused"):
            notes.append(f"the case's programs tried to run more than {self.groups.pids_max - 2} processes "
                         f"and threads at once: the kernel refused {ev['pids_refused']} fork() or "
                         "pthread_create() calls (the process limit)")
        if ev.get("oom_kills"):
            notes.append(f"the case's programs reached the memory limit of {size_text(self.groups.memory_max)}: "
                         f"the kernel killed {ev['oom_kills']} process(es) there")
        elif ev.get("memory_hits"):
            notes.append(f"the case's programs reached the memory limit of {size_text(self.groups.memory_max)}")
        for prog in self.programs:
            notes += prog.limit_notes()
        return notes

    def record(self, status, failure=None, error_text=None):
        """The case's result as a dict for the reports."""
        points = self.spec.points if status == "passed" else 0
        lines = []
        if failure is not None:
            lines.append(failure.text())
        if error_text:
            lines.append(error_text)
        if status != "passed":
            notes = self.limit_notes()
            if notes:
                lines += ["", "Limits reached:"] + [f"  - {n}" for n in notes]
            lines += ["", "What the test did:", indent(self.trace.text())]
            for prog in self.programs:
                lines.append(f"{prog.name}: {prog.status_text()}")
                report = sanitizer_report(prog.stderr.bytes())
                if report:
                    lines += [f"{prog.name}: sanitizer report (first lines):", safetext.quoted(report)]
                for stream, count in ((prog.stdout, 5), (prog.stderr, 15)):
                    tail = stream.tail(count)
                    if tail:
                        lines += [f"{prog.name} {stream.name} (last lines):", safetext.quoted(tail)]
        verdict_lines = self._verdict_summary()
        if status != "passed" and verdict_lines:
            rel = os.path.relpath(self.capture.path, self.results_dir) if self.capture.path else None
            lines += [f"Capture ({rel}):", indent("\n".join(verdict_lines))]
        return {
            "name": self.spec.name, "title": self.spec.title, "visibility": self.spec.visibility,
            "max_points": self.spec.points, "points": points, "status": status,
            "summary": failure.summary if failure is not None else (error_text or "").split("\n")[0],
            "feedback": "\n".join(lines).strip(),
            "seconds": round(time.monotonic() - self.started, 3),
            "capture": (os.path.relpath(self.capture.path, self.results_dir)
                        if self.capture.path and os.path.exists(self.capture.path) else None),
            "verdict": verdict_lines,
            "isolation": self.iso.mode,
            "programs": sorted({prog.name for prog in self.programs}),   # which binaries the case ran
        }

    def _verdict_summary(self):
        if not self.capture.path or not os.path.exists(self.capture.path):
            return []
        try:
            return capmod.summarize(self.verdict())
        except (capmod.CaptureError, NotChecked, ValueError) as e:
            return [f"(no verdict: {e})"]

    def cleanup(self):
        self.folder_cap.close()
        if self.groups:
            self.groups.remove()
        shutil.rmtree(os.path.dirname(self.workdir), ignore_errors=True)
