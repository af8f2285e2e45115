"""Middlemen for the integration tests, on loopback: a TCP forwarder that counts connections,
and a hostile UDP relay that surrounds each real DNSCrypt answer with garbage, forgeries and
duplicates, or delivers it late."""

import os
import socket
import struct
import threading
import time

from lab import free_port

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
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
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
        self.sock.close()


class HostileRelay:
    """UDP relay in front of a DNSCrypt server. mode "noise": garbage, a forged packet with a
    wrong nonce, a tampered copy, the real answer, then a duplicate of it. mode "late": the real
    answer only, one second late. mode "pass": the answer as it is. mode "drop": nothing. Every encrypted query's
    client public key (bytes 8..40) is recorded in client_keys, its source port in client_ports."""

    def __init__(self, target_port, mode="noise"):
        self.target = ("127.0.0.1", target_port)
        self.mode = mode
        self.client_keys = []
        self.client_ports = []  # the source port of each encrypted query
        # A port from the test range (lab.free_port), not the ephemeral one: a TcpForwarder may
        # take the same number for TCP, which an outgoing connection could hold.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.port = free_port()
        self.sock.bind(("127.0.0.1", self.port))
        self.closed = False
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self.closed:
            try:
                data, client = self.sock.recvfrom(65535)
            except OSError:
                return
            threading.Thread(target=self._handle, args=(data, client), daemon=True).start()

    def _handle(self, data, client):
        if len(data) >= 68:
            self.client_keys.append(data[8:40])
            self.client_ports.append(client[1])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
            up.settimeout(2)
            up.sendto(data, self.target)
            try:
                answer, _ = up.recvfrom(65535)
            except OSError:
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

    def close(self):
        self.closed = True
        self.sock.close()
