"""The catalogue from outside: the stamp tool (decode, encode) against the stamp vectors, and the
proxy reaching dnsdist through a resolver named by stamp (--resolver, the file's resolver key)."""

import json
import os
import signal
import subprocess
import time
import unittest

import dnsclient
from dnsclient import Response, make_query
from lab import PROVIDER_NAME, Lab, LabTestCase, free_port, start_logged, wait_until

BIN = os.environ.get("DCP_PROXY_BIN", "")
HERE = os.path.dirname(os.path.abspath(__file__))


def stamp_tool(*args):
    return subprocess.run([BIN, "stamp"] + list(args), capture_output=True, text=True, timeout=10)


class StampTool(unittest.TestCase):
    def test_decode_every_vector(self):
        with open(os.path.join(HERE, "..", "data", "stamps-vectors.json")) as f:
            vectors = json.load(f)
        for v in vectors["valid"]:
            r = stamp_tool("decode", "--json", v["stamp"])
            self.assertEqual(r.returncode, 0, r.stderr)
            got, want = json.loads(r.stdout), v["decoded"]
            for field, key in (("props", "props"), ("addr", "address"), ("hostname", "hostname"),
                               ("path", "path"), ("provider_name", "provider_name"),
                               ("provider_pk", "provider_key"), ("hashes", "hashes")):
                if field in want:
                    self.assertEqual(got[key], want[field], (v["name"], field))
            self.assertEqual(stamp_tool("decode", v["stamp"]).returncode, 0)
        for v in vectors["malformed_do_not_use"]:
            r = stamp_tool("decode", v["stamp"])
            self.assertEqual(r.returncode, 2, v["stamp"])
            self.assertRegex(r.stderr, r"\(at (byte|character) \d+\)")

    def test_encode_builds_what_decode_reads(self):
        key = "e801b84ea606bfb0bac0ce43445bb15eba64b02fa3c4aa31ae10636a0790324d"
        r = stamp_tool("encode", "--address", "212.47.228.136:443", "--provider-name",
                       "2.dnscrypt-cert.fr.dnscrypt.org", "--provider-key", key, "--dnssec",
                       "--no-log", "--no-filter")
        self.assertEqual(r.returncode, 0, r.stderr)
        # scaleway-fr from the real list, byte for byte: the default port is left out.
        self.assertEqual(r.stdout.strip(),
                         "sdns://AQcAAAAAAAAADjIxMi40Ny4yMjguMTM2IOgBuE6mBr-wusDOQ0RbsV66ZLAvo8Sq"
                         "Ma4QY2oHkDJNHzIuZG5zY3J5cHQtY2VydC5mci5kbnNjcnlwdC5vcmc")
        r = stamp_tool("encode", "--protocol", "doh", "--address", "9.9.9.9", "--hostname",
                       "dns9.quad9.net:8443", "--path", "/dns-query", "--hash", "ab" * 32,
                       "--bootstrap", "192.0.2.53", "--no-log")
        self.assertEqual(r.returncode, 0, r.stderr)
        d = json.loads(stamp_tool("decode", "--json", r.stdout.strip()).stdout)
        self.assertEqual((d["protocol"], d["hostname"], d["connect_port"], d["hashes"],
                          d["bootstrap"], d["nolog"], d["dnssec"]),
                         ("DoH", "dns9.quad9.net:8443", 8443, ["ab" * 32], ["192.0.2.53"], True,
                          False))
        for bad in (["--protocol", "dnscrypt", "--address", "1.2.3.4", "--provider-name", "x",
                     "--provider-key", "12"],
                    ["--protocol", "doh", "--hostname", "h", "--path", "no-slash"],
                    ["--protocol", "nonsense"]):
            r = stamp_tool("encode", *bad)
            self.assertEqual(r.returncode, 2, bad)
            self.assertEqual(r.stdout, "")


