"""Answering locally, from outside: the cache and the rules in dnscrypt-proxy 2's file formats
(its own example files included), with dig and our client against real NSD and dnsdist on
loopback. Forwarding goes to a second NSD serving another zone."""

import glob
import os
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest

import dnsclient
from dnsclient import Response, make_query
from lab import (LabTestCase, free_port, rss_kib, sanitized, sanitized_binary, start_logged,
                 wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "data", "dnscrypt-proxy-v2-examples")
HINFO = 13
BLOCKED = "This query has been locally blocked"


def ask(port, name, qtype="A", edns=None, do=False, tcp=False, qid=None):
    msg = make_query(name, qtype, qid=qid, edns=edns, do=do)
    wire = dnsclient.tcp(port, msg) if tcp else dnsclient.udp(port, msg)
    return Response(wire)


def dig(port, *args):
    r = subprocess.run(["dig", "-p", str(port), "@127.0.0.1", "+tries=1", "+time=3"] + list(args),
                       capture_output=True, text=True, timeout=10)
    return r.stdout


def ttls(dig_output):
    """TTLs of the records dig printed (+noall +answer or +authority)."""
    return [int(l.split()[1]) for l in dig_output.splitlines() if l and not l.startswith(";")]


def blocked(r):
    return any(t == HINFO and BLOCKED.encode() in d for _, t, d in r.answer)


