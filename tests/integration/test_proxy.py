"""End-to-end tests of the proxy against real servers on loopback (see lab.py)."""

import os
import socket
import struct
import subprocess
import threading
import time
import unittest

import dnsclient
from dnsclient import Response, make_query
from lab import LabTestCase, wait_until
import relay

CASES = [
    ("www.dcp.test", "A"),
    ("www.dcp.test", "AAAA"),
    ("dcp.test", "MX"),
    ("txt.dcp.test", "TXT"),
    ("dcp.test", "SOA"),
    ("anything.wild.dcp.test", "A"),
    ("missing.dcp.test", "A"),
]


class LabTest(LabTestCase):
    def direct(self, name, qtype, **kw):
        return Response(dnsclient.udp(self.lab.nsd_port, make_query(name, qtype, edns=4096, **kw)))


class SameAnswersEs2(LabTest):
    """1. The same answer data as NSD gives directly, over UDP and TCP."""

    es_version = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.proxy = cls.lab.start_proxy()

    def test_udp_and_tcp_match_nsd(self):
        for name, qtype in CASES:
            want = self.direct(name, qtype)
            for transport in ("udp", "tcp"):
                with self.subTest(name=name, qtype=qtype, transport=transport):
                    q = make_query(name, qtype, edns=1232)
                    wire = getattr(dnsclient, transport)(self.proxy.port, q)
                    got = Response(wire)
                    self.assertEqual(got.id, struct.unpack("!H", q[:2])[0])
                    self.assertEqual(got.question, (name + ".", dnsclient.TYPES[qtype], 1))
                    self.assertEqual(got.rcode, want.rcode)
                    self.assertEqual(got.answer_set(), want.answer_set())
                    self.assertEqual(sorted(got.authority), sorted(want.authority))
        self.assertEqual(self.direct("missing.dcp.test", "A").rcode, 3)  # NXDOMAIN really tested

    def test_dig_and_kdig(self):
        out = subprocess.run(["dig", "+short", "+time=3", "@127.0.0.1", "-p", str(self.proxy.port),
                              "www.dcp.test", "A"], capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout.split(), ["192.0.2.10"])
        out = subprocess.run(["kdig", "+short", "+tcp", "@127.0.0.1", "-p", str(self.proxy.port),
                              "dcp.test", "MX"], capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout.split(), ["10", "mail.dcp.test."])

    def test_id_and_question_case_come_back_unchanged(self):
        q = make_query("WwW.DcP.TeSt", "A", qid=0xBEEF)
        wire = dnsclient.udp(self.proxy.port, q)
        self.assertEqual(wire[:2], b"\xbe\xef")
        self.assertEqual(wire[12:12 + len(q) - 12], q[12:])  # question bytes, case and all


class SameAnswersEs1(SameAnswersEs2):
    """1. As above with an es-version 1 (XSalsa20Poly1305) certificate."""

    es_version = 1

    def test_certificate_is_es1(self):
        self.assertIn("X25519-XSalsa20Poly1305", self.proxy.log())


