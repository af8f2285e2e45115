"""Middlemen for the integration tests, on loopback: a TCP forwarder that counts connections,
a plain DNS gate that drops what a test says, and a hostile UDP relay that surrounds each real DNSCrypt answer with garbage, forgeries and
duplicates, or delivers it late."""

import os
import socket
import struct
import threading
import time

from lab import free_port, stop_loop

RESOLVER_MAGIC = b"r6fnvWj8"


class TcpForwarder:
    """Forwards TCP connections to target_port and counts them. close_after_reply: the
    connection is closed after the first length-prefixed reply, as some DNSCrypt servers do."""

    def __init__(self, target_port, close_after_reply=False, port=0):
        self.target_port = target_port
        self.close_after_reply = close_after_reply
        self.connections = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))  # port: e.g. a UDP relay's, for its TCP side
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if self.closed:
                client.close()
                return
            self.connections += 1
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client, upstream), daemon=True).start()

    def _serve(self, client, upstream):
        if self.close_after_reply:
            self._serve_one(client, upstream)
            return
        pipes = [threading.Thread(target=self._pipe, args=pair, daemon=True)
                 for pair in ((client, upstream), (upstream, client))]
        for t in pipes:
            t.start()
        for t in pipes:
            t.join()
        client.close()
        upstream.close()

    @staticmethod
    def _serve_one(client, upstream):
        def read_exactly(sock, n):
            data = b""
            while len(data) < n:
                chunk = sock.recv(n - len(data))
                if not chunk:
                    raise OSError("closed")
                data += chunk
            return data
        try:
            for src, dst in ((client, upstream), (upstream, client)):
                prefix = read_exactly(src, 2)
                dst.sendall(prefix + read_exactly(src, struct.unpack("!H", prefix)[0]))
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.closed = True
        stop_loop(self.sock, self.thread)


