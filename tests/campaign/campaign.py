#!/usr/bin/env python3
"""The fault and flood campaign (not part of CI: it takes minutes). Each scenario starts a fresh
proxy in front of the lab's NSD + dnsdist on loopback, runs a probe client beside the fault (one
UDP query every 50 ms, one TCP query every 250 ms), samples the proxy's RSS every 50 ms, and
reports: RSS before / peak / after, the probe's answers during the fault, and the recovery time
(from the end of the fault to the probe's first good answer). Every loop is bounded in count
and time; every packet goes to 127.0.0.1.

    python3 tests/campaign/campaign.py --proxy build/src/app/dnscrypt-proxy [--only NAME ...]
                                       [--suspend SECONDS]
"""

import argparse
import os
import random
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import dnsclient  # noqa: E402
import relay  # noqa: E402
from dnsclient import Response, make_query  # noqa: E402
from lab import Lab, Process, wait_until  # noqa: E402


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def frame(msg):
    return struct.pack("!H", len(msg)) + msg


class Sampler(threading.Thread):
    """RSS every 50 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stopped = pid, [], False
        self.start()

    def run(self):
        while not self.stopped:
            self.samples.append(rss_kib(self.pid))
            time.sleep(0.05)

    def stop(self):
        self.stopped = True
        self.join()
        return max(self.samples or [0])


class Probe(threading.Thread):
    """A well-behaved client beside the fault: (time, transport, outcome) for every query."""

    def __init__(self, port, udp_interval=0.05, tcp_interval=0.25):
        super().__init__(daemon=True)
        self.port, self.udp_interval, self.tcp_interval = port, udp_interval, tcp_interval
        self.events, self.stopped = [], False
        self.start()

    def one(self, transport):
        q = make_query("www.dcp.test", "A", qid=random.randrange(65536))
        try:
            if transport == "udp":
                r = Response(dnsclient.udp(self.port, q, timeout=1.0))
            else:
                r = Response(dnsclient.tcp(self.port, q, timeout=1.0))
            return "ok" if r.rcode == 0 and r.answer else "rcode%d" % r.rcode
        except (OSError, ValueError, struct.error):
            return "lost"

    def run(self):
        # UDP and TCP on threads of their own, so that a slow TCP answer never thins the UDP
        # sample (and the other way round).
        def loop(transport, interval):
            while not self.stopped:
                t = time.monotonic()
                outcome = self.one(transport)
                self.events.append((t, transport, outcome))
                time.sleep(interval)
        tcp = threading.Thread(target=loop, args=("tcp", self.tcp_interval), daemon=True)
        tcp.start()
        loop("udp", self.udp_interval)
        tcp.join()

    def stop(self):
        self.stopped = True
        self.join()

    def counts(self, start, end, transport):
        ev = [e for e in self.events if start <= e[0] <= end and e[1] == transport]
        return sum(1 for e in ev if e[2] == "ok"), len(ev)

    def summary(self, start, end, transport):
        return "%d/%d" % self.counts(start, end, transport)

    def recovery_ms(self, since, transport="udp"):
        for t, tr, outcome in self.events:
            if t >= since and tr == transport and outcome == "ok":
                return int((t - since) * 1000)
        return None


class Observation:
    """RSS and a probe around one fault: opened before it, fault_over() when it ends, close()
    after the settling time."""

    def __init__(self, pid, port, warmup=1.0):
        self.pid = pid
        self.before = rss_kib(pid)
        self.sampler, self.probe = Sampler(pid), Probe(port)
        time.sleep(warmup)
        self.start = time.monotonic()
        self.end = None

    def fault_over(self):
        self.end = time.monotonic()

    def close(self, settle=3.0):
        if self.end is None:
            self.fault_over()
        time.sleep(settle)
        self.probe.stop()
        self.peak = self.sampler.stop()
        self.after = rss_kib(self.pid)
        return self


class Load(threading.Thread):
    """Steady UDP load (random names, answers read and dropped), bounded by `seconds`."""

    def __init__(self, port, qps=300, seconds=120):
        super().__init__(daemon=True)
        self.port, self.qps, self.seconds, self.stopped = port, qps, seconds, False
        self.sent = 0
        self.start()

    def run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        end = time.monotonic() + self.seconds
        while not self.stopped and time.monotonic() < end:
            for _ in range(self.qps // 20):
                name = "l%d.wild.dcp.test" % random.randrange(10 ** 6)
                try:
                    s.sendto(make_query(name, "A"), ("127.0.0.1", self.port))
                    self.sent += 1
                except OSError:
                    pass
            try:
                while True:
                    s.recv(4096)
            except OSError:
                pass
            time.sleep(0.05)
        s.close()

    def stop(self):
        self.stopped = True
        self.join()


# What each scenario must keep to: peak RSS (MiB), the share of the probe's UDP and TCP queries
# answered while the fault lasts (None where the fault itself makes answers impossible: the
# resolver is gone, the proxy is stopped), and the recovery time (ms) once it ends.
BOUNDS = {
    "upstream_restart": (8, None, None, 2000),
    "suspend": (8, None, None, 1000),
    "fd_exhaustion": (8, 0.95, None, 2000),
    "signal_storm": (8, 0.99, 0.99, 1000),
    "active_flood": (8, None, None, 4000),  # queries already waiting time out first (3 s)
    "tcp_hold": (12, 0.99, 0.5, 1000),
    "slowloris": (12, 0.99, 0.99, 1000),
    # 50 connections x (64 KiB queued + their worker's share of queries in flight)
    "non_readers": (32, 0.7, 0.7, 1000),
}


class Campaign:
    def __init__(self, proxy_bin, suspend_seconds):
        os.environ["DCP_PROXY_BIN"] = proxy_bin
        import lab as lab_module
        lab_module.PROXY_BIN = proxy_bin
        self.suspend_seconds = suspend_seconds
        self.lab = Lab()
        self.lab.start_nsd()
        self.lab.start_dnsdist()
        self.rows = []
        self.failures = 0

    def close(self):
        self.lab.stop(keep_dir=False)

    def record(self, name, what, obs, notes, recovery_transport="udp"):
        recovery = obs.probe.recovery_ms(obs.end, recovery_transport)
        max_rss, min_udp, min_tcp, max_recovery = BOUNDS[name]
        failed = []
        if "alive=False" in notes:  # every scenario's notes say whether the proxy survived
            failed.append("the proxy died")
        if obs.peak > max_rss * 1024:
            failed.append("RSS over %d MiB" % max_rss)
        for transport, least in (("udp", min_udp), ("tcp", min_tcp)):
            ok, total = obs.probe.counts(obs.start, obs.end, transport)
            if least is not None and (total == 0 or ok < least * total):
                failed.append("%s answered under %d%%" % (transport.upper(), least * 100))
        if recovery is None or recovery > max_recovery:
            failed.append("no recovery within %d ms" % max_recovery)
        verdict = "FAIL: " + ", ".join(failed) if failed else "ok"
        self.failures += bool(failed)
        bound = "RSS <= %d MiB%s%s, recovery <= %d ms" % (
            max_rss, "" if min_udp is None else ", UDP >= %d%%" % (min_udp * 100),
            "" if min_tcp is None else ", TCP >= %d%%" % (min_tcp * 100), max_recovery)
        self.rows.append({
            "scenario": name, "what": what,
            "rss": "%.1f / %.1f / %.1f" % (obs.before / 1024, obs.peak / 1024, obs.after / 1024),
            "udp": obs.probe.summary(obs.start, obs.end, "udp"),
            "tcp": obs.probe.summary(obs.start, obs.end, "tcp"),
            "recovery": "-" if recovery is None else "%d ms (%s)" % (recovery, recovery_transport),
            "bound": bound, "verdict": verdict, "notes": notes})
        r = self.rows[-1]
        print("[%s] %s | RSS %s MiB | UDP %s TCP %s during | recovery %s | %s | %s" % (
            name, what, r["rss"], r["udp"], r["tcp"], r["recovery"], verdict, notes), flush=True)

    def proxy(self, *args, name="proxy", **kw):
        p = self.lab.start_proxy(*args, name=name, **kw)
        Response(dnsclient.udp(p.port, make_query("www.dcp.test", "A")))
        return p

    def finish(self, p):
        alive = p.alive()
        p.stop()
        return alive

    # -- faults ---------------------------------------------------------------------------
    def upstream_restart(self):
        p = self.proxy(name="c-upstream")
        load = Load(p.port)
        obs = Observation(p.pid, p.port, warmup=2)
        dnsdist = [x for x in self.lab.procs if x.name == "dnsdist"][-1]
        dnsdist.popen.kill()
        dnsdist.popen.wait()
        time.sleep(5)
        again = Process("dnsdist", dnsdist.args, dnsdist.log_path + ".2", self.lab.dir)
        self.lab.procs.append(again)
        self.lab._wait_answers(self.lab.dnsdist_plain_port, "www.dcp.test", again)
        obs.fault_over()
        load.stop()
        obs.close()
        c = p.counters()
        self.record("upstream_restart", "dnsdist killed under 300 q/s, restarted 5 s later", obs,
                    "alive=%s, servfail_timeout=%d, servfail_upstream_error=%d" % (
                        self.finish(p), c.get("servfail_timeout", 0),
                        c.get("servfail_upstream_error", 0)))

    def suspend(self):
        p = self.proxy("--cert-refresh", "30", name="c-suspend")
        refreshes = p.counters().get("cert_refreshes", 0)
        obs = Observation(p.pid, p.port)
        os.kill(p.pid, signal.SIGSTOP)
        time.sleep(self.suspend_seconds)
        os.kill(p.pid, signal.SIGCONT)
        obs.fault_over()
        obs.close()
        refreshed = p.counters().get("cert_refreshes", 0) - refreshes
        self.record("suspend", "SIGSTOP for %d s, then SIGCONT (--cert-refresh 30)"
                    % self.suspend_seconds, obs,
                    "alive=%s, certificate fetches after resume: %d" % (self.finish(p), refreshed))

    def wrong_clock(self):
        lib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
        if not os.path.exists(lib):
            print("[wrong_clock] skipped: libfaketime not installed")
            return
        notes = []
        for offset in ("+3y", "-3y"):
            env = dict(os.environ, LD_PRELOAD=lib, FAKETIME=offset, DONT_FAKE_MONOTONIC="1",
                       FAKETIME_DONT_FAKE_MONOTONIC="1")
            port = __import__("lab").free_port()
            log = os.path.join(self.lab.dir, "clock%s.log" % offset)
            with open(log, "wb") as f:
                proc = subprocess.Popen(
                    [os.environ["DCP_PROXY_BIN"], "-a", "127.0.0.1:%d" % port,
                     "-r", "127.0.0.1:%d" % self.lab.dnsdist_port,
                     "-N", "2.dnscrypt-cert.dcp.test", "-k", self.lab.provider_key_hex],
                    stdout=f, stderr=subprocess.STDOUT, env=env)
            try:
                wait_until(lambda: "clock says" in open(log).read(), 10, what="the clock line")
                start = time.monotonic()
                r = Response(dnsclient.udp(port, make_query("www.dcp.test", "A"), timeout=2))
                took = int((time.monotonic() - start) * 1000)
                line = [l for l in open(log).read().splitlines() if "clock says" in l][0]
                notes.append("%s: SERVFAIL in %d ms (rcode %d); log: ...%s" % (
                    offset, took, r.rcode, line[line.index("the resolver's"):]))
            finally:
                proc.terminate()
                proc.wait(5)
        self.rows.append({"scenario": "wrong_clock",
                          "what": "proxy clock 3 years ahead, then behind (libfaketime)",
                          "rss": "-", "udp": "-", "tcp": "-", "recovery": "-",
                          "notes": " | ".join(notes)})
        print("[wrong_clock]", " | ".join(notes), flush=True)

    def fd_exhaustion(self):
        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        # Lab.start_proxy has no preexec hook: start this one by hand.
        port = __import__("lab").free_port()
        log = os.path.join(self.lab.dir, "fd.log")
        args = [os.environ["DCP_PROXY_BIN"], "-a", "127.0.0.1:%d" % port,
                "-r", "127.0.0.1:%d" % self.lab.dnsdist_port, "-N", "2.dnscrypt-cert.dcp.test",
                "-k", self.lab.provider_key_hex, "--threads", "1"]
        with open(log, "wb") as f:
            proc = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, preexec_fn=limit)
        try:
            wait_until(lambda: "using certificate" in open(log).read(), 10, what="certificate")
            obs = Observation(proc.pid, port)
            held = []
            for _ in range(500):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    s.settimeout(0.5)
                    s.connect(("127.0.0.1", port))
                    held.append(s)
                except OSError:
                    s.close()
            time.sleep(3)
            for s in held:
                s.close()
            obs.close()
            proc.send_signal(signal.SIGUSR1)
            time.sleep(0.5)
            counters = [l for l in open(log).read().splitlines() if "counters:" in l][-1]
            accept_errors = counters.split("tcp_accept_errors=")[1].split()[0] \
                if "tcp_accept_errors=" in counters else "0"
            self.record("fd_exhaustion", "ulimit -n 64, 500 TCP clients connect and hold 3 s",
                        obs, "alive=%s, %d connects completed, accept errors %s" % (
                            proc.poll() is None, len(held), accept_errors), "tcp")
        finally:
            proc.terminate()
            proc.wait(5)

    def signal_storm(self):
        p = self.proxy(name="c-signals")
        load = Load(p.port)
        obs = Observation(p.pid, p.port, warmup=0)
        for i in range(1000):
            os.kill(p.pid, signal.SIGHUP if i % 2 else signal.SIGUSR1)
            time.sleep(0.01)
        obs.fault_over()
        load.stop()
        obs.close(settle=2)
        fetches = p.counters().get("cert_refreshes", 0)
        self.record("signal_storm", "1000 signals (SIGHUP/SIGUSR1 alternating) in ~12 s under load",
                    obs, "alive=%s, certificate fetches %d" % (self.finish(p), fetches))

    # -- floods ---------------------------------------------------------------------------
    def active_flood(self):
        gate = relay.HostileRelay(self.lab.dnsdist_port, mode="pass")
        try:
            p = self.proxy("--timeout", "3000", resolver_port=gate.port, name="c-active")
            obs = Observation(p.pid, p.port)
            gate.mode = "drop"
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:  # room for every immediate SERVFAIL (SO_RCVBUFFORCE, as root)
                s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)
            except OSError:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            s.setblocking(False)
            servfails = 0
            for i in range(2500):  # 10x the default --max-active-requests
                s.sendto(make_query("f%d.wild.dcp.test" % random.randrange(10 ** 7), "A"),
                         ("127.0.0.1", p.port))
                if i % 50 == 0:
                    time.sleep(0.005)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    if Response(s.recv(4096)).rcode == 2:
                        servfails += 1
                except BlockingIOError:
                    time.sleep(0.01)
            s.close()
            gate.mode = "pass"
            obs.close()
            c = p.counters()
            self.record("active_flood",
                        "2,500 random names (10x --max-active-requests) with the upstream stalled",
                        obs, "alive=%s, SERVFAIL to the flood %d, refused_active_limit=%d" % (
                            self.finish(p), servfails, c.get("refused_active_limit", 0)))
        finally:
            gate.close()

    def tcp_hold(self, count=10000):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (max(soft, count + 1000), max(hard, count + 1000)))
        p = self.proxy(name="c-hold")
        obs = Observation(p.pid, p.port)
        held = []
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", p.port))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                continue
            held.append(s)
        time.sleep(5)
        for s in held:
            s.close()
        obs.close()
        c = p.counters()
        self.record("tcp_hold", "%d TCP connections opened and held 5 s" % count, obs,
                    "alive=%s, refused %d, evicted %d, accepted %d" % (
                        self.finish(p), c.get("tcp_refused_limit", 0), c.get("tcp_evicted", 0),
                        c.get("tcp_connections", 0)), "tcp")

    def slowloris(self, count=200):
        p = self.proxy(name="c-slowloris")
        obs = Observation(p.pid, p.port)
        conns = [socket.create_connection(("127.0.0.1", p.port)) for _ in range(count)]
        q = frame(make_query("www.dcp.test", "A"))
        closed = set()
        for i in range(15):  # one byte a second, for 15 s
            for k, s in enumerate(conns):
                if k in closed:
                    continue
                try:
                    s.send(q[i % len(q):i % len(q) + 1])
                except OSError:
                    closed.add(k)
            time.sleep(1)
        for s in conns:
            s.close()
        obs.close(settle=2)
        c = p.counters()
        self.record("slowloris", "%d connections sending a query one byte a second" % count, obs,
                    "alive=%s, tcp_read_timeouts=%d (closed after the 10 s idle timeout)" % (
                        self.finish(p), c.get("tcp_read_timeouts", 0)), "tcp")

    def non_readers(self, count=50, queries=2000, rounds=5):
        """The same flood several times on one proxy: memory the first round took is reused by
        the next ones (bounded), not added to (growing)."""
        p = self.proxy(name="c-nonreaders")
        obs = Observation(p.pid, p.port)
        payload = b"".join(frame(make_query("big.dcp.test", "TXT", qid=i)) for i in range(queries))
        peaks = []
        for _ in range(rounds):
            round_start = len(obs.sampler.samples)
            conns = []
            for _ in range(count):
                s = socket.create_connection(("127.0.0.1", p.port))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.setblocking(False)
                conns.append([s, 0])
            deadline = time.monotonic() + 12
            while time.monotonic() < deadline:
                for c in conns:
                    if c[1] < len(payload):
                        try:
                            c[1] += c[0].send(payload[c[1]:c[1] + 65536])
                        except OSError:
                            pass
                time.sleep(0.2)
            for c in conns:
                c[0].close()
            peaks.append(max(obs.sampler.samples[round_start:] or [0]))
            time.sleep(1)
        obs.close(settle=2)
        c = p.counters()
        self.record("non_readers", "%d connections x %d pipelined queries for a 5 KB answer, "
                    "never reading; %d rounds" % (count, queries, rounds), obs,
                    "alive=%s, peak per round %s MiB, tcp_write_timeouts=%d, tcp_idle_closed=%d, "
                    "refused_active_limit=%d, queries read %d of %d sent" % (
                        self.finish(p), " / ".join("%.1f" % (x / 1024) for x in peaks),
                        c.get("tcp_write_timeouts", 0), c.get("tcp_idle_closed", 0),
                        c.get("refused_active_limit", 0), c.get("queries_tcp", 0),
                        rounds * count * queries), "tcp")

    def table(self):
        out = ["| scenario | what | RSS MiB before / peak / after | probe UDP ok during | "
               "probe TCP ok during | recovery | bound | verdict | notes |",
               "|---|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            r = dict({"bound": "-", "verdict": "-"}, **r)
            out.append("| %(scenario)s | %(what)s | %(rss)s | %(udp)s | %(tcp)s | %(recovery)s | "
                       "%(bound)s | %(verdict)s | %(notes)s |" % r)
        return "\n".join(out)


SCENARIOS = ["upstream_restart", "suspend", "wrong_clock", "fd_exhaustion", "signal_storm",
             "active_flood", "tcp_hold", "slowloris", "non_readers"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True)
    ap.add_argument("--only", nargs="*", choices=SCENARIOS)
    ap.add_argument("--suspend", type=int, default=60)
    a = ap.parse_args()
    c = Campaign(os.path.abspath(a.proxy), a.suspend)
    try:
        for name in a.only or SCENARIOS:
            try:
                getattr(c, name)()
            except Exception as e:  # one scenario's failure is reported, the others still run
                print("[%s] FAILED: %r" % (name, e), flush=True)
                c.rows.append({"scenario": name, "what": "FAILED", "rss": "-", "udp": "-",
                               "tcp": "-", "recovery": "-", "notes": repr(e)})
                c.failures += 1
        print()
        print(c.table())
        print("\n%d passed, %d failed" % (len(c.rows) - c.failures, c.failures))
    finally:
        c.close()
    sys.exit(1 if c.failures else 0)


if __name__ == "__main__":
    main()
