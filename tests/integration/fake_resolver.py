"""A DNSCrypt resolver written for the tests (X25519-XChaCha20Poly1305, libsodium through ctypes,
no other dependency): what dnsdist cannot be told to do. It serves exactly the certificates the
test sets, with the validity the test chooses; it forwards decrypted queries to NSD and encrypts
the answers, or, when told, answers wrongly in ways only a resolver holding the key can (an answer
to another question, broken padding). It records the client public key of every query, by
transport. Listens on one loopback port for UDP and TCP; every socket is its own and held from
the start, so no other process can take the port."""

import ctypes
import ctypes.util
import os
import socket
import struct
import threading
import time

import dnsclient
from lab import free_port, stop_loop

_sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
if _sodium.sodium_init() < 0:
    raise RuntimeError("sodium_init failed")

RESOLVER_MAGIC = b"r6fnvWj8"
PROVIDER_NAME = "2.dnscrypt-cert.fake.test"
_BOX = "crypto_box_curve25519xchacha20poly1305_"


def _buf(n):
    return ctypes.create_string_buffer(n)


def signing_keypair():
    pk, sk = _buf(32), _buf(64)
    _sodium.crypto_sign_keypair(pk, sk)
    return pk.raw, sk.raw


def box_keypair():
    pk, sk = _buf(32), _buf(32)
    getattr(_sodium, _BOX + "keypair")(pk, sk)
    return pk.raw, sk.raw


def x25519_public(secret):
    pk = _buf(32)
    _sodium.crypto_scalarmult_base(pk, secret)
    return pk.raw


def _sign(message, sk):
    sig = _buf(64)
    _sodium.crypto_sign_detached(sig, None, message, ctypes.c_ulonglong(len(message)), sk)
    return sig.raw


def _shared(pk, sk):
    k = _buf(32)
    if getattr(_sodium, _BOX + "beforenm")(k, pk, sk) != 0:
        raise ValueError("weak key")
    return k.raw


def _open(box, nonce, key):
    if len(box) < 16:
        return None
    m = _buf(len(box) - 16)
    rc = getattr(_sodium, _BOX + "open_easy_afternm")(m, box, ctypes.c_ulonglong(len(box)),
                                                      nonce, key)
    return m.raw if rc == 0 else None


def _seal(message, nonce, key):
    c = _buf(len(message) + 16)
    getattr(_sodium, _BOX + "easy_afternm")(c, message, ctypes.c_ulonglong(len(message)), nonce,
                                            key)
    return c.raw


def pad(message, block=64):
    """ISO/IEC 7816-4 padding, as the protocol wants: 0x80, then zeros to the block."""
    padded = message + b"\x80"
    return padded + b"\x00" * (-len(padded) % block)


def unpad(padded):
    stripped = padded.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        return None
    return stripped[:-1]


