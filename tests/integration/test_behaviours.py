"""Behaviours the first suite never exercised, each against real servers (NSD, dnsdist) or, where
only a resolver holding the key can misbehave, against fake_resolver.FakeResolver: certificates
that expire mid-run or are refreshed early or on SIGHUP, answers that authenticate but answer
another question or are badly padded, the client key over upstream TCP, an IPv6 resolver, several
listening addresses, the per-connection in-flight cap, the idle timeout while answers are owed,
oversized TCP frames, padding that grows and shrinks back, idle upstream connections expiring,
counters under every log level, and each configuration error a user can make. Every counter
the proxy defines is asserted somewhere in this suite (EveryCounterIsAsserted)."""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import dnsclient
import fake_resolver
import relay
from dnsclient import Response, make_query
from lab import LabTestCase, free_port, has_ipv6_loopback, sanitized, wait_until

BIN = os.environ.get("DCP_PROXY_BIN", "")
HERE = os.path.dirname(os.path.abspath(__file__))


def frame(msg):
    return struct.pack("!H", len(msg)) + msg


def read_frames(sock, count, timeout=10.0):
    sock.settimeout(timeout)
    out = []
    for _ in range(count):
        (n,) = struct.unpack("!H", dnsclient.recv_exact(sock, 2))
        out.append(Response(dnsclient.recv_exact(sock, n)))
    return out


class WithFakeResolver(LabTestCase):
    """NSD for the answers, a FakeResolver per test in front of it."""

    with_dnsdist = False

    def setUp(self):
        self.fake = fake_resolver.FakeResolver(self.lab.nsd_port)
        self.fake.serve_certificates((1, -60, 86400))

    def tearDown(self):
        self.fake.close()

    def proxy(self, *extra, name="proxy", wait_cert=True):
        return self.lab.start_proxy(*extra, resolver_port=self.fake.port,
                                    provider_key=self.fake.provider_key_hex,
                                    provider_name=fake_resolver.PROVIDER_NAME, name=name,
                                    wait_cert=wait_cert)


class ForgedByTheResolver(WithFakeResolver):
    """Answers that decrypt and authenticate, yet must not reach the client: an answer to another
    question, a plaintext without its padding marker. Each is counted and dropped; the query
    waits for its real answer and, none coming, times out."""

    def check(self, mode, counter, tcp=False):
        # Over UDP the query waits for its real answer and times out; over TCP the connection
        # carries that one exchange, so a bad answer ends it at once (SERVFAIL, upstream error).
        p = self.proxy("--timeout", "1000" if not tcp else "5000", *(["--tcp-only"] if tcp else []),
                       name="proxy-" + mode)
        self.fake.mode = mode
        start = time.monotonic()
        if tcp:
            r = Response(dnsclient.tcp(p.port, make_query("www.dcp.test", "A")))
        else:
            r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A")))
        self.assertEqual(r.rcode, 2)
        if tcp:
            self.assertLess(time.monotonic() - start, 4.0)
        else:
            self.assertGreaterEqual(time.monotonic() - start, 0.95)
        c = p.counters()
        self.assertEqual(c.get(counter, 0), 1, c)
        self.assertEqual(c.get("answered", 0), 0, c)
        self.fake.mode = "ok"
        r = Response(dnsclient.tcp(p.port, make_query("www.dcp.test", "A")) if tcp
                     else dnsclient.udp(p.port, make_query("www.dcp.test", "A")))
        self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")])
        return p.counters()

    def test_answer_to_another_question_over_udp(self):
        c = self.check("mismatch", "reply_mismatch")
        self.assertEqual(c.get("servfail_timeout", 0), 1)

    def test_bad_padding_over_udp(self):
        c = self.check("bad_padding", "reply_bad_padding")
        self.assertEqual(c.get("servfail_timeout", 0), 1)

    def test_answer_to_another_question_over_tcp(self):
        c = self.check("mismatch", "reply_mismatch", tcp=True)
        self.assertEqual((c.get("servfail_upstream_error"), c.get("servfail_timeout", 0)), (1, 0))

    def test_bad_padding_over_tcp(self):
        c = self.check("bad_padding", "reply_bad_padding", tcp=True)
        self.assertEqual((c.get("servfail_upstream_error"), c.get("servfail_timeout", 0)), (1, 0))