def udp_flood(test, port, names):
    """Asks every name over UDP from one socket, 50 in flight at a time; the answers counted."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(3)
    test.addCleanup(sock.close)
    answered = 0
    for base in range(0, len(names), 50):
        for name in names[base:base + 50]:
            sock.sendto(make_query(name), ("127.0.0.1", port))
        for _ in names[base:base + 50]:
            try:
                sock.recvfrom(4096)
                answered += 1
            except socket.timeout:
                break
    return answered


def process(lab, name):
    return next(p for p in lab.procs if p.name == name)


class Cache(LabTestCase):
    def test_hit_counts_ttl_down_keeps_id_and_case(self):
        p = self.lab.start_proxy(cache=True)
        first = dig(p.port, "www.dcp.test", "+noall", "+answer")
        self.assertEqual(ttls(first), [3600])
        time.sleep(1.1)
        msg = make_query("WwW.DcP.tEsT", qid=0x5a5a)
        wire = dnsclient.udp(p.port, msg)
        r = Response(wire)
        self.assertEqual(r.id, 0x5a5a)
        self.assertIn(b"\x03WwW\x03DcP\x04tEsT\x00", wire)  # the client's spelling
        self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")])
        second = dig(p.port, "www.dcp.test", "+noall", "+answer")
        self.assertLess(ttls(second)[0], 3600)
        self.assertGreaterEqual(ttls(second)[0], 3590)
        c = p.counters()
        self.assertEqual((c.get("cache_misses"), c.get("cache_hits"), c.get("answered")),
                         (1, 2, 1))
        self.assertEqual(c.get("upstream_udp_queries"), 1)

    def test_negative_answers_are_cached_by_the_soa(self):
        p = self.lab.start_proxy(cache=True)
        first = dig(p.port, "nx.dcp.test", "+noall", "+authority", "+comments")
        self.assertIn("NXDOMAIN", first)
        self.assertEqual(ttls(first), [300])  # min(SOA TTL 3600, SOA minimum 300)
        time.sleep(1.1)
        second = dig(p.port, "nx.dcp.test", "+noall", "+authority", "+comments")
        self.assertIn("NXDOMAIN", second)
        self.assertLess(ttls(second)[0], 300)
        c = p.counters()
        self.assertEqual((c.get("cache_misses"), c.get("cache_hits")), (1, 1))

    def test_do_and_cd_bits_are_part_of_the_key(self):
        p = self.lab.start_proxy(cache=True)
        dig(p.port, "www.dcp.test", "+dnssec")
        dig(p.port, "www.dcp.test")
        dig(p.port, "www.dcp.test", "+cdflag")
        dig(p.port, "www.dcp.test", "+dnssec")
        c = p.counters()
        self.assertEqual((c.get("cache_misses"), c.get("cache_hits")), (3, 1))

    def test_large_answer_cached_and_truncated_for_a_udp_client(self):
        p = self.lab.start_proxy(cache=True)
        whole = ask(p.port, "big.dcp.test", "TXT", edns=1232, tcp=True)
        self.assertEqual(len(whole.answer), 24)
        self.assertGreater(len(whole.wire), 5000)
        r = ask(p.port, "big.dcp.test", "TXT")  # UDP, no EDNS: 512 bytes at most
        self.assertTrue(r.tc)
        self.assertLessEqual(len(r.wire), 512)
        again = ask(p.port, "big.dcp.test", "TXT", tcp=True)
        self.assertEqual(len(again.answer), 24)
        self.assertIsNone(again.opt)  # the client sent no OPT: it gets none back
        c = p.counters()
        self.assertEqual((c.get("cache_misses"), c.get("cache_hits")), (1, 2))
        self.assertEqual(c.get("truncated_for_client"), 1)

    def test_sixteen_shards_keep_their_bound(self):
        # The default size, 4096 entries: 16 shards of 256. 12,000 names go in; then the newest
        # 6,000 are asked again, newest first. A hit is an entry still kept, so there are at
        # most 4096 of them; the newest are kept, so nearly that many.
        p = self.lab.start_proxy("--cache-size", "4096", cache=True, name="proxy-shards")
        flood = lambda names: udp_flood(self, p.port, ["s%d.wild.dcp.test" % i for i in names])
        self.assertGreater(flood(list(range(12000))), 11800)
        before = p.counters()
        rss_before = rss_kib(p.popen.pid)
        self.assertGreater(flood(list(range(11999, 5999, -1))), 5900)
        hits = p.counters().get("cache_hits", 0) - before.get("cache_hits", 0)
        self.assertLessEqual(hits, 4096)
        self.assertGreater(hits, 3500)
        if not sanitized(p.popen.pid):  # (ASan's quarantine keeps freed memory)
            self.assertLess(rss_kib(p.popen.pid) - rss_before, 1024)

    def test_random_name_flood_keeps_the_bound(self):
        p = self.lab.start_proxy("--cache-size", "200", cache=True)

        def flood(start, count):
            return udp_flood(self, p.port,
                             ["r%d.wild.dcp.test" % i for i in range(start, start + count)])

        self.assertGreater(flood(0, 3000), 2900)
        before = rss_kib(p.popen.pid)
        self.assertGreater(flood(3000, 15000), 14500)
        after = rss_kib(p.popen.pid)
        # 15,000 more names, 200 entries kept: the memory does not follow the names.
        if sanitized(p.popen.pid):
            # ASan keeps freed memory in quarantine (256 MiB by default): RSS says nothing there.
            print("RSS bound not checked under AddressSanitizer", end=" ... ")
        else:
            self.assertLess(after - before, 1024, (before, after))
        c = p.counters()
        self.assertGreater(c.get("cache_misses"), 17500)

    def test_serve_stale_when_the_resolver_is_gone(self):
        p = self.lab.start_proxy("--cache-max-ttl", "1", "--cache-min-ttl", "1",
                                 "--cache-serve-stale", "60", "--timeout", "600", cache=True)
        self.assertEqual(ask(p.port, "www.dcp.test").answer[0][2], "192.0.2.10")
        time.sleep(1.5)  # expired
        dnsdist = process(self.lab, "dnsdist")
        dnsdist.popen.send_signal(signal.SIGSTOP)
        try:
            out = dig(p.port, "www.dcp.test", "+noall", "+answer")
        finally:
            dnsdist.popen.send_signal(signal.SIGCONT)
        self.assertIn("192.0.2.10", out)
        self.assertEqual(ttls(out), [30])  # RFC 8767's stale TTL
        c = p.counters()
        self.assertEqual(c.get("cache_stale"), 1)
        self.assertEqual(c.get("servfail_timeout"), None)

    def test_serve_stale_after_a_servfail_and_not_past_its_window(self):
        # The resolver answers, then fails every query with SERVFAIL (dnsdist is told to): within
        # the stale window the expired answer is given (TTL 30, RFC 8767); past it, the failure.
        # (The test above has a resolver that does not answer at all.)
        p = self.lab.start_proxy("--cache-max-ttl", "1", "--cache-min-ttl", "1",
                                 "--cache-serve-stale", "3", cache=True, name="stale-servfail")
        self.addCleanup(self.lab.set_delay, 0, 0)
        self.assertEqual(ask(p.port, "mail.dcp.test").answer[0][2], "192.0.2.25")
        stored = time.monotonic()
        self.lab.set_delay(0, 0, servfail=True)
        # The cache counts whole seconds: stored in second N, expired from N + 1, stale until
        # N + 4. Asked at +1.5 s (expired, stale) and at +5.5 s (past the window).
        time.sleep(max(0.0, stored + 1.5 - time.monotonic()))
        out = dig(p.port, "mail.dcp.test", "+noall", "+answer")
        self.assertIn("192.0.2.25", out)
        self.assertEqual(ttls(out), [30])
        time.sleep(max(0.0, stored + 5.5 - time.monotonic()))
        self.assertEqual(ask(p.port, "mail.dcp.test").rcode, 2)
        c = p.counters()
        self.assertEqual((c.get("cache_stale"), c.get("cache_misses")), (1, 3))

    def test_popular_entries_are_refreshed_before_they_expire(self):
        p = self.lab.start_proxy("--cache-max-ttl", "10", cache=True)
        # The cache counts whole seconds of the monotonic clock, which is Python's too: store at
        # the start of a second N and ask again at N + 9.5, in the last tenth of the 10 s and
        # half a second from either edge however the scheduler delays us (a fixed sleep of 9.2 s
        # landed past N + 10 whenever the store came late in its second).
        while not 0.05 <= time.monotonic() % 1 <= 0.3:
            time.sleep(0.02)
        stored = int(time.monotonic())
        for _ in range(4):
            ask(p.port, "mail.dcp.test")
        self.assertEqual(int(time.monotonic()), stored, "the queries took most of a second")
        time.sleep(stored + 9.5 - time.monotonic())
        ask(p.port, "mail.dcp.test")  # answered from the cache, and refreshed behind it
        wait_until(lambda: p.counters().get("cache_prefetches") == 1, 5, what="the prefetch")
        out = dig(p.port, "mail.dcp.test", "+noall", "+answer")
        self.assertGreaterEqual(ttls(out)[0], 9)
        c = p.counters()
        self.assertEqual(c.get("cache_misses"), 1)
        self.assertEqual(c.get("answered"), 1)  # the refresh is no client's answer

    def test_one_cache_for_every_worker(self):
        # Two workers, both reading (SO_REUSEPORT): the kernel spreads the 30 client sockets over
        # them. The first query is the one miss; every other is a hit, on whichever worker it
        # lands: the one that did not store the entry serves it too.
        p = self.lab.start_proxy("--threads", "2", name="proxy-shared-cache", cache=True)
        for i in range(30):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(3)
                s.sendto(make_query("www.dcp.test", qid=i), ("127.0.0.1", p.port))
                r = Response(s.recv(4096))
                self.assertEqual((r.id, r.answer), (i, [("www.dcp.test.", 1, "192.0.2.10")]))
        c = p.counters()
        self.assertEqual((c.get("cache_misses"), c.get("cache_hits"), c.get("answered")),
                         (1, 29, 1))
        # Both workers answered some (all 29 others on the storing worker: 2^-29).
        per_worker = p.queries_by_worker()
        self.assertEqual(sum(per_worker), 30)
        self.assertTrue(all(n > 0 for n in per_worker), per_worker)

    def test_ttl_bounds_raise_and_cap_end_to_end(self):
        # www has TTL 3600; a name that does not exist gets NXDOMAIN with the zone's SOA, whose
        # negative TTL is min(SOA TTL 3600, minimum 300) = 300 (RFC 2308).
        p = self.lab.start_proxy("--cache-min-ttl", "7200", "--cache-neg-max-ttl", "100",
                                 cache=True)
        for _ in range(2):
            out = dig(p.port, "www.dcp.test", "+noall", "+answer")
        self.assertTrue(7190 <= ttls(out)[0] <= 7200, out)  # raised to the floor
        for _ in range(2):
            out = dig(p.port, "nx.dcp.test", "+noall", "+authority")
        self.assertTrue(90 <= ttls(out)[0] <= 100, out)  # capped
        p2 = self.lab.start_proxy("--cache-neg-min-ttl", "500", "--cache-neg-max-ttl", "900",
                                  name="neg-floor", cache=True)
        for _ in range(2):
            out = dig(p2.port, "nx.dcp.test", "+noall", "+authority")
        self.assertTrue(490 <= ttls(out)[0] <= 500, out)  # raised
        for proxy in (p, p2):
            c = proxy.counters()
            self.assertEqual(c.get("cache_hits"), 2 if proxy is p else 1)

    def test_no_prefetch_when_switched_off(self):
        p = self.lab.start_proxy("--cache-max-ttl", "10", "--no-cache-prefetch", cache=True)
        # As in the prefetch test: popular, then asked again in the last tenth of its life.
        while not 0.05 <= time.monotonic() % 1 <= 0.3:
            time.sleep(0.02)
        stored = int(time.monotonic())
        for _ in range(4):
            ask(p.port, "mail.dcp.test")
        time.sleep(stored + 9.5 - time.monotonic())
        ask(p.port, "mail.dcp.test")  # a hit, and no refresh behind it
        time.sleep(stored + 11 - time.monotonic())  # expired
        ask(p.port, "mail.dcp.test")  # so a miss
        c = p.counters()
        self.assertNotIn("cache_prefetches", c)
        self.assertEqual((c.get("cache_misses"), c.get("cache_hits"), c.get("answered")),
                         (2, 4, 2))

    def test_no_cache_asks_every_time(self):
        p = self.lab.start_proxy()  # the lab's default: --no-cache
        for _ in range(3):
            ask(p.port, "www.dcp.test")
        c = p.counters()
        self.assertEqual(c.get("answered"), 3)
        self.assertNotIn("cache_hits", c)


class Rules(LabTestCase):
    def test_example_files_load_and_behave_as_their_comments_say(self):
        d = os.path.join(self.lab.dir, "examples")
        shutil.copytree(EXAMPLES, d, dirs_exist_ok=True)
        f = lambda n: os.path.join(d, "example-%s.txt" % n)
        p = self.lab.start_proxy("--blocked-names", f("blocked-names"), "--allowed-names",
                                 f("allowed-names"), "--blocked-ips", f("blocked-ips"),
                                 "--allowed-ips", f("allowed-ips"), "--cloaking-rules",
                                 f("cloaking-rules"), "--forwarding-rules", f("forwarding-rules"),
                                 "--captive-portals", f("captive-portals"), "--cloak-ptr")
        self.assertIn("rules: 14 blocked names, 2 allowed names, 5 blocked IP rules, "
                      "0 allowed IP rules, 12 cloaking rules, 0 forwarding rules, "
                      "9 captive portal names", p.log())
        self.assertNotIn("[warning]", p.log())
        for name in ("ads.example.com", "banner.example.org", "oascentral.example.com",
                     "telemetry.example.net", "printer.local", "eth0.me", "pc.workgroup"):
            self.assertTrue(blocked(ask(p.port, name)), name)
        for name in ("www.example.com", "www.ads.example.com", "mask.icloud.com",
                     "www.youtube.com"):
            self.assertFalse(blocked(ask(p.port, name)), name)
        # Allowed although "tracker.*" blocks it: it goes to the resolver (NSD refuses it).
        r = ask(p.port, "tracker.debian.org")
        self.assertFalse(blocked(r))
        self.assertEqual(r.rcode, 5)
        self.assertEqual(ask(p.port, "localhost").answer, [("localhost.", 1, "127.0.0.1")])
        self.assertEqual(ask(p.port, "localhost", "AAAA").answer, [("localhost.", 28, "::1")])
        ptr = dig(p.port, "-x", "127.0.0.1", "+short")
        self.assertEqual(ptr.strip(), "localhost.")
        self.assertEqual(len(ask(p.port, "www.msftncsi.com").answer), 19)
        self.assertEqual(ask(p.port, "dns.msftncsi.com", "AAAA").answer,
                         [("dns.msftncsi.com.", 28, "fd3e:4f5a:5b81::1")])
        # Cloaked to forcesafesearch.google.com, which the lab's NSD refuses: its answer's
        # rcode, under the name asked.
        r = ask(p.port, "www.google.fr")
        self.assertEqual((r.rcode, r.question[0]), (5, "www.google.fr."))
        c = p.counters()
        self.assertEqual(c.get("blocked_names"), 7)
        # localhost twice, its PTR, www.google.fr, www.youtube.com (to restrictmoderate...)
        self.assertEqual(c.get("cloaked"), 5)
        self.assertEqual(c.get("captive_portal_answers"), 2)

    def test_cloaking_to_a_name_flattens_its_addresses(self):
        rules = self.write("cloak.txt", "alias.example.com www.dcp.test\n"
                                        "=only.example.com mail.dcp.test\n")
        p = self.lab.start_proxy("--cloaking-rules", rules, "--cloak-ttl", "100", cache=True)
        r = ask(p.port, "alias.example.com")
        self.assertEqual(r.answer, [("alias.example.com.", 1, "192.0.2.10")])
        self.assertEqual(ask(p.port, "sub.alias.example.com", "AAAA").answer,
                         [("sub.alias.example.com.", 28, "2001:db8::10")])
        self.assertEqual(ask(p.port, "only.example.com").answer,
                         [("only.example.com.", 1, "192.0.2.25")])
        self.assertFalse(ask(p.port, "x.only.example.com").answer)  # '=': that name only
        self.assertTrue(blocked(ask(p.port, "alias.example.com", "TXT")))
        out = dig(p.port, "alias.example.com", "+noall", "+answer")
        self.assertEqual(ttls(out), [100])  # capped at cloak_ttl
        c = p.counters()
        self.assertEqual(c.get("cloaked"), 4)
        self.assertEqual(c.get("blocked_names"), 1)  # TXT of a cloaked name: refused
        self.assertEqual(c.get("cache_hits"), 1)  # the target's answer, cached

    def test_addresses_in_answers_are_filtered(self):
        blocked_ips = self.write("bips.txt", "192.0.2.10\n192.0.2.96/29   # the wildcard\n"
                                             "2001:db8:ffff:*\n")
        p = self.lab.start_proxy("--blocked-ips", blocked_ips)
        self.assertTrue(blocked(ask(p.port, "www.dcp.test")))
        self.assertFalse(blocked(ask(p.port, "www.dcp.test", "AAAA")))
        self.assertTrue(blocked(ask(p.port, "x.wild.dcp.test")))
        self.assertEqual(ask(p.port, "mail.dcp.test").answer[0][2], "192.0.2.25")
        self.assertEqual(p.counters().get("blocked_ips"), 2)
        allowed = self.write("aips.txt", "192.0.2.99\n")
        p2 = self.lab.start_proxy("--blocked-ips", blocked_ips, "--allowed-ips", allowed,
                                  name="allowed")
        self.assertEqual(ask(p2.port, "x.wild.dcp.test").answer[0][2], "192.0.2.99")
        self.assertTrue(blocked(ask(p2.port, "www.dcp.test")))

    def test_a_cname_to_a_blocked_name_is_blocked(self):
        names = self.write("bn.txt", "=www.dcp.test\n")
        p = self.lab.start_proxy("--blocked-names", names)
        self.assertTrue(blocked(ask(p.port, "cname.dcp.test")))
        self.assertFalse(blocked(ask(p.port, "mail.dcp.test")))
        self.assertEqual(p.counters().get("blocked_names"), 1)

    def test_a_200000_entry_list_loads_fast_and_matches(self):
        lines = ["# generated"]
        for i in range(100000):
            lines.append("blocked%d.example.com" % i)
            lines.append("*.wild%d.example.net" % i)
        path = self.write("big.txt", "\n".join(lines) + "\n")
        allowed = self.write("allow.txt", "=blocked7.example.com\n")
        p = self.lab.start_proxy("--blocked-names", path, "--allowed-names", allowed)
        ms = int(re.search(r"rules: 200000 blocked names, 1 allowed names \(loaded in (\d+) ms\)",
                           p.log()).group(1))
        # Under the sanitizers (unoptimised, every access checked) it is several times slower.
        self.assertLess(ms, 10000 if sanitized(p.popen.pid) else 1000)
        for name in ("blocked42.example.com", "x.blocked99999.example.com", "wild5.example.net",
                     "a.b.wild77777.example.net"):
            self.assertTrue(blocked(ask(p.port, name)), name)
        for name in ("blocked7.example.com", "blocked100000.example.com", "wild.example.net",
                     "blocked42.example.com.evil"):
            self.assertFalse(blocked(ask(p.port, name)), name)
        print("\n200,000 rules: loaded in %d ms, proxy RSS %d KiB" % (ms, rss_kib(p.popen.pid)))

    def test_forwarding_to_another_server_with_failover(self):
        zone = """$ORIGIN fwd.example.