class ServerList(unittest.TestCase):
    """--list and --list-all from the embedded list: the same servers dnscrypt-proxy 2.1.18
    lists from the same file (tests/data/v2-selection), at once and without any network."""

    def run_list(self, *args):
        r = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_list_matches_the_reference(self):
        with open(os.path.join(HERE, "..", "data", "v2-selection", "defaults.txt")) as f:
            want = f.read().split()
        names = sorted(line.split()[0] for line in self.run_list("--list").splitlines())
        self.assertEqual(names, want)
        self.assertEqual(len(self.run_list("--list-all").splitlines()), 816)
        servers = json.loads(self.run_list("--list", "--json"))
        self.assertEqual(sorted(s["name"] for s in servers), want)
        scaleway = [s for s in servers if s["name"] == "scaleway-fr"][0]
        self.assertEqual((scaleway["proto"], scaleway["addrs"], scaleway["ports"], scaleway["nolog"]),
                         ("DNSCrypt", ["212.47.228.136"], [443], True))
        self.assertTrue(scaleway["stamp"].startswith("sdns://AQcAAAAAAAAADjIxMi40Ny4yMjgu"))


class ResolverByStamp(LabTestCase):
    def stamp(self, port=None):
        r = stamp_tool("encode", "--address", "127.0.0.1:%d" % (port or self.lab.dnsdist_port),
                       "--provider-name", PROVIDER_NAME, "--provider-key",
                       self.lab.provider_key_hex)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def start(self, *args, name):
        port = free_port()
        p = start_logged(self, ["--local-address", "127.0.0.1:%d" % port] + list(args),
                         os.path.join(self.lab.dir, name + ".log"), timeout=15)
        r = Response(dnsclient.udp(port, make_query("www.dcp.test")))
        self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")])
        return p.text()

    def test_resolver_switch(self):
        # A DoH server on loopback where nobody listens, and a DoT stamp (not used yet).
        doh_port = free_port()
        doh = stamp_tool("encode", "--protocol", "doh", "--address", "127.0.0.1:%d" % doh_port,
                         "--hostname", "doh.dcp.test", "--path", "/dns-query").stdout.strip()
        dot = stamp_tool("encode", "--protocol", "dot", "--address", "127.0.0.1:%d" % free_port(),
                         "--hostname", "dot.dcp.test").stdout.strip()
        log = self.start("--resolver", dot, "--resolver", doh, "--resolver", self.stamp(),
                         "--resolver", self.stamp(free_port()), name="by-stamp")
        self.assertIn("--resolver #1 is a DoT stamp: only DNSCrypt and DoH servers are used so "
                      "far; ignored", log)
        # Both DNSCrypt stamps and the DoH one are used; the second DNSCrypt one names a port
        # nobody listens on, so only the first one ever gets a certificate, and the DoH server
        # cannot be connected to.
        self.assertIn("3 resolvers, strategy wp2, hedging on", log)
        self.assertIn("DoH server doh.dcp.test (https://doh.dcp.test/dns-query): cannot connect "
                      "to 127.0.0.1:%d: Connection refused" % doh_port, log)
        self.assertIn("using certificate serial 1 from %s (127.0.0.1)" % PROVIDER_NAME, log)
        self.assertIn("no valid certificate from %s at 127.0.0.1:" % PROVIDER_NAME, log)

    def test_resolver_in_the_file(self):
        conf = os.path.join(self.lab.dir, "stamp.toml")
        with open(conf, "w") as f:
            f.write('resolver = ["%s"]\n' % self.stamp())
        self.start("--config", conf, name="by-stamp-file")

    def test_mistakes(self):
        for args, words in (
                (["--resolver", "sdns://gQA"], "address: empty (at byte 1)"),
                (["--resolver", self.stamp(), "--resolver-address", "127.0.0.1:1"],
                 "cannot be given with it"),
                (["--resolver", stamp_tool("encode", "--protocol", "dot", "--address",
                                           "127.0.0.1", "--hostname", "dot.dcp.test").stdout.strip()],
                 "no DNSCrypt or DoH stamp")):
            r = subprocess.run([BIN, "--local-address", "127.0.0.1:%d" % free_port()] + args,
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(words, r.stderr)


if __name__ == "__main__":
    unittest.main()


class Sources(LabTestCase):
    """A resolver list served over HTTPS from loopback (a test CA), signed with Debian's
    minisign, naming three dnsdist DNSCrypt servers (each with its own provider name and key, NSD
    behind each), a DoH server and a relay; the proxy configured with a dnscrypt-proxy 2 file
    whose [sources] points at it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import list_server
        cls.ls = list_server
        d = cls.lab.dir
        cls.ca = list_server.make_ca(d)
        cls.pub, cls.secret = list_server.make_minisign_key(d)
        cls.other_dir = os.path.join(d, "other-key")
        os.mkdir(cls.other_dir)
        cls.other_pub, cls.other_secret = list_server.make_minisign_key(cls.other_dir)
        cls.www = os.path.join(d, "www")
        os.mkdir(cls.www)
        # Two more dnsdist instances, each with its own provider name and key. lab-a keeps logs
        # and filters (its stamp says so): the default filters leave it out.
        cls.lab_a = Lab(provider_name="2.dnscrypt-cert.a.test")
        cls.lab_b = Lab(provider_name="2.dnscrypt-cert.b.test")
        for lab in (cls.lab_a, cls.lab_b):
            lab.start_nsd()
            lab.start_dnsdist()

        def dnscrypt(port, name, key, *props):
            r = stamp_tool("encode", "--address", "127.0.0.1:%d" % port, "--provider-name", name,
                           "--provider-key", key, *props)
            assert r.returncode == 0, r.stderr
            return r.stdout.strip()

        cls.list_text = (
            "# dcp test list\n\nServers on loopback for the tests.\n\n"
            "## lab-a\n\nOur resolver A, which keeps logs.\n\n%s\n\n"
            "## lab-b\n\nOur resolver B.\n\n%s\n\n"
            "## lab-dnsdist\n\nDebian's dnsdist.\n\n%s\n\n"
            "## lab-doh\n\nA DoH server (where nobody listens).\n\n%s\n\n"
            "## lab-relay\n\nA relay.\n\n%s\n" % (
                dnscrypt(cls.lab_a.dnsdist_port, cls.lab_a.provider_name,
                         cls.lab_a.provider_key_hex),
                dnscrypt(cls.lab_b.dnsdist_port, cls.lab_b.provider_name,
                         cls.lab_b.provider_key_hex, "--no-log", "--no-filter"),
                dnscrypt(cls.lab.dnsdist_port, PROVIDER_NAME, cls.lab.provider_key_hex,
                         "--dnssec", "--no-log", "--no-filter"),
                stamp_tool("encode", "--protocol", "doh", "--address",
                           "127.0.0.1:%d" % free_port(), "--hostname",
                           "doh.dcp.test", "--path", "/dns-query", "--no-log",
                           "--no-filter").stdout.strip(),
                stamp_tool("encode", "--protocol", "relay", "--address",
                           "127.0.0.1:%d" % free_port()).stdout.strip()))
        cls.publish(cls.list_text)
        cls.server = list_server.HttpsServer(cls.www, os.path.join(d, "server.pem"),
                                             os.path.join(d, "server.key"))

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.lab_a.stop()
        cls.lab_b.stop()
        super().tearDownClass()

    @classmethod
    def publish(cls, text, secret=None, legacy=False):
        path = os.path.join(cls.www, "list.md")
        with open(path, "w") as f:
            f.write(text)
        cls.ls.sign(secret or cls.secret, path, legacy)

    def setUp(self):
        self.publish(self.list_text)
        self.cache = os.path.join(self.lab.dir, "cache-%s" % self._testMethodName)
        os.mkdir(self.cache)

    def config(self, url, extra=""):
        port = free_port()
        path = os.path.join(self.lab.dir, "v2-%s.toml" % self._testMethodName)
        with open(path, "w") as f:
            f.write("""listen_addresses = ['127.0.0.1:%d']
max_clients = 250
timeout = 2000
cert_refresh_delay = 240
cache = true
block_ipv6 = false
%s
[query_log]
  format = 'tsv'

[sources]
  [sources.lab]
  urls = ['%s']
  cache_file = '%s/list.md'
  minisign_key = '%s'
  refresh_delay = 72
  prefix = ''
""" % (port, extra, url, self.cache, self.pub))
        return path, port

    def start(self, conf, name):
        return start_logged(self, ["--config", conf], os.path.join(self.lab.dir, name + ".log"),
                            env=dict(os.environ, SSL_CERT_FILE=self.ca))

    def answers(self, port):
        r = Response(dnsclient.udp(port, make_query("www.dcp.test")))
        return r.answer == [("www.dcp.test.", 1, "192.0.2.10")]

    def cached(self):
        with open(os.path.join(self.cache, "list.md")) as f:
            return f.read()

    def test_first_start_downloads_then_serves_the_chosen_server(self):
        conf, port = self.config(self.server.url("list.md"))
        p = self.start(conf, "first-start")
        log = p.text()
        self.assertIn("source lab: no local copy; downloading it before serving", log)
        # Every DNSCrypt server passing the filters, in the list's order (lab-a is filtered out).
        self.assertIn("using 2 DNSCrypt servers: lab-b (127.0.0.1:%d), lab-dnsdist (127.0.0.1:%d)"
                      % (self.lab_b.dnsdist_port, self.lab.dnsdist_port), log)
        self.assertIn("using 1 DoH server: lab-doh (https://doh.dcp.test/dns-query)", log)
        self.assertNotIn("other protocols", log)
        self.assertRegex(log, r"dnscrypt-proxy 2 settings not acted on \(not implemented yet\): "
                              r"query_log\n")
        counts = [lab.dnsdist_counts() for lab in (self.lab_a, self.lab_b, self.lab)]
        self.assertTrue(self.answers(port))
        after = [lab.dnsdist_counts() for lab in (self.lab_a, self.lab_b, self.lab)]
        sent = [a[0] - b[0] for a, b in zip(after, counts)]
        self.assertEqual(sent[0], 0)  # lab-a, filtered out, is never asked
        self.assertIn(sent[1] + sent[2], (1, 2))  # one server, or two with a hedge
        self.assertEqual(self.cached(), self.list_text)
        # --list with the same file: what the filters keep; --list-all: everything.
        env = dict(os.environ, SSL_CERT_FILE=self.ca)
        listed = subprocess.run([BIN, "--config", conf, "--list"], capture_output=True, text=True,
                                env=env, timeout=10)
        self.assertEqual([l.split()[0] for l in listed.stdout.splitlines()],
                         ["lab-b", "lab-dnsdist", "lab-doh"])
        every = subprocess.run([BIN, "--config", conf, "--list-all"], capture_output=True,
                               text=True, env=env, timeout=10)
        self.assertEqual([l.split()[0] for l in every.stdout.splitlines()],
                         ["lab-a", "lab-b", "lab-dnsdist", "lab-doh"])

    def test_download_library_is_mapped_only_when_a_list_has_urls(self):
        # libcurl and its ~30 libraries (~3.4 MiB resident) are loaded for lists to refresh,
        # before any chroot, and never by a proxy without lists (the default).
        conf, port = self.config(self.server.url("list.md"))
        p = self.start(conf, "maps")
        with open("/proc/%d/maps" % p.pid) as f:
            self.assertIn("libcurl", f.read())
        self.assertTrue(self.answers(port))
        q = self.lab.start_proxy()
        self.assertTrue(self.answers(q.port))
        with open("/proc/%d/maps" % q.popen.pid) as f:
            maps = f.read()
        self.assertNotIn("libcurl", maps)
        self.assertNotIn("gnutls", maps)

    def test_server_names_choose(self):
        conf, port = self.config(self.server.url("list.md"),
                                 "server_names = ['lab-doh', 'lab-dnsdist', 'lab-b']")
        p = self.start(conf, "names")
        self.assertIn("using 2 DNSCrypt servers: lab-dnsdist (127.0.0.1:%d), lab-b (127.0.0.1:%d)"
                      % (self.lab.dnsdist_port, self.lab_b.dnsdist_port), p.text())
        self.assertTrue(self.answers(port))

    def test_two_sources_merged_one_with_a_prefix(self):
        # A second list (its own file and signature) naming lab-b again, taken in with the
        # prefix 'two-': its servers are 'two-lab-b', chosen by that name beside the first
        # list's lab-dnsdist; the first list's lab-b (not named) is left out.
        path = os.path.join(self.www, "second.md")
        with open(path, "w") as f:
            f.write("# second list\n\nAnother list.\n\n## lab-b\n\nB again.\n\n%s\n"
                    % stamp_tool("encode", "--address", "127.0.0.1:%d" % self.lab_b.dnsdist_port,
                                 "--provider-name", self.lab_b.provider_name, "--provider-key",
                                 self.lab_b.provider_key_hex, "--no-log",
                                 "--no-filter").stdout.strip())
        self.ls.sign(self.secret, path, False)
        second_cache = os.path.join(self.cache, "second")
        os.mkdir(second_cache)
        conf, port = self.config(self.server.url("list.md"),
                                 "server_names = ['lab-dnsdist', 'two-lab-b']")
        with open(conf, "a") as f:
            f.write("  [sources.second]\n  urls = ['%s']\n  cache_file = '%s/second.md'\n"
                    "  minisign_key = '%s'\n  refresh_delay = 72\n  prefix = 'two-'\n"
                    % (self.server.url("second.md"), second_cache, self.pub))
        p = self.start(conf, "two-sources")
        log = p.text()
        self.assertIn("using 2 DNSCrypt servers: lab-dnsdist (127.0.0.1:%d), two-lab-b "
                      "(127.0.0.1:%d)" % (self.lab.dnsdist_port, self.lab_b.dnsdist_port), log)
        self.assertTrue(self.answers(port))
        with open(os.path.join(second_cache, "second.md")) as f:
            self.assertIn("## lab-b", f.read())  # cached under its own name

    def test_stale_cache_serves_while_the_list_host_is_down(self):
        import shutil
        shutil.copy(os.path.join(self.www, "list.md"), os.path.join(self.cache, "list.md"))
        shutil.copy(os.path.join(self.www, "list.md.minisig"),
                    os.path.join(self.cache, "list.md.minisig"))
        old = time.time() - 100 * 3600
        for f in ("list.md", "list.md.minisig"):
            os.utime(os.path.join(self.cache, f), (old, old))
        down = free_port()
        conf, port = self.config("https://127.0.0.1:%d/list.md" % down)
        start = time.monotonic()
        p = self.start(conf, "stale")
        self.assertTrue(self.answers(port))
        print("\n  first answer with a stale cache and the list host down: %.0f ms"
              % ((time.monotonic() - start) * 1000))
        self.assertRegex(p.text(), r"source lab: 5 servers from cache .*list.md \(100 h old\)")
        wait_until(lambda: "source lab: refresh failed" in p.text(), 10, what="the failed refresh")
        self.assertIn("keeping cache", p.text())
        self.assertAlmostEqual(os.path.getmtime(os.path.join(self.cache, "list.md")), old, delta=1)
        # The host comes back: on SIGHUP (or the next try) the cache is refreshed.
        server = self.ls.HttpsServer(self.www, os.path.join(self.lab.dir, "server.pem"),
                                     os.path.join(self.lab.dir, "server.key"), port=down)
        try:
            p.send_signal(signal.SIGHUP)
            wait_until(lambda: "source lab refreshed" in p.text(), 10, what="the refresh")
        finally:
            server.close()
        self.assertGreater(os.path.getmtime(os.path.join(self.cache, "list.md")), old + 3600)
        self.assertTrue(self.answers(port))

    def test_bad_downloads_are_refused_and_the_cache_kept(self):
        conf, port = self.config(self.server.url("list.md"))
        p = self.start(conf, "bad")  # downloads the good list first
        good = self.cached()
        huge = self.list_text + "#" * (4 * 1024 * 1024)
        cases = (
            ("tampered", lambda: self.tamper(), "signature does not match the file"),
            ("wrong key", lambda: self.publish(self.list_text + "\n", self.other_secret),
             "signed by another key"),
            ("truncated signature", lambda: self.truncate_signature(), "bad signature file"),
            ("over the size limit", lambda: self.publish(huge), "larger than 4194304 bytes"),
        )
        for what, damage, words in cases:
            with self.subTest(what):
                damage()
                failures = p.text().count("source lab: refresh failed")
                p.send_signal(signal.SIGHUP)
                wait_until(lambda: p.text().count("source lab: refresh failed") > failures, 10,
                           what="the refusal")
                line = p.text().split("source lab: refresh failed")[-1].splitlines()[0]
                self.assertIn(words, line)
                self.assertEqual(self.cached(), good)
                self.assertTrue(self.answers(port))
                self.publish(self.list_text)

    def test_untrusted_tls_certificate(self):
        import shutil
        rogue = self.ls.HttpsServer(self.www, os.path.join(self.lab.dir, "rogue.pem"),
                                    os.path.join(self.lab.dir, "rogue.key"))
        try:
            # A good, fresh cache; the mirror's certificate was not signed by the test CA.
            for f in ("list.md", "list.md.minisig"):
                shutil.copy(os.path.join(self.www, f), self.cache)
            good = self.cached()
            conf, port = self.config(rogue.url("list.md"))
            p = self.start(conf, "rogue")
            self.assertTrue(self.answers(port))
            p.send_signal(signal.SIGHUP)
            wait_until(lambda: "source lab: refresh failed" in p.text(), 10, what="the refusal")
            line = p.text().split("source lab: refresh failed")[-1].splitlines()[0]
            self.assertIn("SSL certificate problem", line)
            self.assertEqual(rogue.requests, [])  # the handshake failed: no request was made
            self.assertEqual(self.cached(), good)
            self.assertTrue(self.answers(port))
            # Nothing local and the only mirror untrusted: no server to start with (exit 2).
            os.unlink(os.path.join(self.cache, "list.md"))
            env = dict(os.environ, SSL_CERT_FILE=self.ca)
            r = subprocess.run([BIN, "--config", conf, "--test", "1"], capture_output=True,
                               text=True, env=env, timeout=20)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn("SSL certificate problem", r.stdout + r.stderr)
        finally:
            rogue.close()

    def test_stopping_does_not_wait_for_a_download(self):
        import shutil
        import socket
        # A list host that accepts connections and never says anything.
        hole = socket.socket()
        hole.bind(("127.0.0.1", free_port()))
        hole.listen(8)
        try:
            for f in ("list.md", "list.md.minisig"):
                shutil.copy(os.path.join(self.www, f), self.cache)
                old = time.time() - 100 * 3600
                os.utime(os.path.join(self.cache, f), (old, old))  # stale: refreshed at once
            conf, port = self.config("https://127.0.0.1:%d/list.md" % hole.getsockname()[1])
            p = self.start(conf, "hole")
            hole.settimeout(10)
            conn, _ = hole.accept()  # the refresh is under way (and would wait 30 s)
            self.assertTrue(self.answers(port))
            start = time.monotonic()
            p.terminate()
            self.assertEqual(p.wait(10), 0)
            self.assertLess(time.monotonic() - start, 5.0)  # not the 30 s transfer timeout
            conn.close()
        finally:
            hole.close()

    def tamper(self):
        path = os.path.join(self.www, "list.md")
        with open(path, "a") as f:
            f.write("\n")

    def truncate_signature(self):
        path = os.path.join(self.www, "list.md.minisig")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text[:len(text) // 2])


class DnscryptProxy2Example(LabTestCase):
    """dnscrypt-proxy 2.1.18's own example-dnscrypt-proxy.toml, as its users have it, with only
    what keeps the test on loopback changed: the listening address, a [static] server for the lab
    named in server_names, and its sources read from local files (no URLs)."""

    def test_example_file_loads_and_runs(self):
        import re
        import shutil
        with open(os.path.join(HERE, "..", "data", "dnscrypt-proxy-v2-examples",
                               "example-dnscrypt-proxy.toml")) as f:
            text = f.read()
        port = free_port()
        stamp = stamp_tool("encode", "--address", "127.0.0.1:%d" % self.lab.dnsdist_port,
                           "--provider-name", PROVIDER_NAME, "--provider-key",
                           self.lab.provider_key_hex).stdout.strip()
        text, n = re.subn(r"^listen_addresses = .*$",
                          "listen_addresses = ['127.0.0.1:%d']\nserver_names = ['lab']" % port,
                          text, flags=re.M)
        self.assertEqual(n, 1)
        text, n = re.subn(r"^urls = \[.*?\]", "urls = []", text, flags=re.M | re.S)
        self.assertEqual(n, 2)  # public-resolvers and relays
        text = text.replace("\n[static]\n", "\n[static]\n  [static.lab]\n  stamp = '%s'\n" % stamp)
        # The lab's zone is under .test, which block_undelegated (true in the file) answers
        # locally with NXDOMAIN, as it should: turned off here so the lab's names reach dnsdist
        # (test_local.py checks what the rule does).
        text, n = re.subn(r"^block_undelegated = true$", "block_undelegated = false", text,
                          flags=re.M)
        self.assertEqual(n, 1)
        d = os.path.join(self.lab.dir, "v2-example")
        os.mkdir(d)
        lists = os.path.join(HERE, "..", "..", "data", "resolvers-v3")
        for f in ("public-resolvers.md", "public-resolvers.md.minisig", "relays.md",
                  "relays.md.minisig"):
            shutil.copy(os.path.join(lists, f), d)  # relative cache_file: beside the file
        conf = os.path.join(d, "dnscrypt-proxy.toml")
        with open(conf, "w") as f:
            f.write(text)
        # With the file's cache (on): the second answer comes from it.
        p = start_logged(self, ["--config", conf], os.path.join(d, "proxy.log"), cache=True)
        for _ in range(2):
            r = Response(dnsclient.udp(port, make_query("www.dcp.test")))
            self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")])
        c = p.counters()
        self.assertEqual((c.get("cache_misses"), c.get("cache_hits"), c.get("answered")),
                         (1, 1, 1))  # answered: by a resolver
        out = p.text()
        self.assertIn("source public-resolvers: 816 servers from cache %s/public-resolvers.md"
                      % d, out)
        self.assertIn("source relays: 346 servers from cache", out)
        self.assertIn("using 1 DNSCrypt server: lab (127.0.0.1:%d)" % self.lab.dnsdist_port, out)
        warning = [l for l in out.splitlines() if "settings not acted on" in l]
        self.assertEqual(len(warning), 1)  # one line names them all
        named = warning[0].split("not implemented yet): ")[1].split(", ")
        for key in ("bootstrap_resolvers", "netprobe_address", "keepalive",
                    "broken_implementations"):
            self.assertIn(key, named)
        for key in ("listen_addresses", "server_names", "timeout", "max_clients",
                    "require_nolog", "cert_refresh_delay", "sources", "static", "cache",
                    "cache_size", "cache_min_ttl", "cache_neg_max_ttl", "block_unqualified",
                    "block_undelegated", "reject_ttl", "captive_portals", "blocked_names",
                    "allowed_names", "blocked_ips", "allowed_ips",
                    "block_ipv6"):  # honoured, or off as here (false)
            self.assertNotIn(key, named)


@unittest.skipUnless(os.geteuid() == 0, "needs root to change user")
class DnscryptProxy2UserName(LabTestCase):
    """user_name, as dnscrypt-proxy 2 means it: privileges dropped, no chroot (the switch --user
    chroots to the home; 'nobody' has none)."""

    def test_user_name_drops_privileges_without_chroot(self):
        import pwd
        nobody = pwd.getpwnam("nobody")
        port = free_port()
        stamp = stamp_tool("encode", "--address", "127.0.0.1:%d" % self.lab.dnsdist_port,
                           "--provider-name", PROVIDER_NAME, "--provider-key",
                           self.lab.provider_key_hex).stdout.strip()
        conf = os.path.join(self.lab.dir, "user-name.toml")
        with open(conf, "w") as f:
            f.write("listen_addresses = ['127.0.0.1:%d']\nuser_name = 'nobody'\n"
                    "[static]\n  [static.lab]\n  stamp = '%s'\n" % (port, stamp))
        p = start_logged(self, ["--config", conf], os.path.join(self.lab.dir, "user-name.log"))
        self.assertIn("running as nobody (uid %d, gid %d; user_name: no chroot)"
                      % (nobody.pw_uid, nobody.pw_gid), p.text())
        with open("/proc/%d/status" % p.pid) as f:
            uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
        self.assertEqual(set(uids), {str(nobody.pw_uid)})
        self.assertEqual(os.readlink("/proc/%d/root" % p.pid), "/")
        r = Response(dnsclient.udp(port, make_query("www.dcp.test")))
        self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")])
