"""A lab's grading spec: labs/<lab>/lab.toml and, for instructors,
labs/<lab>/hidden/hidden.toml.

lab.toml names the binaries, the ports and every visible case with its
points; the hidden cases live apart (with their points) so that a student
distribution can leave them out.  lab.toml keeps only their count and total,
so a student run can say what it could not see.
"""

import os
import tomllib

from .paths import LABS

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's
# Build variants a case may ask for with `build = "..."`, and what they are for.
BUILD_VARIANTS = {"thread": "ThreadSanitizer: reports data races, such as a shared table used without its lock"}
# Faults a case may have the kernel's part played with (`faults = [...]`,
# grader/sandbox/slfault.c): what each does to the student's socket calls.
FAULTS = {"eintr": "every other blocking socket call, poll() on sockets too, is interrupted (fails with "
                   "EINTR, as when a signal arrives) and must be tried again",
          "short": "each send on a TCP socket moves at most half of its bytes and each read returns at most "
                   "half a buffer, so sends and reads must loop"}
# Resource limits a lab may raise for its programs in a `[limits]` table (a
# server with a thread per client needs more than the default 64 processes).
LIMIT_NAMES = ("cpu", "mem", "nproc", "fsize", "nofile")


class SpecError(Exception):
    """lab.toml or hidden.toml is malformed."""


class CaseSpec:
    def __init__(self, name, table, visibility_default, source):
        self.name = name
        try:
            self.points = int(table["points"])
            self.title = str(table["title"])
        except (KeyError, ValueError) as e:
            raise SpecError(f"{source}: case {name} needs integer 'points' and a 'title'") from e
        self.visibility = table.get("visibility", visibility_default)
        if self.visibility not in VISIBILITIES:
            raise SpecError(f"{source}: case {name}: visibility must be one of {VISIBILITIES}")
        self.bugs = list(table.get("bugs", []))   # typical student bugs this case catches
        # A case may run the programs built another way (say with ThreadSanitizer,
        # to see a missing lock every time rather than when the timing is unlucky).
        # Bytes kept of each captured packet: a case that moves tens of MB may
        # keep headers only (pcapcheck counts bytes from IP lengths and
        # sequence numbers, so its verdict does not change).
        self.snaplen = table.get("snaplen")
        if self.snaplen is not None and (not isinstance(self.snaplen, int) or self.snaplen < 64):
            raise SpecError(f"{source}: case {name}: snaplen must be a whole number of bytes, at least 64")
        self.faults = list(table.get("faults", []))
        if any(f not in FAULTS for f in self.faults):
            raise SpecError(f"{source}: case {name}: faults must be some of {sorted(FAULTS)}")
        self.build = table.get("build")
        if self.build is not None and self.build not in BUILD_VARIANTS:
            raise SpecError(f"{source}: case {name}: build must be one of {sorted(BUILD_VARIANTS)}")


class Lab:
    def __init__(self, name, root=LABS):
        self.name = name
        self.dir = os.path.join(root, name)
        path = os.path.join(self.dir, "lab.toml")
        if not os.path.isfile(path):
            raise SpecError(f"no lab named {name!r} (expected {path})")
        with open(path, "rb") as f:
            spec = tomllib.load(f)
        self.title = spec.get("title", name)
        self.binaries = list(spec.get("binaries", []))
        self.default_port = int(spec.get("default_port", 0))
        self.grading_port = int(spec.get("grading_port", 24680))
        self.build_timeout = float(spec.get("build_timeout", 120))
        self.case_timeout = float(spec.get("case_timeout", 30))
        # Extra `pcapcheck analyze` options, e.g. the heartbeat matcher of the lab.
        self.pcapcheck_options = [str(o) for o in spec.get("pcapcheck", {}).get("options", [])]
        self.limits = self._limits(spec.get("limits", {}), path)
        self.cases = {name: CaseSpec(name, t, "visible", path)
                      for name, t in spec.get("cases", {}).items()}
        hidden = spec.get("hidden", {})
        self.hidden_count = int(hidden.get("count", 0))
        self.hidden_points = int(hidden.get("points", 0))
        self.hidden_dir = os.path.join(self.dir, "hidden")
        self.hidden_present = self._load_hidden()

    @staticmethod
    def _limits(table, source):
        """The `[limits]` overrides of the sandbox defaults (socklab.proc.DEFAULT_LIMITS)."""
        unknown = sorted(set(table) - set(LIMIT_NAMES))
        if unknown:
            raise SpecError(f"{source}: [limits] knows {', '.join(LIMIT_NAMES)}, not {', '.join(unknown)}")
        return {name: str(value) for name, value in table.items()}

    def _load_hidden(self):
        """Add the hidden cases when their folder is here; return whether it is."""
        path = os.path.join(self.hidden_dir, "hidden.toml")
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as f:
            spec = tomllib.load(f)
        for name, t in spec.get("cases", {}).items():
            if name in self.cases:
                raise SpecError(f"{path}: case {name} is also in lab.toml")
            self.cases[name] = CaseSpec(name, t, "hidden", path)
        return True

    def hidden_summary(self):
        """What a results file says of the hidden cases: how many, their points,
        and whether this copy of the kit has them."""
        return {"count": self.hidden_count, "points": self.hidden_points, "present": self.hidden_present}

    @property
    def total_points(self):
        """Points of every case, seen or not."""
        seen = sum(c.points for c in self.cases.values())
        return seen if self.hidden_present else seen + self.hidden_points

    def test_paths(self):
        """The folders pytest collects for this lab."""
        paths = [self.dir]
        return paths

    def check(self):
        """Problems with the spec itself, as a list of strings (empty when sound)."""
        problems = []
        if self.total_points != 100:
            problems.append(f"{self.name}: points sum to {self.total_points}, not 100")
        if self.hidden_present:
            hidden = [c for c in self.cases.values() if c.visibility == "hidden"]
            if len(hidden) != self.hidden_count or sum(c.points for c in hidden) != self.hidden_points:
                problems.append(f"{self.name}: lab.toml [hidden] says {self.hidden_count} cases / "
                                f"{self.hidden_points} points, hidden.toml has {len(hidden)} / "
                                f"{sum(c.points for c in hidden)}")
        if not self.binaries:
            problems.append(f"{self.name}: lab.toml names no binaries")
        return problems


def case_name_of(function_name):
    """test_tcp_client_uppercase -> tcp_client_uppercase"""
    return function_name[5:] if function_name.startswith("test_") else function_name
