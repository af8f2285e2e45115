"""The catalogue from outside: the stamp tool (decode, encode) against the stamp vectors, and the
proxy reaching dnsdist through a resolver named by stamp (--resolver, the file's resolver key)."""

import json
import os
import subprocess
import unittest

import dnsclient
from dnsclient import Response, make_query
from lab import PROVIDER_NAME, LabTestCase, free_port, wait_until

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
        log = os.path.join(self.lab.dir, name + ".log")

        def text():
            with open(log) as f:
                return f.read()

        with open(log, "w") as out:
            p = subprocess.Popen([BIN, "--local-address", "127.0.0.1:%d" % port] + list(args),
                                 stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: "using certificate" in text() or p.poll() is not None, 15,
                       what="the certificate")
            self.assertIsNone(p.poll(), text())
            r = Response(dnsclient.udp(port, make_query("www.dcp.test")))
            self.assertEqual(r.answer, [("www.dcp.test.", 1, "192.0.2.10")])
            return text()
        finally:
            p.terminate()
            self.assertEqual(p.wait(5), 0)

    def test_resolver_switch(self):
        doh = "sdns://AgcAAAAAAAAABzEuMC4wLjEAEmRucy5jbG91ZGZsYXJlLmNvbQovZG5zLXF1ZXJ5"
        log = self.start("--resolver", doh, "--resolver", self.stamp(),
                         "--resolver", self.stamp(free_port()), name="by-stamp")
        self.assertIn("--resolver #1 is a DoH stamp: only DNSCrypt servers are used so far", log)
        self.assertIn("--resolver #3 (%s): one resolver is used so far" % PROVIDER_NAME, log)
        self.assertIn("resolver %s (127.0.0.1:%d)" % (PROVIDER_NAME, self.lab.dnsdist_port), log)

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
                (["--resolver", "sdns://AgcAAAAAAAAABzEuMC4wLjEAEmRucy5jbG91ZGZsYXJlLmNvbQovZG5zLXF1ZXJ5"],
                 "no DNSCrypt stamp")):
            r = subprocess.run([BIN, "--local-address", "127.0.0.1:%d" % free_port()] + args,
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(words, r.stderr)


if __name__ == "__main__":
    unittest.main()
