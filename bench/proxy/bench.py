#!/usr/bin/python3
"""bench.py - cache-hit requests per second of the reference proxy against nginx serving directly, under wrk.

Builds the reference proxy (solutions/proxy, into build/bench-proxy/),
writes a document root into a temporary folder (file.bin of --size bytes),
and runs on loopback, in the same run:

  nginx         nginx in the foreground (daemon off) with a temporary prefix
                and configuration: the document root, access log off,
                keepalive_timeout 0, worker_processes auto
  proxy         proxy -d CACHE -c 64 PORT, whose origin is that nginx

It fetches the file once through the proxy (the miss that fills the cache)
and checks that it came back whole, then wrk measures, alternating:

  nginx direct  GET /file.bin from nginx
  proxy hit     GET /127.0.0.1:NGINX_PORT/file.bin from the proxy (the
                original handout's form), every one a cache hit

Both answer with "Connection: close" (wrk asks for it too), so every
request is a new TCP connection. Each is measured --runs times, the best
run kept; the proxy's log must show exactly one request sent to the origin.
Prints both requests per second and their ratio. Not a test: numbers
depend on the machine; the ratio is the point.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import httpbench as hb  # noqa: E402  (bench/httpbench.py, shared with bench/webserver)

CURL = "/usr/bin/curl"


def fetch(url):
    """The body of URL, fetched with curl (no proxy) within a deadline."""
    out = subprocess.run([CURL, "-q", "-sS", "--noproxy", "*", "--max-time", "10", url],
                         capture_output=True, timeout=20, start_new_session=True)
    if out.returncode != 0:
        raise RuntimeError(f"curl {url} failed: {out.stderr.decode(errors='replace')}")
    return out.stdout


def check_one_miss(log_path):
    """The proxy's log must show one request to the origin and many cache hits."""
    with open(log_path, errors="replace") as f:
        log = f.read()
    misses, hits = log.count("from the origin"), log.count("cache hit")
    if misses != 1:
        raise RuntimeError(f"the proxy asked the origin {misses} times (expected once):\n{log[-2000:]}")
    return hits


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=4096, help="bytes of the file served (default 4096)")
    p.add_argument("--connections", type=int, default=32, help="wrk's open connections (default 32)")
    p.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    p.add_argument("--runs", type=int, default=3, help="runs of each, best kept (default 3)")
    args = p.parse_args(argv)
    missing = hb.missing_tools(hb.NGINX, hb.WRK, CURL)
    if missing:
        print(f"bench: {', '.join(missing)} missing: run 'make bench' (it installs nginx and wrk)", file=sys.stderr)
        return 1
    binary = os.path.join(hb.build("proxy", ["proxy"]), "proxy")
    tmp = tempfile.mkdtemp(prefix="proxy-bench-")
    try:
        os.chmod(tmp, 0o755)    # nginx's workers (user nobody) read the root below it
        root = os.path.join(tmp, "www")
        os.makedirs(root)
        body = os.urandom(args.size)
        with open(os.path.join(root, "file.bin"), "wb") as f:
            f.write(body)
        port_ng, port_px = hb.free_ports(2)
        proxy_log = os.path.join(tmp, "proxy.log")
        direct = f"http://127.0.0.1:{port_ng}/file.bin"
        through = f"http://127.0.0.1:{port_px}/127.0.0.1:{port_ng}/file.bin"
        print(f"file: {args.size} bytes; wrk: {args.connections} connections, 2 threads, "
              f"{args.duration} s, 'Connection: close'; {args.runs} runs each, alternating")
        with open(os.devnull, "wb") as devnull, open(proxy_log, "wb") as log:
            nginx = hb.start(hb.nginx_command(tmp, root, port_ng), port_ng, devnull)
            try:
                proxy = hb.start([binary, "-d", os.path.join(tmp, "cache"), "-c", "64", str(port_px)], port_px,
                              log)
                try:
                    if fetch(through) != body or fetch(through) != body:
                        raise RuntimeError("the file did not come through the proxy whole")
                    best = hb.best_of([("nginx direct", direct), ("proxy hit", through)],
                                      args.connections, args.duration, args.runs)
                finally:
                    hb.stop(proxy)
            finally:
                hb.stop(nginx)
        hits = check_one_miss(proxy_log)
        print(f"the proxy asked nginx once and answered {hits:,} requests from its cache")
        print(f"{'':14} {'best requests/s':>16}")
        for name, rps in best.items():
            print(f"{name:14} {rps:16.0f}")
        print(f"proxy cache hit against nginx direct: "
              f"{best['proxy hit'] / best['nginx direct']:.2f}x the requests per second")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
