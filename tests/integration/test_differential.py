"""The same rule files and queries through dnscrypt-proxy 2.1.18 (../shared/peers, the oracle)
and ours, both reading one TOML file (only the listening port differs) and forwarding to the
lab's dnsdist: rcode, answers and TTLs compared query by query. Every difference is either
fixed or listed in DELIBERATE with its reason (README.md, "Answering locally", has the
table)."""

import os
import subprocess
import time
import unittest

import dnsclient
from dnsclient import Response, make_query
from lab import PROXY_BIN, LabTestCase, free_port, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
V2 = os.environ.get("DCP_V2_BIN", os.path.join(HERE, "..", "..", "..", "shared", "peers",
                                               "dnscrypt-proxy-2.1.18", "dnscrypt-proxy"))

BASE = """listen_addresses = ['127.0.0.1:{port}']
server_names = ['lab']
ipv4_servers = true
ipv6_servers = false
dnscrypt_servers = true
doh_servers = false
require_dnssec = false
require_nolog = false
require_nofilter = false
timeout = 3000
cert_refresh_delay = 240
bootstrap_resolvers = ['127.0.0.1:{nsd}']
ignore_system_dns = true
netprobe_timeout = 0
cache = false
log_level = 2
reject_ttl = 600
cloak_ttl = 600
{extra}

[static]
  [static.'lab']
  stamp = '{stamp}'
"""

BLOCKED_NAMES = """# patterns as dnscrypt-proxy 2 users write them
ads.dcp.test
=exact.dcp.test
tracker*
*doubleclick*
ad[0-9].dcp.test
BLOCKED-CASE.dcp.test
evil.dcp.test   # a comment after the rule
*.sub.dcp.test
"""
ALLOWED_NAMES = """=ok.ads.dcp.test
tracker-ok.dcp.test
"""
NAME_QUERIES = [
    ("ads.dcp.test", "A"), ("x.ads.dcp.test", "A"), ("ok.ads.dcp.test", "A"),
    ("no.ok.ads.dcp.test", "A"), ("exact.dcp.test", "A"), ("x.exact.dcp.test", "A"),
    ("tracker.dcp.test", "A"), ("trackers.example", "A"), ("tracker-ok.dcp.test", "A"),
    ("www.doubleclick.example", "A"), ("doubleclick", "A"), ("ad1.dcp.test", "A"),
    ("ad12.dcp.test", "A"), ("adx.dcp.test", "A"), ("blocked-case.dcp.test", "A"),
    ("Blocked-Case.DCP.test", "AAAA"), ("evil.dcp.test", "TXT"), ("a.sub.dcp.test", "A"),
    ("sub.dcp.test", "A"), ("www.dcp.test", "A"), ("www.dcp.test", "AAAA"),
    ("ads.dcp.test", "MX"), ("tocname.dcp.test", "A"), ("cname.dcp.test", "A"),
]

CLOAKING = """cloaked.dcp.test 192.0.2.50
cloaked.dcp.test 2001:db8::50
*.wildcloak.dcp.test 192.0.2.51
=exactcloak.dcp.test 192.0.2.52
alias.dcp.test www.dcp.test
chain1.dcp.test chain2.dcp.test
chain2.dcp.test 192.0.2.53
toblocked.dcp.test ads.dcp.test
"""
CAPTIVE = """portal.dcp.test 192.0.2.60, 2001:db8::60
portal.ads.dcp.test 192.0.2.61
"""
CLOAK_QUERIES = [
    ("cloaked.dcp.test", "A"), ("cloaked.dcp.test", "AAAA"), ("cloaked.dcp.test", "TXT"),
    ("cloaked.dcp.test", "MX"), ("x.wildcloak.dcp.test", "A"), ("wildcloak.dcp.test", "A"),
    ("exactcloak.dcp.test", "A"), ("x.exactcloak.dcp.test", "A"), ("alias.dcp.test", "A"),
    ("alias.dcp.test", "AAAA"), ("chain1.dcp.test", "A"), ("toblocked.dcp.test", "A"),
    ("portal.dcp.test", "A"), ("portal.dcp.test", "AAAA"), ("portal.dcp.test", "TXT"),
    ("portal.ads.dcp.test", "A"), ("use-application-dns.net", "A"),
    ("use-application-dns.net", "AAAA"), ("x.use-application-dns.net", "A"),
    ("www.dcp.test", "A"),
]

