#!/usr/bin/python3
import socket, sys, select
from fake import bad, log, port, usage
args = usage("udpclient", sys.argv[1:], 2, 4); W = 1000
if args[0] == "-W":
    if not args[1].isdigit() or not 1 <= int(args[1]) <= 600000: bad("udpclient", "bad -W")
    W = int(args[1]); args = args[2:]
if len(args) != 2: bad("udpclient", "expected HOST PORT")
host, p = args[0], port("udpclient", args[1])
fam, _, _, _, sa = socket.getaddrinfo(host, p, type=socket.SOCK_DGRAM)[0]
s = socket.socket(fam, socket.SOCK_DGRAM); s.connect(sa); rc = 0; k = 0
for line in sys.stdin.buffer:
    k += 1; line = line.rstrip(b"\n")
    if len(line) > 65507: log("udpclient", "ERROR", f"line {k} too long"); rc = 1; continue
    try:
        s.send(line)
        r, _, _ = select.select([s], [], [], W / 1000)
        if not r: log("udpclient", "ERROR", f"no reply within {W} ms (line {k})"); rc = 1; continue
        sys.stdout.buffer.write(s.recv(65536) + b"\n"); sys.stdout.flush()
    except ConnectionRefusedError:
        log("udpclient", "ERROR", f"no server at {host}:{p} (port unreachable)"); rc = 1
sys.exit(rc)
