#!/usr/bin/env python3
"""Cache hits: queries/s and CPU per query when every answer comes from the cache, side by side
with the caches users would otherwise put in front (dnsdist's packet cache, Unbound), on one core.

Each candidate is pinned to CPU 1 (taskset), the load generator (bench/dnsprobe) to CPU 0, so a
candidate's queries/s is its hit throughput on one core (or the generator's ceiling, which the
"dnsdist-cache" row shows). The names (the lab zone: 203 names, type A) are asked once before
measuring, so every measured query is a hit. Rounds interleave the candidates.

  ours            this proxy, default settings (cache on, one worker per core: both on CPU 1)
  ours-t1         the same with --threads 1
  dnsdist-cache   dnsdist 1.7, plain DNS in front of NSD, newPacketCache(100000)
  unbound         Unbound 1.17 forwarding to NSD (its message cache), one thread
  v2-cache        dnscrypt-proxy 2.1.18 (../shared/peers) with its cache on, when present

  bench/cachebench.py [--duration 5] [--rounds 3] [--loads serial,inflight100]
"""

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)

import dnsclient  # noqa: E402
from lab import Lab, free_port, wait_until  # noqa: E402
from netbench import NAMES, LOADS, cpu_seconds, mem_kib, summarize  # noqa: E402

PEERS = os.path.join(HERE, "..", "..", "shared", "peers")
V2 = os.path.join(PEERS, "dnscrypt-proxy-2.1.18", "dnscrypt-proxy")
OURS = os.environ.get("DCP_PROXY_BIN") or os.path.join(HERE, "..", "build", "src", "app",
                                                       "dnscrypt-proxy")
PROBE = os.path.join(HERE, "..", "build", "bench", "dnsprobe")


class Server:
    def __init__(self, name, make_argv):
        self.name, self.make_argv = name, make_argv

    def start(self, lab, workdir):
        self.port = free_port()
        argv = self.make_argv(lab, workdir, self.port)
        self.log = open(os.path.join(workdir, "%s.log" % self.name), "ab")
        self.proc = subprocess.Popen(["taskset", "-c", "1"] + argv, stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=workdir)
        query = dnsclient.make_query("www.dcp.test", "A")

        def answered():
            try:
                return dnsclient.Response(dnsclient.udp(self.port, query, 0.1)).rcode == 0
            except OSError:
                return False
        wait_until(answered, 30, interval=0.02, what="%s to answer" % self.name)
        for name in NAMES:  # warm: every measured query is a hit
            dnsclient.udp(self.port, dnsclient.make_query(name, "A"), 2)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def ours(*extra):
    def argv(lab, workdir, port):
        return [OURS, "--local-address", "127.0.0.1:%d" % port, "--resolver-address",
                "127.0.0.1:%d" % lab.dnsdist_port, "--provider-name", "2.dnscrypt-cert.dcp.test",
                "--provider-key", lab.provider_key_hex, "--loglevel", "warning",
                "--max-active-requests", "100000"] + list(extra)
    return argv


def dnsdist_cache(lab, workdir, port):
    conf = os.path.join(workdir, "dnsdist-cache-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("""setSecurityPollSuffix("")
setLocal("127.0.0.1:%d")
newServer({address="127.0.0.1:%d"})
pc = newPacketCache(100000, {maxTTL=86400, minTTL=0})
getPool(""):setCache(pc)
""" % (port, lab.nsd_port))
    return ["dnsdist", "--supervised", "--disable-syslog", "-C", conf]


def unbound(lab, workdir, port):
    conf = os.path.join(workdir, "unbound-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("""server:
  interface: 127.0.0.1
  port: %d
  do-ip6: no
  username: ""
  chroot: ""
  directory: "%s"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 0
  num-threads: 1
  do-not-query-localhost: no
  local-zone: "test." nodefault
  domain-insecure: "test."
  module-config: "iterator"
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@%d
remote-control:
  control-enable: no
""" % (port, workdir, lab.nsd_port))
    return ["unbound", "-d", "-c", conf]


def v2_cache(lab, workdir, port):
    stamp = subprocess.run([OURS, "stamp", "encode", "--address",
                            "127.0.0.1:%d" % lab.dnsdist_port, "--provider-name",
                            "2.dnscrypt-cert.dcp.test", "--provider-key", lab.provider_key_hex],
                           capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(os.path.dirname(V2), "lab.toml.in")) as f:
        text = f.read()
    text = text.replace("{port}", str(port)).replace("{stamp}", stamp)
    text = text.replace("cache = false", "cache = true\ncache_size = 4096")
    conf = os.path.join(workdir, "v2-%d.toml" % port)
    with open(conf, "w") as f:
        f.write(text)
    return [V2, "-config", conf]


def measure(server, load, duration):
    _, in_flight = LOADS[load]
    before = cpu_seconds(server.proc.pid)
    out = subprocess.run(["taskset", "-c", "0", PROBE, str(server.port), str(in_flight),
                          str(duration)] + NAMES, capture_output=True, text=True,
                         check=True).stdout
    after = cpu_seconds(server.proc.pid)
    v = dict(kv.split("=") for kv in out.split())
    done = max(int(v["completed"]), 1)
    return {"qps": float(v["qps"]), "lost": int(v["lost"]) + int(v["errors"]),
            "p50_us": float(v["p50_us"]), "p99_us": float(v["p99_us"]),
            "cpu_us": (after - before) / done * 1e6, "rss_kib": mem_kib(server.proc.pid, "VmRSS")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--loads", default="serial,inflight100")
    args = ap.parse_args()
    servers = [Server("ours", ours()), Server("ours-t1", ours("--threads", "1")),
               Server("dnsdist-cache", dnsdist_cache), Server("unbound", unbound)]
    if os.path.exists(V2):
        servers.append(Server("v2-cache", v2_cache))
    loads = args.loads.split(",")
    lab = Lab()
    workdir = tempfile.mkdtemp(prefix="dcp-cachebench-")
    results = {}
    try:
        lab.start_nsd()
        lab.start_dnsdist()
        for rnd in range(args.rounds):
            for s in servers:
                s.start(lab, workdir)
                try:
                    for load in loads:
                        r = measure(s, load, args.duration)
                        results.setdefault((s.name, load), []).append(r)
                        print("round %d %-14s %-12s qps=%.0f lost=%d p50=%.0fus p99=%.0fus "
                              "cpu=%.2fus" % (rnd + 1, s.name, load, r["qps"], r["lost"],
                                              r["p50_us"], r["p99_us"], r["cpu_us"]), flush=True)
                finally:
                    s.stop()
    finally:
        lab.stop()
    print("\n| candidate | load | queries/s | lost | p50 µs | p99 µs | CPU µs/query | "
          "queries/s per core (1e6 / CPU µs) | RSS KiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in servers:
        for load in loads:
            runs = results.get((s.name, load), [])
            col = lambda k: summarize([r[k] for r in runs])
            per_core = summarize([1e6 / r["cpu_us"] for r in runs if r["cpu_us"] > 0])
            print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                s.name, load, col("qps"), col("lost"), col("p50_us"), col("p99_us"),
                col("cpu_us"), per_core, col("rss_kib")))
    print("\nmedian (min-max) over %d rounds of %d s; candidates on CPU 1, dnsprobe on CPU 0."
          % (args.rounds, args.duration))


if __name__ == "__main__":
    main()
