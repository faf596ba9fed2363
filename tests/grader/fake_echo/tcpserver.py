#!/usr/bin/python3
import socket, sys
from fake import addr, log, port, usage
args = usage("tcpserver", sys.argv[1:], 0, 1)
p = port("tcpserver", args[0]) if args else 12000
T = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
try:
    s.bind(("::", p)); s.listen()
except OSError as e:
    log("tcpserver", "ERROR", f"bind: {e}"); sys.exit(1)
log("tcpserver", "INFO", f"listening on port {p}")
while True:
    c, a = s.accept(); f = c.makefile("rb"); who = addr(a)
    log("tcpserver", "INFO", f"connection from {who}")
    try:
        while True:
            line = f.readline(65538)
            if not line: break
            if len(line) > 65537 or (len(line) == 65537 and not line.endswith(b"\n")):
                log("tcpserver", "ERROR", f"{who} sent a line longer than 65536 bytes"); break
            c.sendall(line.translate(T))
    except OSError as e:
        log("tcpserver", "ERROR", f"receive from {who}: {e}")
    f.close(); c.close(); log("tcpserver", "INFO", f"closed {who}")
