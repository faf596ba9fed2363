#!/usr/bin/python3
"""make_synthetic.py [DIR] - write pcapcheck's synthetic captures and their verdicts.

Each scenario below builds a small capture packet by packet (Python's
struct module only, fixed timestamps and sequence numbers, so the output
is byte-identical on every run) and states the verdict pcapcheck must
give, worked out by hand from Zeek's and Wireshark's documented rules.
For every scenario NAME it writes NAME.pcap and NAME.expected.json (the
fields that `pcapcheck analyze --json` must show) into DIR (default: the
folder of this script). The test tests/pcapcheck/test_golden.py compares.
"""

import argparse
import json
import os
import struct
import sys

BASE_SECONDS = 1_700_000_000  # first packet: 2023-11-14 22:13:20 UTC
STEP_NS = 100_000             # 100 us between packets unless said otherwise

# Link types as stored in capture files (LINKTYPE_*, not DLT_*).
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

CLIENT4, SERVER4 = "127.0.0.1", "127.0.0.1"
CLIENT_PORT, SERVER_PORT = 40000, 12000


# ---------------------------------------------------------------- checksums

def checksum(data):
    """The Internet checksum (RFC 1071) of DATA."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def addr_bytes(addr):
    """An IPv4 or IPv6 address in text form as network-order bytes."""
    if ":" not in addr:
        return bytes(int(part) for part in addr.split("."))
    head, _, tail = addr.partition("::")
    groups = [g for g in head.split(":") if g]
    rest = [g for g in tail.split(":") if g]
    groups += ["0"] * (8 - len(groups) - len(rest)) + rest
    return b"".join(struct.pack("!H", int(g, 16)) for g in groups)


# ------------------------------------------------------------ IP, TCP, UDP

def ipv4_packet(src, dst, proto, payload, ident=1, frag=0x4000):
    """An IPv4 packet (don't-fragment set by default) around PAYLOAD."""
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64,
                         proto, 0, addr_bytes(src), addr_bytes(dst))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ipv6_packet(src, dst, next_header, payload):
    """An IPv6 packet around PAYLOAD."""
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), next_header, 64,
                       addr_bytes(src), addr_bytes(dst)) + payload


def pseudo_header(src, dst, proto, length):
    """The pseudo-header that TCP and UDP checksums cover."""
    if ":" in src:
        return addr_bytes(src) + addr_bytes(dst) + struct.pack("!IxxxB", length, proto)
    return addr_bytes(src) + addr_bytes(dst) + struct.pack("!xBH", proto, length)


FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}


def tcp_header_options(syn):
    """MSS 65495, SACK permitted, window scale 7 on SYNs (12 bytes); nothing otherwise."""
    if not syn:
        return b""
    return struct.pack("!BBH", 2, 4, 65495) + b"\x01\x01\x04\x02" + b"\x01\x03\x03\x07"


def tcp_segment(src, dst, sport, dport, seq, ack, flags, window, payload):
    """A TCP segment with a correct checksum; FLAGS like "PA" or "S"."""
    bits = sum(FLAG_BITS[f] for f in flags)
    options = tcp_header_options("S" in flags)
    offset = (20 + len(options)) // 4
    header = struct.pack("!HHIIBBHHH", sport, dport, seq % 2**32, ack % 2**32, offset << 4,
                         bits, window, 0, 0) + options
    segment = header + payload
    total = checksum(pseudo_header(src, dst, 6, len(segment)) + segment)
    return segment[:16] + struct.pack("!H", total) + segment[18:]


def udp_datagram(src, dst, sport, dport, payload):
    """A UDP datagram with a correct checksum."""
    header = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    total = checksum(pseudo_header(src, dst, 17, 8 + len(payload)) + header + payload) or 0xFFFF
    return header[:6] + struct.pack("!H", total) + payload


def ip_packet(src, dst, proto, payload):
    """IPv4 or IPv6, whichever SRC is."""
    if ":" in src:
        return ipv6_packet(src, dst, proto, payload)
    return ipv4_packet(src, dst, proto, payload)


# -------------------------------------------------------------- link layers

def ethernet(ip):
    """Ethernet with zero MACs, as on Linux lo."""
    ethertype = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return b"\0" * 12 + struct.pack("!H", ethertype) + ip


def linux_sll(ip):
    """Linux cooked v1 (tcpdump -i any before 4.99): outgoing, loopback ARPHRD."""
    ethertype = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return struct.pack("!HHH8sH", 4, 772, 6, b"\0" * 8, ethertype) + ip


def linux_sll2(ip):
    """Linux cooked v2 (tcpdump 4.99 -i any): protocol first, then interface 1."""
    ethertype = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return struct.pack("!HHIHBB8s", ethertype, 0, 1, 772, 4, 6, b"\0" * 8) + ip


def bsd_null_le(ip):
    """BSD loopback from a little-endian host: AF_INET 2 / AF_INET6 30 (macOS)."""
    return struct.pack("<I", 30 if ip[0] >> 4 == 6 else 2) + ip


def bsd_null_be(ip):
    """BSD loopback from a big-endian host: the same family, other byte order."""
    return struct.pack(">I", 30 if ip[0] >> 4 == 6 else 2) + ip


def raw(ip):
    return ip


# ------------------------------------------------------------------ tunnels
# Captures from students' laptops: the labs' traffic inside a tunnel, the
# outer headers between two other hosts. pcapcheck skips them and
# analyses the inner packets as usual.

OUTER4 = ("192.0.2.1", "192.0.2.2")
OUTER6 = ("2001:db8::1", "2001:db8::2")


def ip_in_ip(ip):
    """IPv4 inside IPv6 (protocol 4), or IPv6 inside IPv4 (protocol 41)."""
    if ip[0] >> 4 == 6:
        return ethernet(ipv4_packet(*OUTER4, 41, ip))
    return ethernet(ipv6_packet(*OUTER6, 4, ip))


def gre(ip):
    """GRE version 0 with a key (RFC 2890), over IPv4."""
    ethertype = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    return ethernet(ipv4_packet(*OUTER4, 47, struct.pack("!HHI", 0x2000, ethertype, 7) + ip))


