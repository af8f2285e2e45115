"""Cases that run inside a network namespace of their own, with only loopback up and no route
out (test_offline.py starts each with `unshare -n`): a machine whose network is not up yet, and
servers that cannot be reached. Not collected by the suite's discovery (the name does not start
with test_); documentation addresses only, and the defaults' public resolver only here, where no
packet can leave."""

import os
import subprocess
import time
import unittest

import dnsclient
from dnsclient import Response, make_query
from lab import PROXY_BIN, Lab, LabTestCase, free_port, start_logged, wait_until


def dnscrypt_stamp(address, provider_key_hex="ab" * 32,
                   provider_name="2.dnscrypt-cert.unreachable.test"):
    r = subprocess.run([PROXY_BIN, "stamp", "encode", "--address", address, "--provider-name",
                        provider_name, "--provider-key", provider_key_hex],
                       capture_output=True, text=True, timeout=10, check=True)
    return r.stdout.strip()


def ask(port, name="www.dcp.test", timeout=5):
    """(rcode, seconds it took)."""
    start = time.monotonic()
    r = Response(dnsclient.udp(port, make_query(name), timeout=timeout))
    return r.rcode, time.monotonic() - start


def no_route(address):
    """True when the kernel has no route to `address` (what this namespace must give)."""
    r = subprocess.run(["ip", "route", "get", address], capture_output=True, text=True)
    return r.returncode != 0


class Offline(LabTestCase):
    late_address = "192.0.2.53"  # the server that comes within reach later

    @classmethod
    def setUpClass(cls):
        # dnsdist listens there too, before this namespace has the address: the kernel allows
        # that bind with nonlocal_bind (this namespace's own setting).
        with open("/proc/sys/net/ipv4/ip_nonlocal_bind", "w") as f:
            f.write("1\n")
        cls.lab = Lab()
        try:
            cls.lab.start_nsd()
            cls.late_port = free_port()
            cls.lab.start_dnsdist(extra_binds=["%s:%d" % (cls.late_address, cls.late_port)])
        except Exception:
            cls.lab.stop(keep_dir=True)
            raise

    def proxy(self, args, name, ready="using certificate", count=1):
        port = free_port()
        p = start_logged(self, ["--local-address", "127.0.0.1:%d" % port] + args,
                         os.path.join(self.lab.dir, "%s-%d.log" % (name, port)),
                         certificates=count, ready=ready)
        p.port = port
        return p

    def test_unreachable_servers_are_down_and_the_others_serve(self):
        for address in ("203.0.113.9", "2001:db8::53"):
            self.assertTrue(no_route(address), "this namespace must have no route out")
        unreachable = [dnscrypt_stamp("203.0.113.9:443"), dnscrypt_stamp("[2001:db8::53]:443")]
        args = ["--resolver", self.lab.stamp()]
        for s in unreachable:
            args += ["--resolver", s]
        p = self.proxy(args + ["--timeout", "5000"], "unreachable")
        for _ in range(30):
            self.assertEqual(ask(p.port)[0], 0)
        # Both were tried again (back-off: 1 s, then 2 s) and said once each, at warning level.
        wait_until(lambda: p.counters().get("cert_refresh_failures", 0) >= 4, 10,
                   what="the unreachable servers tried again")
        text = p.text()
        for where in ("203.0.113.9:443", "[2001:db8::53]:443"):
            lines = [l for l in text.splitlines() if "no valid certificate" in l and where in l]
            self.assertEqual(len(lines), 1, text)
            self.assertIn("Network is unreachable", lines[0])
            self.assertIn("[warning]", lines[0])
        self.assertNotIn("critical", text)
        c = p.counters()
        self.assertEqual(c.get("servfail_no_certificate", 0), 0)

    def test_no_server_reachable_then_one_is(self):
        late = "%s:%d" % (self.late_address, self.late_port)
        self.assertTrue(no_route(self.late_address))
        p = self.proxy(["--resolver", dnscrypt_stamp(late, self.lab.provider_key_hex,
                                                     self.lab.provider_name),
                        "--timeout", "5000"], "late", ready="listening on 127.0.0.1")
        # Up, and every query answered SERVFAIL at once, not after the timeout (5 s).
        for _ in range(3):
            rcode, took = ask(p.port, timeout=4)
            self.assertEqual(rcode, 2)
            self.assertLess(took, 2.5)
        # The network comes up: the address appears and the server is reached with the next
        # try of the back-off (1, 2, 4, 8 s...).
        subprocess.run(["ip", "addr", "add", self.late_address + "/32", "dev", "lo"], check=True)
        wait_until(lambda: "using certificate" in p.text(), 20, what="the server reached")
        for _ in range(10):
            self.assertEqual(ask(p.port)[0], 0)
        self.assertNotIn("critical", p.text())
        c = p.counters()
        self.assertEqual(c["servfail_no_certificate"], 3, c)

    def test_the_v2_example_file_starts_without_a_network(self):
        # dnscrypt-proxy 2's own example file, unchanged: its lists (the embedded copies, the
        # downloads failing), hundreds of servers none of which can be reached.
        import shutil
        d = os.path.join(self.lab.dir, "v2-example")
        os.mkdir(d)
        shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                 "dnscrypt-proxy-v2-examples", "example-dnscrypt-proxy.toml"),
                    os.path.join(d, "dnscrypt-proxy.toml"))
        p = start_logged(self, ["--config", os.path.join(d, "dnscrypt-proxy.toml")],
                         os.path.join(d, "proxy.log"), ready="listening on 127.0.0.1:53",
                         cache=True, timeout=30)
        rcode, took = ask(53, "www.example.com", timeout=4)
        self.assertEqual(rcode, 2)
        self.assertLess(took, 2.5)
        self.assertIn("refresh failed", p.text())
        self.assertNotIn("critical", p.text())

    def test_the_defaults_start_without_a_network(self):
        # The README's run command, no argument at all, on a machine whose network is not up:
        # it must start, listen, and answer SERVFAIL at once (it cannot reach its resolver).
        p = start_logged(self, [], os.path.join(self.lab.dir, "defaults.log"),
                         ready="listening on 127.0.0.1:53", cache=True)
        rcode, took = ask(53, timeout=4)
        self.assertEqual(rcode, 2)
        self.assertLess(took, 2.5)
        wait_until(lambda: "no valid certificate" in p.text(), 10, what="the failed fetch logged")
        self.assertIn("Network is unreachable", p.text())
        self.assertNotIn("critical", p.text())


if __name__ == "__main__":
    unittest.main()