class ClientKeyOverTcp(WithFakeResolver):
    def test_client_key_file_over_tcp(self):
        secret = os.urandom(32)
        path = os.path.join(self.lab.dir, "client-%d.key" % os.getpid())
        with open(path, "w") as f:
            f.write(secret.hex() + "\n")
        os.chmod(path, 0o600)
        p = self.proxy("--tcp-only", "--client-key", path, name="proxy-key-tcp")
        for _ in range(3):
            self.assertEqual(Response(dnsclient.tcp(p.port, make_query("www.dcp.test"))).rcode, 0)
        self.assertEqual(self.fake.keys["tcp"], [fake_resolver.x25519_public(secret)] * 3)
        self.assertEqual(self.fake.keys["udp"], [])

    def test_ephemeral_keys_over_tcp(self):
        p = self.proxy("--tcp-only", "--ephemeral-keys", name="proxy-eph-tcp")
        for _ in range(4):
            self.assertEqual(Response(dnsclient.tcp(p.port, make_query("www.dcp.test"))).rcode, 0)
        keys = self.fake.keys["tcp"]
        self.assertEqual(len(keys), 4)
        self.assertEqual(len(set(keys)), 4)


class IdleUpstreamConnections(WithFakeResolver):
    def test_idle_upstream_connection_expires(self):
        # The fake resolver keeps idle connections open (dnsdist closes them after 2 s by itself,
        # which would hide whether the proxy expires them): a connection idle for over 10 s
        # (TcpUpstream::kMaxIdleTime) is not reused, a fresh one is.
        p = self.proxy("--tcp-only", "--threads", "1", name="proxy-upstream-idle")
        ask = lambda: Response(dnsclient.tcp(p.port, make_query("www.dcp.test"))).rcode
        before = self.fake.tcp_connections  # in TCP-only mode certificates come over TCP too
        self.assertEqual((ask(), ask()), (0, 0))
        c = p.counters()
        self.assertEqual((c.get("upstream_tcp_connections"), c.get("upstream_tcp_reused")), (1, 1))
        self.assertEqual(self.fake.tcp_connections, before + 1)
        time.sleep(10.5)  # a lower bound, not a wait for readiness
        self.assertEqual(ask(), 0)
        c = p.counters()
        self.assertEqual((c.get("upstream_tcp_connections"), c.get("upstream_tcp_reused")), (2, 1))
        self.assertEqual(self.fake.tcp_connections, before + 2)