$TTL 60
@ IN SOA ns.fwd.example. h.fwd.example. 1 3600 900 604800 60
@ IN NS ns.fwd.example.
ns IN A 127.0.0.1
www IN A 192.0.2.200
*.any IN A 192.0.2.201
""" + "".join('txt IN TXT "%s-%d"\n' % ("f" * 200, i) for i in range(12))  # ~2.5 KB
        port, _ = self.lab.start_nsd_zone("fwd.example", zone,
                                          os.path.join(self.lab.dir, "nsd-fwd"))
        dead = free_port()  # nothing listens: the pool learns to skip it
        rules = self.write("fwd.txt", "fwd.example 127.0.0.1:%d, 127.0.0.1:%d\n" % (dead, port))
        p = self.lab.start_proxy("--forwarding-rules", rules, "--block-undelegated", cache=True)
        self.assertEqual(ask(p.port, "www.fwd.example").answer,
                         [("www.fwd.example.", 1, "192.0.2.200")])
        for i in range(30):
            r = ask(p.port, "n%d.any.fwd.example" % i)
            self.assertEqual(r.answer[0][2], "192.0.2.201", i)
        # The 2.5 KB answer comes truncated over UDP (the query says 1232 bytes): the proxy
        # asks again over TCP, caches it whole, and fits it to the client's 1232 bytes (TC);
        # the client's TCP retry is then answered from the cache.
        self.assertTrue(ask(p.port, "txt.fwd.example", "TXT", edns=1232).tc)
        self.assertEqual(len(ask(p.port, "txt.fwd.example", "TXT", tcp=True).answer), 12)
        # Everything else still goes to the DNSCrypt resolver.
        self.assertEqual(ask(p.port, "mail.dcp.test").rcode, 3)  # .test: undelegated
        c = p.counters()
        self.assertEqual(c.get("forwarded"), 32)
        # One truncated UDP answer, asked again over TCP once; the client's TCP retry was a hit.
        self.assertEqual(c.get("upstream_tcp_retries"), 1)
        self.assertEqual(c.get("blocked_local_names"), 1)

    def test_forwarded_queries_carry_their_own_port_id_and_case(self):
        # Plain DNS has only the query's port, ID and name to tell an answer from a forgery:
        # each forwarded query has a port of its own and its letters in random case, which
        # the answer must echo; the client gets its own spelling back.
        from relay import PlainGate
        gate = PlainGate(self.lab.nsd_port)
        self.addCleanup(gate.close)
        rules = self.write("case.txt", "dcp.test 127.0.0.1:%d\n" % gate.port)
        p = self.lab.start_proxy("--forwarding-rules", rules, name="forward-case")
        for i in range(20):
            name = "Case%d.Wild.Dcp.Test" % i
            raw = dnsclient.udp(p.port, make_query(name))
            self.assertEqual(Response(raw).answer[0][2], "192.0.2.99")
            self.assertIn(dnsclient.encode_name(name), raw[12:12 + len(name) + 2])
        ports = {port for port, _ in gate.seen}
        names = [n for _, n in gate.seen]
        # 20 ports the kernel drew at random: two alike happen (0.7 % of runs), three never.
        self.assertGreaterEqual(len(ports), 18, gate.seen)
        self.assertEqual(sum(n.lower() == n for n in names), 0, names)  # 2^-14 each
        self.assertEqual(sum(n != names[0] for n in names[1:]), 19)
        # A forgery with the right port and ID but not the case: counted, never answered. (The
        # forgery is the name in lower case: 24 letters, so the query's own random case is all
        # lower, and the forgery right, once in 2^24 queries; with 12 letters this failed one
        # run in about 400.)
        gate.forge = True
        for i in range(10):
            self.assertEqual(ask(p.port, "forged%d.answers.wild.dcp.test" % i).rcode, 0, i)
        self.assertEqual(p.counters().get("reply_mismatch"), 10)

    def test_a_forwarding_server_that_refuses_is_servfail_at_once(self):
        # Nothing listens there: the ICMP port unreachable arrives at once, and so does the
        # answer (before: after the whole timeout, 1.5 s here).
        rules = self.write("dead.txt", "dcp.test 127.0.0.1:%d\n" % free_port())
        p = self.lab.start_proxy("--forwarding-rules", rules, name="forward-dead")
        start = time.monotonic()
        self.assertEqual(ask(p.port, "www.dcp.test").rcode, 2)
        self.assertLess(time.monotonic() - start, 1.0)
        c = p.counters()
        self.assertEqual((c.get("servfail_upstream_error"), c.get("servfail_timeout", 0)), (1, 0))

    def test_a_lost_probe_does_not_keep_a_forwarding_server_down(self):
        # A forwarding server that goes silent leaves the rotation and is probed. Plain DNS has
        # no timeout of its own: one lost probe used to wait for ever, and the server, back,
        # stayed out for good. Now a probe has the query timeout, and the next one follows.
        from relay import PlainGate
        gate, other = PlainGate(self.lab.nsd_port), PlainGate(self.lab.nsd_port)
        self.addCleanup(gate.close)
        self.addCleanup(other.close)
        rules = self.write("gate.txt", "dcp.test 127.0.0.1:%d, 127.0.0.1:%d\n"
                           % (gate.port, other.port))
        # One worker; both servers silent, so that the gate's failures come in a row whatever
        # the strategy prefers (a silent server beside a fast one is simply no longer asked).
        p = self.lab.start_proxy("--forwarding-rules", rules, "--threads", "1",
                                 name="lost-probe")
        gate.silent, gate.drop_probes, other.silent = True, 1, True
        threads = [threading.Thread(target=ask, args=(p.port, "s%d.wild.dcp.test" % i))
                   for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wait_until(lambda: "server 127.0.0.1:%d failed 3 queries in a row: out of rotation"
                   % gate.port in p.log(), 10, what="the silent server out of rotation")
        other.silent = False
        gate.silent = False  # back, but its first probe is lost
        wait_until(lambda: "server 127.0.0.1:%d answers again" % gate.port in p.log(), 15,
                   what="the server back in rotation")
        self.assertEqual(gate.dropped_probes, 1)

    def test_ipv6_unqualified_undelegated_and_the_blocked_response(self):
        p = self.lab.start_proxy("--block-ipv6", "--block-unqualified", "--block-undelegated")
        r = ask(p.port, "www.example.com", "AAAA")
        self.assertEqual(r.answer[0][1], HINFO)
        self.assertEqual(r.authority[0][1], 6)  # an SOA: negative caching downstream
        self.assertEqual(ask(p.port, "printer").rcode, 3)
        self.assertEqual(ask(p.port, "www.dcp.test").rcode, 3)  # .test is not delegated
        self.assertEqual(ask(p.port, "4.3.2.10.in-addr.arpa", "A").rcode, 3)
        c = p.counters()
        self.assertEqual((c.get("blocked_ipv6"), c.get("blocked_local_names")), (1, 3))
        names = self.write("b.txt", "ads.*\n")
        p2 = self.lab.start_proxy("--blocked-names", names, "--blocked-query-response",
                                  "refused", name="refused")
        self.assertEqual(ask(p2.port, "ads.example.com").rcode, 5)
        p3 = self.lab.start_proxy("--blocked-names", names, "--blocked-query-response",
                                  "a:192.0.2.1,aaaa:2001:db8::1", "--reject-ttl", "5",
                                  name="address")
        self.assertEqual(ask(p3.port, "ads.example.com").answer,
                         [("ads.example.com.", 1, "192.0.2.1")])
        self.assertEqual(ttls(dig(p3.port, "ads.example.com", "AAAA", "+noall", "+answer")), [5])

    def test_ipv6_address_rules_and_the_blocked_aaaa(self):
        bips = self.write("bips6.txt", "2001:db8::/32\n")
        p = self.lab.start_proxy("--blocked-ips", bips, name="blocked6")
        self.assertTrue(blocked(ask(p.port, "www.dcp.test", "AAAA")))  # 2001:db8::10
        self.assertEqual(ask(p.port, "www.dcp.test").answer, [("www.dcp.test.", 1, "192.0.2.10")])
        self.assertEqual(p.counters().get("blocked_ips"), 1)
        aips = self.write("aips6.txt", "2001:db8::10\n")
        p2 = self.lab.start_proxy("--blocked-ips", bips, "--allowed-ips", aips, name="allowed6")
        self.assertEqual(ask(p2.port, "www.dcp.test", "AAAA").answer,
                         [("www.dcp.test.", 28, "2001:db8::10")])
        self.assertNotIn("blocked_ips", p2.counters())
        names = self.write("b6.txt", "ads.*\n")
        p3 = self.lab.start_proxy("--blocked-names", names, "--blocked-query-response",
                                  "a:192.0.2.1,aaaa:2001:db8::1", name="address6")
        self.assertEqual(ask(p3.port, "ads.example.com", "AAAA").answer,
                         [("ads.example.com.", 28, "2001:db8::1")])

    def test_sighup_reloads_the_rules_without_losing_a_query(self):
        path = self.write("reload.txt", "=one.example.com\n")
        p = self.lab.start_proxy("--blocked-names", path)
        self.assertTrue(blocked(ask(p.port, "one.example.com")))
        results = {"sent": 0, "answered": 0}
        stop = threading.Event()

        def load():
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(2)
            i = 0
            while not stop.is_set():
                sock.sendto(make_query("r%d.wild.dcp.test" % i), ("127.0.0.1", p.port))
                results["sent"] += 1
                try:
                    sock.recvfrom(4096)
                    results["answered"] += 1
                except socket.timeout:
                    pass
                i += 1
            sock.close()

        t = threading.Thread(target=load)
        t.start()
        try:
            # Queries flow before the first reload and go on past the last: over 100 in all,
            # however fast the reloads (they are waited for, not slept through).
            wait_until(lambda: results["sent"] >= 20, 10, what="the load to start")
            for i in range(5):
                with open(path, "w") as f:
                    f.write("=%s.example.com\nbad[line\n" % ("two" if i % 2 == 0 else "one"))
                p.popen.send_signal(signal.SIGHUP)
                # Logged once every worker has the new rules (not when the files are read).
                wait_until(lambda: p.log().count("new rules are in use by every worker") == i + 1,
                           5, what="the reload")
            wait_until(lambda: results["sent"] > 100, 20, what="100 queries")
        finally:
            stop.set()
            t.join()
        self.assertGreater(results["sent"], 100)
        self.assertEqual(results["answered"], results["sent"])
        self.assertTrue(blocked(ask(p.port, "two.example.com")))
        self.assertFalse(blocked(ask(p.port, "one.example.com")))
        self.assertIn("reload.txt line 2: unclosed '['", p.log())
        # A file that went away: the rules in use stay.
        os.unlink(path)
        p.popen.send_signal(signal.SIGHUP)
        wait_until(lambda: "the rules in use are kept" in p.log(), 5, what="the warning")
        self.assertTrue(blocked(ask(p.port, "two.example.com")))

    def test_a_missing_rule_file_stops_the_start(self):
        r = subprocess.run([self.lab_bin(), "--local-address", "127.0.0.1:%d" % free_port(),
                            "--blocked-names", "/nonexistent/blocked.txt"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("blocked_names: cannot read '/nonexistent/blocked.txt'", r.stderr)

    def lab_bin(self):
        return os.environ["DCP_PROXY_BIN"]

    def test_a_schedule_boundary_crossed_while_running(self):
        # The proxy's wall clock (libfaketime; its monotonic clock, which timers use, stays
        # real) starts 10 s before a minute M; 'mail.dcp.test @soon' with soon = M and M + 1 on
        # that weekday. Answered before M, blocked once M comes, without a reload.
        if sanitized_binary(self.lab_bin()):
            self.skipTest("under the sanitizers: libfaketime cannot be preloaded before them")
        lib = glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
        self.assertTrue(lib, "libfaketime is missing (scripts/install-deps.sh: faketime)")
        boundary = (int(time.time()) // 60 + 3) * 60  # inside the certificate's validity
        at, after = time.localtime(boundary), time.localtime(boundary + 60)
        day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[at.tm_wday]
        d = os.path.join(self.lab.dir, "schedule")
        os.makedirs(d)
        with open(os.path.join(d, "blocked.txt"), "w") as f:
            f.write("mail.dcp.test @soon\n")
        stamp = self.lab.stamp()
        port = free_port()
        conf = os.path.join(d, "dnscrypt-proxy.toml")
        with open(conf, "w") as f:
            f.write("listen_addresses = ['127.0.0.1:%d']\nserver_names = ['lab']\n"
                    "[blocked_names]\n  blocked_names_file = 'blocked.txt'\n"
                    "[schedules]\n  [schedules.soon]\n"
                    "    %s = [{after='%d:%02d', before='%d:%02d'}]\n"
                    "[static]\n  [static.lab]\n  stamp = '%s'\n"
                    % (port, day, at.tm_hour, at.tm_min, after.tm_hour, after.tm_min, stamp))
        env = dict(os.environ, LD_PRELOAD=lib[0], FAKETIME_DONT_FAKE_MONOTONIC="1",
                   DONT_FAKE_MONOTONIC="1",
                   FAKETIME="@" + time.strftime("%Y-%m-%d %H:%M:%S",
                                                time.localtime(boundary - 10)))
        started = time.monotonic()
        p = start_logged(self, ["--config", conf], os.path.join(d, "proxy.log"), env=env)
        self.assertEqual(ask(port, "mail.dcp.test").answer[0][2], "192.0.2.25")
        self.assertLess(time.monotonic() - started, 9, "asked too late to be before the minute")
        wait_until(lambda: blocked(ask(port, "mail.dcp.test")), 15, interval=0.5,
                   what="the rule to apply from its minute")
        self.assertGreater(time.monotonic() - started, 9)  # not before the minute came
        self.assertEqual(p.counters().get("blocked_names"), 1)

    def test_dnscrypt_proxy2_configuration_keys(self):
        d = os.path.join(self.lab.dir, "v2conf")
        os.makedirs(d)
        with open(os.path.join(d, "blocked.txt"), "w") as f:
            # Time-restricted: "always" covers every minute of every day, "never" none.
            f.write("ads.*\nmail.dcp.test @always\nwww.dcp.test @never\n")
        with open(os.path.join(d, "cloak.txt"), "w") as f:
            f.write("router.example.com 192.168.1.1\n")
        stamp = self.lab.stamp()
        port = free_port()
        conf = os.path.join(d, "dnscrypt-proxy.toml")
        with open(conf, "w") as f:
            f.write("""listen_addresses = ['127.0.0.1:%d']
