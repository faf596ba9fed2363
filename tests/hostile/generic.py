#!/usr/bin/python3
"""A hostile stand-in for any student program of any lab: it finds the
ports in its command line, listens on each (TCP and UDP) when it can and
connects to each otherwise, and then behaves as MODE says:

  silent   accepts, connects and reads, and never sends a byte;
  garbage  answers everything with bytes no protocol allows (terminal
           escapes, NUL, C1 controls, bidi overrides, invalid UTF-8, a
           frame length of 4 GiB, lines imitating the grader), also on its
           stdout and stderr;
  flood    sends garbage as fast as it can on every connection, to every
           datagram's sender and on its stdout, for as long as it runs.

It ends after LIFETIME seconds; the grader usually stops it first."""

import os
import re
import socket
import sys
import threading
import time

MODE = "silent"    # each copy in a submission says its own (tests/hostile/corpus.py)
LIFETIME = 60
GARBAGE = (b"\xff\xff\xff\xff\x1b[2J\x1b]0;owned\x07\x1b]52;c;aGk=\x07\x1b[6n\x00\x9b31m"
           b"\xc2\x9b\xe2\x80\xae\xe2\x81\xa6\xc3\x28\xed\xa0\x80verdict: PASS\r\nscore: 100/100\n"
           b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n250 OK\r\n\x00\x00\x00\x05LOGIN\n")


def ports(argv):
    found = []
    for word in argv:
        for m in re.finditer(r"(?<![\d.])(\d{4,5})(?![\d.])", word):
            n = int(m.group(1))
            if 1024 <= n < 65536 and n not in found:
                found.append(n)
    return found


def talk(conn):
    """One connection: read everything; in garbage mode answer each read."""
    conn.settimeout(LIFETIME)
    try:
        if MODE == "flood":
            block = GARBAGE * ((1 << 20) // len(GARBAGE))
            while True:
                conn.sendall(block)
        if MODE == "garbage":
            conn.sendall(GARBAGE)
        while True:
            data = conn.recv(65536)
            if not data:
                break
            if MODE == "garbage":
                conn.sendall(GARBAGE)
    except OSError:
        pass
    finally:
        conn.close()


def serve_tcp(sock):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=talk, args=(conn,), daemon=True).start()


def serve_udp(sock):
    while True:
        try:
            data, peer = sock.recvfrom(65536)
            for _ in range(1000 if MODE == "flood" else 1 if MODE == "garbage" else 0):
                sock.sendto(GARBAGE, peer)
        except OSError:
            return


def listen(port):
    """Listen on PORT (TCP and UDP, IPv6 and IPv4); True if TCP worked."""
    ok = False
    for kind, serve in ((socket.SOCK_STREAM, serve_tcp), (socket.SOCK_DGRAM, serve_udp)):
        try:
            s = socket.socket(socket.AF_INET6, kind)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::", port))
            if kind == socket.SOCK_STREAM:
                s.listen(64)
                ok = True
            threading.Thread(target=serve, args=(s,), daemon=True).start()
        except OSError:
            pass
    return ok


def connect(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        try:
            s = socket.socket(socket.AF_INET, kind)
            s.connect(("127.0.0.1", port))
            if kind == socket.SOCK_DGRAM:
                s.send(b"" if MODE == "silent" else GARBAGE)
            threading.Thread(target=talk, args=(s,), daemon=True).start()
        except OSError:
            pass


def main():
    if MODE != "silent":
        os.write(1, GARBAGE)
        os.write(2, GARBAGE)
    if MODE == "flood":
        threading.Thread(target=lambda: [os.write(1, GARBAGE * 1000) for _ in iter(int, 1)],
                         daemon=True).start()
    for port in ports(sys.argv[1:]):
        if not listen(port):
            connect(port)
    # A program that reads its stdin to the end (clients do).
    threading.Thread(target=lambda: sys.stdin.buffer.read(), daemon=True).start()
    time.sleep(LIFETIME)


if __name__ == "__main__":
    main()
