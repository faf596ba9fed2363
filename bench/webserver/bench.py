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
BUILD = os.path.join(ROOT, "build", "bench-webserver")
NGINX = "/usr/sbin/nginx"
WRK = "/usr/bin/wrk"
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
    types {{ text/html html; }}
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
    """Build the reference webserver from a clean copy; return its path."""
    src = os.path.join(BUILD, "src")
    shutil.rmtree(BUILD, ignore_errors=True)
    ignore = shutil.ignore_patterns("*.o", "webserver", "httpget")
    shutil.copytree(os.path.join(ROOT, "solutions", "webserver"), os.path.join(src, "webserver"),
                    ignore=ignore)
    shutil.copytree(os.path.join(ROOT, "solutions", "common"), os.path.join(src, "common"),
                    ignore=ignore)
    subprocess.run(["make", "-s", "-C", os.path.join(src, "webserver")], check=True, timeout=300)
    return os.path.join(src, "webserver", "webserver")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd, port, log):
    """Start a server in its own process group; return it once PORT accepts connections."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            start_new_session=True)
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


def wrk(port, path, connections, duration):
    """Requests per second that wrk measured; fails on errors or non-2xx answers."""
    cmd = [WRK, "-t", "2", "-c", str(connections), "-d", f"{duration}s", "-H", "Connection: close",
           f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30, start_new_session=True)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if out.returncode != 0 or rps is None:
        raise RuntimeError(f"wrk failed: {out.stdout}{out.stderr}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    if bad:
        raise RuntimeError(f"wrk saw {bad.group(1)} error responses:\n{out.stdout}")
    errors = re.search(r"Socket errors: (.*)", out.stdout)
    return float(rps.group(1)), errors.group(1) if errors else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=4096, help="bytes of the page served (default 4096)")
    p.add_argument("--connections", type=int, default=32, help="wrk's open connections (default 32)")
    p.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    p.add_argument("--runs", type=int, default=3, help="runs of each server, best kept (default 3)")
    p.add_argument("--threads", type=int, default=64, help="webserver -t (default 64)")
    args = p.parse_args(argv)
    for tool in (NGINX, WRK):
        if not os.path.exists(tool):
            print(f"bench: {tool} is missing: run 'make bench' (it installs nginx and wrk)", file=sys.stderr)
            return 1
    binary = build()
    tmp = tempfile.mkdtemp(prefix="webserver-bench-")
    try:
        os.chmod(tmp, 0o755)    # nginx's workers (user nobody) read the root below it
        root = os.path.join(tmp, "www")
        os.makedirs(root)
        with open(os.path.join(root, "index.html"), "wb") as f:
            f.write((b"<!DOCTYPE html>\n<p>" + b"socklab " * args.size)[:args.size - 5] + b"</p>\n")
        port_ws, port_ng = free_port(), free_port()
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=tmp, port=port_ng, root=root))
        servers = {
            "webserver": ([binary, "-d", root, "-t", str(args.threads), str(port_ws)], port_ws),
            "nginx": ([NGINX, "-p", tmp, "-c", conf, "-e", os.path.join(tmp, "error.log")], port_ng),
        }
        best = {name: 0.0 for name in servers}
        notes = {}
        print(f"page: {args.size} bytes; wrk: {args.connections} connections, 2 threads, "
              f"{args.duration} s, 'Connection: close'; {args.runs} runs each, alternating")
        with open(os.devnull, "wb") as devnull:
            procs = {name: start(cmd, port, devnull) for name, (cmd, port) in servers.items()}
            try:
                for run in range(1, args.runs + 1):
                    for name, (_, port) in servers.items():
                        rps, errors = wrk(port, "/index.html", args.connections, args.duration)
                        best[name] = max(best[name], rps)
                        if errors:
                            notes[name] = errors
                        print(f"  run {run} {name:10} {rps:10.0f} requests/s"
                              f"{'  (socket errors: ' + errors + ')' if errors else ''}")
            finally:
                for proc in procs.values():
                    stop(proc)
        print(f"{'':12} {'best requests/s':>16}")
        for name, rps in best.items():
            print(f"{name:12} {rps:16.0f}")
        print(f"webserver against nginx: {best['webserver'] / best['nginx']:.2f}x the requests per second")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
