#!/usr/bin/env python3
"""DNS-over-HTTPS beside DNSCrypt, through the proxy, on loopback.

One NSD; Debian's dnsdist twice in front of it: as a DNSCrypt server (as in netbench.py) and as
a DoH server (addDOHLocal, with a certificate from a test CA made here; the proxies trust it
through SSL_CERT_FILE). For each round, interleaved, at each load (bench/dnsprobe, UDP):

- dnsdist-plain: dnsprobe straight at the DoH dnsdist's plain DNS port (the yardstick);
- ours-dnscrypt / ours-doh: the proxy (its defaults) with the DNSCrypt / the DoH stamp;
- v2-dnscrypt / v2-doh: dnscrypt-proxy 2.1.18 (../shared/peers) with the same stamps, when
  present.

Per run: queries/s answered NOERROR, lost, p50/p99 latency, the proxy's CPU time per answered
query (utime+stime, all threads, /proc), the server's (dnsdist's) CPU per query, and for ours
the TLS handshakes made (doh_connections, from the counters it logs at exit) — after the first,
there should be none. Medians (min-max) over the rounds, and the ratio of ours-doh to
ours-dnscrypt CPU per query in each round.

  bench/dohbench.py [--rounds 3] [--duration 10] [--loads serial,inflight100]

Nothing leaves 127.0.0.1.
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import dnsclient  # noqa: E402
import doh_lab  # noqa: E402
from lab import Lab, free_port, wait_until  # noqa: E402
from netbench import LOADS, cpu_seconds, run_load, summarize  # noqa: E402

OURS = os.environ.get("DCP_PROXY_BIN",
                      os.path.join(HERE, "..", "build", "src", "app", "dnscrypt-proxy"))
PROBE = os.path.join(HERE, "..", "build", "bench", "dnsprobe")
PEERS = os.environ.get("DCP_PEERS", os.path.join(HERE, "..", "..", "shared", "peers"))
V2 = os.path.join(PEERS, "dnscrypt-proxy-2.1.18", "dnscrypt-proxy")


def stamp(*args):
    return subprocess.run([OURS, "stamp", "encode"] + list(args), capture_output=True,
                          text=True, check=True).stdout.strip()


class Candidate:
    def __init__(self, name, stamp_text, server_pid, v2=False):
        self.name, self.stamp, self.server_pid, self.v2 = name, stamp_text, server_pid, v2

    def start(self, workdir, ca):
        self.port = free_port()
        self.log_path = os.path.join(workdir, "%s-%d.log" % (self.name, self.port))
        log = open(self.log_path, "w")
        env = dict(os.environ, SSL_CERT_FILE=ca)
        if self.v2:
            conf = os.path.join(workdir, "v2-%d.toml" % self.port)
            with open(os.path.join(os.path.dirname(V2), "lab.toml.in")) as f:
                text = f.read()
            text = text.replace("{port}", str(self.port)).replace("{stamp}", self.stamp)
            text = text.replace("doh_servers = false", "doh_servers = true")
            with open(conf, "w") as f:
                f.write(text)
            argv = [V2, "-config", conf]
        else:
            argv = [OURS, "--local-address", "127.0.0.1:%d" % self.port, "--resolver",
                    self.stamp, "--no-cache"]  # the peers' lab configuration has no cache
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()

        def ready():
            try:
                return dnsclient.Response(dnsclient.udp(self.port, dnsclient.make_query(
                    "www.dcp.test"), 0.3)).rcode == 0
            except OSError:
                return False
        try:
            wait_until(ready, 30, interval=0.05, what=self.name + " answering")
        except BaseException:
            self.stop()
            raise
        time.sleep(1)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def handshakes(self):
        with open(self.log_path) as f:
            m = re.search(r"stopped; counters:.*?doh_connections=(\d+)", f.read())
        return int(m.group(1)) if m else 0


def measure(port, pids, server_pid, load, duration):
    before = {p: cpu_seconds(p) for p in pids + [server_pid]}
    r = run_load(port, load, duration, None, PROBE)
    after = {p: cpu_seconds(p) for p in pids + [server_pid]}
    n = max(r["completed"], 1)
    r["server_cpu_us"] = (after[server_pid] - before[server_pid]) / n * 1e6
    if pids:
        r["cpu_us"] = (after[pids[0]] - before[pids[0]]) / n * 1e6
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds per run")
    ap.add_argument("--loads", default="serial,inflight100")
    args = ap.parse_args()
    loads = args.loads.split(",")
    for load in loads:
        if LOADS[load][0] != "dnsprobe":
            sys.exit("UDP loads only (dnsprobe): " + load)

    lab = Lab()
    workdir = tempfile.mkdtemp(prefix="dcp-dohbench-")
    try:
        lab.start_nsd()
        lab.start_dnsdist()
        ca = doh_lab.make_certificates(lab.dir)
        # NXDOMAIN for names outside the zone: dnscrypt-proxy 2 skips a DoH server that does
        # not answer its random-name check so ("may be a lying resolver").
        doh, ports = doh_lab.start_dnsdist_doh(
            lab, [(os.path.join(lab.dir, "doh.pem"), os.path.join(lab.dir, "doh.key"))],
            extra=['zone = newSuffixMatchNode()', 'zone:add("dcp.test.")',
                   'addAction(NotRule(SuffixMatchNodeRule(zone)), RCodeAction(DNSRCode.NXDOMAIN))'])
        dnscrypt_stamp = stamp("--address", "127.0.0.1:%d" % lab.dnsdist_port, "--provider-name",
                               lab.provider_name, "--provider-key", lab.provider_key_hex)
        # The port on the host name (the form dnscrypt-proxy 2 reads), the address bare.
        doh_stamp = stamp("--protocol", "doh", "--address", "127.0.0.1", "--hostname",
                          "%s:%d" % (doh_lab.HOST, ports[0]), "--path", "/dns-query")
        doh_plain = int(re.search(r'setLocal\("127\.0\.0\.1:(\d+)"\)',
                                  open(doh.conf).read()).group(1))
        cands = [Candidate("ours-dnscrypt", dnscrypt_stamp, lab.dnsdist.pid),
                 Candidate("ours-doh", doh_stamp, doh.pid)]
        if os.path.exists(V2):
            cands += [Candidate("v2-dnscrypt", dnscrypt_stamp, lab.dnsdist.pid, v2=True),
                      Candidate("v2-doh", doh_stamp, doh.pid, v2=True)]
        else:
            print("(no %s: dnscrypt-proxy 2 left out)" % V2, file=sys.stderr)
        results = {}  # (name, load) -> [run, ...]
        handshakes = {c.name: [] for c in cands}
        for rnd in range(args.rounds):
            for load in loads:
                r = measure(doh_plain, [], doh.pid, load, args.duration)
                results.setdefault(("dnsdist-plain", load), []).append(r)
            for c in cands:
                c.start(workdir, lab.dir + "/ca.pem")
                try:
                    for load in loads:
                        r = measure(c.port, [c.proc.pid], c.server_pid, load, args.duration)
                        results.setdefault((c.name, load), []).append(r)
                        print("round %d %-14s %-12s %8.0f q/s lost %-5d p50 %6.0f us p99 %7.0f us"
                              " cpu %6.1f us/q server %6.1f us/q" % (
                                  rnd + 1, c.name, load, r["qps"], r["lost"], r["p50_us"],
                                  r["p99_us"], r["cpu_us"], r["server_cpu_us"]),
                              file=sys.stderr)
                finally:
                    c.stop()
                if not c.v2:
                    handshakes[c.name].append(c.handshakes())

        print("\n| load | candidate | q/s | lost | p50 µs | p99 µs | proxy CPU µs/query | "
              "server CPU µs/query |")
        print("|---|---|---|---|---|---|---|---|")
        for load in loads:
            for name in ["dnsdist-plain"] + [c.name for c in cands]:
                runs = results.get((name, load), [])
                col = lambda k: summarize([r[k] for r in runs if k in r])
                print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    load, name, col("qps"), col("lost"), col("p50_us"), col("p99_us"),
                    col("cpu_us") if name != "dnsdist-plain" else "-", col("server_cpu_us")))
        print()
        for load in loads:
            ratios = [d["cpu_us"] / c["cpu_us"] for d, c in zip(
                results[("ours-doh", load)], results[("ours-dnscrypt", load)])]
            print("%s: ours CPU per query, DoH / DNSCrypt: %s (per round: %s)" % (
                load, summarize(ratios), ", ".join("%.2f" % x for x in ratios)))
        print("TLS handshakes per start of ours-doh (%d worker connection(s) expected): %s" % (
            2, handshakes["ours-doh"]))
        print("runs of %d s, %d rounds, %s" % (args.duration, args.rounds,
                                               time.strftime("%Y-%m-%d")))
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
