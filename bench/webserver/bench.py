#!/usr/bin/python3
"""bench.py - requests per second of the reference webserver against nginx, under wrk.

Builds the reference webserver (solutions/webserver, into
build/bench-webserver/), writes a document root into a temporary folder
(index.html of --size bytes), and serves it on loopback, in the same run,
with:

  webserver   webserver -d DOCROOT -t THREADS PORT   (logs to /dev/null)
  nginx       nginx in the foreground (daemon off) with a temporary prefix
              and configuration: the same root, access log off,
              keepalive_timeout 0, worker_processes auto

Both answer every request with "Connection: close" (wrk also asks for it),
so every request is a new TCP connection, the way the lab's webserver is
meant to be used. wrk puts the load (--connections, --duration, 2
threads); each server is measured --runs times, alternating, and the best
run of each is kept. Prints each one's requests per second and their
ratio. Not a test: numbers depend on the machine; the ratio is the point.
"""

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import httpbench as hb  # noqa: E402  (bench/httpbench.py, shared with bench/proxy)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=4096, help="bytes of the page served (default 4096)")
    p.add_argument("--connections", type=int, default=32, help="wrk's open connections (default 32)")
    p.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    p.add_argument("--runs", type=int, default=3, help="runs of each server, best kept (default 3)")
    p.add_argument("--threads", type=int, default=64, help="webserver -t (default 64)")
    args = p.parse_args(argv)
    missing = hb.missing_tools(hb.NGINX, hb.WRK)
    if missing:
        print(f"bench: {', '.join(missing)} missing: run 'make bench' (it installs nginx and wrk)", file=sys.stderr)
        return 1
    binary = os.path.join(hb.build("webserver", ["webserver", "httpget"]), "webserver")
    tmp = tempfile.mkdtemp(prefix="webserver-bench-")
    try:
        os.chmod(tmp, 0o755)    # nginx's workers (user nobody) read the root below it
        root = os.path.join(tmp, "www")
        os.makedirs(root)
        with open(os.path.join(root, "index.html"), "wb") as f:
            f.write((b"<!DOCTYPE html>\n<p>" + b"socklab " * args.size)[:args.size - 5] + b"</p>\n")
        port_ws, port_ng = hb.free_ports(2)
        servers = {
            "webserver": ([binary, "-d", root, "-t", str(args.threads), str(port_ws)], port_ws),
            "nginx": (hb.nginx_command(tmp, root, port_ng), port_ng),
        }
        print(f"page: {args.size} bytes; wrk: {args.connections} connections, 2 threads, "
              f"{args.duration} s, 'Connection: close'; {args.runs} runs each, alternating")
        with open(os.devnull, "wb") as devnull:
            procs = {name: hb.start(cmd, port, devnull) for name, (cmd, port) in servers.items()}
            try:
                best = hb.best_of([(name, f"http://127.0.0.1:{port}/index.html")
                                   for name, (_, port) in servers.items()],
                                  args.connections, args.duration, args.runs)
            finally:
                for proc in procs.values():
                    hb.stop(proc)
        print(f"{'':12} {'best requests/s':>16}")
        for name, rps in best.items():
            print(f"{name:12} {rps:16.0f}")
        print(f"webserver against nginx: {best['webserver'] / best['nginx']:.2f}x the requests per second")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
