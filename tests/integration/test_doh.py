"""DNS-over-HTTPS upstream against real DoH servers on loopback: Debian's dnsdist (addDOHLocal)
and Unbound (https-port), both in front of NSD, with certificates from a test CA the proxy
trusts through SSL_CERT_FILE. Answers, multiplexing on one connection, certificate refusals
with failover, server restarts and idle closes, and dnscrypt-proxy 2's doh_servers switch."""

import os
import re
import signal
import socket
import subprocess
import threading
import time
import unittest

import dnsclient
import doh_lab
import list_server
from dnsclient import Response, make_query
from lab import Lab, free_port, start_logged, wait_until

BIN = os.environ.get("DCP_PROXY_BIN", "")


def doh_stamp(port, host=doh_lab.HOST, hashes=()):
    args = ["stamp", "encode", "--protocol", "doh", "--address", "127.0.0.1:%d" % port,
            "--hostname", host, "--path", "/dns-query"]
    for h in hashes:
        args += ["--hash", h]
    r = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def burst(port, names):
    """Sends one UDP query per name at once, each from its own socket, then reads every answer:
    all of them are in flight together. Returns the responses (None where none came)."""
    socks, out = [], []
    try:
        for n in names:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(5)
            socks.append(s)
        for s, n in zip(socks, names):
            s.sendto(make_query(n), ("127.0.0.1", port))
        for s in socks:
            try:
                out.append(Response(s.recvfrom(65535)[0]))
            except OSError:
                out.append(None)
    finally:
        for s in socks:
            s.close()
    return out