def vxlan(ip):
    """VXLAN (UDP port 4789, VNI 42) carrying the Ethernet frame."""
    header = struct.pack("!II", 0x08000000, 42 << 8)
    return ethernet(ipv4_packet(*OUTER4, 17,
                                udp_datagram(*OUTER4, 33333, 4789, header + ethernet(ip))))


def gtpu(ip):
    """A GTPv1-U G-PDU (UDP port 2152, TEID 0x22222222), as on a mobile network."""
    header = struct.pack("!BBHI", 0x30, 0xFF, len(ip), 0x22222222)
    return ethernet(ipv4_packet(*OUTER4, 17, udp_datagram(*OUTER4, 2152, 2152, header + ip)))


def pppoe(ip):
    """A PPPoE session frame (ethertype 0x8864), PPP IPv4 0x0021 / IPv6 0x0057."""
    protocol = 0x0057 if ip[0] >> 4 == 6 else 0x0021
    return (b"\0" * 5 + b"\x01" + b"\0" * 6 + struct.pack("!H", 0x8864)
            + struct.pack("!BBHHH", 0x11, 0, 0x1234, len(ip) + 2, protocol) + ip)


# ------------------------------------------------------------ capture files

class Frame:
    """One captured frame: time in ns, bytes kept, length on the wire."""

    def __init__(self, ts_ns, data, wire_len=None):
        self.ts_ns = ts_ns
        self.data = data
        self.wire_len = len(data) if wire_len is None else wire_len