BLOCKED_IPS = """192.0.2.10
198.51.100.*
203.0.113.0/24
2001:db8:1::/48
"""
ALLOWED_IPS = "192.0.2.99\n"
IP_QUERIES = [
    ("www.dcp.test", "A"), ("www.dcp.test", "AAAA"), ("lan.dcp.test", "A"),
    ("mapped.dcp.test", "AAAA"), ("mapped2.dcp.test", "AAAA"), ("net6.dcp.test", "AAAA"), ("mail.dcp.test", "A"),
    ("x.wild.dcp.test", "A"), ("cname.dcp.test", "A"), ("dcp.test", "MX"),
]

LOCAL_QUERIES = [
    ("www.dcp.test", "AAAA"), ("printer", "A"), ("printer", "AAAA"), ("printer", "MX"),
    ("foo.home.arpa", "A"), ("x.onion", "A"), ("foo.alt", "A"), ("fritz.box", "A"),
    ("host.mail", "A"), ("thing.local", "A"), ("10.in-addr.arpa", "PTR"),
    ("1.0.168.192.in-addr.arpa", "PTR"), ("localhost", "A"), ("x.localhost", "A"),
    ("invalid", "A"), ("x.example", "A"), ("x.lan", "A"), ("x.internal", "A"),
    ("x.test", "A"), ("use-application-dns.net", "A"),
]

# (config name, query) -> why ours differs on purpose. Keep docs/rules.md in step.
CAPTIVE_ALWAYS = ("dnscrypt-proxy 2.1.18 answers [captive_portals] names only during its cold "
                  "start, before a server is ready; once running it sends them to the servers "
                  "(a captive portal met after start goes undetected). Ours answers them "
                  "always, first, with TTL 1, other types an empty NOERROR")
DELIBERATE = {
    ("cloaking", ("toblocked.dcp.test", "A")):
        "a cloak whose target is blocked: dnscrypt-proxy 2 answers SERVFAIL, ours the "
        "configured blocked response, as for a CNAME to a blocked name (never the address)",
    ("cloaking", ("portal.dcp.test", "A")): CAPTIVE_ALWAYS,
    ("cloaking", ("portal.dcp.test", "AAAA")): CAPTIVE_ALWAYS,
    ("cloaking", ("portal.dcp.test", "TXT")): CAPTIVE_ALWAYS,
    ("cloaking", ("portal.ads.dcp.test", "A")): CAPTIVE_ALWAYS,
    ("ips", ("mapped.dcp.test", "AAAA")):
        "an IPv4-mapped address (::ffff:198.51.100.9) against a prefix rule (198.51.100.*): "
        "dnscrypt-proxy 2 compares prefix rules with the address's text, which never matches "
        "a mapped one (its CIDR rules do match it); ours matches the address whatever the "
        "rule's spelling",
}


def summary(r):
    """What is compared: rcode, and the answer section as (name, type, data, TTL)."""
    if r is None:
        return None
    return (r.rcode, sorted(zip([(n, t, repr(d)) for n, t, d in r.answer], r.answer_ttls)))