class LargeAnswers(LabTest):
    """2. ~1 KB, ~2 KB and >4 KB answers: whole when they fit, TC when not, no unasked OPT."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.proxy = cls.lab.start_proxy()

    def test_udp_without_opt_gets_tc_and_no_opt(self):
        for name in ("kb.dcp.test", "big.dcp.test"):
            got = Response(dnsclient.udp(self.proxy.port, make_query(name, "TXT")))
            self.assertTrue(got.tc, name)
            self.assertIsNone(got.opt, name)
            self.assertLessEqual(len(got.wire), 512)

    def test_small_answer_to_client_without_opt_has_no_opt(self):
        got = Response(dnsclient.udp(self.proxy.port, make_query("www.dcp.test", "A")))
        self.assertEqual(got.answer_set(), self.direct("www.dcp.test", "A").answer_set())
        self.assertIsNone(got.opt)  # the proxy added one upstream and took it out again

    def test_udp_with_opt_1232(self):
        kb = Response(dnsclient.udp(self.proxy.port, make_query("kb.dcp.test", "TXT", edns=1232)))
        self.assertFalse(kb.tc)
        self.assertEqual(kb.answer_set(), self.direct("kb.dcp.test", "TXT").answer_set())
        self.assertGreater(len(kb.wire), 900)
        big = Response(dnsclient.udp(self.proxy.port, make_query("big.dcp.test", "TXT", edns=1232)))
        self.assertTrue(big.tc)
        self.assertIsNotNone(big.opt)  # the client sent one: it gets one (the server's)
        self.assertLessEqual(len(big.wire), 1232)

    def test_tcp_gets_everything_whole(self):
        for name in ("kb.dcp.test", "twok.dcp.test", "big.dcp.test"):
            for edns in (None, 1232):
                got = Response(dnsclient.tcp(self.proxy.port, make_query(name, "TXT", edns=edns)))
                self.assertFalse(got.tc)
                want = Response(dnsclient.tcp(self.lab.nsd_port, make_query(name, "TXT", edns=4096)))
                self.assertEqual(got.answer_set(), want.answer_set(), name)
                if edns is None:
                    self.assertIsNone(got.opt)
        big = dnsclient.tcp(self.proxy.port, make_query("big.dcp.test", "TXT"))
        self.assertGreater(len(big), 4096)

    def test_second_kb_query_needs_no_truncated_round_trip(self):
        fresh = self.lab.start_proxy(name="proxy-kb")
        q = lambda: Response(dnsclient.udp(fresh.port, make_query("kb.dcp.test", "TXT", edns=1232)))
        self.assertFalse(q().tc)
        first = fresh.counters()
        self.assertEqual(first.get("upstream_truncated", 0), 1)  # the first paid one
        udp0, tcp0 = self.lab.dnsdist_counts()
        self.assertFalse(q().tc)
        second = fresh.counters()
        self.assertEqual(second.get("upstream_truncated", 0), 1)  # the second did not
        self.assertEqual(second.get("upstream_tcp_queries", 0), 1)
        udp1, tcp1 = self.lab.dnsdist_counts()
        self.assertEqual((udp1 - udp0, tcp1 - tcp0), (1, 0))


class EdnsPayloadSize(LabTest):
    """3. --edns-payload-size at 512 and 4096 (the default 1280 for contrast)."""

    def truncations_for(self, size, name, client_edns=None):
        p = self.lab.start_proxy("--edns-payload-size", str(size), name="proxy-edns-%d" % size)
        for _ in range(2):
            got = Response(dnsclient.udp(p.port, make_query(name, "TXT", edns=client_edns)))
            self.assertIsNone(got.opt)
            self.assertTrue(got.tc)  # does not fit the client's 512 either way
        return p.counters().get("upstream_truncated", 0)

    def test_512_adds_no_opt(self):
        # Without OPT, NSD truncates the ~1 KB answer every time: two TC round trips.
        self.assertEqual(self.truncations_for(512, "kb.dcp.test"), 2)

    def test_1280_adds_opt_1280(self):
        # With OPT 1280 the ~1 KB answer fits; after the first TC the padding adapts.
        self.assertEqual(self.truncations_for(1280, "kb.dcp.test"), 1)
        # ~2 KB does not fit 1280: NSD truncates every time.
        self.assertEqual(self.truncations_for(1280, "twok.dcp.test"), 2)

    def test_4096_adds_opt_4096(self):
        # ~2 KB fits 4096: only the first query pays a TC.
        self.assertEqual(self.truncations_for(4096, "twok.dcp.test"), 1)

    def test_client_opt_is_kept(self):
        p = self.lab.start_proxy("--edns-payload-size", "512", name="proxy-edns-keep")
        got = Response(dnsclient.udp(p.port, make_query("kb.dcp.test", "TXT", edns=1400)))
        self.assertFalse(got.tc)
        self.assertIsNotNone(got.opt)

    def test_over_4096_is_refused(self):
        out = subprocess.run([os.environ["DCP_PROXY_BIN"], "--edns-payload-size", "5000"],
                             capture_output=True, text=True)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("edns-payload-size", out.stderr)


class TcpOnly(LabTest):
    """3. --tcp-only and --tcp-port: UDP clients get TC, the resolver sees only TCP."""

    def check_tcp_only(self, proxy):
        udp0, tcp0 = self.lab.dnsdist_counts()
        got = Response(dnsclient.udp(proxy.port, make_query("www.dcp.test", "A")))
        self.assertTrue(got.tc)
        self.assertEqual(got.answer, [])
        for name in ("www.dcp.test", "big.dcp.test"):
            full = Response(dnsclient.tcp(proxy.port, make_query(name, "TXT" if "big" in name else "A")))
            self.assertFalse(full.tc)
            self.assertTrue(full.answer)
        udp1, tcp1 = self.lab.dnsdist_counts()
        self.assertEqual(udp1 - udp0, 0)
        self.assertEqual(tcp1 - tcp0, 2)
        c = proxy.counters()
        self.assertEqual((c.get("tc_tcp_only"), c.get("upstream_tcp_queries")), (1, 2))

    def test_tcp_only(self):
        self.check_tcp_only(self.lab.start_proxy("--tcp-only", name="proxy-tcp-only"))

    def test_tcp_port(self):
        # TCP goes through a counting forwarder on another port; certificates may still come
        # over UDP from the resolver address (dnsdist 1.7 answers them over TCP with nothing).
        fwd = relay.TcpForwarder(self.lab.dnsdist_port)
        try:
            p = self.lab.start_proxy("--tcp-port", str(fwd.port), name="proxy-tcp-port")
            before = fwd.connections
            self.check_tcp_only(p)
            # Both TCP queries went through the forwarder, on one connection, reused.
            c = p.counters()
            self.assertEqual((c.get("upstream_tcp_connections"), c.get("upstream_tcp_reused")),
                             (1, 1))
            self.assertEqual(fwd.connections - before, 1)
        finally:
            fwd.close()


class UpstreamTcpConnections(LabTest):
    """Encrypted TCP queries reuse connections; a server closing after each reply costs nothing."""

    def queries(self, p, n):
        want = self.direct("www.dcp.test", "A").answer_set()
        for i in range(n):
            r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A", qid=i)))
            self.assertEqual((r.rcode, r.tc, r.answer), (0, True, []))  # TCP-only: UDP gets TC
            r = Response(dnsclient.tcp(p.port, make_query("www.dcp.test", "A", qid=i)))
            self.assertEqual(r.answer_set(), want)

    def test_connections_are_reused(self):
        fwd = relay.TcpForwarder(self.lab.dnsdist_port)
        try:
            p = self.lab.start_proxy("--tcp-port", str(fwd.port), "--threads", "1",
                                     name="proxy-tcp-reuse")
            before = fwd.connections  # certificate fetches
            self.queries(p, 6)
            c = p.counters()
            self.assertEqual(c.get("upstream_tcp_queries"), 6)
            self.assertEqual(c.get("upstream_tcp_connections"), 1)
            self.assertEqual(c.get("upstream_tcp_reused"), 5)
            self.assertEqual(fwd.connections - before, 1)
        finally:
            fwd.close()

    def test_server_closing_after_each_reply(self):
        fwd = relay.TcpForwarder(self.lab.dnsdist_port, close_after_reply=True)
        try:
            p = self.lab.start_proxy("--tcp-port", str(fwd.port), "--threads", "1",
                                     name="proxy-tcp-close")
            before = fwd.connections
            self.queries(p, 6)
            c = p.counters()
            self.assertEqual(c.get("upstream_tcp_queries"), 6)
            self.assertEqual(c.get("answered"), 6)
            self.assertNotIn("servfail_upstream_error", c)
            self.assertEqual(c.get("upstream_tcp_connections"), 6)  # a closed one is not reused
            self.assertEqual(fwd.connections - before, 6)
        finally:
            fwd.close()


class Pipelining(LabTest):
    """4. 100 pipelined queries on one TCP connection, all answered."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.proxy = cls.lab.start_proxy()

    def test_100_pipelined(self):
        names = [("www.dcp.test", "A"), ("www.dcp.test", "AAAA"), ("n%d.wild.dcp.test", "A")]
        msgs, want = [], {}
        for i in range(100):
            name, qtype = names[i % 3]
            name = name.replace("%d", str(i))
            msgs.append(make_query(name, qtype, qid=i))
            want[i] = (name + ".", dnsclient.TYPES[qtype])
        answers = [Response(w) for w in dnsclient.tcp_many(self.proxy.port, msgs, timeout=10)]
        self.assertEqual(sorted(a.id for a in answers), list(range(100)))
        for a in answers:
            self.assertEqual(a.question[:2], want[a.id])
            self.assertEqual(a.rcode, 0)
            self.assertTrue(a.answer)


