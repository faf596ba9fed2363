"""What the HTTP benchmarks share (bench/webserver, bench/proxy): building a
reference solution, nginx in the foreground with a throw-away prefix, servers
started in their own process group and stopped with it, and wrk's figures.

Every wait has a deadline; a server that does not listen in time is stopped
and named. Not a test module: the benchmarks print ratios, they assert nothing
about speed.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


def build(lab, binaries):
    """Build solutions/LAB from a clean copy under build/bench-LAB; return the
    folder that holds BINARIES."""
    out = os.path.join(ROOT, "build", f"bench-{lab}")
    src = os.path.join(out, "src")
    shutil.rmtree(out, ignore_errors=True)
    ignore = shutil.ignore_patterns("*.o", *binaries)
    shutil.copytree(os.path.join(ROOT, "solutions", lab), os.path.join(src, lab), ignore=ignore)
    shutil.copytree(os.path.join(ROOT, "solutions", "common"), os.path.join(src, "common"), ignore=ignore)
    subprocess.run(["make", "-s", "-C", os.path.join(src, lab)], check=True, timeout=300)
    return os.path.join(src, lab)


def missing_tools(*tools):
    """The tools of TOOLS (paths) that are not installed."""
    return [t for t in tools if not os.path.exists(t)]


def free_ports(n):
    """N TCP ports free on loopback right now (held open together, so distinct)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def nginx_command(tmp, root, port):
    """Write nginx's configuration for ROOT on PORT into TMP; return the command
    that runs it in the foreground with TMP as its prefix."""
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(tmp=tmp, port=port, root=root))
    return [NGINX, "-p", tmp, "-c", conf, "-e", os.path.join(tmp, "error.log")]


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


def wrk(url, connections, duration):
    """(requests per second, socket errors or None) that wrk measured on URL
    with 'Connection: close'; raises on a failed run or non-2xx answers."""
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


def best_of(targets, connections, duration, runs):
    """Best requests/s of each (name, url) of TARGETS over RUNS alternating runs;
    prints each run."""
    best = {name: 0.0 for name, _ in targets}
    for run in range(1, runs + 1):
        for name, url in targets:
            rps, errors = wrk(url, connections, duration)
            best[name] = max(best[name], rps)
            print(f"  run {run} {name:13} {rps:10.0f} requests/s"
                  f"{'  (socket errors: ' + errors + ')' if errors else ''}", flush=True)
    return best