class CertificateLifetime(WithFakeResolver):
    """A certificate that ends while the proxy runs; one refreshed before its end without being
    asked; a refresh on SIGHUP. The fake resolver serves exactly the certificates set."""

    def test_expiring_mid_run_is_refused_at_once(self):
        self.fake.serve_certificates((1, -60, 3))  # its last second: three seconds from now
        p = self.proxy("--timeout", "5000", name="proxy-expiring")
        self.assertEqual(Response(dnsclient.udp(p.port, make_query("www.dcp.test"))).rcode, 0)
        # The proxy looks every second near the end, and says when none is left. The fake
        # resolver would still answer a query under the old key: only the proxy can refuse.
        wait_until(lambda: "certificate expired" in p.log(), 10, what="the certificate's end")
        start = time.monotonic()
        r = Response(dnsclient.udp(p.port, make_query("www.dcp.test"), timeout=6))
        self.assertEqual(r.rcode, 2)
        self.assertLess(time.monotonic() - start, 4.0)  # at once, not after the 5 s timeout
        c = p.counters()
        self.assertEqual(c.get("servfail_no_certificate", 0), 1)
        self.assertEqual(c.get("servfail_timeout", 0), 0)
        self.assertEqual(c.get("upstream_udp_queries", 0), 1)  # nothing sent with the dead key
        self.assertGreaterEqual(c.get("cert_refresh_failures", 0), 1)
        self.assertIn("no valid certificate from", p.log())
        # A new certificate comes: served again (the retries pick it up by themselves).
        self.fake.serve_certificates((2, -60, 86400))
        wait_until(lambda: "using certificate serial 2 " in p.log(), 15, what="serial 2")
        self.assertEqual(Response(dnsclient.udp(p.port, make_query("www.dcp.test"))).rcode, 0)

    def test_refreshed_before_its_end(self):
        # Ends in 124 s: the proxy looks again 120 s before that, in about 4 s, not in the
        # --cert-refresh hour, and finds the next certificate before the first one ends.
        self.fake.serve_certificates((1, -60, 124))
        p = self.proxy("--loglevel", "debug", name="proxy-early")
        waits = [int(w) for w in re.findall(r"next certificate check in (\d+)s", p.log())]
        self.assertTrue(waits and waits[0] <= 4, p.log())
        self.fake.serve_certificates((1, -60, 124), (2, -60, 86400))
        wait_until(lambda: "using certificate serial 2 " in p.log(), 15, what="serial 2")
        self.assertEqual(p.counters().get("cert_rotations", 0), 1)

    def test_sighup_fetches_now(self):
        p = self.proxy(name="proxy-hup-cert")
        self.assertEqual(self.fake.cert_queries, 1)  # one fetch for every worker
        self.fake.serve_certificates((1, -60, 86400), (2, -60, 86400))
        p.popen.send_signal(signal.SIGHUP)
        wait_until(lambda: "using certificate serial 2 " in p.log(), 5, what="serial 2")
        self.assertEqual(self.fake.cert_queries, 2)
        c = p.counters()
        self.assertEqual((c.get("cert_refreshes"), c.get("cert_rotations")), (2, 1))
        self.assertEqual(Response(dnsclient.udp(p.port, make_query("www.dcp.test"))).rcode, 0)


