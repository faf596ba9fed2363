#!/usr/bin/python3
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2]))); f = c.makefile("rb")
for line in sys.stdin.buffer:
    if not line.endswith(b"\n"): line += b"\n"
    c.sendall(line); r = f.readline()
    if not r.endswith(b"\n"): sys.exit(1)
    sys.stdout.buffer.write(r); sys.stdout.flush()
f.close(); c.close()
