#!/usr/bin/python3
import socket, sys
from fake import addr, log, port, usage
args = usage("udpserver", sys.argv[1:], 0, 1)
p = port("udpserver", args[0]) if args else 12000
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
try:
    s.bind(("::", p))
except OSError as e:
    log("udpserver", "ERROR", f"bind: {e}"); sys.exit(1)
T = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
while True:
    d, a = s.recvfrom(65535); log("udpserver", "INFO", f"{len(d)} bytes from {addr(a)}"); s.sendto(d.translate(T), a)