class OnRealServers(LabTestCase):
    """dnsdist and NSD: addresses, TCP limits, padding, upstream connections."""

    def test_ipv6_resolver_address(self):
        if not self.lab.dnsdist_port6:
            self.skipTest("no ::1 on this machine")
        for mode in ((), ("--tcp-only",)):
            p = self.lab.start_proxy(*mode, resolver_host="[::1]", resolver_port=self.lab.dnsdist_port6,
                                     name="proxy-v6-resolver")
            self.assertIn("(::1)", p.log())
            r = Response(dnsclient.tcp(p.port, make_query("big.dcp.test", "TXT")))
            self.assertEqual(len(r.answer), 24)
            if not mode:
                r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "AAAA")))
                self.assertEqual(r.answer, [("www.dcp.test.", 28, "2001:db8::10")])
            c = p.counters()
            self.assertEqual(c.get("answered", 0), 1 if mode else 2)
            self.assertEqual(c.get("upstream_tcp_queries", 0), 1)
            p.stop()

    def test_several_local_addresses(self):
        ports = [free_port() for _ in range(3)]
        hosts = ["127.0.0.1", "127.0.0.2"] + (["::1"] if has_ipv6_loopback() else [])
        args = []
        for host, port in zip(hosts, ports):
            args += ["--local-address", ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)]
        p = self.lab.start_proxy(*args, name="proxy-several")
        # start_proxy's own 127.0.0.1 address is one of them; the ones given must all serve.
        for host, port in zip(hosts, ports):
            r = Response(dnsclient.udp(port, make_query("www.dcp.test"), host=host))
            self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")], host)
            r = Response(dnsclient.tcp(port, make_query("www.dcp.test"), host=host))
            self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")], host)
        c = p.counters()
        self.assertEqual((c.get("queries_udp"), c.get("queries_tcp")), (len(hosts), len(hosts)))

    def test_in_flight_cap_per_tcp_connection(self):
        gate = relay.HostileRelay(self.lab.dnsdist_port, mode="pass")
        try:
            p = self.lab.start_proxy("--threads", "1", "--timeout", "3000",
                                     resolver_port=gate.port, name="proxy-cap")
            gate.mode = "drop"
            s = socket.create_connection(("127.0.0.1", p.port))
            s.sendall(b"".join(frame(make_query("q%d.wild.dcp.test" % i, qid=i))
                               for i in range(200)))
            wait_until(lambda: p.counters().get("queries_tcp", 0) == 128, 5, what="128 read")
            time.sleep(0.5)  # a lower bound: reading must stay paused while 128 are owed
            self.assertEqual(p.counters().get("queries_tcp", 0), 128)
            gate.mode = "pass"  # the 128 time out; the other 72 are read and answered
            answers = read_frames(s, 200, timeout=15)
            s.close()
            rcodes = {}
            for a in answers:
                rcodes[a.id] = a.rcode
            self.assertEqual(sorted(rcodes), list(range(200)))
            self.assertEqual([rcodes[i] for i in range(128)], [2] * 128)
            self.assertEqual([rcodes[i] for i in range(128, 200)], [0] * 72)
            c = p.counters()
            self.assertEqual((c.get("queries_tcp"), c.get("servfail_timeout"), c.get("answered")),
                             (200, 128, 72))
        finally:
            gate.close()

    def test_idle_timeout_waits_while_an_answer_is_owed(self):
        gate = relay.HostileRelay(self.lab.dnsdist_port, mode="drop")
        try:
            p = self.lab.start_proxy("--tcp-idle-timeout", "500", "--timeout", "2000",
                                     resolver_port=gate.port, wait_cert=True, name="proxy-owed")
            s = socket.create_connection(("127.0.0.1", p.port))
            start = time.monotonic()
            s.sendall(frame(make_query("www.dcp.test")))
            (r,) = read_frames(s, 1, timeout=5)
            self.assertEqual(r.rcode, 2)  # the timeout's SERVFAIL, not a closed connection
            self.assertGreaterEqual(time.monotonic() - start, 1.9)
            self.assertEqual(p.counters().get("tcp_idle_closed", 0), 0)
            s.settimeout(5)
            self.assertEqual(s.recv(10), b"")  # then idle: closed after another 500 ms
            self.assertGreaterEqual(time.monotonic() - start, 2.4)
            s.close()
            self.assertEqual(p.counters().get("tcp_idle_closed", 0), 1)
        finally:
            gate.close()

    def test_oversized_tcp_frames_close_the_connection(self):
        # A message over 4,096 bytes cannot be a query: the client is not speaking DNS, its
        # connection closes (as for any malformed query); the answer already owed is sent first
        # and the proxy goes on serving others.
        p = self.lab.start_proxy(name="proxy-oversized")
        for size in (4097, 65535):
            s = socket.create_connection(("127.0.0.1", p.port))
            s.sendall(frame(make_query("www.dcp.test", qid=7)))
            (r,) = read_frames(s, 1)
            s.sendall(frame(os.urandom(size)) + frame(make_query("www.dcp.test", qid=8)))
            s.settimeout(5)
            self.assertEqual(s.recv(10), b"")
            s.close()
        r = Response(dnsclient.tcp(p.port, make_query("www.dcp.test")))
        self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")])
        c = p.counters()
        self.assertEqual((c.get("dropped_oversized"), c.get("queries_tcp"), c.get("answered")),
                         (2, 5, 3))

    def test_out_of_file_descriptors(self):
        # 64 descriptors in all: clients beyond that cannot be accepted. Counted, logged, and
        # the proxy keeps serving (UDP at once, TCP once descriptors are free again).
        if not shutil.which("prlimit"):
            self.skipTest("no prlimit on this machine")
        p = self.lab.start_proxy("--threads", "1", prefix=("prlimit", "--nofile=64:64"),
                                 name="proxy-nofile")
        if sanitized(p.pid):
            # UBSan's vptr check probes memory through a pipe(): with no descriptor left it
            # cannot, and reports a false "invalid vptr" on the next object made (seen in
            # UdpListener::Slot's constructor). The other builds run this test.
            p.stop()
            self.lab.procs.remove(p)
            self.skipTest("under the sanitizers (UBSan needs free descriptors)")
        held = []
        for _ in range(100):
            s = socket.socket()
            s.settimeout(2)
            s.connect(("127.0.0.1", p.port))  # the kernel's backlog completes it, accepted or not
            held.append(s)
        wait_until(lambda: p.counters().get("tcp_accept_errors", 0) >= 1, 10,
                   what="an accept error")
        self.assertEqual(Response(dnsclient.udp(p.port, make_query("www.dcp.test"))).rcode, 0)
        for s in held:
            s.close()
        wait_until(lambda: self.tcp_answers(p), 15, what="TCP service again")
        self.assertTrue(p.alive())

    @staticmethod
    def tcp_answers(p):
        try:
            return Response(dnsclient.tcp(p.port, make_query("www.dcp.test"), timeout=1)).rcode == 0
        except OSError:
            return False

    def test_query_too_large_for_udp_goes_over_tcp(self):
        p = self.lab.start_proxy(name="proxy-cannot-pad")
        # A 4,050-byte query (an EDNS padding option makes it so): too large to pad into the
        # largest UDP packet, so it goes over TCP, however it came in.
        q = make_query("www.dcp.test", edns=1232)
        pad_len = 4050 - len(q) - 4
        q = q[:-2] + struct.pack("!HHH", pad_len + 4, 12, pad_len) + b"\x00" * pad_len
        self.assertEqual(len(q), 4050)
        r = Response(dnsclient.udp(p.port, q))
        self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")])
        c = p.counters()
        self.assertEqual((c.get("upstream_udp_cannot_pad"), c.get("upstream_tcp_queries"),
                          c.get("upstream_udp_queries", 0)), (1, 1, 0))

    def test_truncated_for_the_client(self):
        p = self.lab.start_proxy(name="proxy-trunc")
        for name, truncated in (("kb.dcp.test", True), ("big.dcp.test", True),
                                ("txt.dcp.test", False)):
            r = Response(dnsclient.udp(p.port, make_query(name, "TXT")))  # no OPT: 512 bytes
            self.assertEqual((r.rcode, r.tc, bool(r.answer)), (0, truncated, not truncated), name)
        self.assertEqual(p.counters().get("truncated_for_client", 0), 2)

    def test_udp_answers_to_clients_stop_at_4096_bytes(self):
        # A client (or a spoofed source) advertising 65535 does not get the ~5 KB answer in one
        # datagram, fetched from the resolver or from the cache: the proxy is no amplifier.
        p = self.lab.start_proxy(name="proxy-cap", cache=True)
        for attempt in ("resolver", "cache"):
            raw = dnsclient.udp(p.port, make_query("big.dcp.test", "TXT", edns=65535))
            r = Response(raw)
            self.assertLessEqual(len(raw), 4096, attempt)
            self.assertEqual((r.rcode, r.tc), (0, True), attempt)
        # Under the cap, what the client advertises holds: ~2 KB in one datagram.
        r = Response(dnsclient.udp(p.port, make_query("twok.dcp.test", "TXT", edns=65535)))
        self.assertEqual((r.rcode, r.tc, len(r.answer)), (0, False, 9))
        self.assertEqual(p.counters().get("truncated_for_client", 0), 2)

    def test_padding_grows_then_shrinks_back(self):
        p = self.lab.start_proxy("--threads", "1", name="proxy-shrink")
        kb = lambda: Response(dnsclient.udp(p.port, make_query("kb.dcp.test", "TXT", edns=1232)))
        self.assertFalse(kb().tc)
        self.assertFalse(kb().tc)
        c = p.counters()
        self.assertEqual((c.get("upstream_truncated"), c.get("upstream_tcp_retries")), (1, 1))
        # Two windows of small answers: the padding shrinks back to what they need...
        for i in range(2 * 256):
            dnsclient.udp(p.port, make_query("s%d.wild.dcp.test" % i))
        # ...so the next ~1 KB answer is truncated once more and teaches the size again.
        self.assertFalse(kb().tc)
        c = p.counters()
        self.assertEqual((c.get("upstream_truncated"), c.get("upstream_tcp_retries")), (2, 2))
        self.assertFalse(kb().tc)
        self.assertEqual(p.counters().get("upstream_truncated"), 2)


