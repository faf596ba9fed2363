#!/usr/bin/python3
import socket, sys, select
args = sys.argv[1:]; W = 1000
if args[0] == "-W": W = int(args[1]); args = args[2:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect((args[0], int(args[1]))); rc = 0
for line in sys.stdin.buffer:
    s.send(line.rstrip(b"\n"))
    r, _, _ = select.select([s], [], [], W / 1000)
    if not r: print("no reply", file=sys.stderr); rc = 1; continue
    sys.stdout.buffer.write(s.recv(65536) + b"\n"); sys.stdout.flush()
sys.exit(rc)