@unittest.skipUnless(os.access(V2, os.X_OK), "needs dnscrypt-proxy 2.1.18 at " + V2)
class AgainstV2(LabTestCase):
    """Each configuration runs in both proxies; every query is asked of both."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.configs = {}
        lab = cls.lab

        def write(name, text):
            path = os.path.join(lab.dir, name)
            with open(path, "w") as f:
                f.write(text)
            return path

        files = {name: write(name, text) for name, text in (
            ("blocked-names.txt", BLOCKED_NAMES), ("allowed-names.txt", ALLOWED_NAMES),
            ("cloaking.txt", CLOAKING), ("captive.txt", CAPTIVE), ("blocked-ips.txt", BLOCKED_IPS),
            ("allowed-ips.txt", ALLOWED_IPS),
            ("forwarding.txt", "fwd.dcp.test 127.0.0.1:%d\nlan.dcp.test 127.0.0.1:%d\n"
             % (lab.nsd_port, lab.nsd_port)))}
        names = ("[blocked_names]\n  blocked_names_file = '%s'\n[allowed_names]\n"
                 "  allowed_names_file = '%s'\n" % (files["blocked-names.txt"],
                                                   files["allowed-names.txt"]))
        configs = {
            "names": names,
            "names-refused": "blocked_query_response = 'refused'\n" + names,
            "names-address": "blocked_query_response = 'A:192.0.2.252,AAAA:2001:db8::252'\n"
                             + names,
            "cloaking": "cloaking_rules = '%s'\n%s[captive_portals]\n  map_file = '%s'\n"
                        % (files["cloaking.txt"], names, files["captive.txt"]),
            "ips": "[blocked_ips]\n  blocked_ips_file = '%s'\n[allowed_ips]\n"
                   "  allowed_ips_file = '%s'\n" % (files["blocked-ips.txt"],
                                                   files["allowed-ips.txt"]),
            "local": "block_ipv6 = true\nblock_unqualified = true\nblock_undelegated = true\n",
            "undelegated": "block_undelegated = true\n",
            "forwarding": "forwarding_rules = '%s'\n[blocked_ips]\n  blocked_ips_file = '%s'\n"
                          % (files["forwarding.txt"], files["blocked-ips.txt"]),
        }
        cls.procs = []
        try:
            for name, extra in configs.items():
                # Top-level keys must come before the first table: split the extra text.
                top = "".join(l + "\n" for l in extra.splitlines()
                              if not l.startswith("[") and not l.startswith("  "))
                tables = "".join(l + "\n" for l in extra.splitlines()
                                 if l.startswith("[") or l.startswith("  "))
                ports = {}
                for who, binary in (("ours", PROXY_BIN), ("v2", V2)):
                    port = free_port()
                    conf = write("%s-%s.toml" % (name, who),
                                 BASE.format(port=port, nsd=lab.nsd_port, stamp=lab.stamp(),
                                             extra=top).replace("[static]", tables + "[static]"))
                    args = [binary, "--config", conf] if who == "ours" else [binary, "-config",
                                                                                  conf]
                    with open(os.path.join(lab.dir, "%s-%s.log" % (name, who)), "w") as log:
                        cls.procs.append(subprocess.Popen(args, stdout=log,
                                                          stderr=subprocess.STDOUT, cwd=lab.dir))
                    ports[who] = port
                cls.configs[name] = ports
            # dnscrypt-proxy 2 measures its server before answering (about 5.6 s).
            for name, ports in cls.configs.items():
                for who in ports:
                    log = os.path.join(lab.dir, "%s-%s.log" % (name, who))
                    ready = "using certificate" if who == "ours" else "live servers: 1"
                    wait_until(lambda: ready in open(log).read(), 30,
                               what="%s %s ready" % (who, name))
        except Exception:
            cls.stop_procs()
            super().tearDownClass()
            raise

    @classmethod
    def stop_procs(cls):
        for p in cls.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()

    @classmethod
    def tearDownClass(cls):
        cls.stop_procs()
        super().tearDownClass()

    def compare(self, config, queries):
        ports = self.configs[config]
        differences = []
        for name, qtype in queries:
            got = {}
            for who, port in ports.items():
                try:
                    got[who] = summary(Response(dnsclient.udp(port, make_query(name, qtype))))
                except OSError:
                    got[who] = None
            if got["ours"] != got["v2"] and (config, (name, qtype)) not in DELIBERATE:
                differences.append("%s %s: ours %s, v2 %s" % (name, qtype, got["ours"], got["v2"]))
        self.assertEqual(differences, [], "\n".join(differences))
        return len(queries)

    def test_names(self):
        self.compare("names", NAME_QUERIES)

    def test_blocked_query_responses(self):
        self.compare("names-refused", NAME_QUERIES[:12])
        self.compare("names-address", NAME_QUERIES[:12] + [("ads.dcp.test", "AAAA")])

    def test_cloaking_captive_portals_and_the_canary(self):
        self.compare("cloaking", CLOAK_QUERIES)

    def test_ip_rules(self):
        self.compare("ips", IP_QUERIES)

    def test_local_zones_ipv6_and_unqualified(self):
        self.compare("local", LOCAL_QUERIES)

    def test_undelegated_alone(self):
        # Single labels such as Chrome's random-name probes, with block_unqualified off.
        self.compare("undelegated", [("qwkjhsdfl", "A"), ("xkcdvbnmq", "AAAA"), ("printer", "A"),
                                     ("localhost", "A"), ("x.onion", "TXT"),
                                     ("foo.home.arpa", "AAAA"), ("x.example", "A")])

    def test_forwarding(self):
        self.compare("forwarding", [("www.fwd.dcp.test", "A"), ("fwd.dcp.test", "A"),
                                    ("www.dcp.test", "A"), ("lan.dcp.test", "A")])
