"""A small DNS client for the integration tests: builds queries, sends them over UDP or TCP
(pipelined), and parses answers far enough to compare them. Standard library only."""

import random
import socket
import struct

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "HINFO": 13, "MX": 15, "TXT": 16,
         "AAAA": 28, "OPT": 41}
TYPE_NAMES = {v: k for k, v in TYPES.items()}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def make_query(name, qtype="A", qid=None, edns=None, rd=True, do=False):
    """edns: None for no OPT record, else the advertised UDP payload size."""
    qid = random.randrange(65536) if qid is None else qid
    flags = 0x0100 if rd else 0
    msg = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 1 if edns is not None else 0)
    msg += encode_name(name) + struct.pack("!HH", TYPES[qtype], 1)
    if edns is not None:
        msg += b"\x00" + struct.pack("!HHIH", 41, edns, 0x8000 if do else 0, 0)
    return msg


def read_name(msg, off):
    labels, jumped, end, hops = [], False, None, 0
    while True:
        length = msg[off]
        if length & 0xC0 == 0xC0:
            if not jumped:
                end = off + 2
            off = ((length & 0x3F) << 8) | msg[off + 1]
            jumped, hops = True, hops + 1
            if hops > 64:
                raise ValueError("pointer loop")
            continue
        if length == 0:
            return ".".join(labels) + ".", (end if jumped else off + 1)
        labels.append(msg[off + 1 : off + 1 + length].decode("latin-1"))
        off += 1 + length


class Response:
    def __init__(self, wire):
        self.wire = wire
        (self.id, self.flags, qd, an, ns, ar) = struct.unpack("!HHHHHH", wire[:12])
        off = 12
        self.question = None
        for _ in range(qd):
            name, off = read_name(wire, off)
            qtype, qclass = struct.unpack("!HH", wire[off : off + 4])
            off += 4
            self.question = (name.lower(), qtype, qclass)
        self.answer, self.authority, self.additional = [], [], []
        self.answer_ttls = []  # the answer section's TTLs, in order
        self.opt = None
        for section, count in ((self.answer, an), (self.authority, ns), (self.additional, ar)):
            for _ in range(count):
                name, off = read_name(wire, off)
                rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", wire[off : off + 10])
                off += 10
                rdata = wire[off : off + rdlen]
                if rtype == 41:
                    self.opt = rclass  # the advertised payload size
                else:
                    section.append((name.lower(), rtype, self._rdata(wire, off, rtype, rdata)))
                    if section is self.answer:
                        self.answer_ttls.append(ttl)
                off += rdlen
        if off != len(wire):
            raise ValueError("trailing bytes")

    @staticmethod
    def _rdata(wire, off, rtype, rdata):
        if rtype == 1:
            return socket.inet_ntop(socket.AF_INET, rdata)
        if rtype == 28:
            return socket.inet_ntop(socket.AF_INET6, rdata)
        if rtype == 15:
            return (struct.unpack("!H", rdata[:2])[0], read_name(wire, off + 2)[0].lower())
        if rtype == 16:
            parts, i = [], 0
            while i < len(rdata):
                parts.append(rdata[i + 1 : i + 1 + rdata[i]])
                i += 1 + rdata[i]
            return b"".join(parts)
        if rtype in (2, 5, 12):
            return read_name(wire, off)[0].lower()
        return rdata

    @property
    def rcode(self):
        return self.flags & 0xF

    @property
    def tc(self):
        return bool(self.flags & 0x0200)

    @property
    def qr(self):
        return bool(self.flags & 0x8000)

    def answer_set(self):
        """The answer section as a comparable set (TTLs and order ignored)."""
        return sorted((n, t, repr(d)) for n, t, d in self.answer)


def udp(port, msg, timeout=3.0, host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(msg, (host, port))
        data, _ = s.recvfrom(65535)
        return data


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def tcp_many(port, msgs, timeout=5.0, host="127.0.0.1"):
    """Sends every message on one connection before reading anything (pipelining); returns the
    answers in the order they arrived."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(b"".join(struct.pack("!H", len(m)) + m for m in msgs))
        out = []
        for _ in msgs:
            (length,) = struct.unpack("!H", recv_exact(s, 2))
            out.append(recv_exact(s, length))
        return out


def tcp(port, msg, timeout=5.0, host="127.0.0.1"):
    return tcp_many(port, [msg], timeout, host)[0]