class CountersUnderEveryLogLevel(LabTestCase):
    """SIGUSR1 is asked for explicitly: shown under warning and error, where info lines are
    hidden; --loglevel off means nothing at all, and the proxy keeps serving."""

    def start(self, level):
        p = self.lab.start_proxy("--loglevel", level, wait_cert=False, name="proxy-" + level)
        wait_until(lambda: self.answers(p), 10, what="the proxy to answer")
        return p

    @staticmethod
    def answers(p):
        try:
            return Response(dnsclient.udp(p.port, make_query("www.dcp.test"), timeout=0.5)).rcode == 0
        except OSError:
            return False

    def test_warning_and_error(self):
        for level in ("warning", "error"):
            p = self.start(level)
            c = p.counters()  # probes before the certificate got SERVFAIL at once
            self.assertEqual(c.get("queries_udp"),
                             c.get("answered") + c.get("servfail_no_certificate", 0))
            self.assertEqual(c.get("answered"), 1)
            self.assertNotIn("using certificate", p.log())  # an info line: hidden
            self.assertRegex(p.log(), r"\[%s\] counters: " % level)
            p.stop()

    def test_off(self):
        p = self.start("off")
        for _ in range(3):
            p.popen.send_signal(signal.SIGUSR1)
        self.assertTrue(self.answers(p))  # the signals were handled before this answer
        self.assertEqual(p.log(), "")
        p.stop()
        self.assertEqual(p.popen.returncode, 0)
        self.assertEqual(p.log(), "")