server_names = ['lab']
cache = true
cache_size = 64
block_ipv6 = true
cloaking_rules = 'cloak.txt'
blocked_query_response = 'refused'

[blocked_names]
  blocked_names_file = 'blocked.txt'
  log_file = 'blocked.log'

[schedules]
  [schedules.always]
    sun = [{after='0:00', before='0:00'}]
    mon = [{after='0:00', before='0:00'}]
    tue = [{after='0:00', before='0:00'}]
    wed = [{after='0:00', before='0:00'}]
    thu = [{after='0:00', before='0:00'}]
    fri = [{after='0:00', before='0:00'}]
    sat = [{after='0:00', before='0:00'}]
  [schedules.never]

[static]
  [static.lab]
  stamp = '%s'
""" % (port, stamp))
        p = start_logged(self, ["--config", conf], os.path.join(d, "proxy.log"), cache=True)
        self.assertEqual(ask(port, "ads.example.com").rcode, 5)
        self.assertEqual(ask(port, "router.example.com").answer[0][2], "192.168.1.1")
        self.assertEqual(ask(port, "www.dcp.test", "AAAA").answer[0][1], HINFO)
        self.assertEqual(ask(port, "www.dcp.test").answer[0][2], "192.0.2.10")  # @never
        self.assertEqual(ask(port, "mail.dcp.test").rcode, 5)  # @always: blocked (refused)
        self.assertIn("blocked_names.log_file", p.text())  # named as not acted on
        self.assertNotIn("schedules", p.text().split("not acted on")[1].split("\n")[0])


if __name__ == "__main__":
    unittest.main()
