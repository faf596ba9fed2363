#!/usr/bin/python3
"""pyrelay.py PORT - the bench's peer: a minimal chat relay in Python with the
chat lab's framing (4-byte big-endian length, type letter, fields joined by
0x00), one thread and one selectors loop.

It does what the measured path of chatserver does: a LOGIN gets CTL welcome
(and everyone else CTL online), a MSG goes to everyone else as MSG time,
sender, text. It checks no password (logins are not measured), refuses
nothing and has no private messages, limits or logs: the least a relay
must do. Sends are blocking sendall() calls, as chatserver's are.
"""

import selectors
import socket
import struct
import sys
import time


class Relay:
    def __init__(self, port):
        self.sel = selectors.DefaultSelector()
        self.listener = socket.create_server(("127.0.0.1", port), backlog=1024)
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        self.bufs = {}     # socket -> bytes received and not yet framed
        self.names = {}    # socket -> user name, once logged in

    def send(self, sock, payload):
        try:
            sock.sendall(struct.pack(">I", len(payload)) + payload)
        except OSError:
            self.drop(sock)

    def others(self, sock, payload):
        for other in list(self.names):
            if other is not sock:
                self.send(other, payload)

    def stamped(self, type_, a, b):
        return type_ + str(int(time.time())).encode() + b"\0" + a + b"\0" + b

    def drop(self, sock):
        if sock in self.bufs:
            self.sel.unregister(sock)
            del self.bufs[sock]
            name = self.names.pop(sock, None)
            sock.close()
            if name is not None:
                self.others(None, self.stamped(b"C", b"offline", name))

    def handle(self, sock, payload):
        kind = payload[:1]
        if kind == b"L" and sock not in self.names:
            name = payload[1:].split(b"\0")[0]
            self.names[sock] = name
            self.send(sock, self.stamped(b"C", b"welcome", name))
            self.others(sock, self.stamped(b"C", b"online", name))
        elif kind == b"M" and sock in self.names:
            self.others(sock, self.stamped(b"M", self.names[sock], payload[1:]))

    def readable(self, sock):
        try:
            chunk = sock.recv(1 << 16)
        except OSError:
            chunk = b""
        if not chunk:
            self.drop(sock)
            return
        buf = self.bufs[sock] + chunk
        while len(buf) >= 4:
            n = struct.unpack_from(">I", buf)[0]
            if len(buf) < 4 + n:
                break
            self.handle(sock, buf[4:4 + n])
            buf = buf[4 + n:]
        if sock in self.bufs:
            self.bufs[sock] = buf

    def run(self):
        while True:
            for key, _ in self.sel.select():
                if key.data is None:
                    sock, _ = self.listener.accept()
                    self.bufs[sock] = b""
                    self.sel.register(sock, selectors.EVENT_READ, "client")
                else:
                    self.readable(key.fileobj)


if __name__ == "__main__":
    Relay(int(sys.argv[1])).run()