class FakeResolver:
    """mode: "ok" answers through NSD; "mismatch" answers a different question; "bad_padding"
    sends the right answer with its padding marker missing; "drop" never answers."""

    def __init__(self, nsd_port, host="127.0.0.1", provider_name=None):
        self.nsd_port = nsd_port
        self.provider_name = provider_name or PROVIDER_NAME
        self.provider_pk, self._provider_sk = signing_keypair()
        self._resolver_pk, self._resolver_sk = box_keypair()
        self.magic = os.urandom(8)
        self.mode = "ok"
        self.keys = {"udp": [], "tcp": []}  # client public key of every encrypted query
        self.cert_queries = 0
        self.tcp_connections = 0  # accepted; each is kept open until the client closes it
        self._certs = []
        self._lock = threading.Lock()
        # One port for UDP and TCP: from the test range below the ephemeral ports (a port bound
        # with 0 for UDP may be some connection's port in TCP), held from here on.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for attempt in range(20):
            self.port = free_port()
            self.udp = socket.socket(family, socket.SOCK_DGRAM)
            self.tcp = socket.socket(family, socket.SOCK_STREAM)
            try:
                self.udp.bind((host, self.port))
                self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self.tcp.bind((host, self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
                if attempt == 19:
                    raise
        self.tcp.listen(64)
        self.closed = False
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self.threads:
            t.start()

    @property
    def provider_key_hex(self):
        return self.provider_pk.hex()

    def certificate(self, serial, start, end):
        """A signed ES2 certificate for our resolver key, valid from `start` to `end` (Unix)."""
        signed = self._resolver_pk + self.magic + struct.pack("!III", serial, start, end)
        return b"DNSC\x00\x02\x00\x00" + _sign(signed, self._provider_sk) + signed

    def serve_certificates(self, *validities):
        """The certificates served from now on: (serial, seconds from now to the start, seconds
        from now to the end) each."""
        now = int(time.time())
        with self._lock:
            self._certs = [self.certificate(s, now + a, now + b) for s, a, b in validities]

    # -- answering -------------------------------------------------------------------------
    def _answer(self, packet, transport):
        """The reply to one packet, or None."""
        if not packet.startswith(self.magic):
            return self._certificate_answer(packet)
        if len(packet) < 8 + 32 + 12 + 16:
            return None
        client_pk, client_nonce = packet[8:40], packet[40:52]
        self.keys[transport].append(client_pk)
        key = _shared(client_pk, self._resolver_sk)
        plain = _open(packet[52:], client_nonce + b"\x00" * 12, key)
        query = unpad(plain) if plain is not None else None
        if query is None or self.mode == "drop":
            return None
        if self.mode == "mismatch":
            # A well-formed, authenticated answer to another name with the same ID.
            other = dnsclient.make_query("mail.dcp.test", "A", qid=struct.unpack("!H", query[:2])[0])
            answer = dnsclient.udp(self.nsd_port, other)
        else:
            answer = (dnsclient.tcp(self.nsd_port, query) if transport == "tcp"
                      else dnsclient.udp(self.nsd_port, query))
        padded = pad(answer)
        if self.mode == "bad_padding":
            padded = answer + b"\x00" * (-len(answer) % 64 or 64)  # no 0x80 marker
        nonce = client_nonce + os.urandom(12)
        return RESOLVER_MAGIC + nonce + _seal(padded, nonce, key)

    def _certificate_answer(self, q):
        try:
            name, end = dnsclient.read_name(q, 12)
        except (IndexError, ValueError):
            return None
        if name.lower() != self.provider_name.lower() + ".":
            return None
        self.cert_queries += 1
        with self._lock:
            certs = list(self._certs)
        answers = b""
        for cert in certs:
            rdata = bytes([len(cert)]) + cert
            answers += b"\xc0\x0c\x00\x10\x00\x01\x00\x00\x0e\x10" + struct.pack("!H", len(rdata)) + rdata
        return (q[:2] + b"\x84\x00\x00\x01" + struct.pack("!H", len(certs)) + b"\x00\x00\x00\x00" +
                q[12:end + 4] + answers)

    def _serve_udp(self):
        while not self.closed:
            try:
                data, client = self.udp.recvfrom(65535)
            except OSError:
                return
            if self.closed:
                return  # woken by close()
            try:
                reply = self._answer(data, "udp")
                if reply is not None:
                    self.udp.sendto(reply, client)
            except OSError:
                pass

    def _serve_tcp(self):
        while not self.closed:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            if self.closed:
                conn.close()
                return
            self.tcp_connections += 1
            threading.Thread(target=self._serve_connection, args=(conn,), daemon=True).start()

    def _serve_connection(self, conn):
        with conn:
            conn.settimeout(60)
            try:
                while True:
                    head = dnsclient.recv_exact(conn, 2)
                    packet = dnsclient.recv_exact(conn, struct.unpack("!H", head)[0])
                    reply = self._answer(packet, "tcp")
                    if reply is not None:
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
            except (OSError, EOFError, ValueError):
                return

    def close(self):
        self.closed = True
        for sock, thread in zip((self.udp, self.tcp), self.threads):
            stop_loop(sock, thread)
