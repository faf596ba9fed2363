#!/usr/bin/python3
import socket, sys
from fake import log, port, usage
args = usage("tcpclient", sys.argv[1:], 2, 2)
host, p = args[0], port("tcpclient", args[1])
try:
    c = socket.create_connection((host, p))
except OSError as e:
    log("tcpclient", "ERROR", f"connect to {host}:{p}: {e}"); sys.exit(1)
log("tcpclient", "INFO", f"connected to {host}:{p}"); f = c.makefile("rb")
while True:
    line = sys.stdin.buffer.readline(65538)
    if not line: break
    if len(line.rstrip(b"\n")) > 65536: log("tcpclient", "ERROR", "line too long"); sys.exit(1)
    if not line.endswith(b"\n"): line += b"\n"
    c.sendall(line); r = f.readline()
    if not r.endswith(b"\n"): log("tcpclient", "ERROR", "server closed the connection before replying"); sys.exit(1)
    sys.stdout.buffer.write(r); sys.stdout.flush()
f.close(); c.close()
