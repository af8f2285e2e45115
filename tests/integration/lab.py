"""Starts real servers on loopback for the integration tests: NSD (authoritative for a made-up
zone), Debian's dnsdist as the DNSCrypt server in front of it, the proxy under test, Unbound as a
forwarding cache in front of the proxy. Every process is started here and stopped here, by PID,
on free ports; nothing listens beyond 127.0.0.1 and nothing is sent anywhere else."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import dnsclient

ZONE = "dcp.test."
PROVIDER_NAME = "2.dnscrypt-cert.dcp.test"
PROXY_BIN = os.environ.get("DCP_PROXY_BIN", "")


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default; the BSDs use 49152-65535


# Ports handed out by free_port: from a range below the kernel's ephemeral ports, so that no
# connect() or bind(0) anywhere on the machine can take one between our check and the server's
# bind, walked in order, so two calls never return the same port. ctest runs parts of the suite
# side by side and gives each its own block (DCP_PORT_BLOCK=LO-HI, tests/CMakeLists.txt): then
# a port checked here is one no other part hands out. Run by hand, the whole range is walked
# from an offset per process.
_EPHEMERAL_LO, _ = _ephemeral_range()
if os.environ.get("DCP_PORT_BLOCK"):
    _RANGE_LO, _RANGE_HI = (int(x) for x in os.environ["DCP_PORT_BLOCK"].split("-"))
    if _RANGE_HI >= _EPHEMERAL_LO:
        raise RuntimeError("DCP_PORT_BLOCK %s reaches the ephemeral ports (from %d)"
                           % (os.environ["DCP_PORT_BLOCK"], _EPHEMERAL_LO))
    _next_port = [_RANGE_LO]
else:
    _RANGE_HI = min(_EPHEMERAL_LO, 32768) - 1
    _RANGE_LO = max(1024, _RANGE_HI - 12000)
    _next_port = [_RANGE_LO + (os.getpid() * 97) % (_RANGE_HI - _RANGE_LO)]


def _bindable(port):
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            try:
                with socket.socket(family, kind) as s:
                    if family == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind((host, port))
            except OSError as e:
                if family == socket.AF_INET6 and e.errno == 99:  # no ::1 on this machine
                    continue
                return False
    return True


def free_port():
    """A port free for UDP and TCP on 127.0.0.1 and ::1, never handed out before by this
    process, from outside the kernel's ephemeral range."""
    for _ in range(_RANGE_HI - _RANGE_LO):
        port = _next_port[0]
        _next_port[0] = _RANGE_LO if port >= _RANGE_HI else port + 1
        if _bindable(port):
            return port
    raise RuntimeError("no free port in %d-%d" % (_RANGE_LO, _RANGE_HI))


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def zone_text():
    kb = "".join('kb 3600 IN TXT "%s-%d"\n' % ("k" * 180, i) for i in range(5))  # ~1 KB answer
    twok = "".join('twok 3600 IN TXT "%s-%d"\n' % ("t" * 200, i) for i in range(9))  # ~2 KB
    big = "".join('big 3600 IN TXT "%s-%03d"\n' % ("x" * 200, i) for i in range(24))  # ~5 KB
    return """$ORIGIN dcp.test.
$TTL 3600
@ IN SOA ns1.dcp.test. hostmaster.dcp.test. 2026112801 3600 900 604800 300
@ IN NS ns1.dcp.test.
ns1 IN A 127.0.0.1
www IN A 192.0.2.10
www IN AAAA 2001:db8::10
@ IN MX 10 mail.dcp.test.
mail IN A 192.0.2.25
txt IN TXT "hello from the test zone" "second string"
*.wild IN A 192.0.2.99
cname IN CNAME www.dcp.test.
lan IN A 198.51.100.7
mapped IN AAAA ::ffff:198.51.100.9
mapped2 IN AAAA ::ffff:203.0.113.9
net6 IN AAAA 2001:db8:1::5
ads IN A 192.0.2.66
tocname IN CNAME ads.dcp.test.
""" + kb + twok + big