class _UdpServer:
    """A UDP socket on a port of the test range with a thread reading it: on_datagram(data,
    client) gets each datagram; close() stops it. A port from the test range (lab.free_port),
    not the ephemeral one: a TcpForwarder may take the same number for TCP, which an outgoing
    connection could hold."""

    def _serve(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.port = free_port()
        self.sock.bind(("127.0.0.1", self.port))
        self.closed = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.closed:
            try:
                data, client = self.sock.recvfrom(65535)
            except OSError:
                return
            if self.closed:
                return  # woken by close()
            self.on_datagram(data, client)

    def _ask_target(self, data):
        """Sends `data` to self.target from a socket of its own; its answer, or None."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
            up.settimeout(2)
            up.sendto(data, self.target)
            try:
                return up.recvfrom(65535)[0]
            except OSError:
                return None

    def close(self):
        self.closed = True
        stop_loop(self.sock, self.thread)


class HostileRelay(_UdpServer):
    """UDP relay in front of a DNSCrypt server. mode "noise": garbage, a forged packet with a
    wrong nonce, a tampered copy, the real answer, then a duplicate of it. mode "late": the real
    answer only, one second late. mode "pass": the answer as it is. mode "drop": nothing. Every encrypted query's
    client public key (bytes 8..40) is recorded in client_keys, its source port in client_ports."""

    def __init__(self, target_port, mode="noise"):
        self.target = ("127.0.0.1", target_port)
        self.mode = mode
        self.client_keys = []
        self.client_ports = []  # the source port of each encrypted query
        self._serve()

    def on_datagram(self, data, client):
        threading.Thread(target=self._handle, args=(data, client), daemon=True).start()

    def _handle(self, data, client):
        if len(data) >= 68:
            self.client_keys.append(data[8:40])
            self.client_ports.append(client[1])
        answer = self._ask_target(data)
        if answer is None:
            return
        if not answer.startswith(RESOLVER_MAGIC):
            self.sock.sendto(answer, client)  # plain certificate answers pass untouched
            return
        if self.mode == "drop":
            return
        if self.mode == "pass":
            self.sock.sendto(answer, client)
            return
        if self.mode == "late":
            time.sleep(1.0)
            self.sock.sendto(answer, client)
            return
        forged = RESOLVER_MAGIC + os.urandom(len(answer) - len(RESOLVER_MAGIC))
        tampered = answer[:-1] + bytes([answer[-1] ^ 1])
        for packet in (os.urandom(100), forged, tampered, answer, answer):
            self.sock.sendto(packet, client)


class PlainGate(_UdpServer):
    """A plain DNS server on UDP in front of another (NSD): forwards each query and its answer,
    unless `silent` (every query dropped) or `drop_probes` is above zero (that many of the
    proxy's health probes, ". NS" queries, dropped). Counts what it dropped."""

    PROBE_QUESTION = b"\x00\x00\x02\x00\x01"  # root name, NS, IN

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.silent = False
        self.drop_probes = 0
        self.dropped_probes = 0
        self.dropped = 0
        # With `forge`, each answer is preceded by a forgery from the server's address and port,
        # with the right ID (an off-path attacker who guessed port and ID) but the name in lower
        # case and NXDOMAIN.
        self.forge = False
        self.seen = []  # (source port, question name as sent) of each query
        self._serve()

    def on_datagram(self, data, client):
        end = data.index(0, 12) + 1 if 0 in data[12:] else 12
        self.seen.append((client[1], data[12:end]))
        if data[12:17] == self.PROBE_QUESTION and self.drop_probes > 0:
            self.drop_probes -= 1
            self.dropped_probes += 1
            return
        if self.silent:
            self.dropped += 1
            return
        threading.Thread(target=self._forward, args=(data, client), daemon=True).start()

    def _forward(self, data, client):
        answer = self._ask_target(data)
        if answer is None:
            return
        if self.forge and len(answer) > 12:
            end = answer.index(0, 12) + 1
            forged = bytearray(answer)
            forged[12:end] = answer[12:end].lower()
            forged[3] = (forged[3] & 0xF0) | 3  # NXDOMAIN
            self.sock.sendto(bytes(forged), client)
        self.sock.sendto(answer, client)


ANON_MAGIC = b"\xff" * 8 + b"\x00\x00"


class DnscryptRelay:
    """An Anonymized DNSCrypt relay (spec section 14), UDP and TCP on one port: checks the
    anonymization magic, reads the target from the header, forwards the packet over UDP to a
    target it serves and sends the answer back unchanged (length-prefixed over TCP). A target it
    does not serve, a missing magic or a looped packet get nothing. Counts what it forwarded."""

    def __init__(self, targets, strict=False):
        self.targets = set(targets)  # {(ip, port)}
        # strict: what the specification asks of a relay over UDP, an answer no larger than the
        # query it relayed (amplification); larger ones are dropped and counted.
        self.strict = strict
        self.dropped_larger = 0
        self.forwarded = {}          # (ip, port) -> packets forwarded (certificate queries too)
        self.cert_queries = 0        # plain DNS queries forwarded (not DNSCrypt-encrypted)
        self.tcp_queries = 0
        self.refused = 0
        self.lock = threading.Lock()
        self.closed = False
        # free_port checked both; a bind that still fails (another program took the port since)
        # gets another port, closing what it opened; after 20, the error is raised, not hidden.
        for attempt in range(20):
            port = free_port()
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                self.udp.bind(("127.0.0.1", port))
                self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self.tcp.bind(("127.0.0.1", port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
                if attempt == 19:
                    raise
        self.tcp.listen(64)
        self.port = port
        self.threads = [threading.Thread(target=self._udp_loop, daemon=True),
                        threading.Thread(target=self._tcp_loop, daemon=True)]
        for t in self.threads:
            t.start()

    def _target_of(self, packet):
        if len(packet) < 28 + 12 or packet[:10] != ANON_MAGIC:
            return None
        addr, port = packet[10:26], struct.unpack(">H", packet[26:28])[0]
        if addr[:12] != b"\x00" * 10 + b"\xff\xff":
            return None  # IPv4-mapped only in this lab
        target = (socket.inet_ntoa(addr[12:]), port)
        inner = packet[28:]
        if inner[:10] == ANON_MAGIC or inner[:7] == b"\x00" * 7:
            return None  # a loop, or QUIC
        if target not in self.targets:
            return None
        return target, inner

    def _forward(self, target, inner):
        with self.lock:
            self.forwarded[target] = self.forwarded.get(target, 0) + 1
            # A plain DNS query for the provider's certificates (encrypted queries are noise).
            if b"\x0ddnscrypt-cert" in inner[12:40]:
                self.cert_queries += 1
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2.0)
        try:
            s.sendto(inner, target)
            return s.recv(65535)
        except OSError:
            return None
        finally:
            s.close()

    def _udp_loop(self):
        while not self.closed:
            try:
                data, client = self.udp.recvfrom(65535)
            except OSError:
                return
            if self.closed:
                return  # woken by close()
            parsed = self._target_of(data)
            if parsed is None:
                with self.lock:
                    self.refused += 1
                continue
            threading.Thread(target=self._udp_one, args=(parsed, client), daemon=True).start()

    def _udp_one(self, parsed, client):
        answer = self._forward(*parsed)
        if answer is not None and self.strict and len(answer) > len(parsed[1]):
            with self.lock:
                self.dropped_larger += 1
            return
        if answer is not None and not self.closed:
            try:
                self.udp.sendto(answer, client)
            except OSError:
                pass

    def _tcp_loop(self):
        while not self.closed:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            if self.closed:
                conn.close()
                return
            threading.Thread(target=self._tcp_serve, args=(conn,), daemon=True).start()

    def _tcp_serve(self, conn):
        def read_exactly(n):
            buf = b""
            while len(buf) < n:
                chunk = conn.recv(n - len(buf))
                if not chunk:
                    return None
                buf += chunk
            return buf
        conn.settimeout(10)
        try:
            while True:
                head = read_exactly(2)
                if head is None:
                    return
                frame = read_exactly(struct.unpack(">H", head)[0])
                if frame is None:
                    return
                parsed = self._target_of(frame)
                if parsed is None:
                    with self.lock:
                        self.refused += 1
                    return
                with self.lock:
                    self.tcp_queries += 1
                answer = self._forward(*parsed)
                if answer is None:
                    return
                conn.sendall(struct.pack(">H", len(answer)) + answer)
        except OSError:
            return
        finally:
            conn.close()

    def close(self):
        self.closed = True
        for sock, thread in zip((self.udp, self.tcp), self.threads):
            stop_loop(sock, thread)