def pcap_file(linktype, frames, nanosecond=False, snaplen=262144):
    """A classic pcap file (little-endian), micro- or nanosecond timestamps."""
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    out = [struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    unit = 1 if nanosecond else 1000
    for f in frames:
        sec, frac = divmod(f.ts_ns, 1_000_000_000)
        out.append(struct.pack("<IIII", sec, frac // unit, len(f.data), f.wire_len) + f.data)
    return b"".join(out)


def pcapng_block(block_type, body):
    """A pcapng block: type, length, body padded to 32 bits, length again."""
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def pcapng_file(linktype, frames):
    """A pcapng file: section header, one interface (us), enhanced packet blocks."""
    shb = pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = pcapng_block(0x00000001, struct.pack("<HHI", linktype, 0, 262144))
    out = [shb, idb]
    for f in frames:
        us = f.ts_ns // 1000
        body = struct.pack("<IIIII", 0, us >> 32, us & 0xFFFFFFFF, len(f.data), f.wire_len)
        out.append(pcapng_block(0x00000006, body + f.data))
    return b"".join(out)


# -------------------------------------------------------- conversations

class Clock:
    """Timestamps: every packet STEP_NS after the previous one unless told."""

    def __init__(self):
        self.now = BASE_SECONDS * 1_000_000_000 - STEP_NS

    def tick(self, after_ns=STEP_NS):
        self.now += after_ns
        return self.now


class Tcp:
    """Builds the segments of one TCP connection, client and server.

    Each side keeps its next sequence number; a segment acknowledges
    everything the other side sent so far unless ACK is given.
    """

    def __init__(self, clock, frames, link=ethernet, client=(CLIENT4, CLIENT_PORT),
                 server=(SERVER4, SERVER_PORT), c_isn=1000, s_isn=5000, snaplen=None):
        self.clock, self.frames, self.link, self.snaplen = clock, frames, link, snaplen
        self.ends = {"c": client, "s": server}
        self.nxt = {"c": c_isn, "s": s_isn}

    def send(self, who, flags, data=b"", seq=None, ack=None, after_ns=STEP_NS, window=None):
        """Append one segment from WHO ("c" or "s"); returns nothing."""
        other = "s" if who == "c" else "c"
        (src, sport), (dst, dport) = self.ends[who], self.ends[other]
        seq = self.nxt[who] if seq is None else seq
        ack = (self.nxt[other] if ack is None else ack) if "A" in flags else 0
        if window is None:
            window = 65495 if "S" in flags else 512
        segment = tcp_segment(src, dst, sport, dport, seq, ack, flags, window, data)
        frame = self.link(ip_packet(src, dst, 6, segment))
        wire_len = len(frame)
        if self.snaplen is not None:
            frame = frame[:self.snaplen]
        self.frames.append(Frame(self.clock.tick(after_ns), frame, wire_len))
        end = (seq + len(data) + ("S" in flags) + ("F" in flags)) if "R" not in flags else seq
        if (end - self.nxt[who]) % 2**32 < 2**31:
            self.nxt[who] = end % 2**32

    def handshake(self):
        self.send("c", "S")
        self.send("s", "SA")
        self.send("c", "A")

    def echo(self, request=b"hello\n", reply=b"HELLO\n"):
        """Client sends, server acks, server replies, client acks."""
        self.send("c", "PA", request)
        self.send("s", "A")
        self.send("s", "PA", reply)
        self.send("c", "A")

    def close_four_way(self, first="c"):
        """FIN, ACK, FIN, ACK, FIRST closing first."""
        other = "s" if first == "c" else "c"
        self.send(first, "FA")
        self.send(other, "A")
        self.send(other, "FA")
        self.send(first, "A")


# ------------------------------------------------------ expected verdicts

def handshake_expect(syn=True, synack=True, ack=True, rtt_ms=None):
    h = {"syn": syn, "synack": synack, "ack": ack, "complete": syn and synack and ack}
    if rtt_ms is not None or not h["complete"]:
        h["rtt_ms"] = rtt_ms
    return h


def endpoint(addr, port):
    return {"addr": addr, "port": port}


def tcp_expect(**fields):
    """Expected fields of one TCP connection, with the usual endpoints."""
    e = {"orig": endpoint(CLIENT4, CLIENT_PORT), "resp": endpoint(SERVER4, SERVER_PORT)}
    e.update(fields)
    return e


# ---------------------------------------------------------------- scenarios
# Each returns (frames, file options, expected verdict, README row).
# History letters: upper case from the originator, lower case from the
# responder; a, d at most once per direction; s, h, f, r again only with a
# new sequence number; t (retransmitted payload) at 1, 10, 100, ...

def fin_four_way():
    """Echo exchange, then FIN / ACK / FIN / ACK from the client first."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.handshake()
    t.echo()
    t.close_four_way("c")
    expect = {"linktype": "EN10MB", "packets": 11, "truncated": False, "warnings": [],
              "tcp": [tcp_expect(
                  id=1, start=0.0, end=0.001, duration=0.001,
                  conn_state="SF", history="ShADadFf",
                  handshake=handshake_expect(rtt_ms=0.2),
                  orig_bytes=6, resp_bytes=6, orig_pkts=6, resp_pkts=5,
                  orig_data_segs=1, resp_data_segs=1,
                  retransmissions={"orig": 0, "resp": 0}, keepalives={"orig": 0, "resp": 0},
                  teardown={"kind": "four-way-fin", "first_closer": "orig", "fin_packets": 2},
                  partial_start=False, partial_end=False, tcp_completeness=31,
                  orig_payload_preview="hello\n", resp_payload_preview="HELLO\n")],
              "udp": []}
    return frames, {}, expect, ("clean close: FIN, ACK, FIN, ACK (IPv4, Ethernet)", "SF", "four-way-fin")


def fin_three_packet():
    """The server answers the client's FIN with its own FIN at once: FIN / FIN-ACK / ACK."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.handshake()
    t.send("c", "PA", b"ping")
    t.send("s", "PA", b"pong")
    t.send("c", "FA")
    t.send("s", "FA")  # acknowledges the client's FIN: it was received
    t.send("c", "A")
    # The server never sent a pure ACK: no 'a'. Its FIN-ACK acks the first FIN.
    expect = {"linktype": "EN10MB", "packets": 8, "warnings": [],
              "tcp": [tcp_expect(
                  conn_state="SF", history="ShADdFf", orig_bytes=4, resp_bytes=4,
                  orig_pkts=5, resp_pkts=3, orig_data_segs=1, resp_data_segs=1,
                  teardown={"kind": "four-way-fin", "first_closer": "orig", "fin_packets": 2},
                  partial_start=False, partial_end=False, tcp_completeness=31,
                  orig_payload_preview="ping", resp_payload_preview="pong")],
              "udp": []}
    return frames, {}, expect, ("three-packet close FIN/ACK, FIN/ACK, ACK", "SF", "four-way-fin")


def simultaneous_close():
    """Both sides send FIN before either FIN arrived, then each acks the other's."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.handshake()
    t.echo()
    c_before_fin = t.nxt["c"]
    t.send("c", "FA")
    t.send("s", "FA", ack=c_before_fin)  # does not acknowledge the client's FIN
    t.send("c", "A")
    t.send("s", "A")
    expect = {"linktype": "EN10MB", "packets": 11, "warnings": [],
              "tcp": [tcp_expect(
                  conn_state="SF", history="ShADadFf", orig_bytes=6, resp_bytes=6,
                  teardown={"kind": "simultaneous-close", "first_closer": "orig",
                            "fin_packets": 2},
                  partial_end=False, tcp_completeness=31)],
              "udp": []}
    return frames, {}, expect, ("simultaneous close: FINs cross", "SF", "simultaneous-close")


def half_close():
    """The client shuts down its sending side; the server still answers, then closes."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.handshake()
    t.send("c", "PA", b"GET /\n")
    t.send("c", "FA")                # shutdown(SHUT_WR) after the request
    t.send("s", "A")                 # acks request and FIN
    t.send("s", "PA", b"200 OK\n")   # data after the client's FIN
    t.send("c", "A")
    t.send("s", "FA")
    t.send("c", "A")
    expect = {"linktype": "EN10MB", "packets": 10, "warnings": [],
              "tcp": [tcp_expect(
                  conn_state="SF", history="ShADFadf", orig_bytes=6, resp_bytes=7,
                  orig_data_segs=1, resp_data_segs=1,
                  teardown={"kind": "half-close", "first_closer": "orig", "fin_packets": 2},
                  partial_end=False, tcp_completeness=31,
                  orig_payload_preview="GET /\n", resp_payload_preview="200 OK\n")],
              "udp": []}
    return frames, {}, expect, ("half-close: server sends data after the client's FIN", "SF",
                                "half-close")


def reset_by_originator():
    """The client aborts (SO_LINGER 0): RST instead of FIN."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.handshake()
    t.echo()
    t.send("c", "RA")
    # Originator RESET, responder ESTABLISHED: Zeek's RSTO.
    expect = {"linktype": "EN10MB", "packets": 8, "warnings": [],
              "tcp": [tcp_expect(
                  conn_state="RSTO", history="ShADadR", orig_bytes=6, resp_bytes=6,
                  teardown={"kind": "reset-by-originator", "first_closer": "orig",
                            "fin_packets": 0},
                  partial_end=False, tcp_completeness=47)],
              "udp": []}
    return frames, {}, expect, ("client aborts with RST", "RSTO", "reset-by-originator")


def reset_by_responder():
    """The client sends a request and FIN; the server closes with it unread: RST."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.handshake()
    t.send("c", "PA", b"hello\n")
    t.send("c", "FA")
    t.send("s", "RA")
    # Originator CLOSED (not inactive), responder RESET: RSTR, although a FIN came first.
    expect = {"linktype": "EN10MB", "packets": 6, "warnings": [],
              "tcp": [tcp_expect(
                  conn_state="RSTR", history="ShADFr", orig_bytes=6, resp_bytes=0,
                  resp_data_segs=0,
                  teardown={"kind": "reset-by-responder", "first_closer": "orig",
                            "fin_packets": 1},
                  partial_end=False, tcp_completeness=63)],
              "udp": []}
    return frames, {}, expect, ("server resets a connection with unread data (after the "
                                "client's FIN)", "RSTR", "reset-by-responder")


def rejected():
    """Nobody listens: the SYN is answered by RST-ACK."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames, s_isn=0)
    t.send("c", "S")
    t.send("s", "RA")
    # Responder RESET while the originator is SYN_SENT: REJ. Completeness: SYN (1),
    # and the RST-ACK brings both ACK (4: any non-SYN segment with ACK) and RST (32).
    expect = {"linktype": "EN10MB", "packets": 2, "warnings": [],
              "tcp": [tcp_expect(
                  conn_state="REJ", history="Sr", orig_bytes=0, resp_bytes=0,
                  orig_pkts=1, resp_pkts=1,
                  handshake=handshake_expect(synack=False, ack=False),
                  teardown={"kind": "reset-by-responder", "first_closer": "resp",
                            "fin_packets": 0},
                  partial_start=False, partial_end=False, tcp_completeness=37)],
              "udp": []}
    return frames, {}, expect, ("connection refused: SYN, RST-ACK", "REJ", "reset-by-responder")


def syn_only():
    """SYN and its two retransmissions (same ISN, 1 s then 2 s later), no answer."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.send("c", "S")
    t.send("c", "S", seq=1000, after_ns=1_000_000_000)
    t.send("c", "S", seq=1000, after_ns=2_000_000_000)
    # The same sequence number: 'S' is recorded once. State SYN_SENT / INACTIVE: S0.
    expect = {"linktype": "EN10MB", "packets": 3, "warnings": [],
              "tcp": [tcp_expect(
                  start=0.0, end=3.0, duration=3.0,
                  conn_state="S0", history="S", orig_bytes=0, resp_bytes=0,
                  orig_pkts=3, resp_pkts=0,
                  handshake=handshake_expect(synack=False, ack=False),
                  retransmissions={"orig": 2, "resp": 0},
                  teardown={"kind": "left-open", "first_closer": None, "fin_packets": 0},
                  partial_start=False, partial_end=True, tcp_completeness=1)],
              "udp": []}
    return frames, {}, expect, ("SYN only, retransmitted twice, never answered", "S0", "left-open")


def retransmission():
    """The client's request is retransmitted before the server acks it."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.handshake()
    t.send("c", "PA", b"hello\n")
    t.send("c", "PA", b"hello\n", seq=1001, after_ns=200_000_000)
    t.send("s", "A")
    t.send("s", "PA", b"HELLO\n")
    t.send("c", "A")
    t.close_four_way("c")
    # Zeek: payload again at the same sequence number -> 'T' once; bytes count once.
    expect = {"linktype": "EN10MB", "packets": 12, "warnings": [],
              "tcp": [tcp_expect(
                  conn_state="SF", history="ShADTadFf", orig_bytes=6, resp_bytes=6,
                  orig_pkts=7, orig_data_segs=1,
                  retransmissions={"orig": 1, "resp": 0},
                  teardown={"kind": "four-way-fin", "first_closer": "orig", "fin_packets": 2},
                  tcp_completeness=31, orig_payload_preview="hello\n")],
              "udp": []}
    return frames, {}, expect, ("retransmitted request", "SF", "four-way-fin")


def keepalives():
    """Two Linux keep-alives (0 bytes) and one Windows-style (1 byte) with their ACKs."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.handshake()
    t.send("c", "PA", b"hello\n")
    t.send("s", "A")
    last = t.nxt["c"] - 1
    t.send("c", "A", seq=last, after_ns=75_000_000_000)
    t.send("s", "A")
    t.send("c", "A", seq=last, after_ns=75_000_000_000)
    t.send("s", "A")
    t.send("c", "A", b"\n", seq=last, after_ns=75_000_000_000)
    t.send("s", "A")
    t.send("c", "FA")
    t.send("s", "FA")
    t.send("c", "A")
    # Keep-alives are ACKs at one before the next sequence number: not data, not
    # retransmissions for us. Zeek's history still sees the 1-byte probe as payload
    # that did not advance the sequence number: one 'T' (its documented rule).
    expect = {"linktype": "EN10MB", "packets": 14, "warnings": [],
              "tcp": [tcp_expect(
                  conn_state="SF", history="ShADaTFf", orig_bytes=6, resp_bytes=0,
                  orig_pkts=8, resp_pkts=6, orig_data_segs=1, resp_data_segs=0,
                  retransmissions={"orig": 0, "resp": 0},
                  keepalives={"orig": 3, "resp": 0},
                  teardown={"kind": "four-way-fin", "first_closer": "orig", "fin_packets": 2},
                  tcp_completeness=31, orig_payload_preview="hello\n")],
              "udp": []}
    return frames, {}, expect, ("TCP keep-alives (two of 0 bytes, one of 1 byte)", "SF",
                                "four-way-fin")


def port_reuse():
    """Two connections, one after the other, on the same 4-tuple (new ISN)."""
    clock, frames = Clock(), []
    first = Tcp(clock, frames, c_isn=1000, s_isn=5000)
    first.handshake()
    first.echo(b"one\n", b"ONE\n")
    first.close_four_way("c")
    second = Tcp(clock, frames, c_isn=90000, s_isn=70000)
    second.send("c", "S", after_ns=1_000_000_000)
    second.send("s", "SA")
    second.send("c", "A")
    second.echo(b"two\n", b"TWO\n")
    second.close_four_way("s")
    expect = {"linktype": "EN10MB", "packets": 22, "warnings": [],
              "tcp": [tcp_expect(id=1, conn_state="SF", history="ShADadFf",
                                 teardown={"kind": "four-way-fin", "first_closer": "orig",
                                           "fin_packets": 2},
                                 orig_payload_preview="one\n", resp_payload_preview="ONE\n"),
                      tcp_expect(id=2, start=1.001, conn_state="SF", history="ShADadfF",
                                 teardown={"kind": "four-way-fin", "first_closer": "resp",
                                           "fin_packets": 2},
                                 orig_payload_preview="two\n", resp_payload_preview="TWO\n")],
              "udp": []}
    return frames, {}, expect, ("port reuse: two connections on one 4-tuple", "SF, SF",
                                "four-way-fin (client, then server first)")


def ipv6_loopback():
    """The echo exchange over ::1 (Ethernet framing, as on Linux lo)."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames, client=("::1", CLIENT_PORT), server=("::1", SERVER_PORT))
    t.handshake()
    t.echo()
    t.close_four_way("c")
    expect = {"linktype": "EN10MB", "packets": 11, "warnings": [],
              "tcp": [{"orig": endpoint("::1", CLIENT_PORT), "resp": endpoint("::1", SERVER_PORT),
                       "conn_state": "SF", "history": "ShADadFf", "orig_bytes": 6,
                       "resp_bytes": 6,
                       "teardown": {"kind": "four-way-fin", "first_closer": "orig",
                                    "fin_packets": 2},
                       "tcp_completeness": 31, "orig_payload_preview": "hello\n"}],
              "udp": []}
    return frames, {}, expect, ("IPv6 ::1", "SF", "four-way-fin")


def linked(link, linktype_name, what):
    """The echo exchange with the given link-layer framing."""
    def scenario():
        clock, frames = Clock(), []
        t = Tcp(clock, frames, link=link)
        t.handshake()
        t.echo()
        t.close_four_way("c")
        expect = {"linktype": linktype_name, "packets": 11, "warnings": [],
                  "tcp": [tcp_expect(conn_state="SF", history="ShADadFf", orig_bytes=6,
                                     resp_bytes=6,
                                     teardown={"kind": "four-way-fin", "first_closer": "orig",
                                               "fin_packets": 2},
                                     tcp_completeness=31, resp_payload_preview="HELLO\n")],
                  "udp": []}
        return frames, {}, expect, (what, "SF", "four-way-fin")
    return scenario


def tunnelled(link, name, key, what):
    """The echo exchange inside a tunnel: the same verdict, and a warning."""
    def scenario():
        clock, frames = Clock(), []
        t = Tcp(clock, frames, link=link)
        t.handshake()
        t.echo()
        t.close_four_way("c")
        expect = {"linktype": "EN10MB", "packets": 11,
                  "warnings": [f"11 packets came through {name}: the outer headers were "
                               "skipped, the inner IP packets analysed"],
                  "tunnels": {key: {"decoded": 11, "skipped": 0}},
                  "tcp": [tcp_expect(conn_state="SF", history="ShADadFf", orig_bytes=6,
                                     resp_bytes=6,
                                     teardown={"kind": "four-way-fin", "first_closer": "orig",
                                               "fin_packets": 2},
                                     tcp_completeness=31, resp_payload_preview="HELLO\n")],
                  "udp": []}
        return frames, {}, expect, (what, "SF", "four-way-fin")
    return scenario


def synack_before_syn():
    """The capture shows the SYN-ACK before the SYN (two CPUs, `-i any`)."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.send("s", "SA", ack=1001)
    t.send("c", "S")
    t.send("c", "A")
    t.echo()
    t.close_four_way("c")
    # Zeek: the SYN-ACK's sender is the originator ('H'), the SYN from the
    # responder ('s') answers it at the acked ISN, so the roles flip ('^'):
    # from there on the client's letters are upper case.
    expect = {"linktype": "EN10MB", "packets": 11, "warnings": [],
              "tcp": [tcp_expect(conn_state="SF", history="Hs^ADadFf", orig_bytes=6,
                                 resp_bytes=6, partial_start=False,
                                 teardown={"kind": "four-way-fin", "first_closer": "orig",
                                           "fin_packets": 2},
                                 tcp_completeness=30)],  # Wireshark: a SYN counts only first
              "udp": []}
    return frames, {}, expect, ("SYN-ACK captured before its SYN: Zeek's late flip", "SF",
                                "four-way-fin")


def fin_over_hole():
    """The client's second line was not captured; its FIN jumps over the hole."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.handshake()
    t.send("c", "PA", b"hello\n")
    t.send("s", "A")
    t.nxt["c"] += 6  # "world\n", lost to the capture
    t.send("c", "FA")
    t.send("s", "A")
    t.send("s", "FA")
    t.send("c", "A")
    # The server's ack of the FIN reveals the hole: Zeek's content gap 'G'
    # (the FIN itself is not data); the bytes still count from seq numbers.
    expect = {"linktype": "EN10MB", "packets": 9, "warnings": [],
              "tcp": [tcp_expect(conn_state="SF", history="ShADaFGf", orig_bytes=12,
                                 resp_bytes=0,
                                 teardown={"kind": "four-way-fin", "first_closer": "orig",
                                           "fin_packets": 2})],
              "udp": []}
    return frames, {}, expect, ("a FIN jumps over uncaptured data: content gap", "SF",
                                "four-way-fin")


def bsd_null_ipv6_be():
    """BSD loopback in big-endian byte order carrying IPv6 (AF_INET6 = 30)."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames, link=bsd_null_be, client=("::1", CLIENT_PORT),
            server=("::1", SERVER_PORT))
    t.handshake()
    t.echo()
    t.close_four_way("s")
    expect = {"linktype": "NULL", "packets": 11, "warnings": [],
              "tcp": [{"orig": endpoint("::1", CLIENT_PORT), "conn_state": "SF",
                       "history": "ShADadfF",
                       "teardown": {"kind": "four-way-fin", "first_closer": "resp",
                                    "fin_packets": 2},
                       "tcp_completeness": 31}],
              "udp": []}
    return frames, {}, expect, ("BSD null loopback, big-endian family, IPv6; server closes "
                                "first", "SF", "four-way-fin")


def nanosecond():
    """The echo exchange in a nanosecond pcap with sub-microsecond gaps."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.send("c", "S")
    t.send("s", "SA", after_ns=12_345)
    t.send("c", "A", after_ns=678)
    t.echo()
    t.close_four_way("c")
    # rtt: 12345 + 678 ns = 0.013023 ms; end: 13023 ns + 8 * 100 us.
    expect = {"linktype": "EN10MB", "packets": 11, "warnings": [],
              "tcp": [tcp_expect(start=0.0, end=0.000813023, duration=0.000813023,
                                 conn_state="SF", history="ShADadFf",
                                 handshake=handshake_expect(rtt_ms=0.013023),
                                 teardown={"kind": "four-way-fin", "first_closer": "orig",
                                           "fin_packets": 2})],
              "udp": []}
    return frames, {"nanosecond": True}, expect, ("nanosecond timestamps", "SF", "four-way-fin")


def pcapng():
    """The echo exchange in pcapng format."""
    frames, _, expect, _ = fin_four_way()
    return frames, {"pcapng": True}, expect, ("pcapng format (same packets as fin_four_way)",
                                              "SF", "four-way-fin")


def seq_wraparound():
    """Both sequence spaces wrap past 2^32 in the middle of the data."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames, c_isn=2**32 - 10, s_isn=2**32 - 3)
    t.handshake()
    t.send("c", "PA", b"0123456789abcdef")   # crosses the wrap
    t.send("s", "A")
    t.send("s", "PA", b"FEDCBA9876543210")   # so does this one
    t.send("c", "A")
    t.send("c", "PA", b"more")
    t.send("s", "A")
    t.close_four_way("c")
    expect = {"linktype": "EN10MB", "packets": 13, "warnings": [],
              "tcp": [tcp_expect(conn_state="SF", history="ShADadFf", orig_bytes=20,
                                 resp_bytes=16, orig_data_segs=2, resp_data_segs=1,
                                 retransmissions={"orig": 0, "resp": 0},
                                 teardown={"kind": "four-way-fin", "first_closer": "orig",
                                           "fin_packets": 2},
                                 orig_payload_preview="0123456789abcdefmore",
                                 resp_payload_preview="FEDCBA9876543210")],
              "udp": []}
    return frames, {}, expect, ("32-bit sequence number wraparound", "SF", "four-way-fin")


def mid_connection():
    """The capture starts after the handshake, with the client's request."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    scratch = Tcp(Clock(), [])  # the handshake happened before the capture
    scratch.handshake()
    t.nxt = dict(scratch.nxt)
    t.echo()
    t.close_four_way("c")
    # Both sides PARTIAL (no SYN), then both CLOSED: Zeek says SF all the same.
    expect = {"linktype": "EN10MB", "packets": 8,
              "warnings": ["tcp 1 (127.0.0.1:40000 -> 127.0.0.1:12000): capture started "
                           "mid-connection (no SYN seen first)"],
              "tcp": [tcp_expect(conn_state="SF", history="DadAFf", orig_bytes=6,
                                 resp_bytes=6,
                                 handshake=handshake_expect(syn=False, synack=False, ack=False),
                                 teardown={"kind": "four-way-fin", "first_closer": "orig",
                                           "fin_packets": 2},
                                 partial_start=True, partial_end=False, tcp_completeness=28,
                                 orig_payload_preview="hello\n",
                                 resp_payload_preview="HELLO\n")],
              "udp": []}
    return frames, {}, expect, ("capture started mid-connection", "SF", "four-way-fin")


def ends_before_close():
    """The capture stops while the connection is still open."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames)
    t.handshake()
    t.echo()
    expect = {"linktype": "EN10MB", "packets": 7, "warnings": [],
              "tcp": [tcp_expect(conn_state="S1", history="ShADad", orig_bytes=6, resp_bytes=6,
                                 teardown={"kind": "left-open", "first_closer": None,
                                           "fin_packets": 0},
                                 partial_start=False, partial_end=True, tcp_completeness=15)],
              "udp": []}
    return frames, {}, expect, ("capture ends before the close", "S1", "left-open")


def caplen_short():
    """A snaplen of 96 bytes cuts a 960-byte request; its bytes still count in full."""
    clock, frames = Clock(), []
    t = Tcp(clock, frames, snaplen=96)
    t.handshake()
    t.send("c", "PA", bytes(range(32, 127)) * 10 + b"0123456789")
    t.send("s", "A")
    t.send("s", "PA", b"OK\n")
    t.send("c", "A")
    t.close_four_way("c")
    # 96 - 14 (Ethernet) - 20 (IP) - 20 (TCP) = 42 payload bytes kept of 960.
    # Zeek reassembles only whole payloads: the cut request leaves a hole,
    # and the server's ack over it is a content gap ('G' after its 'a').
    expect = {"linktype": "EN10MB", "packets": 11, "warnings": [],
              "tcp": [tcp_expect(conn_state="SF", history="ShADaGdFf", orig_bytes=960,
                                 resp_bytes=3, orig_data_segs=1,
                                 teardown={"kind": "four-way-fin", "first_closer": "orig",
                                           "fin_packets": 2},
                                 orig_payload_preview=bytes(range(32, 74)).decode(),
                                 resp_payload_preview="OK\n")],
              "udp": []}
    return frames, {"snaplen": 96}, expect, ("snaplen 96: caplen < len", "SF", "four-way-fin")


def udp_request_response():
    """Three UDP requests; the first two are answered, the last is not."""
    clock, frames = Clock(), []
    c, s = (CLIENT4, 50000), (SERVER4, 12000)

    def dgram(src, dst, payload, after_ns=STEP_NS):
        ip = ip_packet(src[0], dst[0], 17, udp_datagram(src[0], dst[0], src[1], dst[1], payload))
        frames.append(Frame(clock.tick(after_ns), ethernet(ip)))

    dgram(c, s, b"PING 1 1700000000.000000\n")
    dgram(s, c, b"ping 1 1700000000.000000\n")
    dgram(c, s, b"PING 2 1700000001.000000\n", after_ns=1_000_000_000)
    dgram(s, c, b"ping 2 1700000001.000000\n")
    dgram(c, s, b"PING 3 1700000002.000000\n", after_ns=1_000_000_000)
    expect = {"linktype": "EN10MB", "packets": 5, "warnings": [], "tcp": [],
              "udp": [{"id": 1, "orig": endpoint(CLIENT4, 50000), "resp": endpoint(SERVER4, 12000),
                       "start": 0.0, "end": 2.0002,
                       "orig_dgrams": 3, "resp_dgrams": 2, "orig_bytes": 75, "resp_bytes": 50,
                       "pairs": 2, "unanswered": 1,
                       "orig_payload_preview": "PING 1 1700000000.000000\n"}]}
    return frames, {}, expect, ("UDP request/response, the last request unanswered", "-",
                                "2 pairs, 1 unanswered")


def truncated():
    """The clean close, with the file cut in the middle of its last packet."""
    frames, _, _, _ = fin_four_way()
    # The last ACK is lost with the cut: both FINs are still there.
    expect = {"linktype": "EN10MB", "packets": 10, "truncated": True,
              "tcp": [tcp_expect(conn_state="SF", history="ShADadFf", orig_pkts=5,
                                 teardown={"kind": "four-way-fin", "first_closer": "orig",
                                           "fin_packets": 2})],
              "udp": []}
    return frames, {"cut_last": 20}, expect, ("file cut in the middle of the last packet",
                                              "SF", "four-way-fin (10 of 11 packets)")


# --------------------------------------------------------- heartbeat lab
# The heartbeat lab's wire format: "HB <seq>\n" from the server every
# 100 ms, "HBACK <seq>\n" back at once, "MSG <text>\n" from the client and
# "BCAST <text>\n" from the server. pcapcheck learns it from the options
# below (NAME.options); times are relative to the SYN, delays in ms.

HB_PORT = 12001
HB_OPTIONS = ["--hb-request", "HB ", "--hb-reply", "HBACK ", "--hb-delim", "\\n"]


class HbTcp(Tcp):
    """A heartbeat connection: sends at a time (ms after the SYN) rather than after a gap."""

    def __init__(self, clock, frames):
        super().__init__(clock, frames, server=(SERVER4, HB_PORT))
        self.t0 = clock.now + STEP_NS  # the SYN's time

    def at(self, ms, who, flags, data=b"", **kw):
        """Send at MS milliseconds (microsecond resolution) after the SYN."""
        target = self.t0 + round(ms * 1000) * 1000
        self.send(who, flags, data, after_ns=target - self.clock.now, **kw)


def hb_event(key, request, reply):
    """One expected heartbeat event; times in s, reply None when unanswered."""
    if reply is None:
        return {"key": key, "request": request, "reply": None, "delay_ms": None}
    return {"key": key, "request": request, "reply": reply,
            "delay_ms": round((reply - request) * 1000, 6)}


def hb_expect(**fields):
    return tcp_expect(resp=endpoint(SERVER4, HB_PORT), **fields)


def hb_clean():
    """Five heartbeats, all answered within 0.3 ms; HB 2 split in two segments,
    HBACK 3 and a MSG coalesced, a BCAST and HB 4 coalesced."""
    clock, frames = Clock(), []
    t = HbTcp(clock, frames)
    t.handshake()
    t.at(100.0, "s", "PA", b"HB 1\n")
    t.at(100.2, "c", "PA", b"HBACK 1\n")
    t.at(200.0, "s", "PA", b"HB ")
    t.at(200.1, "s", "PA", b"2\n")            # HB 2 ends here: its time is 0.2001
    t.at(200.4, "c", "PA", b"HBACK 2\n")
    t.at(300.0, "s", "PA", b"HB 3\n")
    t.at(300.2, "c", "PA", b"HBACK 3\nMSG hello\n")
    t.at(400.0, "s", "PA", b"BCAST hello\nHB 4\n")
    t.at(400.2, "c", "PA", b"HBACK 4\n")
    t.at(500.0, "s", "PA", b"HB 5\n")
    t.at(500.2, "c", "PA", b"HBACK 5\n")
    t.at(600.0, "c", "FA")
    t.send("s", "A")
    t.send("s", "FA")
    t.send("c", "A")
    # Requests at 0.1, 0.2001, 0.3, 0.4, 0.5 s: intervals 100.1, 99.9, 100, 100 ms,
    # mean 100, deviations 0.1, -0.1, 0, 0: stddev sqrt(0.02 / 4) = 0.070711 ms.
    # Delays 0.2, 0.3, 0.2, 0.2, 0.2 ms: mean 0.22. Messages: the client's five
    # HBACKs and the MSG; the server's five HBs and the BCAST.
    heartbeats = {
        "requester": "resp", "requests": 5, "replies": 5, "pairs": 5,
        "events": [hb_event("1", 0.1, 0.1002), hb_event("2", 0.2001, 0.2004),
                   hb_event("3", 0.3, 0.3002), hb_event("4", 0.4, 0.4002),
                   hb_event("5", 0.5, 0.5002)],
        "events_truncated": False, "unanswered": 0, "max_consecutive_unanswered": 0,
        "interval_ms": {"count": 4, "mean": 100.0, "min": 99.9, "max": 100.1,
                        "stddev": 0.070711},
        "reply_delay_ms": {"count": 5, "mean": 0.22, "max": 0.3}}
    expect = {"linktype": "EN10MB", "packets": 18, "warnings": [],
              "tcp": [hb_expect(conn_state="SF",
                                teardown={"kind": "four-way-fin", "first_closer": "orig",
                                          "fin_packets": 2},
                                retransmissions={"orig": 0, "resp": 0},
                                heartbeats=heartbeats, messages={"orig": 6, "resp": 6})],
              "udp": []}
    return frames, {"pcapcheck": HB_OPTIONS}, expect, (
        "heartbeats: 5 answered, one split, two coalesced", "SF", "four-way-fin")


def hb_client_stops():
    """The client answers HB 1 and 2, then only its kernel acks; after three
    misses the server closes."""
    clock, frames = Clock(), []
    t = HbTcp(clock, frames)
    t.handshake()
    for k in range(1, 6):
        t.at(100.0 * k, "s", "PA", b"HB %d\n" % k)
        if k <= 2:
            t.at(100.0 * k + 0.2, "c", "PA", b"HBACK %d\n" % k)
        else:
            t.at(100.0 * k + 0.1, "c", "A")
    t.at(600.0, "s", "FA")
    t.send("c", "A")
    t.send("c", "FA")
    t.send("s", "A")
    # Requests 100 ms apart exactly: stddev 0. Misses 3, 4, 5 in a row.
    heartbeats = {
        "requester": "resp", "requests": 5, "replies": 2, "pairs": 2,
        "events": [hb_event("1", 0.1, 0.1002), hb_event("2", 0.2, 0.2002),
                   hb_event("3", 0.3, None), hb_event("4", 0.4, None),
                   hb_event("5", 0.5, None)],
        "events_truncated": False, "unanswered": 3, "max_consecutive_unanswered": 3,
        "interval_ms": {"count": 4, "mean": 100.0, "min": 100.0, "max": 100.0,
                        "stddev": 0.0},
        "reply_delay_ms": {"count": 2, "mean": 0.2, "max": 0.2}}
    expect = {"linktype": "EN10MB", "packets": 17, "warnings": [],
              "tcp": [hb_expect(conn_state="SF",
                                teardown={"kind": "four-way-fin", "first_closer": "resp",
                                          "fin_packets": 2},
                                heartbeats=heartbeats, messages={"orig": 2, "resp": 5})],
              "udp": []}
    return frames, {"pcapcheck": HB_OPTIONS}, expect, (
        "heartbeats: the client stops answering after 2 (3 misses), the server closes",
        "SF", "four-way-fin (server first)")


def hb_retransmission():
    """HB 2 is sent again 30 ms later (same bytes); the client answers after that."""
    clock, frames = Clock(), []
    t = HbTcp(clock, frames)
    t.handshake()
    t.at(100.0, "s", "PA", b"HB 1\n")
    t.at(100.2, "c", "PA", b"HBACK 1\n")
    seq = t.nxt["s"]
    t.at(200.0, "s", "PA", b"HB 2\n")
    t.at(230.0, "s", "PA", b"HB 2\n", seq=seq)   # the retransmission: not a message
    t.at(230.2, "c", "PA", b"HBACK 2\n")
    t.at(300.0, "s", "PA", b"HB 3\n")
    t.at(300.2, "c", "PA", b"HBACK 3\n")
    t.at(400.0, "c", "FA")
    t.send("s", "A")
    t.send("s", "FA")
    t.send("c", "A")
    # HB 2 counts once, at its first copy (0.2 s); its reply 30.2 ms later.
    heartbeats = {
        "requester": "resp", "requests": 3, "replies": 3, "pairs": 3,
        "events": [hb_event("1", 0.1, 0.1002), hb_event("2", 0.2, 0.2302),
                   hb_event("3", 0.3, 0.3002)],
        "events_truncated": False, "unanswered": 0, "max_consecutive_unanswered": 0,
        "interval_ms": {"count": 2, "mean": 100.0, "min": 100.0, "max": 100.0,
                        "stddev": 0.0},
        "reply_delay_ms": {"count": 3, "mean": 10.2, "max": 30.2}}
    expect = {"linktype": "EN10MB", "packets": 14, "warnings": [],
              "tcp": [hb_expect(conn_state="SF",
                                retransmissions={"orig": 0, "resp": 1},
                                teardown={"kind": "four-way-fin", "first_closer": "orig",
                                          "fin_packets": 2},
                                heartbeats=heartbeats, messages={"orig": 3, "resp": 3})],
              "udp": []}
    return frames, {"pcapcheck": HB_OPTIONS}, expect, (
        "heartbeats: HB 2 retransmitted, counted once", "SF", "four-way-fin")


SCENARIOS = {
    "fin_four_way": fin_four_way,
    "fin_three_packet": fin_three_packet,
    "simultaneous_close": simultaneous_close,
    "half_close": half_close,
    "reset_by_originator": reset_by_originator,
    "reset_by_responder": reset_by_responder,
    "rejected": rejected,
    "syn_only": syn_only,
    "retransmission": retransmission,
    "keepalive": keepalives,
    "port_reuse": port_reuse,
    "ipv6_loopback": ipv6_loopback,
    "linux_sll": linked(linux_sll, "LINUX_SLL", "Linux cooked capture v1 (any)"),
    "linux_sll2": linked(linux_sll2, "LINUX_SLL2", "Linux cooked capture v2 (any, tcpdump 4.99)"),
    "bsd_null": linked(bsd_null_le, "NULL", "BSD null loopback, little-endian family (macOS lo0)"),
    "bsd_null_be_ipv6": bsd_null_ipv6_be,
    "raw_ip": linked(raw, "RAW", "raw IP link type"),
    "nanosecond": nanosecond,
    "pcapng": pcapng,
    "seq_wraparound": seq_wraparound,
    "mid_connection": mid_connection,
    "ends_before_close": ends_before_close,
    "caplen_short": caplen_short,
    "synack_before_syn": synack_before_syn,
    "fin_over_hole": fin_over_hole,
    "tunnel_ip_in_ip": tunnelled(ip_in_ip, "IP-in-IP", "ip_in_ip",
                                 "IPv4-in-IPv6 (protocol 4) from a laptop"),
    "tunnel_gre": tunnelled(gre, "GRE", "gre", "GRE with a key over IPv4"),
    "tunnel_vxlan": tunnelled(vxlan, "VXLAN", "vxlan", "VXLAN (UDP 4789), a lab VM's network"),
    "tunnel_gtpu": tunnelled(gtpu, "GTP-U", "gtpu", "GTP-U (UDP 2152), a phone's mobile data"),
    "tunnel_pppoe": tunnelled(pppoe, "PPPoE", "pppoe", "PPPoE session, a DSL line"),
    "udp_request_response": udp_request_response,
    "truncated": truncated,
    "hb_clean": hb_clean,
    "hb_client_stops": hb_client_stops,
    "hb_retransmission": hb_retransmission,
}

LINKTYPES = {"EN10MB": LINKTYPE_ETHERNET, "LINUX_SLL": LINKTYPE_LINUX_SLL,
             "LINUX_SLL2": LINKTYPE_LINUX_SLL2, "NULL": LINKTYPE_NULL, "RAW": LINKTYPE_RAW}


def capture_bytes(frames, linktype, options):
    """The capture file of a scenario, in the format its options ask for."""
    if options.get("pcapng"):
        return pcapng_file(linktype, frames)
    data = pcap_file(linktype, frames, nanosecond=options.get("nanosecond", False),
                     snaplen=options.get("snaplen", 262144))
    if "cut_last" in options:
        last = frames[-1]
        data = data[:len(data) - len(last.data) + options["cut_last"]]
    return data


def garbage_bytes():
    """Something that is not a capture at all."""
    return b"This is not a capture file, just text that a student saved as .pcap.\n" * 4


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir", nargs="?", default=os.path.dirname(os.path.abspath(__file__)))
    args = p.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    for name, scenario in SCENARIOS.items():
        frames, options, expect, _ = scenario()
        data = capture_bytes(frames, LINKTYPES[expect["linktype"]], options)
        write(os.path.join(args.dir, f"{name}.pcap"), data)
        text = json.dumps(expect, indent=2, ensure_ascii=False) + "\n"
        write(os.path.join(args.dir, f"{name}.expected.json"), text.encode())
        if options.get("pcapcheck"):
            # The extra arguments of `pcapcheck analyze`, one per line, kept exactly.
            lines = "".join(arg + "\n" for arg in options["pcapcheck"])
            write(os.path.join(args.dir, f"{name}.options"), lines.encode())
    write(os.path.join(args.dir, "garbage.pcap"), garbage_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
