#!/usr/bin/python3
"""bench.py - time pcapcheck analyze against a bare pcap_next_ex loop and tshark.

Writes a loopback TCP capture of about a million packets into a temporary
folder (2000 echo connections of ~500 packets each, 50 of them interleaved
at any time, small segments as a chatty lab protocol makes), then runs on
it, in the same run and on the same file:

  bare loop   pcap_next_ex over every packet, nothing else (bareloop.c)
  pcapcheck   pcapcheck analyze FILE --json
  + hb        the same with the heartbeat options (every "ping N" a request,
              every "PING N" its reply: messages cut, paired, timed)
  tshark      tshark -q -z conv,tcp -r FILE (when /usr/bin/tshark exists)

and prints each one's wall time and peak RSS (best of --runs) and their
ratios. Not a test: numbers depend on the machine; the ratios are the point.
"""

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PCAPCHECK = os.path.join(ROOT, "grader", "pcapcheck", "pcapcheck")
BARELOOP = os.path.join(ROOT, "build", "bench-pcapcheck", "bareloop")
RUNSTAT = os.path.join(ROOT, "build", "bench-pcapcheck", "runstat")
TSHARK = "/usr/bin/tshark"
DEADLINE = 600  # seconds for any one run


def frame(sport, dport, seq, ack, flags, payload):
    """Ethernet + IPv4 + TCP with zero MACs and checksums (as on lo with offload)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                      flags, 512, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                     b"\x7f\0\0\x01", b"\x7f\0\0\x01")
    return b"\0" * 12 + b"\x08\x00" + ip + tcp


def connection(port, exchanges):
    """The segments of one echo connection as (from_client, flags, payload, seq, ack) tuples."""
    c, s = 1000, 5000
    out = [(True, 0x02, b"", c, 0), (False, 0x12, b"", s, c + 1), (True, 0x10, b"", c + 1, s + 1)]
    c, s = c + 1, s + 1
    msg = b"ping %05d\n" % port
    for _ in range(exchanges):
        out.append((True, 0x18, msg, c, s))
        c += len(msg)
        out.append((False, 0x18, msg.upper(), s, c))
        s += len(msg)
    out += [(True, 0x11, b"", c, s), (False, 0x11, b"", s, c + 1), (True, 0x10, b"", c + 1, s + 1)]
    return out


def write_capture(path, connections, exchanges, concurrent=50):
    """The benchmark capture; its packet count."""
    packets = 0
    ts = 1_700_000_000 * 1_000_000
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for group in range(0, connections, concurrent):
            ports = range(20000 + group, 20000 + min(group + concurrent, connections))
            segments = [connection(p, exchanges) for p in ports]
            for i in range(len(segments[0])):
                for port, segs in zip(ports, segments):
                    from_client, flags, payload, seq, ack = segs[i]
                    sport, dport = (port, 12000) if from_client else (12000, port)
                    data = frame(sport, dport, seq, ack, flags, payload)
                    ts += 3
                    f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(data),
                                        len(data)) + data)
                    packets += 1
    return packets


def measure(cmd, runs):
    """Best wall time (s) and peak RSS (MiB) of CMD over RUNS runs; its stdout."""
    best_time, best_rss, out = None, None, b""
    for _ in range(runs):
        done = subprocess.run([RUNSTAT, *cmd], capture_output=True, timeout=DEADLINE)
        stats = re.search(rb"runstat: wall_s=([\d.]+) maxrss_kib=(\d+) status=(\d+)", done.stderr)
        if done.returncode != 0 or stats is None:
            raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.decode(errors='replace')}")
        elapsed, rss = float(stats.group(1)), int(stats.group(2)) / 1024
        best_time = elapsed if best_time is None else min(best_time, elapsed)
        best_rss = rss if best_rss is None else min(best_rss, rss)
        out = done.stdout
    return best_time, best_rss, out


def build():
    for folder in (os.path.join(ROOT, "grader", "pcapcheck"), HERE):
        subprocess.run(["make", "-s", "-C", folder], check=True, timeout=DEADLINE)


def check_verdict(out, connections):
    """pcapcheck must have found every connection, closed cleanly."""
    verdict = json.loads(out)
    states = {c["conn_state"] for c in verdict["tcp"]}
    if len(verdict["tcp"]) != connections or states != {"SF"}:
        print(f"warning: pcapcheck found {len(verdict['tcp'])} connections, states {states}",
              file=sys.stderr)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--connections", type=int, default=2000)
    p.add_argument("--exchanges", type=int, default=248, help="echo exchanges per connection")
    p.add_argument("--runs", type=int, default=3, help="runs of each tool (best is kept)")
    p.add_argument("--keep", action="store_true", help="keep the capture and say where")
    args = p.parse_args(argv)
    build()
    folder = tempfile.mkdtemp(prefix="pcapcheck-bench-")
    try:
        pcap = os.path.join(folder, "bench.pcap")
        packets = write_capture(pcap, args.connections, args.exchanges)
        size = os.path.getsize(pcap) / 1e6
        print(f"capture: {packets:,} packets, {size:.1f} MB, {args.connections} TCP connections")
        rows = [("bare pcap_next_ex loop", [BARELOOP, pcap]),
                ("pcapcheck analyze --json", [PCAPCHECK, "analyze", pcap, "--json"]),
                ("  + heartbeat options", [PCAPCHECK, "analyze", pcap, "--json",
                                           "--hb-request", "ping ", "--hb-reply", "PING "])]
        if os.path.exists(TSHARK):
            rows.append(("tshark -q -z conv,tcp", [TSHARK, "-q", "-z", "conv,tcp", "-r", pcap]))
        results = {}
        for name, cmd in rows:
            results[name] = measure(cmd, 1 if name.startswith("tshark") else args.runs)
        check_verdict(results["pcapcheck analyze --json"][2], args.connections)
        base_time, base_rss, _ = results["bare pcap_next_ex loop"]
        print(f"{'':26} {'wall s':>8} {'peak RSS MiB':>13}   vs bare loop: time, RSS")
        for name, (elapsed, rss, _) in results.items():
            print(f"{name:26} {elapsed:8.3f} {rss:13.1f}   {elapsed / base_time:9.1f}x "
                  f"{rss / base_rss:5.1f}x")
        if "tshark -q -z conv,tcp" in results:
            t_time, t_rss, _ = results["tshark -q -z conv,tcp"]
            c_time, c_rss, _ = results["pcapcheck analyze --json"]
            print(f"pcapcheck against tshark: {t_time / c_time:.1f}x faster, "
                  f"{t_rss / c_rss:.1f}x less memory")
    finally:
        if args.keep:
            print(f"capture kept in {folder}")
        else:
            shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