class ConfigurationErrors(unittest.TestCase):
    """Each mistake gives exit status 2 and one line naming it, from the switch and the file."""

    def run_proxy(self, *args, resolver=True):
        # With a resolver on loopback that never answers and --test: a mistake the proxy missed
        # ends in exit status 3 within a second, never in serving or in a packet elsewhere.
        base = [BIN, "--local-address", "127.0.0.1:%d" % free_port()]
        if resolver:
            base += ["--resolver-address", "127.0.0.1:%d" % free_port(), "--provider-name",
                     "2.dnscrypt-cert.dcp.test", "--provider-key", "ab" * 32, "--test", "1",
                     "--timeout", "300"]
        return subprocess.run(base + list(args), capture_output=True, text=True, timeout=10)

    def check(self, r, *words):
        self.assertEqual(r.returncode, 2, r.stderr)
        for w in words:
            self.assertIn(w, r.stderr)
        self.assertEqual(r.stderr.strip().count("\n"), 0, r.stderr)  # one line

    def test_each_mistake(self):
        with tempfile.TemporaryDirectory() as tmp:
            def conf(text):
                path = os.path.join(tmp, "c.toml")
                with open(path, "w") as f:
                    f.write(text)
                return path

            self.check(self.run_proxy("--provider-name", "2.dnscrypt-cert.example.org",
                                      resolver=False), "--provider-name", "--resolver-address")
            self.check(self.run_proxy("--config", conf('provider-name = "2.dnscrypt-cert.x.org"\n'),
                                      resolver=False), "--provider-name", "--resolver-address")
            self.check(self.run_proxy("--loglevel", "loud"), "loud")
            self.check(self.run_proxy("--config", conf('loglevel = "loud"\n')), "loud")
            missing = os.path.join(tmp, "nothing-here.toml")
            self.check(self.run_proxy("--config", missing), missing)
            self.check(self.run_proxy("--client-key", os.path.join(tmp, "no.key")), "no.key")
            for value in ("65536", "-1", "x"):
                self.check(self.run_proxy("--edns-payload-size", value), "edns-payload-size")
            self.check(self.run_proxy("--config", conf("edns-payload-size = 4097\n")),
                       "--edns-payload-size: 4097")
            self.check(self.run_proxy("--resolver-address", "127.0.0.1:99999"), "99999")


