"""Running the proxy as a service: daemon, pid file, log file, privileges, --test, limits,
signals, the configuration file, and a port already in use."""

import os
import socket
import pwd
import random
import re
import shutil
import signal
import subprocess
import time
import unittest

import dnsclient
import relay
from dnsclient import Response, make_query
from lab import LabTestCase, free_port, rss_kib, wait_until

BIN = os.environ.get("DCP_PROXY_BIN", "")


def proxy_args(lab, port=None, *extra):
    args = [BIN, "--resolver-address", "127.0.0.1:%d" % lab.dnsdist_port,
            "--provider-name", "2.dnscrypt-cert.dcp.test", "--provider-key", lab.provider_key_hex]
    if port:
        args += ["--local-address", "127.0.0.1:%d" % port]
    return args + list(extra)


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return {k: v.split() for k, v in fields.items()}


class ServiceTest(LabTestCase):
    pass


@unittest.skipUnless(os.geteuid() == 0, "needs root to create a user and chroot")
class DaemonAndUser(ServiceTest):
    """1. --daemonize --pid-file --logfile --user: uid, gid and chroot checked in /proc."""

    def setUp(self):
        self.user = "dcptest%06d" % random.randrange(10 ** 6)
        self.home = os.path.join(self.lab.dir, "chroot-" + self.user)
        os.mkdir(self.home, 0o755)  # empty: it becomes the proxy's whole file system
        subprocess.run(["useradd", "--system", "--home-dir", self.home, "--no-create-home",
                        "--shell", "/usr/sbin/nologin", self.user], check=True)
        self.pw = pwd.getpwnam(self.user)
        self.run_dir = os.path.join(self.lab.dir, "run-" + self.user)
        os.mkdir(self.run_dir)
        os.chown(self.run_dir, self.pw.pw_uid, self.pw.pw_gid)  # so it can remove its pid file

    def tearDown(self):
        subprocess.run(["userdel", self.user], check=False)

    def start_daemon(self, port, pid_file, log_file, *extra):
        r = subprocess.run(proxy_args(self.lab, port, "--daemonize", "--pid-file", pid_file,
                                      "--logfile", log_file, "--user", self.user, *extra),
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)  # the launcher returns once the daemon runs
        wait_until(lambda: os.path.exists(pid_file) and open(pid_file).read().strip(), 5,
                   what="the pid file")
        pid = int(open(pid_file).read())
        wait_until(lambda: "using certificate" in open(log_file).read(), 10,
                   what="the daemon's certificate")
        return pid

    def jail_dir(self, name):
        """A directory inside the chroot that the user may write to."""
        path = os.path.join(self.home, name)
        os.mkdir(path)
        os.chown(path, self.pw.pw_uid, self.pw.pw_gid)
        return path

    def stop_daemon(self, pid):
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not os.path.exists("/proc/%d" % pid), 5, what="the daemon to stop")

    def test_daemon_with_user(self):
        port = free_port()
        # The pid file's directory belongs to root: the user cannot plant anything there.
        pid_file = os.path.join(self.lab.dir, "proxy-%s.pid" % self.user)
        log_file = os.path.join(self.lab.dir, "daemon.log")
        pid = self.start_daemon(port, pid_file, log_file)
        try:
            status = proc_status(pid)
            self.assertEqual(status["Uid"], [str(self.pw.pw_uid)] * 4)
            self.assertEqual(status["Gid"], [str(self.pw.pw_gid)] * 4)
            self.assertEqual(os.readlink("/proc/%d/root" % pid), self.home)
            self.assertNotEqual(os.getsid(pid), os.getsid(0))  # its own session
            answer = Response(dnsclient.udp(port, make_query("www.dcp.test", "A")))
            self.assertEqual(answer.rcode, 0)
            self.assertTrue(answer.answer)
            self.assertIn("running as %s" % self.user, open(log_file).read())
            # A real jail: no descriptor of a directory outside it stays open (one would let
            # code in the jail leave it with fchdir or openat).
            for fd in os.listdir("/proc/%d/fd" % pid):
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                if target.startswith("/") and os.path.isdir(target):
                    self.assertTrue(target == self.home or target.startswith(self.home + "/"),
                                    "fd %s: directory %s outside the jail" % (fd, target))
                # Nor a descriptor of the pid file: the user could write another pid into it,
                # which root's stop script would kill.
                self.assertNotEqual(target, os.path.realpath(pid_file), "fd %s" % fd)
        finally:
            self.stop_daemon(pid)
        # Outside the jail the file cannot be removed from inside it: said at start, and left.
        self.assertEqual(open(pid_file).read(), "%d\n" % pid)
        self.assertIn("it cannot be removed at exit", open(log_file).read())
        self.assertIn("signal 15: stopping", open(log_file).read())

    def test_pid_file_inside_the_jail_is_removed(self):
        port = free_port()
        pid_file = os.path.join(self.jail_dir("run"), "proxy.pid")
        log_file = os.path.join(self.lab.dir, "daemon-jail.log")
        pid = self.start_daemon(port, pid_file, log_file)
        self.stop_daemon(pid)
        self.assertFalse(os.path.exists(pid_file))

    def check_plants_refused(self, switch, name, plants):
        """Each (plant(victim, path), words) puts something where `switch` (a file root opens
        at start) points, in a directory the user can write to: the start must fail saying
        `words`, and the victim file stay untouched. Returns the path."""
        victim = os.path.join(self.lab.dir, "victim-%s-%s" % (name, self.user))
        with open(victim, "w") as f:
            f.write("precious\n")
        path = os.path.join(self.run_dir, name)  # the user can write here
        for plant, words in plants:
            if os.path.lexists(path):
                os.unlink(path)
            plant(victim, path)
            r = subprocess.run(proxy_args(self.lab, free_port(), switch, path, "--user",
                                          self.user),
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 1, words)
            self.assertIn(words, r.stderr)
            self.assertEqual(open(victim).read(), "precious\n")
        return path

    LINKS = ((os.symlink, "is a symbolic link"), (os.link, "has other hard links"))

    def test_planted_symlink_or_hard_link_is_refused(self):
        self.check_plants_refused("--pid-file", "proxy.pid", self.LINKS)

    def test_planted_log_file_is_refused(self):
        # Root opens the log file at every start: one the proxy's user could have planted in a
        # directory it writes to (a link to a root file, a file of someone else's) is refused.
        other_uid = 65534 if self.pw.pw_uid != 65534 else 65533

        def someone_elses(_, path):
            with open(path, "w"):
                pass
            os.chown(path, other_uid, other_uid)

        log_file = self.check_plants_refused(
            "--logfile", "proxy.log",
            self.LINKS + ((someone_elses, "neither root nor the proxy's user"),))
        # The user's own log file (logrotate's create with its owner) is the proxy's.
        os.unlink(log_file)
        with open(log_file, "w"):
            pass
        os.chown(log_file, self.pw.pw_uid, self.pw.pw_gid)
        pid = self.start_daemon(free_port(), os.path.join(self.lab.dir, "own-log.pid"), log_file)
        self.stop_daemon(pid)
        self.assertIn("running as %s" % self.user, open(log_file).read())

    def test_sighup_under_user_with_log_file_outside_the_jail(self):
        # What `systemctl reload` and logrotate do. Before the fix the process died (SIGSEGV).
        port = free_port()
        pid_file = os.path.join(self.lab.dir, "hup-%s.pid" % self.user)
        log_file = os.path.join(self.lab.dir, "hup-outside.log")
        pid = self.start_daemon(port, pid_file, log_file)
        try:
            os.rename(log_file, log_file + ".1")
            for n in range(1, 4):  # one at a time: pending signals of one kind merge
                os.kill(pid, signal.SIGHUP)
                wait_until(lambda: open(log_file + ".1").read().count("outside the chroot") == n,
                           5, what="SIGHUP warning %d" % n)
            self.assertTrue(os.path.exists("/proc/%d" % pid))
            self.assertIn("copytruncate", open(log_file + ".1").read())
            r = Response(dnsclient.udp(port, make_query("www.dcp.test", "A")))
            self.assertEqual(r.rcode, 0)
            os.kill(pid, signal.SIGUSR1)  # logging goes on into the file it had
            wait_until(lambda: "counters:" in open(log_file + ".1").read(), 5, what="counters")
        finally:
            self.stop_daemon(pid)

    def test_sighup_under_user_with_log_file_inside_the_jail(self):
        self.check_files_inside_the_jail(self.home)

    def test_home_reached_through_a_symbolic_link(self):
        # The password file names the home through a link: the files given through that link
        # are still found inside the jail (the home is resolved before the chroot).
        link = self.home + "-link"
        os.symlink(self.home, link)
        subprocess.run(["usermod", "--home", link, self.user], check=True)
        self.check_files_inside_the_jail(link)

    def check_files_inside_the_jail(self, home):
        port = free_port()
        self.jail_dir("log")
        self.jail_dir("run")
        log_file = os.path.join(home, "log", "proxy.log")
        pid_file = os.path.join(home, "run", "proxy.pid")
        pid = self.start_daemon(port, pid_file, log_file)
        try:
            os.rename(log_file, log_file + ".1")
            os.kill(pid, signal.SIGHUP)
            wait_until(lambda: os.path.exists(log_file), 5, what="a new log file in the jail")
            os.kill(pid, signal.SIGUSR1)
            wait_until(lambda: "counters:" in open(log_file).read(), 5, what="counters")
            self.assertIn("log file reopened", open(log_file).read())
            self.assertNotIn("counters:", open(log_file + ".1").read())
        finally:
            self.stop_daemon(pid)
        self.assertFalse(os.path.exists(pid_file))

    def test_sighup_rereads_rule_files_inside_the_jail(self):
        def blocked(port, name):
            r = Response(dnsclient.udp(port, make_query(name, "A")))
            return any(t == 13 for _, t, _ in r.answer)  # the HINFO of a blocked name

        def daemon(tag, rules, text):
            with open(rules, "w") as f:
                f.write(text)
            port = free_port()
            log_file = os.path.join(self.lab.dir, "rules-%s-%s.log" % (tag, self.user))
            pid = self.start_daemon(port, os.path.join(self.lab.dir, "rules-%s.pid" % tag),
                                    log_file, "--blocked-names", rules)
            self.addCleanup(lambda: os.path.exists("/proc/%d" % pid) and self.stop_daemon(pid))
            def log():
                with open(log_file) as f:
                    return f.read()
            return pid, port, log

        # Inside the jail: read again through its path there (/blocked.txt).
        inside = os.path.join(self.home, "blocked.txt")
        pid, port, log = daemon("inside", inside, "=one.example.com\n")
        self.assertTrue(blocked(port, "one.example.com"))
        with open(inside, "w") as f:
            f.write("=two.example.com\n")
        os.kill(pid, signal.SIGHUP)
        wait_until(lambda: "new rules are in use by every worker" in log(), 5, what="the reload")
        self.assertTrue(blocked(port, "two.example.com"))
        self.assertFalse(blocked(port, "one.example.com"))
        self.stop_daemon(pid)
        # Outside it: said at the start; a SIGHUP keeps the rules in use.
        outside = os.path.join(self.lab.dir, "outside-%s.txt" % self.user)
        pid, port, log = daemon("outside", outside, "=three.example.com\n")
        self.assertIn("%s is outside the chroot %s: SIGHUP cannot read it again"
                      % (outside, self.home), log())
        os.kill(pid, signal.SIGHUP)
        wait_until(lambda: "the rules in use are kept" in log(), 5, what="the warning")
        self.assertTrue(blocked(port, "three.example.com"))
        self.stop_daemon(pid)

    def test_unknown_user_and_missing_home(self):
        port = free_port()
        r = subprocess.run(proxy_args(self.lab, port, "--user", "no-such-user-dcp"),
                           capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no such user", r.stderr)
        os.rmdir(self.home)
        r = subprocess.run(proxy_args(self.lab, port, "--user", self.user),
                           capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("home directory", r.stderr)
        os.mkdir(self.home, 0o755)


class FakeSyslog:
    """A /dev/log of our own: a UNIX datagram socket, seen by the proxy only, through a private
    mount namespace whose /dev is a fresh tmpfs (the machine's /dev is not touched)."""

    def __init__(self, directory):
        import threading
        self.path = os.path.join(directory, "devlog-%d.sock" % random.randrange(10 ** 6))
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.lines = []
        self.closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while not self.closed:
            try:
                self.lines.append(self.sock.recv(65536).decode("utf-8", "replace"))
            except OSError:
                continue

    def wrap(self, args):
        script = ("mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 && "
                  "ln -s %s /dev/log && exec \"$@\"" % self.path)
        return ["unshare", "--mount", "sh", "-c", script, "sh"] + args

    def text(self):
        return "\n".join(self.lines)

    def close(self):
        self.closed = True
        self.sock.close()
        os.unlink(self.path)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"),
                     "needs root and unshare for a private /dev/log")
class Syslog(ServiceTest):
    """--syslog, and syslog as the default for a daemon, surviving the --user chroot."""

    def test_syslog_foreground(self):
        log = FakeSyslog(self.lab.dir)
        port = free_port()
        proc = subprocess.Popen(log.wrap(proxy_args(self.lab, port, "--syslog")),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_until(lambda: "using certificate" in log.text(), 10, what="syslog lines")
            # RFC 3164 priority: facility daemon (3) * 8 + info (6) = 30.
            self.assertRegex(log.text(), r"<30>.*dnscrypt-proxy\[\d+\]: listening on 127\.0\.0\.1:%d" % port)
        finally:
            proc.terminate()
            out = proc.communicate(timeout=5)[0]
            log.close()
        self.assertNotIn("listening", out)  # syslog instead of stdout

    def test_daemon_logs_to_syslog_after_chroot(self):
        user = "dcpsys%06d" % random.randrange(10 ** 6)
        home = os.path.join(self.lab.dir, "chroot-" + user)
        os.mkdir(home, 0o755)
        subprocess.run(["useradd", "--system", "--home-dir", home, "--no-create-home", "--shell",
                        "/usr/sbin/nologin", user], check=True)
        log = FakeSyslog(self.lab.dir)
        pid_file = os.path.join(self.lab.dir, "syslog-daemon.pid")
        try:
            port = free_port()
            r = subprocess.run(log.wrap(proxy_args(self.lab, port, "--daemonize", "--user", user,
                                                   "--pid-file", pid_file)),
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 0, r.stderr)
            wait_until(lambda: os.path.exists(pid_file), 5, what="the pid file")
            pid = int(open(pid_file).read())
            try:
                wait_until(lambda: "running as " + user in log.text(), 10, what="the chroot line")
                os.kill(pid, signal.SIGUSR1)  # logged from inside the chroot
                wait_until(lambda: "counters:" in log.text(), 5, what="counters via syslog")
            finally:
                os.kill(pid, signal.SIGTERM)
            wait_until(lambda: not os.path.exists("/proc/%d" % pid), 5, what="the daemon to stop")
        finally:
            log.close()
            subprocess.run(["userdel", user], check=False)


class CertificateTest(ServiceTest):
    """2. --test exit codes: valid for the margin, or not."""

    def test_valid_certificate(self):
        r = subprocess.run(proxy_args(self.lab, None, "--test", "60"), capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("certificate serial 1, X25519-XChaCha20Poly1305", r.stdout)
        self.assertRegex(r.stdout, r"resolver key [0-9a-f]{64}")
        self.assertIn("OK", r.stdout)

    def test_no_certificate(self):
        args = proxy_args(self.lab, None, "--test", "1", "--timeout", "300")
        args[2] = "127.0.0.1:%d" % free_port()
        r = subprocess.run(args, capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 3)
        self.assertIn("no valid certificate", r.stderr)


class CertificateExpiringSoon(ServiceTest):
    validity = 600  # ten minutes

    def test_expiring_inside_the_margin(self):
        r = subprocess.run(proxy_args(self.lab, None, "--test", "60"), capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("EXPIRES SOON", r.stdout)
        r = subprocess.run(proxy_args(self.lab, None, "--test", "5"), capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(r.returncode, 0)


class ActiveLimit(ServiceTest):
    """3. A stalled upstream and 10x --max-active-requests queries."""

    def test_stalled_upstream(self):
        gate = relay.HostileRelay(self.lab.dnsdist_port, mode="pass")
        try:
            p = self.lab.start_proxy("--max-active-requests", "20", "--timeout", "4000",
                                     resolver_port=gate.port, name="proxy-limit")
            Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A")))
            before = rss_kib(p.pid)
            gate.mode = "drop"

            socks = []
            for i in range(200):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.sendto(make_query("n%d.wild.dcp.test" % i, "A"), ("127.0.0.1", p.port))
                socks.append(s)
            # Replies that come before the stalled ones' 4 s timeout: the refusals, at once.
            import select
            servfails, pending, deadline = 0, set(socks), time.monotonic() + 3.0
            while pending and time.monotonic() < deadline:
                ready, _, _ = select.select(list(pending), [], [], 0.05)
                for s in ready:
                    if Response(s.recv(4096)).rcode == 2:
                        servfails += 1
                    pending.discard(s)
            for s in socks:
                s.close()
            # Exactly the excess is told, before the others time out.
            c = p.counters()
            self.assertEqual(c.get("refused_active_limit", 0), 180)
            self.assertEqual(servfails, 180)
            self.assertLess(rss_kib(p.pid) - before, 8 * 1024)
            self.assertIn("--max-active-requests", p.log())
            # The upstream comes back: answered, well before the 4 s a stuck query would take.
            gate.mode = "pass"
            wait_until(lambda: p.counters().get("servfail_timeout", 0) >= 20, 10,
                       what="the stalled queries to time out")
            start = time.monotonic()
            r = Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A"), timeout=5))
            self.assertEqual(r.rcode, 0)
            self.assertLess(time.monotonic() - start, 3.0)
            self.assertTrue(p.alive())
        finally:
            gate.close()


class Signals(ServiceTest):
    """4. SIGHUP with a rotated log file; SIGUSR1 counters."""

    def test_sighup_reopens_log(self):
        port = free_port()
        log_file = os.path.join(self.lab.dir, "rotate.log")
        proc = subprocess.Popen(proxy_args(self.lab, port, "--logfile", log_file),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: os.path.exists(log_file) and "using certificate" in open(log_file).read(),
                       10, what="the certificate")
            os.rename(log_file, log_file + ".1")
            proc.send_signal(signal.SIGHUP)
            wait_until(lambda: os.path.exists(log_file), 5, what="a new log file")
            proc.send_signal(signal.SIGUSR1)
            wait_until(lambda: "counters:" in open(log_file).read(), 5, what="counters")
            self.assertIn("SIGHUP", open(log_file).read())
            self.assertNotIn("counters:", open(log_file + ".1").read())
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(5), 0)


class ConfigFile(ServiceTest):
    """5. A config file with every key; an unknown key; switches override the file."""

    def test_every_key(self):
        # Every key is observed acting, not only parsed. The resolver is reached through a
        # relay that records each query's client key and can stall (drop) answers.
        gate = relay.HostileRelay(self.lab.dnsdist_port, mode="pass")
        gate_tcp = relay.TcpForwarder(self.lab.dnsdist_port, port=gate.port)  # TCP fallback
        port, other = free_port(), free_port()
        # Secret 40 41 .. 5f: its public key is a known answer (tests/data/vectors.json).
        key_file = self.write("client.key", bytes(range(0x40, 0x60)).hex() + "\n")
        os.chmod(key_file, 0o600)
        log_file = os.path.join(self.lab.dir, "config.log")
        conf = self.write("full.toml", """# every key the file knows
local-address = ["127.0.0.1:{other}"]
local-port = {port}
resolver-address = "127.0.0.1:{gate}"
provider-name = "2.dnscrypt-cert.dcp.test"
provider-key = "{key}"
tcp-only = false
edns-payload-size = 4096
timeout = 2000
cert-refresh = 600
ephemeral-keys = false
client-key = "{client_key}"
max-tcp-connections = 5
tcp-idle-timeout = 1000
max-active-requests = 30
threads = 3
daemonize = false
pid-file = "{dir}/config.pid"
logfile = "{log}"
syslog = false
loglevel = "debug"
user = ""
""".format(other=other, port=port, gate=gate.port, key=self.lab.provider_key_hex,
           client_key=key_file, dir=self.lab.dir, log=log_file))
        # tcp-port has its own test below: with it the proxy is TCP-only.
        proc = subprocess.Popen([BIN, "--config", conf], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: os.path.exists(log_file) and "using certificate" in open(log_file).read(),
                       10, what="the certificate")
            log = lambda: open(log_file).read()  # noqa: E731
            # local-port over local-address's port; threads; loglevel; cert-refresh.
            self.assertIn("listening on 127.0.0.1:%d (UDP)" % port, log())
            self.assertNotIn(":%d" % other, log())
            self.assertIn("3 worker threads", log())
            self.assertIn("[debug] next certificate check in 600s", log())
            self.assertTrue(os.path.exists(os.path.join(self.lab.dir, "config.pid")))
            # tcp-idle-timeout 1000 and max-tcp-connections 5, before any other client
            # connection exists (one closing meanwhile would free a slot).
            # Which one is refused depends on which worker accepts what; exactly one is, at
            # once, and the five others close when idle for a second.
            import select
            conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(6)]
            start = time.monotonic()
            closed_at = {}
            while len(closed_at) < 6 and time.monotonic() - start < 4:
                ready, _, _ = select.select([c for c in conns if c not in closed_at], [], [], 0.05)
                for c in ready:
                    self.assertEqual(c.recv(10), b"")
                    closed_at[c] = time.monotonic() - start
            times = sorted(closed_at.values())
            self.assertEqual(len(times), 6)
            self.assertGreater(times[1] - times[0], 0.5, times)  # one at once, before the rest
            self.assertGreater(times[1], 0.9, times)             # the others: idle for 1000 ms
            self.assertLess(times[-1], 6.0, times)
            for c in conns:
                c.close()
            # edns-payload-size 4096, for a client that sends no EDNS and asks over TCP for a
            # 2 KB answer: the first UDP try upstream comes back truncated by the padding, the
            # padding learns, the second comes whole. With the default 1280 advertised, NSD
            # would truncate both (upstream_truncated 2, below).
            for _ in range(2):
                r = Response(dnsclient.tcp(port, make_query("twok.dcp.test", "TXT")))
                self.assertEqual(r.rcode, 0)
                self.assertFalse(r.tc)
            # client-key and ephemeral-keys = false: the resolver sees that key every time.
            self.assertEqual({k.hex() for k in gate.client_keys},
                             {"79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a"})
            # max-active-requests 30 and timeout 2000, with the resolver stalled.
            gate.mode = "drop"
            socks = []
            for i in range(40):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.sendto(make_query("k%d.wild.dcp.test" % i, "A"), ("127.0.0.1", port))
                socks.append(s)
            start = time.monotonic()
            for s in socks:
                s.settimeout(4)
                self.assertEqual(Response(s.recv(4096)).rcode, 2)
                s.close()
            waited = time.monotonic() - start
            self.assertTrue(1.8 < waited < 6.0, waited)  # the stalled ones at the 2 s timeout
            proc.send_signal(signal.SIGUSR1)
            wait_until(lambda: "counters:" in log(), 5, what="counters")
            counters = {k: int(v) for k, v in
                        re.findall(r"(\w+)=(\d+)", log().split("counters:")[-1].splitlines()[0])}
            self.assertEqual(counters.get("refused_active_limit"), 10)
            self.assertEqual(counters.get("servfail_timeout"), 30)
            self.assertEqual(counters.get("tcp_refused_limit"), 1)
            self.assertEqual(counters.get("upstream_truncated", 0), 1)
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(5), 0)
            gate.close()
            gate_tcp.close()
        self.assertFalse(os.path.exists(os.path.join(self.lab.dir, "config.pid")))

    def test_tcp_port_key_and_switch_override(self):
        # The file's tcp-port names a counting forwarder in front of dnsdist: a TCP query must
        # go through it (a tcp-port that is ignored would use the resolver's own port and leave
        # the forwarder untouched), and the file's local-address is overridden by the switch.
        fwd = relay.TcpForwarder(self.lab.dnsdist_port)
        port = free_port()
        log_file = os.path.join(self.lab.dir, "tcp-port.log")
        conf = self.write("tcp.toml", 'tcp-port = {p}\nlocal-address = "127.0.0.1:1"\n'.format(
            p=fwd.port))
        proc = subprocess.Popen(proxy_args(self.lab, port, "--config", conf, "--logfile", log_file),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: os.path.exists(log_file) and
                       "using certificate" in open(log_file).read(), 10, what="the certificate")
            self.assertIn("TCP only, port %d" % fwd.port, open(log_file).read())
            r = Response(dnsclient.udp(port, make_query("www.dcp.test", "A")))
            self.assertTrue(r.tc)  # TCP-only from the file; the address from the switch
            before = fwd.connections
            r = Response(dnsclient.tcp(port, make_query("www.dcp.test", "A")))
            self.assertEqual(r.rcode, 0)
            self.assertTrue(r.answer)
            self.assertEqual(fwd.connections, before + 1)
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(5), 0)
            fwd.close()

    def test_shipped_example_is_valid(self):
        example = os.path.join(os.path.dirname(__file__), "..", "..", "dist", "dnscrypt-proxy.toml")
        args = proxy_args(self.lab, None, "--config", example, "--test", "1", "--timeout", "300")
        args[2] = "127.0.0.1:%d" % free_port()  # nobody answers: exit 3, not a config error (2)
        r = subprocess.run(args, capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 3, r.stderr)

    def test_unknown_key_and_bad_values(self):
        for text, words in (("resolver-adress = \"1.2.3.4\"\n", ["line 1", "unknown key 'resolver-adress'"]),
                            ("\n\ntimeout = \"soon\"\n", ["line 3", "'timeout'", "integer"]),
                            ("tcp-only = 1\n", ["line 1", "'tcp-only'", "true or false"]),
                            ("local-port = 70000\n", ["line 1", "'local-port'"]),
                            ("this is not toml\n", ["line 1"])):
            conf = self.write("bad.toml", text)
            r = subprocess.run([BIN, "--config", conf], capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, text)
            for w in words:
                self.assertIn(w, r.stderr, text)


class PortInUse(ServiceTest):
    """6. Two proxies on the same address: the second says so and exits."""

    def test_second_proxy(self):
        first = self.lab.start_proxy(name="proxy-first")
        r = subprocess.run(proxy_args(self.lab, first.port), capture_output=True, text=True,
                           timeout=10)
        # Start-up failed (README: 1); the settings themselves are fine (a usage error is 2).
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot listen on 127.0.0.1:%d" % first.port, r.stderr)
        self.assertIn("already listens there", r.stderr)
        self.assertEqual(r.stderr.count("\n"), 1)  # one clear line
        self.assertTrue(first.alive())


if __name__ == "__main__":
    unittest.main()