_sanitized_binaries = {}


def sanitized_binary(path):
    """Whether the executable is built with AddressSanitizer: g++ links its runtime as a shared
    library (libasan.so), clang links it in (then its __asan_init is in the file)."""
    path = os.path.realpath(path)
    if path not in _sanitized_binaries:
        with open(path, "rb") as f:
            data = f.read()
        _sanitized_binaries[path] = b"libasan.so" in data or b"__asan_init" in data
    return _sanitized_binaries[path]


def sanitized(pid):
    """Whether the process runs under AddressSanitizer."""
    return sanitized_binary("/proc/%d/exe" % pid)


def rss_kib(pid):
    """A process's resident memory (VmRSS), KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def stop_loop(sock, thread):
    """Closes a socket a thread is blocked on (accept or recvfrom), without the race in closing
    it outright: the thread may have read the descriptor number and not yet entered the system
    call; the number, freed by close(), then goes to the next socket the test opens (a relay's
    listener, say), and the old thread serves that one with its own settings and counters
    (test_pool's relay tests saw it: a new relay's TCP queries counted by a closed one).
    shutdown() wakes the blocked call, the thread is waited for, then the descriptor closes."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # a UDP socket (ENOTCONN) is still woken on Linux; the join has a timeout anyway
    if thread is not threading.current_thread():
        thread.join(2)
    sock.close()


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError("timed out waiting for " + what)


class Process:
    def __init__(self, name, args, log_path, cwd):
        self.name, self.args, self.log_path = name, args, log_path
        self.log_file = open(log_path, "ab")
        self.popen = subprocess.Popen(args, stdout=self.log_file, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=cwd)

    @property
    def pid(self):
        return self.popen.pid

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.popen.poll() is None

    def stop(self):
        if self.log_file.closed:
            return
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log_file.close()


class Proxy(Process):
    def __init__(self, args, log_path, cwd, port):
        super().__init__("dnscrypt-proxy", args, log_path, cwd)
        self.port = port

    def counters(self):
        """Asks for the counters (SIGUSR1) and returns the newest counters line as a dict."""
        return sigusr1_report(self.log, self.popen.send_signal)[0]

    def queries_by_worker(self):
        """The newest SIGUSR1 report's queries received by each worker (several workers only):
        call counters() first."""
        line = self.log().rsplit("queries by worker: ", 1)[1].splitlines()[0]
        return [int(n) for n in line.split()]