class Rotation(LabTest):
    """5. A new certificate (higher serial) is picked up while queries flow; none fails."""

    def test_rotation(self):
        p = self.lab.start_proxy("--cert-refresh", "1", name="proxy-rotation")
        self.assertIn("serial 1 ", p.log())
        failures, done = [], threading.Event()
        count = [0]

        def flow():
            while not done.is_set():
                try:
                    r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A"), timeout=2))
                    if r.rcode != 0 or not r.answer:
                        failures.append("rcode %d" % r.rcode)
                except Exception as e:  # noqa: BLE001 - any failure counts
                    failures.append(repr(e))
                count[0] += 1
                time.sleep(0.01)

        t = threading.Thread(target=flow)
        t.start()
        try:
            wait_until(lambda: count[0] >= 20, 10, what="queries flowing")
            self.lab.rotate_certificate(2, es_version=2)
            wait_until(lambda: "using certificate serial 2 " in p.log(), 10,
                       what="the proxy to use serial 2")
            switched = count[0]
            wait_until(lambda: count[0] >= switched + 20, 10, what="queries under serial 2")
            # The old certificate goes away: only a proxy that switched keeps working.
            self.assertEqual(self.certificates_served(), 2)
            self.lab.rotate_certificate(2, es_version=2, drop_serial=1)
            wait_until(lambda: self.certificates_served() == 1, 5,
                       what="dnsdist to drop serial 1")
            settled = count[0]
            wait_until(lambda: count[0] >= settled + 50, 10, what="50 queries after the drop")
        finally:
            done.set()
            t.join()
        self.assertGreater(count[0], 50)
        self.assertEqual(failures, [])
        self.assertEqual(p.counters().get("cert_rotations", 0), 1)

    def certificates_served(self):
        """How many certificates dnsdist serves now (TXT records for the provider name)."""
        q = make_query(__import__("lab").PROVIDER_NAME, "TXT")
        return len(Response(dnsclient.udp(self.lab.dnsdist_port, q)).answer)


