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
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, "build", "bench-proxy")
NGINX = "/usr/sbin/nginx"
WRK = "/usr/bin/wrk"
CURL = "/usr/bin/curl"
READY_DEADLINE = 10.0     # seconds for a server to listen
STOP_DEADLINE = 5.0       # seconds for a server to stop after SIGTERM

NGINX_CONF = """\
daemon off;
worker_processes auto;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type application/octet-stream;
    keepalive_timeout 0;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def build():
    """Build the reference proxy from a clean copy; return its path."""
    src = os.path.join(BUILD, "src")
    shutil.rmtree(BUILD, ignore_errors=True)
    ignore = shutil.ignore_patterns("*.o", "proxy", "cache")
    shutil.copytree(os.path.join(ROOT, "solutions", "proxy"), os.path.join(src, "proxy"), ignore=ignore)
    shutil.copytree(os.path.join(ROOT, "solutions", "common"), os.path.join(src, "common"), ignore=ignore)
    subprocess.run(["make", "-s", "-C", os.path.join(src, "proxy")], check=True, timeout=300)
    return os.path.join(src, "proxy", "proxy")


def free_ports(n):
    """N distinct ports free on the loopback right now."""
    ports = set()
    while len(ports) < n:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.add(s.getsockname()[1])
    return list(ports)


def start(cmd, port, log):
    """Start a server in its own process group; return it once PORT accepts connections."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + READY_DEADLINE
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.02)    # polling the condition, with a deadline
    stop(proc)
    raise RuntimeError(f"{cmd[0]} did not listen on port {port} within {READY_DEADLINE} s")


def stop(proc):
    """SIGTERM the server's group, SIGKILL it after STOP_DEADLINE."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(STOP_DEADLINE)
            return
        except subprocess.TimeoutExpired:
            continue


def fetch(url):
    """The body of URL, fetched with curl (no proxy) within a deadline."""
    out = subprocess.run([CURL, "-q", "-sS", "--noproxy", "*", "--max-time", "10", url],
                         capture_output=True, timeout=20, start_new_session=True)
    if out.returncode != 0:
        raise RuntimeError(f"curl {url} failed: {out.stderr.decode(errors='replace')}")
    return out.stdout


def wrk(url, connections, duration):
    """Requests per second that wrk measured; fails on errors or non-2xx answers."""
    cmd = [WRK, "-t", "2", "-c", str(connections), "-d", f"{duration}s", "-H", "Connection: close", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30, start_new_session=True)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if out.returncode != 0 or rps is None:
        raise RuntimeError(f"wrk failed: {out.stdout}{out.stderr}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    if bad:
        raise RuntimeError(f"wrk saw {bad.group(1)} error responses:\n{out.stdout}")
    errors = re.search(r"Socket errors: (.*)", out.stdout)
    return float(rps.group(1)), errors.group(1) if errors else None


def check_one_miss(log_path):
    """The proxy's log must show one request to the origin and many cache hits."""
    with open(log_path, errors="replace") as f:
        log = f.read()
    misses, hits = log.count("from the origin"), log.count("cache hit")
    if misses != 1:
        raise RuntimeError(f"the proxy asked the origin {misses} times (expected once):\n{log[-2000:]}")
    return hits


def measure(targets, args):
    """Best requests/s of each (name, url) over args.runs alternating runs."""
    best = {name: 0.0 for name, _ in targets}
    for run in range(1, args.runs + 1):
        for name, url in targets:
            rps, errors = wrk(url, args.connections, args.duration)
            best[name] = max(best[name], rps)
            print(f"  run {run} {name:13} {rps:10.0f} requests/s"
                  f"{'  (socket errors: ' + errors + ')' if errors else ''}")
    return best


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=4096, help="bytes of the file served (default 4096)")
    p.add_argument("--connections", type=int, default=32, help="wrk's open connections (default 32)")
    p.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    p.add_argument("--runs", type=int, default=3, help="runs of each, best kept (default 3)")
    args = p.parse_args(argv)
    for tool in (NGINX, WRK, CURL):
        if not os.path.exists(tool):
            print(f"bench: {tool} is missing: run 'make bench' (it installs nginx and wrk)", file=sys.stderr)
            return 1
    binary = build()
    tmp = tempfile.mkdtemp(prefix="proxy-bench-")
    try:
        os.chmod(tmp, 0o755)    # nginx's workers (user nobody) read the root below it
        root = os.path.join(tmp, "www")
        os.makedirs(root)
        body = os.urandom(args.size)
        with open(os.path.join(root, "file.bin"), "wb") as f:
            f.write(body)
        port_ng, port_px = free_ports(2)
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=tmp, port=port_ng, root=root))
        proxy_log = os.path.join(tmp, "proxy.log")
        direct = f"http://127.0.0.1:{port_ng}/file.bin"
        through = f"http://127.0.0.1:{port_px}/127.0.0.1:{port_ng}/file.bin"
        print(f"file: {args.size} bytes; wrk: {args.connections} connections, 2 threads, "
              f"{args.duration} s, 'Connection: close'; {args.runs} runs each, alternating")
        with open(os.devnull, "wb") as devnull, open(proxy_log, "wb") as log:
            nginx = start([NGINX, "-p", tmp, "-c", conf, "-e", os.path.join(tmp, "error.log")], port_ng,
                          devnull)
            try:
                proxy = start([binary, "-d", os.path.join(tmp, "cache"), "-c", "64", str(port_px)], port_px,
                              log)
                try:
                    if fetch(through) != body or fetch(through) != body:
                        raise RuntimeError("the file did not come through the proxy whole")
                    best = measure([("nginx direct", direct), ("proxy hit", through)], args)
                finally:
                    stop(proxy)
            finally:
                stop(nginx)
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