class DohServers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab()
        try:
            cls.lab.start_nsd()
            d = cls.lab.dir
            cls.ca = doh_lab.make_certificates(d)
            pair = lambda n: (os.path.join(d, n + ".pem"), os.path.join(d, n + ".key"))
            cls.cert = pair("doh")
            cls.dnsdist, ports = doh_lab.start_dnsdist_doh(
                cls.lab, [pair("doh"), pair("other"), pair("expired"), pair("rogue"),
                          pair("localhost")])
            (cls.doh_port, cls.other_port, cls.expired_port, cls.rogue_port,
             cls.localhost_port) = ports
            cls.unbound = doh_lab.start_unbound_doh(cls.lab, *pair("doh"))
            # HTTPS without HTTP/2 (Python's server offers no ALPN): must be refused.
            cls.h1 = list_server.HttpsServer(d, *pair("doh"))
        except Exception:
            cls.lab.stop(keep_dir=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.h1.close()
        cls.lab.stop()

    def start(self, *args, name, ready=1, env_ca=True):
        port = free_port()
        env = dict(os.environ)
        env.pop("SSL_CERT_DIR", None)
        if env_ca:
            env["SSL_CERT_FILE"] = self.ca
        p = start_logged(self, ["--local-address", "127.0.0.1:%d" % port] + list(args),
                         os.path.join(self.lab.dir, name + ".log"), env=env,
                         certificates=ready, ready="connected to")
        p.port = port
        return p

    def nsd(self, name, qtype):
        return Response(dnsclient.tcp(self.lab.nsd_port, make_query(name, qtype, edns=4096)))

    # -- answers --------------------------------------------------------------------------
    def test_answers_equal_nsds_through_dnsdist_and_unbound(self):
        cases = [("www.dcp.test", "A"), ("www.dcp.test", "AAAA"), ("dcp.test", "MX"),
                 ("txt.dcp.test", "TXT"), ("kb.dcp.test", "TXT"), ("twok.dcp.test", "TXT"),
                 ("big.dcp.test", "TXT"), ("x.wild.dcp.test", "A"), ("none.dcp.test", "A")]
        for server, port in (("dnsdist", self.doh_port), ("unbound", self.unbound.port)):
            p = self.start("--resolver", doh_stamp(port), name="answers-" + server)
            for qname, qtype in cases:
                want = self.nsd(qname, qtype)
                what = (server, qname, qtype)
                via_tcp = Response(dnsclient.tcp(p.port, make_query(qname, qtype)))
                self.assertEqual((via_tcp.rcode, via_tcp.answer_set()),
                                 (want.rcode, want.answer_set()), what)
                self.assertIsNone(via_tcp.opt, what)  # the client sent none: none comes back
                udp = Response(dnsclient.udp(p.port, make_query(qname, qtype, edns=4096)))
                if len(want.wire) <= 4096 - 100:
                    self.assertEqual((udp.rcode, udp.answer_set()),
                                     (want.rcode, want.answer_set()), what)
                else:  # the 5 KB answer does not fit: truncated, the client asks over TCP
                    self.assertTrue(udp.tc, what)
                plain = Response(dnsclient.udp(p.port, make_query(qname, qtype)))
                if len(want.wire) <= 512:
                    self.assertEqual(plain.answer_set(), want.answer_set(), what)
                else:
                    self.assertTrue(plain.tc, what)
            self.assertEqual(Response(dnsclient.udp(p.port, make_query("none.dcp.test"))).rcode,
                             3)  # NXDOMAIN

    def test_padding_on_the_wire(self):
        # What the server receives: an EDNS padding option filling the message to 128-byte
        # blocks (RFC 8467), whatever the client sent; the client gets its own ID back. dnsdist
        # records each query's length and padding. (The DNS ID 0 of RFC 8484 4.1 cannot be seen
        # here: dnsdist 1.7's Lua has no accessor for it or for the raw message; the unit tests
        # in tests/unit/doh check it.)
        wire = os.path.join(self.lab.dir, "doh-wire.log")
        lua = ['wire_log = io.open("%s", "a")' % wire,
               "function record(dq)",
               "  local opts = dq:getEDNSOptions()",
               "  local pad = -1",
               "  if opts[12] ~= nil then pad = string.len(opts[12]:getValues()[1] or '') end",
               '  wire_log:write(dq.len .. " " .. pad .. "\\n")',
               "  wire_log:flush()",
               '  return DNSAction.None, ""',
               "end",
               "addAction(AllRule(), LuaAction(record))"]
        _, ports = doh_lab.start_dnsdist_doh(self.lab, [self.cert], extra=lua)
        p = self.start("--resolver", doh_stamp(ports[0]), "--threads", "1", name="wire")
        with open(wire) as f:
            before = len(f.readlines())  # dnsdist's own start-up probe on its plain port
        asked = [("www.dcp.test", "A", None), ("txt.dcp.test", "TXT", 1232),
                 ("a-rather-longer-name-than-the-others.wild.dcp.test", "AAAA", 4096)]
        for i, (qname, qtype, edns) in enumerate(asked):
            r = Response(dnsclient.udp(p.port, make_query(qname, qtype, qid=0x4321 + i,
                                                          edns=edns)))
            self.assertEqual((r.id, r.rcode), (0x4321 + i, 0))
        with open(wire) as f:
            rows = [[int(x) for x in line.split()] for line in f.readlines()[before:]]
        self.assertEqual(len(rows), len(asked), rows)
        for length, pad in rows:
            self.assertGreaterEqual(pad, 0, rows)  # a padding option is there
            self.assertEqual(length % 128, 0, rows)

    def test_pins_on_the_intermediate_and_on_a_root_the_server_sends(self):
        # A stamp's hashes name any certificate of the chain the server presents, as
        # dnscrypt-proxy 2 checks them: the intermediate CA (servers send it with their own),
        # or the root where the server sends that too. A pin on a root it does not send
        # matches nothing the server presented: refused, and named in the log.
        sent, full, key = doh_lab.make_chain(self.lab.dir)
        _, (sent_port, full_port) = doh_lab.start_dnsdist_doh(self.lab, [(sent, key), (full, key)])
        inter, root = (doh_lab.tbs_hash(os.path.join(self.lab.dir, n + ".pem"))
                       for n in ("inter", "ca"))
        for port, pin in ((sent_port, inter), (full_port, root)):
            p = self.start("--resolver", doh_stamp(port, hashes=[pin]), name="pin-%d" % port)
            r = Response(dnsclient.udp(p.port, make_query("www.dcp.test")))
            self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")])
        p = self.start("--resolver", doh_stamp(sent_port, hashes=[root]),
                       "--resolver", doh_stamp(full_port, hashes=[root]), name="pin-unsent")
        wait_until(lambda: "no certificate of the chain has a hash the stamp pins" in p.text(),
                   10, what="the refusal")
        self.assertEqual(Response(dnsclient.udp(p.port, make_query("www.dcp.test"))).rcode, 0)

    def test_one_pool_of_dnscrypt_and_doh_servers(self):
        # Both protocols in one pool, both answering: random spreads the queries over the two
        # (either one with none of 60: 2^-59).
        if self.lab.dnsdist_port is None:
            self.lab.start_dnsdist()
        p = self.start("--resolver", self.lab.stamp(), "--resolver", doh_stamp(self.doh_port),
                       "--lb-strategy", "random", "--no-hedging", name="mixed")
        wait_until(lambda: "using certificate" in p.text(), 10, what="the DNSCrypt certificate")
        for i in range(60):
            r = Response(dnsclient.udp(p.port, make_query("m%d.wild.dcp.test" % i)))
            self.assertEqual(r.answer, [("m%d.wild.dcp.test." % i, 1, "192.0.2.99")])
        answers = {name: s["answers"] for name, s in p.stats(2)[1].items()}
        self.assertEqual(len(answers), 2, answers)
        self.assertEqual(sum(answers.values()), 60, answers)
        self.assertTrue(all(n > 0 for n in answers.values()), answers)

    def test_stamp_without_address_resolves_the_host_name(self):
        # "localhost" is resolved by the system (from /etc/hosts: no packet leaves); dnsdist
        # listens on 127.0.0.1 only, so an address ::1 that comes first is refused and the next
        # one is tried.
        r = subprocess.run([BIN, "stamp", "encode", "--protocol", "doh", "--hostname",
                            "localhost:%d" % self.localhost_port, "--path", "/dns-query"],
                           capture_output=True, text=True, timeout=10)
        p = self.start("--resolver", r.stdout.strip(), "--threads", "1", name="by-name")
        port = self.localhost_port
        self.assertIn("DoH server localhost:%d: connected to 127.0.0.1:%d (https://localhost:%d/"
                      "dns-query" % (port, port, port), p.text())
        r = Response(dnsclient.udp(p.port, make_query("www.dcp.test")))
        self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")])

    def test_hundred_queries_in_flight_share_one_connection(self):
        p = self.start("--resolver", doh_stamp(self.doh_port), "--threads", "1", name="hundred")
        self.assertEqual(Response(dnsclient.udp(p.port, make_query("www.dcp.test"))).rcode, 0)
        names = ["n%d.wild.dcp.test" % i for i in range(100)]
        answers = burst(p.port, names)
        self.assertEqual([a.answer[0][2] if a else None for a in answers], ["192.0.2.99"] * 100)
        c = p.counters()
        self.assertEqual(c["doh_connections"], 1)
        self.assertEqual(c["doh_queries"], 101)  # one each: nothing asked twice
        # Seen from the server's side: one TCP connection from the proxy.
        self.assertEqual(doh_lab.established(self.doh_port), 1)

    def test_one_connection_per_worker(self):
        p = self.start("--resolver", doh_stamp(self.unbound.port), "--threads", "2",
                       name="workers", ready=2)
        answers = burst(p.port, ["w%d.wild.dcp.test" % i for i in range(100)])
        self.assertTrue(all(a is not None and a.rcode == 0 for a in answers))
        self.assertEqual(p.counters()["doh_connections"], 2)
        self.assertEqual(doh_lab.established(self.unbound.port), 2)

    # -- refusals ---------------------------------------------------------------------------
    def test_refused_servers_are_named_and_the_pool_fails_over(self):
        good_pin = doh_lab.tbs_hash(self.cert[0])  # the leaf's: what the server sends
        stamps = [doh_stamp(self.doh_port, hashes=["00" * 32]),  # pins another certificate
                  doh_stamp(self.other_port),                     # a certificate for another name
                  doh_stamp(self.expired_port),                   # expired
                  doh_stamp(self.rogue_port),                     # from a CA nobody trusts
                  doh_stamp(self.h1.port),                        # HTTPS without HTTP/2
                  doh_stamp(self.unbound.port, hashes=["11" * 32, good_pin])]  # pinned, good
        args = []
        for s in stamps:
            args += ["--resolver", s]
        p = self.start(*args, "--threads", "1", name="refusals")
        wait_until(lambda: p.text().count("[warning] DoH server") >= 5, 10,
                   what="five refusals in the log")
        for i in range(30):
            r = Response(dnsclient.udp(p.port, make_query("www.dcp.test")))
            self.assertEqual((r.rcode, r.answer), (0, [("www.dcp.test.", 1, "192.0.2.10")]), i)
        log = p.text()
        url = "DoH server doh.dcp.test (https://doh.dcp.test/dns-query): "
        for reason in ("no certificate of the chain has a hash the stamp pins",
                       "certificate verification failed: hostname mismatch",
                       "certificate verification failed: certificate has expired",
                       "certificate verification failed: self-signed certificate",
                       "the server does not speak HTTP/2 (ALPN: none)"):
            self.assertIn(url + reason, log)
        # The pinned server is the only one connected; the others were never used unverified.
        self.assertEqual(log.count("connected to 127.0.0.1:%d" % self.unbound.port), 1)
        self.assertEqual(log.count("connected to"), 1)
        # The hashes of the chain are named, so that a user can fix a stale stamp.
        self.assertIn(good_pin, log)

    def test_an_address_with_a_zone_is_still_the_identity_checked(self):
        # A host name that is an IPv6 address with a zone (fe80::1%eth0 is how link-local
        # servers are written) is checked as that address: OpenSSL's parser rejects the zone,
        # and the result ignored left only the chain checked, so any certificate the trust
        # store vouches for (here: other.dcp.test's, from the test CA) was accepted.
        p = self.start("--resolver", doh_stamp(self.other_port, host="[::1%lo]"), "--threads",
                       "1", name="zone", ready=0)
        wait_until(lambda: "verification failed" in p.text(), 10, what="the refusal")
        self.assertIn("certificate verification failed: IP address mismatch", p.text())
        self.assertNotIn("connected to", p.text())
        r = Response(dnsclient.udp(p.port, make_query("www.dcp.test")))
        self.assertEqual((r.rcode, r.answer), (2, []))

    def test_untrusted_without_the_test_ca(self):
        # No SSL_CERT_FILE: the system's trust store, which does not know the test CA.
        port = free_port()
        log = os.path.join(self.lab.dir, "untrusted.log")
        env = dict(os.environ)
        env.pop("SSL_CERT_FILE", None)
        env.pop("SSL_CERT_DIR", None)
        with open(log, "w") as out:
            p = subprocess.Popen([BIN, "--local-address", "127.0.0.1:%d" % port, "--resolver",
                                  doh_stamp(self.doh_port), "--threads", "1"],
                                 stdout=out, stderr=subprocess.STDOUT, env=env)
        def text():
            with open(log) as f:
                return f.read()

        try:
            wait_until(lambda: "verification failed" in text(), 10, what="the refusal")
            r = Response(dnsclient.udp(port, make_query("www.dcp.test")))
            self.assertEqual(r.rcode, 2)  # SERVFAIL: no usable server
            self.assertIn("certificate verification failed: unable to get local issuer "
                          "certificate", text())
        finally:
            p.terminate()
            self.assertEqual(p.wait(10), 0)

    # -- the server goes away ------------------------------------------------------------------
    def test_server_restart_under_load_loses_nothing(self):
        dnsdist, ports = doh_lab.start_dnsdist_doh(self.lab, [self.cert])
        p = self.start("--resolver", doh_stamp(ports[0]), "--resolver",
                       doh_stamp(self.unbound.port), "--threads", "1", name="restart", ready=2)
        results, stop = [], threading.Event()

        def client():
            while not stop.is_set():
                try:
                    r = Response(dnsclient.udp(p.port, make_query("www.dcp.test"), timeout=5))
                    results.append(r.rcode)
                except OSError:
                    results.append(None)

        clients = [threading.Thread(target=client) for _ in range(4)]
        for t in clients:
            t.start()
        try:
            time.sleep(1)
            dnsdist.stop()
            time.sleep(1)
            dnsdist = doh_lab.restart(self.lab, dnsdist)
            wait_until(lambda: doh_lab.listening(ports[0]), 10, what="dnsdist back")
            # Back in use: the pool probes it, the transport opens a new connection.
            wait_until(lambda: p.counters().get("doh_connections", 0) >= 3, 20,
                       what="a new connection to the restarted server")
            time.sleep(1)
        finally:
            stop.set()
            for t in clients:
                t.join()
        lost = results.count(None)
        print("\nrestart under load: %d queries, %d lost, %s" % (
            len(results), lost, {r: results.count(r) for r in set(results)}))
        self.assertEqual(lost, 0)
        self.assertEqual(set(results), {0}, {r: results.count(r) for r in set(results)})
        self.assertGreater(len(results), 200)
        dnsdist.stop()

    def test_single_server_restart_then_idle_close_reconnect(self):
        # dnsdist closes connections idle for a second: the next query opens a new one.
        dnsdist, ports = doh_lab.start_dnsdist_doh(self.lab, [self.cert], idle_timeout=1)
        p = self.start("--resolver", doh_stamp(ports[0]), "--threads", "1", name="idle")
        ask = lambda: Response(dnsclient.udp(p.port, make_query("www.dcp.test"), timeout=5)).rcode
        self.assertEqual(ask(), 0)
        wait_until(lambda: doh_lab.established(ports[0]) == 0, 10, what="the idle close")
        self.assertEqual([ask() for _ in range(5)], [0] * 5)  # none lost to the closed one
        c = p.counters()
        self.assertEqual(c["doh_connections"], 2)
        dnsdist.stop()
        self.assertEqual(ask(), 2)  # nothing to ask: SERVFAIL at once, no hang
        dnsdist = doh_lab.restart(self.lab, dnsdist)
        wait_until(lambda: doh_lab.listening(ports[0]), 10, what="dnsdist back")
        # After the back-off (half a second, then doubling), queries are answered again.
        wait_until(lambda: ask() == 0, 15, interval=0.2, what="answers after the restart")
        self.assertEqual(p.counters()["doh_connections"], 3)
        dnsdist.stop()


    def test_http_error_is_refused(self):
        # dnsdist answers 404 for a path it does not serve: the answer is refused (the pool
        # would ask another server; here there is none), named in the log, counted.
        r = subprocess.run([BIN, "stamp", "encode", "--protocol", "doh", "--address",
                            "127.0.0.1:%d" % self.doh_port, "--hostname", doh_lab.HOST, "--path",
                            "/not-here"], capture_output=True, text=True, timeout=10)
        p = self.start("--resolver", r.stdout.strip(), "--threads", "1", name="http-error")
        for i in range(3):
            self.assertEqual(Response(dnsclient.udp(p.port, make_query("www.dcp.test"))).rcode,
                             2, i)
        self.assertEqual(p.counters()["doh_errors"], 3)
        self.assertIn("DoH server doh.dcp.test (https://doh.dcp.test/not-here): answer refused: "
                      "HTTP status 404", p.text())

    def test_queries_in_flight_when_the_server_dies_are_sent_again_once(self):
        backend = doh_lab.SilentBackend()
        self.addCleanup(backend.close)
        dnsdist, ports = doh_lab.start_dnsdist_doh(self.lab, [self.cert],
                                                   backend_port=backend.port)
        p = self.start("--resolver", doh_stamp(ports[0]), "--threads", "1", "--timeout", "5000",
                       name="dies")
        done = []
        t = threading.Thread(target=lambda: done.append(
            Response(dnsclient.udp(p.port, make_query("www.dcp.test"), timeout=10)).rcode))
        t.start()
        wait_until(lambda: backend.received >= 1, 5, what="the query at the backend")
        dnsdist.stop()  # the connection closes with the query unanswered
        t.join()
        # Sent again on a new connection (which cannot be opened: nobody listens any more),
        # then a SERVFAIL, well before the 5 s deadline.
        self.assertEqual(done, [2])
        c = p.counters()
        self.assertEqual(c["doh_retries"], 1)
        self.assertEqual(c.get("servfail_timeout", 0), 0)


class DohServersSwitch(unittest.TestCase):
    """dnscrypt-proxy 2's doh_servers: false leaves DoH servers out, as its filters do."""

    def test_doh_servers_false(self):
        lab = Lab()
        self.addCleanup(lab.stop)
        lab.start_nsd()
        ca = doh_lab.make_certificates(lab.dir)
        _, ports = doh_lab.start_dnsdist_doh(
            lab, [(os.path.join(lab.dir, "doh.pem"), os.path.join(lab.dir, "doh.key"))])
        for flag in ("true", "false"):
            port = free_port()
            conf = os.path.join(lab.dir, "doh-%s.toml" % flag)
            with open(conf, "w") as f:
                f.write("listen_addresses = ['127.0.0.1:%d']\ndoh_servers = %s\n\n"
                        "[static]\n  [static.lab-doh]\n  stamp = '%s'\n"
                        % (port, flag, doh_stamp(ports[0])))
            env = dict(os.environ, SSL_CERT_FILE=ca)
            if flag == "true":
                p = start_logged(self, ["--config", conf], os.path.join(lab.dir, "on.log"),
                                 env=env, ready="connected to")
                self.assertIn("using 1 DoH server: lab-doh (https://doh.dcp.test/dns-query)",
                              p.text())
                r = Response(dnsclient.udp(port, make_query("www.dcp.test")))
                self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")])
            else:
                r = subprocess.run([BIN, "--config", conf], capture_output=True, text=True,
                                   env=env, timeout=10)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertIn("no server to use", r.stderr)
                listed = subprocess.run([BIN, "--config", conf, "--list"], capture_output=True,
                                        text=True, env=env, timeout=10)
                self.assertNotIn("lab-doh", listed.stdout)


if __name__ == "__main__":
    unittest.main()