class Lab:
    def __init__(self, provider_name=PROVIDER_NAME):
        self.provider_name = provider_name  # what dnsdist answers certificates for
        self.dir = tempfile.mkdtemp(prefix="dcp-lab-")
        self.procs = []
        self.nsd_port = None
        self.dnsdist_port = None  # DNSCrypt
        self.dnsdist_plain_port = None
        self.provider_key_hex = None

    # -- NSD --------------------------------------------------------------------------------
    def start_nsd(self):
        self.nsd_port, p = self.start_nsd_zone("dcp.test", zone_text(), self.dir)
        return p

    def start_nsd_zone(self, zone, text, d, probe=None):
        """An NSD serving `zone` (zone file `text`) from directory `d`: (port, process)."""
        os.makedirs(d, exist_ok=True)
        port = free_port()
        with open(os.path.join(d, zone + ".zone"), "w") as f:
            f.write(text)
        conf = os.path.join(d, "nsd.conf")
        with open(conf, "w") as f:
            f.write("""server:
  ip-address: 127.0.0.1@{port}
  port: {port}
  zonesdir: "{d}"
  database: ""
  pidfile: "{d}/nsd.pid"
  xfrdfile: "{d}/xfrd.state"
  zonelistfile: "{d}/zone.list"
  username: ""
  chroot: ""
  server-count: 1
  rrl-ratelimit: 0
  # NSD caps UDP answers at 1232 bytes by default; the tests want larger ones over UDP too.
  ipv4-edns-size: 4096
  ipv6-edns-size: 4096
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: {zone}
  zonefile: {zone}.zone
""".format(port=port, d=d, zone=zone))
        p = Process("nsd", ["nsd", "-d", "-c", conf], os.path.join(d, "nsd.log"), d)
        self.procs.append(p)
        self._wait_answers(port, probe or "www." + zone, p)
        return port, p

    def _wait_answers(self, port, name, proc):
        def ok():
            if not proc.alive():
                raise RuntimeError("%s exited:\n%s" % (proc.name, proc.log()))
            try:
                return dnsclient.Response(dnsclient.udp(port, dnsclient.make_query(name), 0.2)).qr
            except OSError:
                return False
        wait_until(ok, 15, what="%s to answer" % proc.name)

    # -- dnsdist ----------------------------------------------------------------------------
    def generate_provider(self, es_version=2, serial=1, validity=86400, cert_name="resolver",
                          start_offset=-60):
        """Provider keys (once) and a certificate, with dnsdist's own generator."""
        version = "DNSCryptExchangeVersion.VERSION%d" % es_version
        lua = os.path.join(self.dir, "gen-%s.lua" % cert_name)
        pub, key = os.path.join(self.dir, "provider.pub"), os.path.join(self.dir, "provider.key")
        lines = []
        if not os.path.exists(pub):
            lines.append('generateDNSCryptProviderKeys("%s", "%s")' % (pub, key))
        lines.append(
            'generateDNSCryptCertificate("%s", "%s/%s.cert", "%s/%s.key", %d, os.time() + %d, '
            "os.time() + %d, %s)" % (key, self.dir, cert_name, self.dir, cert_name, serial,
                                     start_offset, start_offset + 60 + validity, version))
        with open(lua, "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run(["dnsdist", "--check-config", "-C", lua], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(pub, "rb") as f:
            self.provider_key_hex = f.read().hex()
        return os.path.join(self.dir, cert_name + ".cert"), os.path.join(self.dir, cert_name + ".key")

    def start_dnsdist(self, es_version=2, serial=1, validity=86400, start_offset=-60,
                      extra_binds=()):
        """start_offset: seconds from now to the certificate's first second (negative: past).
        extra_binds: more "address:port"s for the same DNSCrypt server (in a test's own network
        namespace only)."""
        cert, key = self.generate_provider(es_version, serial, validity,
                                           start_offset=start_offset)
        self.dnsdist_port, self.dnsdist_plain_port = free_port(), free_port()
        # The same resolver on ::1 too, where the machine has it (an IPv6 resolver address).
        self.dnsdist_port6 = free_port() if has_ipv6_loopback() else None
        bind6 = ('addDNSCryptBind("[::1]:%d", "%s", "%s", "%s")' %
                 (self.dnsdist_port6, self.provider_name, cert, key) if self.dnsdist_port6 else "")
        # (Queries to such an address come from it too: dnsdist's default ACL must allow it.)
        bind6 += "".join('\naddDNSCryptBind("%s", "%s", "%s", "%s")\naddACL("%s")'
                         % (where, self.provider_name, cert, key, where.rsplit(":", 1)[0])
                         for where in extra_binds)
        stats = os.path.join(self.dir, "dnsdist-stats")
        self.dnsdist_rotate_flag = os.path.join(self.dir, "rotate")
        self.dnsdist_stats = stats
        conf = os.path.join(self.dir, "dnsdist.conf")
        with open(conf, "w") as f:
            f.write("""setSecurityPollSuffix("")
setLocal("127.0.0.1:{plain}")
addDNSCryptBind("127.0.0.1:{port}", "{provider}", "{cert}", "{key}")
{bind6}
newServer({{address="127.0.0.1:{nsd}"}})
setUDPSocketBufferSizes(4194304, 4194304)
-- Count encrypted queries by transport, for tests that check what the proxy sends.
udp_count, tcp_count = 0, 0
-- A slow server on demand: the test writes "<probability> <ms>" to the delay file; that share
-- of UDP answers is held back that long (dnsdist delays UDP answers only).
delay_p, delay_ms, delay_token, servfail = 0, 0, 0, 0
function count(dq)
  if dq.tcp then tcp_count = tcp_count + 1 else udp_count = udp_count + 1 end
  -- A failing resolver on demand: every query answered SERVFAIL (the same control file).
  if servfail == 1 then return DNSAction.ServFail, "" end
  if not dq.tcp and delay_p > 0 and math.random() < delay_p then
    return DNSAction.Delay, tostring(delay_ms)
  end
  return DNSAction.None, ""
end
addAction(AllRule(), LuaAction(count))
-- Certificate rotation on demand: the test writes "<serial> <es-version>" to the flag file.
rotated = {{}}
generation = 0
function maintenance()
  generation = generation + 1
  -- The delay file first, so that the stats written below say which delay is in force: the
  -- test waits for its token there instead of sleeping through a maintenance run.
  local d = io.open("{dir}/delay", "r")
  if d then
    local p, ms, token, fail = d:read("*n", "*n", "*n", "*n")
    d:close()
    if p and ms and token and fail then
      delay_p, delay_ms, delay_token, servfail = p, ms, token, fail
    end
  end
  local f = io.open("{stats}.tmp", "w")
  f:write(udp_count .. " " .. tcp_count .. " " .. generation .. " " .. delay_token .. "\\n")
  f:close()
  os.rename("{stats}.tmp", "{stats}")
  local r = io.open("{flag}", "r")
  if r then
    local serial, version, drop = r:read("*n", "*n", "*n")
    r:close()
    if serial and not rotated[serial] then
      rotated[serial] = true
      local v = DNSCryptExchangeVersion.VERSION2
      if version == 1 then v = DNSCryptExchangeVersion.VERSION1 end
      getDNSCryptBind(0):generateAndLoadInMemoryCertificate("{dir}/provider.key", serial,
        os.time() - 60, os.time() + 86400, v)
    end
    if drop and drop > 0 and not rotated["drop" .. drop] then
      rotated["drop" .. drop] = true
      getDNSCryptBind(0):markInactive(drop)
      getDNSCryptBind(0):removeInactiveCertificate(drop)
    end
  end
end
""".format(plain=self.dnsdist_plain_port, port=self.dnsdist_port, provider=self.provider_name,
           cert=cert, key=key, bind6=bind6, nsd=self.nsd_port, stats=stats, flag=self.dnsdist_rotate_flag,
           dir=self.dir))
        self.dnsdist_conf = conf
        return self._run_dnsdist()

    def _run_dnsdist(self):
        p = Process("dnsdist", ["dnsdist", "--supervised", "--disable-syslog", "-C",
                                self.dnsdist_conf],
                    os.path.join(self.dir, "dnsdist.log"), self.dir)
        self.procs.append(p)
        self.dnsdist = p
        self._wait_answers(self.dnsdist_plain_port, "www.dcp.test", p)
        wait_until(lambda: os.path.exists(self.dnsdist_stats), 10, what="dnsdist stats")
        return p

    def restart_dnsdist(self):
        """Starts dnsdist again, on the same ports with the same certificate, after
        self.dnsdist.stop()."""
        return self._run_dnsdist()

    def set_delay(self, probability, ms, wait=True, servfail=False):
        """That share of dnsdist's UDP answers is delayed by `ms` from its next maintenance run
        (once a second), and with `servfail` every query is answered SERVFAIL; with `wait`,
        returns once that run has taken it (its stats carry the setting's token). wait=False:
        call wait_delay() later (several labs at once)."""
        self._delay_token = getattr(self, "_delay_token", 0) + 1
        with open(os.path.join(self.dir, "delay.tmp"), "w") as f:
            f.write("%f %d %d %d\n" % (probability, ms, self._delay_token, 1 if servfail else 0))
        os.rename(os.path.join(self.dir, "delay.tmp"), os.path.join(self.dir, "delay"))
        if wait:
            self.wait_delay()

    def wait_delay(self):
        wait_until(lambda: self._dnsdist_stats()[3] >= self._delay_token, 10, interval=0.02,
                   what="dnsdist to take the new delay")

    def _dnsdist_stats(self):
        with open(self.dnsdist_stats) as f:
            return [int(x) for x in f.read().split()]

    def dnsdist_generation(self):
        return self._dnsdist_stats()[2]

    def dnsdist_counts(self, since_generation=None):
        """(UDP, TCP) encrypted queries dnsdist has seen until now: read from the second
        maintenance run (once a second) after the call (or after `since_generation`, read
        before it), so that one started after it."""
        first = self._dnsdist_stats()[2] if since_generation is None else since_generation
        wait_until(lambda: self._dnsdist_stats()[2] >= first + 2, 10, interval=0.02,
                   what="dnsdist's maintenance")
        udp, tcp = self._dnsdist_stats()[:2]
        return udp, tcp

    def rotate_certificate(self, serial, es_version=2, drop_serial=0):
        with open(self.dnsdist_rotate_flag, "w") as f:
            f.write("%d %d %d\n" % (serial, es_version, drop_serial))

    def stamp(self):
        """The sdns:// stamp of this lab's dnsdist DNSCrypt server (made by our stamp tool)."""
        r = subprocess.run([PROXY_BIN, "stamp", "encode", "--address",
                            "127.0.0.1:%d" % self.dnsdist_port, "--provider-name",
                            self.provider_name, "--provider-key", self.provider_key_hex],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError("stamp encode: " + r.stderr)
        return r.stdout.strip()

    # -- the proxy --------------------------------------------------------------------------
    def start_proxy(self, *extra, resolver_port=None, provider_key=None, wait_cert=True,
                    name="proxy", provider_name=PROVIDER_NAME, resolver_host="127.0.0.1",
                    prefix=(), cache=False):
        """The proxy in front of the lab's dnsdist. Without `cache`, --no-cache: most tests are
        about the way to the resolver and ask the same names again and again (the cache's own
        tests, test_local.py, and the defaults tests turn it on)."""
        assert PROXY_BIN, "DCP_PROXY_BIN must name the dnscrypt-proxy binary"
        port = free_port()
        args = list(prefix) + [PROXY_BIN, "--local-address", "127.0.0.1:%d" % port,
                "--resolver-address", "%s:%d" % (resolver_host, resolver_port or self.dnsdist_port),
                "--provider-name", provider_name,
                "--provider-key", provider_key or self.provider_key_hex,
                "--timeout", "1500"] + ([] if cache else ["--no-cache"]) + list(extra)
        # A fresh log per start: readiness is judged from it.
        log = os.path.join(self.dir, "%s-%d.log" % (name, len(self.procs)))
        p = Proxy(args, log, self.dir, port)
        self.procs.append(p)
        if wait_cert:
            wait_until(lambda: "using certificate" in p.log() or not p.alive(), 15,
                       what="the proxy's certificate")
            if not p.alive():
                raise RuntimeError("proxy exited:\n" + p.log())
        return p

    # -- Unbound ----------------------------------------------------------------------------
    def start_unbound(self, forward_port):
        port = free_port()
        conf = os.path.join(self.dir, "unbound.conf")
        with open(conf, "w") as f:
            f.write("""server:
  interface: 127.0.0.1
  port: {port}
  do-ip6: no
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: "{d}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  do-not-query-localhost: no
  local-zone: "test." nodefault
  domain-insecure: "test."
  module-config: "iterator"
  tcp-upstream: no
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@{fwd}
remote-control:
  control-enable: no
""".format(port=port, d=self.dir, fwd=forward_port))
        p = Process("unbound", ["unbound", "-d", "-c", conf], os.path.join(self.dir, "unbound.log"),
                    self.dir)
        p.port = port
        self.procs.append(p)
        self._wait_answers(port, "www.dcp.test", p)
        return p

    def stop(self, keep_dir=False):
        """Stops everything; raises if a proxy did not exit cleanly (a crash, or a sanitizer
        report: under ASan/UBSan the proxy's log is where findings land)."""
        problems = []
        for p in reversed(self.procs):
            p.stop()
            if isinstance(p, Proxy):
                code = p.popen.returncode
                log = p.log()
                if code not in (0, None) or "Sanitizer" in log or "runtime error:" in log:
                    problems.append("%s exited with %s:\n%s" % (p.log_path, code, log[-4000:]))
        self.procs = []
        if problems:
            raise AssertionError("\n".join(problems))
        if not keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


SERVER_LINE = re.compile(
    r"server ([^:\n]+): (up|down), rtt ([\d.]+) ms \(p95 ([\d.]+) ms\), (\d+) queries "
    r"\(([\d.]+) %\), (\d+) answers, (\d+) failures, (\d+) hedges \((\d+) won\)")


def sigusr1_report(text, send_signal, servers=0):
    """Sends SIGUSR1 and waits for the report (its counters line, then `servers` per-server
    lines) in the log `text()` returns: ({counter: n}, {server name: fields})."""
    before = text().count("counters:")
    send_signal(signal.SIGUSR1)
    wait_until(lambda: text().count("counters:") > before and
               text().rsplit("counters:", 1)[1].count("server ") >= servers, 5,
               what="the SIGUSR1 report in the log")
    tail = text().rsplit("counters:", 1)[1]
    counters = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", tail.splitlines()[0])}
    stats = {}
    for m in SERVER_LINE.finditer(tail):
        stats[m.group(1)] = {"up": m.group(2) == "up", "rtt": float(m.group(3)),
                             "p95": float(m.group(4)), "queries": int(m.group(5)),
                             "answers": int(m.group(7)), "failures": int(m.group(8)),
                             "hedges": int(m.group(9)), "won": int(m.group(10))}
    return counters, stats


def start_logged(test, args, log, env=None, timeout=20, certificates=1, ready="using certificate",
                 cache=False):
    """Starts the proxy with `args`, its output in `log`, and waits until it has logged
    `certificates` lines with `ready` (one certificate per DNSCrypt server; DoH servers: pass
    ready="connected to"). The process gains text() (its log so far), counters() (SIGUSR1's
    counters line as a dict) and stats(servers) (sigusr1_report); at the test's end it is
    stopped and must exit 0. Without `cache`, --no-cache (see Lab.start_proxy)."""
    with open(log, "w") as out:
        p = subprocess.Popen([PROXY_BIN] + list(args) + ([] if cache else ["--no-cache"]),
                             stdout=out, stderr=subprocess.STDOUT, env=env)

    def text():
        with open(log) as f:
            return f.read()

    def stop():
        if p.poll() is None:
            p.terminate()
        test.assertEqual(p.wait(10), 0, text()[-3000:])

    p.text = text
    p.counters = lambda: sigusr1_report(text, p.send_signal)[0]
    p.stats = lambda servers: sigusr1_report(text, p.send_signal, servers)
    test.addCleanup(stop)
    wait_until(lambda: text().count(ready) >= certificates or p.poll() is not None,
               timeout, what="'%s' in the log" % ready)
    test.assertIsNone(p.poll(), text())
    return p


class LabTestCase(unittest.TestCase):
    """A test class with its own lab: NSD and dnsdist started once for the class."""

    es_version = 2
    validity = 86400  # seconds the first certificate is valid
    start_offset = -60  # from now to its first second
    with_dnsdist = True  # False: NSD only (tests that bring their own resolver)

    @classmethod
    def setUpClass(cls):
        cls.lab = Lab()
        try:
            cls.lab.start_nsd()
            if cls.with_dnsdist:
                cls.lab.start_dnsdist(es_version=cls.es_version, validity=cls.validity,
                                      start_offset=cls.start_offset)
        except Exception:
            cls.lab.stop(keep_dir=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def write(self, name, text):
        """A file in the lab's directory; its path."""
        path = os.path.join(self.lab.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path