class EveryCounterIsAsserted(unittest.TestCase):
    """A counter no test asserts can stop counting unnoticed: each one the proxy defines must
    appear in an assertion of this suite, except those no outside input can reach."""

    UNREACHABLE = {
        # An exception escaping a query handler is a bug; nothing from outside makes one.
        "handler_exceptions",
    }

    def test_each_counter_has_an_assertion(self):
        with open(os.path.join(HERE, "..", "..", "src", "common", "counters.hpp")) as f:
            names = re.findall(r"X\((\w+),", f.read())
        self.assertGreater(len(names), 30)
        sources = ""
        for d in (HERE,):
            for fn in sorted(os.listdir(d)):
                if fn.startswith("test_") and fn.endswith(".py"):
                    with open(os.path.join(d, fn)) as f:
                        sources += f.read()
        unasserted = [n for n in names
                      if n not in self.UNREACHABLE and not re.search(r'"%s"' % n, sources)]
        self.assertEqual(unasserted, [])


if __name__ == "__main__":
    unittest.main()


@unittest.skipUnless(len(os.sched_getaffinity(0)) >= 2, "spill-over needs two usable cores")
class SpillOver(LabTestCase):
    """With no --threads, one worker per usable core, but only the first reads until it is
    saturated; then a second reads from the same sockets, and stops again once the load has long
    fitted in one."""

    def test_second_worker_reads_only_while_the_first_is_saturated(self):
        # 20,000 glob rules that match nothing asked and share no literal prefix or suffix an
        # index could use: every query is tried against each of them (~1-3 ms), so a few
        # clients keep a core busy.
        rules = self.write("globs.txt",
                           "".join("*[ab]x%d.example.net\n" % i for i in range(20000)))
        p = self.lab.start_proxy("--blocked-names", rules, "--loglevel", "debug", name="spill")
        self.assertIn("2 worker threads (one reading, the others when it is saturated)"
                      if len(os.sched_getaffinity(0)) == 2 else "(one reading", p.log())
        self.assertNotIn("workers reading", p.log())
        stop = threading.Event()
        sent, answered = [0], [0]

        def client():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(5)
                while not stop.is_set():
                    sent[0] += 1
                    s.sendto(make_query("www.dcp.test", qid=sent[0] & 0xffff), ("127.0.0.1", p.port))
                    if Response(s.recv(4096)).rcode == 0:
                        answered[0] += 1
        clients = [threading.Thread(target=client) for _ in range(8)]
        for t in clients:
            t.start()
        try:
            wait_until(lambda: "2 of " in p.log(), 20, what="a second worker reading")
            # Both read the shared socket, TCP included, and answer.
            tcp = Response(dnsclient.tcp(p.port, make_query("mail.dcp.test")))
            self.assertEqual(tcp.answer, [("mail.dcp.test.", 1, "192.0.2.25")])
        finally:
            stop.set()
            for t in clients:
                t.join()
        self.assertEqual(answered[0], sent[0])  # none lost or failed while the second joined
        # Idle: after two seconds with room to spare, the first reads alone again.
        wait_until(lambda: "1 of " in p.log(), 10, what="the second worker back on standby")
        self.assertEqual(ask_udp(p.port, "www.dcp.test").rcode, 0)
        c = p.counters()
        self.assertEqual(c.get("answered"), answered[0] + 2)


def ask_udp(port, name):
    return Response(dnsclient.udp(port, make_query(name)))
