#!/usr/bin/python3
"""record_pcaps LAB CASE... - record reference (or teaching) captures.

Grades the reference solution of LAB (or, with --mutant NAME, that mutant
of tests/mutants/LAB.toml: a capture of broken behaviour for TAs), copies
the capture of each CASE to pcaps/LAB/[PREFIX]CASE.pcap and writes
CASE.expected.json beside it: the parts of pcapcheck's verdict that do not
depend on timing or ephemeral ports (the golden test in tests/pcapcheck
compares exactly these fields).  A lab's pcapcheck options (lab.toml
[pcapcheck]) go into CASE.options, one per line, for the golden test.
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "grader"))
import mutants  # noqa: E402
from socklab import gradecmd  # noqa: E402
from socklab.capture import analyze  # noqa: E402
from socklab.labspec import Lab  # noqa: E402

TCP_FIELDS = ("conn_state", "history", "orig_bytes", "resp_bytes", "tcp_completeness")
HB_FIELDS = ("requester", "requests", "replies", "pairs", "unanswered", "max_consecutive_unanswered")
UDP_FIELDS = ("orig_dgrams", "resp_dgrams", "orig_bytes", "resp_bytes", "pairs", "unanswered")


def stable_verdict(verdict):
    """The verdict without file names, times and ephemeral ports."""
    tcp = []
    for c in verdict["tcp"]:
        entry = {k: c[k] for k in TCP_FIELDS}
        entry["resp"] = {"port": c["resp"]["port"]}
        entry["handshake"] = {"complete": c["handshake"]["complete"]}
        entry["teardown"] = {"kind": c["teardown"]["kind"], "first_closer": c["teardown"]["first_closer"]}
        if c.get("heartbeats"):
            entry["heartbeats"] = {k: c["heartbeats"][k] for k in HB_FIELDS}
        tcp.append(entry)
    udp = []
    for u in verdict["udp"]:
        entry = {k: u[k] for k in UDP_FIELDS}
        entry["resp"] = {"port": u["resp"]["port"]}
        udp.append(entry)
    return {"linktype": verdict["linktype"], "truncated": False, "tcp": tcp, "udp": udp}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("lab")
    p.add_argument("cases", nargs="+")
    p.add_argument("--mutant", help="record from this mutant instead of the reference")
    p.add_argument("--prefix", default="", help="prefix of the recorded file names (e.g. broken-)")
    args = p.parse_args(argv)
    if not re.fullmatch(r"[\w.-]*", args.prefix):
        p.error(f"--prefix {args.prefix!r}: only letters, digits, '.', '-' and '_' (it starts file names "
                f"in pcaps/{args.lab}/)")
    lab = Lab(args.lab)
    out_dir = os.path.join(ROOT, "pcaps", args.lab)
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        submission = os.path.join(ROOT, "solutions", args.lab)
        if args.mutant:
            chosen = [m for m in mutants.load(args.lab) if m["name"] == args.mutant]
            if not chosen:
                print(f"record_pcaps: no mutant {args.mutant!r} in tests/mutants/{args.lab}.toml", file=sys.stderr)
                return 2
            submission = mutants.make_copy(args.lab, chosen[0], os.path.join(tmp, "sub"), lab.binaries)
        done, _ = gradecmd.run(args.lab, submission, os.path.join(tmp, "r"),
                               *[opt for case in args.cases for opt in ("-k", case)])
        if done.returncode not in (0, 1) or (not args.mutant and done.returncode != 0):
            print(done.stdout + done.stderr, file=sys.stderr)
            print("record_pcaps: the grading run did not do what was asked; nothing recorded", file=sys.stderr)
            return 1
        for case in args.cases:
            name = args.prefix + case
            src = os.path.join(tmp, "r", "captures", f"{case}.pcap")
            dest = os.path.join(out_dir, f"{name}.pcap")
            shutil.copyfile(src, dest)
            options_path = os.path.join(out_dir, f"{name}.options")
            if lab.pcapcheck_options:
                with open(options_path, "w") as f:
                    f.write("".join(o + "\n" for o in lab.pcapcheck_options))
            with open(os.path.join(out_dir, f"{name}.expected.json"), "w") as f:
                json.dump(stable_verdict(analyze(dest, lab.pcapcheck_options)), f, indent=1)
                f.write("\n")
            print(f"record_pcaps: pcaps/{args.lab}/{name}.pcap")
    return 0


if __name__ == "__main__":
    sys.exit(main())