class UnboundInFront(LabTest):
    """6. dig -> Unbound -> proxy -> dnsdist -> NSD."""

    def test_chain(self):
        p = self.lab.start_proxy(name="proxy-unbound")
        unbound = self.lab.start_unbound(p.port)
        out = subprocess.run(["dig", "+short", "@127.0.0.1", "-p", str(unbound.port),
                              "www.dcp.test", "AAAA"], capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout.split(), ["2001:db8::10"])
        big = Response(dnsclient.tcp(unbound.port, make_query("big.dcp.test", "TXT", edns=1232)))
        want = Response(dnsclient.tcp(self.lab.nsd_port, make_query("big.dcp.test", "TXT")))
        self.assertEqual(big.answer_set(), want.answer_set())
        self.assertGreater(p.counters().get("answered", 0), 0)


class Hostile(LabTest):
    """7. A hostile upstream and hostile clients: drops are counted, the proxy keeps serving."""

    def test_hostile_upstream(self):
        bad = relay.HostileRelay(self.lab.dnsdist_port)
        try:
            p = self.lab.start_proxy("--timeout", "700", resolver_port=bad.port, name="proxy-hostile")
            # Each answer arrives after garbage, a forged wrong-nonce packet, a copy with a
            # flipped byte, and is followed by a duplicate: only the real one may count.
            bad.mode = "noise"
            for i in range(10):
                r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A")))
                self.assertEqual(r.rcode, 0)
                self.assertEqual(r.answer_set(), self.direct("www.dcp.test", "A").answer_set())
            # Exactly one of each per answer: the garbage, the tampered copy; two unknown nonces
            # (the forgery and the duplicate that comes after the real answer). The duplicate of
            # the last answer may still be on its way when the client has its answer: wait for
            # the counts to settle, then they must be exact.
            self.settle(p, {"reply_bad_magic": 10, "reply_unknown_nonce": 20,
                            "reply_auth_failed": 10, "answered": 10})
            # A late answer: SERVFAIL at the deadline, the late packet dropped as an unknown
            # nonce (its query is gone), service goes on.
            bad.mode = "late"
            start = time.monotonic()
            r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A"), timeout=5))
            self.assertEqual(r.rcode, 2)
            self.assertLess(time.monotonic() - start, 3.0)  # at --timeout, not the late answer
            wait_until(lambda: p.counters().get("reply_unknown_nonce", 0) == 21, 5,
                       what="the late answer to be dropped")
            bad.mode = "noise"
            r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A")))
            self.assertEqual(r.rcode, 0)
            self.settle(p, {"servfail_timeout": 1, "reply_unknown_nonce": 23,
                            "reply_auth_failed": 11})
            self.assertTrue(p.alive())
        finally:
            bad.close()

    def settle(self, proxy, expected, timeout=5.0):
        """Waits until the counters equal `expected` (packets still in flight arrive), then they
        must be exactly that: a count past it, or short of it after the timeout, fails."""
        deadline = time.monotonic() + timeout
        while True:
            c = proxy.counters()
            got = {k: c.get(k, 0) for k in expected}
            if got == expected or time.monotonic() > deadline or any(
                    got[k] > expected[k] for k in expected):
                break
            time.sleep(0.05)
        self.assertEqual(got, expected)

    def test_garbage_to_listeners(self):
        p = self.lab.start_proxy(name="proxy-garbage")
        rng = __import__("random").Random(7)
        hostile = [b"", b"\x00", b"\x12\x34", bytes(11), bytes(12), os.urandom(1)]
        hostile += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600))) for _ in range(200)]
        good = make_query("www.dcp.test", "A", qid=1)
        hostile += [good[:n] for n in range(len(good))]  # every truncation
        # Compression pointer loops and forward pointers in the question.
        hostile.append(struct.pack("!HHHHHH", 5, 0x100, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01")
        hostile.append(struct.pack("!HHHHHH", 6, 0x100, 1, 0, 0, 0) + b"\x01a\xc0\x0e\x00\x01\x00\x01")
        hostile.append(struct.pack("!HHHHHH", 7, 0x100, 1, 0, 0, 0) + b"\xc0\xff\x00\x01\x00\x01")
        hostile.append(struct.pack("!HHHHHH", 8, 0x8100, 1, 0, 0, 0) + dnsclient.encode_name("a.b") + b"\x00\x01\x00\x01")
        hostile.append(bytes(5000))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for h in hostile:
                s.sendto(h, ("127.0.0.1", p.port))
        # Every datagram is refused and counted: all but the 5000-byte one as malformed.
        wait_until(lambda: p.counters().get("dropped_malformed", 0) +
                   p.counters().get("dropped_oversized", 0) == len(hostile), 5,
                   what="every datagram to be counted")
        c = p.counters()
        self.assertEqual(c.get("dropped_oversized", 0), 1)
        # The same over TCP, one connection each: the proxy answers nothing and closes it.
        # The empty message is a zero length (a framing error); the rest reach the parser.
        tcp_garbage = hostile[:60] + hostile[-6:]
        for h in tcp_garbage:
            with socket.create_connection(("127.0.0.1", p.port), timeout=2) as s:
                s.sendall(struct.pack("!H", len(h)) + h)
                s.settimeout(3)
                self.assertEqual(s.recv(100), b"", h[:20])
        after = p.counters()
        self.assertEqual(after.get("tcp_bad_frames", 0), 1)
        self.assertEqual(after.get("dropped_oversized", 0) - c.get("dropped_oversized", 0), 1)
        self.assertEqual(after.get("dropped_malformed", 0) - c.get("dropped_malformed", 0),
                         len(tcp_garbage) - 2)
        # A connection that sends half a query and goes quiet must not stop others.
        stalled = socket.create_connection(("127.0.0.1", p.port))
        stalled.sendall(b"\x00\x30\x12")
        try:
            r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A")))
            self.assertEqual(r.rcode, 0)
            r = Response(dnsclient.tcp(p.port, make_query("www.dcp.test", "A")))
            self.assertEqual(r.rcode, 0)
        finally:
            stalled.close()
        self.assertTrue(p.alive())
        self.assertEqual(p.counters().get("answered", 0), 2)  # the two good queries only


class ClientKeys(LabTest):
    """--ephemeral-keys and --client-key, seen from the resolver's side of the wire."""

    def keys_seen(self, *args, queries=5, name="proxy-keys"):
        rec = relay.HostileRelay(self.lab.dnsdist_port, mode="pass")
        try:
            p = self.lab.start_proxy(*args, resolver_port=rec.port, name=name)
            for _ in range(queries):
                r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A")))
                self.assertEqual(r.rcode, 0)
            p.stop()
            return list(rec.client_keys)
        finally:
            rec.close()

    def test_one_key_per_process_by_default(self):
        first = self.keys_seen()
        self.assertEqual(len(first), 5)
        self.assertEqual(len(set(first)), 1)
        self.assertNotEqual(set(first), set(self.keys_seen()))  # a new process, a new key

    def test_ephemeral_keys_differ_every_query(self):
        keys = self.keys_seen("--ephemeral-keys")
        self.assertEqual(len(keys), 5)
        self.assertEqual(len(set(keys)), 5)

    def test_client_key_file_is_used(self):
        path = os.path.join(self.lab.dir, "client.key")
        with open(path, "w") as f:
            f.write("4041:4243:4445:4647:4849:4A4B:4C4D:4E4F:5051:5253:5455:5657:5859:5A5B:5C5D:5E5F\n")
        a = self.keys_seen("--client-key", path)
        b = self.keys_seen("--client-key", path)
        self.assertEqual(len(set(a + b)), 1)  # the same key across restarts
        # X25519 public key of secret 40..5f (tests/data/vectors.json, client_x25519_pk).
        self.assertEqual(a[0].hex(), "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a")

    def test_bad_client_key_file_is_a_clear_error(self):
        path = os.path.join(self.lab.dir, "bad.key")
        with open(path, "w") as f:
            f.write("not a key\n")
        out = subprocess.run([os.environ["DCP_PROXY_BIN"], "--client-key", path, "-a",
                              "127.0.0.1:1"], capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--client-key", out.stderr)


class ListenersAndLimits(LabTest):
    """--local-address (IPv6 too), --local-port, TCP idle timeout and connection limit."""

    def test_local_port_and_ipv6(self):
        port = __import__("lab").free_port()
        p = self.lab.start_proxy("--local-address", "[::1]", "--local-port", str(port),
                                 name="proxy-v6")
        r = Response(dnsclient.udp(port, make_query("www.dcp.test", "AAAA"), host="::1"))
        self.assertEqual(r.answer_set(), self.direct("www.dcp.test", "AAAA").answer_set())
        r = Response(dnsclient.tcp(port, make_query("www.dcp.test", "A"), host="::1"))
        self.assertEqual(r.rcode, 0)
        self.assertIn("[::1]:%d" % port, p.log())

    def test_idle_connections_close_and_count(self):
        p = self.lab.start_proxy("--tcp-idle-timeout", "300", "--max-tcp-connections", "2",
                                 name="proxy-limits")
        a = socket.create_connection(("127.0.0.1", p.port))
        b = socket.create_connection(("127.0.0.1", p.port))
        wait_until(lambda: p.counters().get("tcp_connections", 0) == 2, 5,
                   what="both connections to be accepted")
        c = socket.create_connection(("127.0.0.1", p.port))
        c.settimeout(2)
        self.assertEqual(c.recv(10), b"")  # over the limit: closed at once
        a.settimeout(2)
        self.assertEqual(a.recv(10), b"")  # idle for 300 ms: closed
        b.settimeout(2)
        self.assertEqual(b.recv(10), b"")  # b too
        for s in (a, b, c):
            s.close()
        r = Response(dnsclient.tcp(p.port, make_query("www.dcp.test", "A")))  # room again
        self.assertEqual(r.rcode, 0)
        cnt = p.counters()
        self.assertEqual(cnt.get("tcp_refused_limit", 0), 1)
        self.assertEqual(cnt.get("tcp_idle_closed", 0), 2)
        self.assertEqual(cnt.get("tcp_connections", 0), 3)  # a, b and the last one


class Workers(LabTest):
    """--threads: several event loops on one address; the limits stay process-wide."""

    def test_workers_share_the_load_and_answer_everything(self):
        p = self.lab.start_proxy("--threads", "4", name="proxy-threads")
        self.assertIn("4 worker threads", p.log())
        self.assertGreaterEqual(len(os.listdir("/proc/%d/task" % p.popen.pid)), 4)
        want = self.direct("www.dcp.test", "A").answer_set()
        # 40 client sockets (40 source ports: the kernel spreads them over the workers), 5
        # queries in flight on each at once.
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(40)]
        try:
            for s in socks:
                s.settimeout(3)
                for qid in range(5):
                    s.sendto(make_query("www.dcp.test", "A", qid=qid), ("127.0.0.1", p.port))
            for s in socks:
                ids = set()
                for _ in range(5):
                    r = Response(s.recv(4096))
                    self.assertEqual(r.rcode, 0)
                    self.assertEqual(r.answer_set(), want)
                    ids.add(r.id)
                self.assertEqual(ids, set(range(5)))
        finally:
            for s in socks:
                s.close()
        for _ in range(8):  # TCP connections land on the workers too
            r = Response(dnsclient.tcp(p.port, make_query("www.dcp.test", "A")))
            self.assertEqual(r.answer_set(), want)
        c = p.counters()  # the sum over the workers
        self.assertEqual(c.get("queries_udp"), 200)
        self.assertEqual(c.get("queries_tcp"), 8)
        self.assertEqual(c.get("answered"), 208)
        self.assertEqual(c.get("cert_refreshes"), 1)  # one worker fetches for all
        # Shared: every worker received some. The kernel hashes each of the 48 client sockets
        # (40 UDP, 8 TCP) to one of the 4 workers: one worker with none of them happens with
        # probability 4 * (3/4)^48, about 4 in a million.
        per_worker = p.queries_by_worker()
        self.assertEqual(sum(per_worker), 208, per_worker)
        self.assertEqual(len(per_worker), 4)
        self.assertTrue(all(n > 0 for n in per_worker), per_worker)

    def test_connection_limit_is_for_the_process(self):
        p = self.lab.start_proxy("--threads", "4", "--max-tcp-connections", "2",
                                 name="proxy-threads-limit")
        kept = [socket.create_connection(("127.0.0.1", p.port)) for _ in range(2)]
        wait_until(lambda: p.counters().get("tcp_connections", 0) == 2, 5,
                   what="both connections to be accepted")
        for _ in range(6):  # whichever worker accepts them, all six are over the limit
            c = socket.create_connection(("127.0.0.1", p.port))
            c.settimeout(2)
            self.assertEqual(c.recv(10), b"")
            c.close()
        for s in kept:
            s.close()
        self.assertEqual(p.counters().get("tcp_refused_limit"), 6)

    def test_one_worker(self):
        p = self.lab.start_proxy("--threads", "1", name="proxy-one-thread")
        self.assertIn("1 worker thread", p.log())
        self.assertEqual(len(os.listdir("/proc/%d/task" % p.popen.pid)), 1)
        r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A")))
        self.assertEqual(r.answer_set(), self.direct("www.dcp.test", "A").answer_set())


class NoCertificate(LabTest):
    """No valid certificate: SERVFAIL, back-off retries, said in the log."""

    def test_servfail_and_log(self):
        silent = __import__("lab").free_port()  # nothing listens there
        p = self.lab.start_proxy("--timeout", "300", resolver_port=silent, wait_cert=False,
                                 name="proxy-nocert")
        wait_until(lambda: "no valid certificate" in p.log(), 10, what="the failure in the log")
        r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A")))
        self.assertEqual(r.rcode, 2)
        self.assertIn("retrying in 1s", p.log())
        # Tried again with back-off (1 s, then 2 s: a third try about 3 s in), and said once:
        # the same failure again is not logged again (a server down for hours, a boot without
        # network, would fill the log).
        wait_until(lambda: p.counters().get("cert_refresh_failures", 0) >= 3, 10,
                   interval=0.5, what="back-off")
        self.assertEqual(p.log().count("no valid certificate"), 1, p.log())
        self.assertEqual(p.counters().get("servfail_no_certificate", 0), 1)  # the one query

    def test_wrong_provider_key(self):
        p = self.lab.start_proxy("--timeout", "300", provider_key="00" * 32, wait_cert=False,
                                 name="proxy-wrongkey")
        wait_until(lambda: "no valid certificate" in p.log(), 10, what="the failure in the log")
        self.assertIn("signature", p.log())
        r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A")))
        self.assertEqual(r.rcode, 2)


class CommandLine(unittest.TestCase):
    def test_version_and_help(self):
        v = subprocess.run([os.environ["DCP_PROXY_BIN"], "--version"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(v.returncode, 0)
        self.assertRegex(v.stdout, r"dnscrypt-proxy \d+\.\d+\.\d+")
        h = subprocess.run([os.environ["DCP_PROXY_BIN"], "--help"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(h.returncode, 0)
        for switch in ("--local-address", "--local-port", "--resolver-address", "--provider-name",
                       "--provider-key", "--tcp-only", "--tcp-port", "--edns-payload-size",
                       "--timeout", "--ephemeral-keys", "--client-key"):
            self.assertIn(switch, h.stdout)

    def test_unknown_switch(self):
        r = subprocess.run([os.environ["DCP_PROXY_BIN"], "--no-such-switch"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.returncode, 2)  # a usage error, as the manual page says
        self.assertEqual(r.stderr.count("\n"), 1)
        self.assertIn("--no-such-switch", r.stderr)


if __name__ == "__main__":
    unittest.main()
