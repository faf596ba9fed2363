#!/usr/bin/python3
"""record_pcaps LAB CASE... - record reference captures from the solution.

Grades the reference solution of LAB, copies the capture of each CASE to
pcaps/LAB/CASE.pcap and writes CASE.expected.json beside it: the parts of
pcapcheck's verdict that do not depend on timing or ephemeral ports (the
golden test in tests/pcapcheck compares exactly these fields).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "grader"))
from socklab.capture import analyze  # noqa: E402

TCP_FIELDS = ("conn_state", "history", "orig_bytes", "resp_bytes", "tcp_completeness")
UDP_FIELDS = ("orig_dgrams", "resp_dgrams", "orig_bytes", "resp_bytes", "pairs", "unanswered")


def stable_verdict(verdict):
    """The verdict without file names, times and ephemeral ports."""
    tcp = []
    for c in verdict["tcp"]:
        entry = {k: c[k] for k in TCP_FIELDS}
        entry["resp"] = {"port": c["resp"]["port"]}
        entry["handshake"] = {"complete": c["handshake"]["complete"]}
        entry["teardown"] = {"kind": c["teardown"]["kind"], "first_closer": c["teardown"]["first_closer"]}
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
    args = p.parse_args(argv)
    out_dir = os.path.join(ROOT, "pcaps", args.lab)
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [os.path.join(ROOT, "grader", "grade"), args.lab, "--results", tmp, "-q"]
        for case in args.cases:
            cmd += ["-k", case]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
            print("record_pcaps: the reference did not score full marks; nothing recorded", file=sys.stderr)
            return 1
        for case in args.cases:
            src = os.path.join(tmp, "captures", f"{case}.pcap")
            dest = os.path.join(out_dir, f"{case}.pcap")
            shutil.copyfile(src, dest)
            with open(os.path.join(out_dir, f"{case}.expected.json"), "w") as f:
                json.dump(stable_verdict(analyze(dest)), f, indent=1)
                f.write("\n")
            print(f"record_pcaps: pcaps/{args.lab}/{case}.pcap")
    return 0


if __name__ == "__main__":
    sys.exit(main())
