#!/usr/bin/python3
import socket, sys
port = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); s.bind(("::", port)); s.listen()
while True:
    c, a = s.accept(); f = c.makefile("rb")
    try:
        for line in f:
            if len(line) > 65537: break
            c.sendall(line.upper() if False else bytes(line).translate(bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
    except OSError: pass
    f.close(); c.close()
