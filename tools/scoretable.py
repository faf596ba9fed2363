#!/usr/bin/python3
"""scoretable RESULTS_DIR... - one line per graded lab from its results.json."""
import json
import os
import sys


def main(dirs):
    rows = []
    for d in dirs:
        path = os.path.join(d, "results.json")
        if not os.path.exists(path):
            rows.append((os.path.basename(d), "no results", "", ""))
            continue
        with open(path) as f:
            r = json.load(f)
        passed = sum(c["status"] == "passed" for c in r["cases"])
        rows.append((r["lab"], f"{r['score']}/{r['max_score']}", f"{passed}/{len(r['cases'])}",
                     f"{r.get('seconds', 0):.1f}"))
    print(f"{'lab':12} {'score':>9} {'cases passed':>13} {'seconds':>8}")
    for lab, score, cases, secs in rows:
        print(f"{lab:12} {score:>9} {cases:>13} {secs:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
