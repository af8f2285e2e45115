#!/usr/bin/env python3
"""Side-by-side benchmark of DNSCrypt client proxies on loopback.

Starts NSD and Debian's dnsdist (DNSCrypt server in front of NSD) exactly as the integration
tests do, then drives each candidate with dnsperf at several loads, interleaving candidates
(A B A B ...) for several rounds. Every run also measures dnsperf straight at dnsdist's plain DNS
port, so that figures can be read as ratios against a baseline taken in the same session, and
(UDP loads) bench/dnsprobe speaking DNSCrypt itself straight at dnsdist ("dnscrypt-direct"): the
chain with no proxy in it, so that a proxy's own share of the latency shows.

Per candidate and load it records: queries/s completed (NOERROR answers), queries lost (no
answer, or an error RCODE), average and
50th/99th percentile latency (bench/dnsprobe, UDP; dnsperf for TCP, average only), the proxy's CPU time per completed query
(utime+stime of all its threads, /proc), its peak RSS, idle RSS, and time to first answer.

  bench/netbench.py [--duration S] [--rounds N] [--loads serial,inflight100,tcp100]
                    [--candidate 'name=command line with {port} {resolver} {provider_name}
                                  {provider_key}'] ...

The proxy under test is always a candidate ("ours", $DCP_PROXY_BIN or build/src/app/...).
Nothing leaves 127.0.0.1.
"""

import argparse
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import dnsclient  # noqa: E402
from lab import Lab, free_port, wait_until  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
LOADS = {
    # name: (tool, queries in flight). UDP loads use bench/dnsprobe (per-query latencies, hence
    # percentiles); TCP uses dnsperf (pipelined queries on 4 connections; average latency only).
    "serial": ("dnsprobe", 1),
    "inflight100": ("dnsprobe", 100),
    "inflight1000": ("dnsprobe", 1000),
    "tcp100": ("dnsperf-tcp", 100),
}
NAMES = ["www.dcp.test", "mail.dcp.test", "ns1.dcp.test"] + ["h%d.wild.dcp.test" % i
                                                             for i in range(200)]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime, all threads


def mem_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def write_queries(path):
    with open(path, "w") as f:
        for name in NAMES:
            f.write("%s A\n" % name)


def run_load(port, load, duration, queries, probe, dnscrypt=None):
    """dnscrypt: (provider name, provider key) to have dnsprobe encrypt its queries itself."""
    tool, in_flight = LOADS[load]
    if tool == "dnsprobe":
        prefix = ["--dnscrypt", dnscrypt[0], dnscrypt[1]] if dnscrypt else []
        out = subprocess.run([probe] + prefix + [str(port), str(in_flight), str(duration)] + NAMES,
                             capture_output=True, text=True, check=True).stdout
        v = dict(kv.split("=") for kv in out.split())
        return {"qps": float(v["qps"]), "completed": int(v["completed"]),
                "lost": int(v["lost"]) + int(v["errors"]),
                "avg_us": float(v["avg_us"]), "p50_us": float(v["p50_us"]),
                "p99_us": float(v["p99_us"])}
    args = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", queries, "-l", str(duration),
            "-t", "2", "-m", "tcp", "-q", str(in_flight), "-c", "4"]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    return {"qps": float(re.search(r"Queries per second:\s+([0-9.]+)", out).group(1)),
            "completed": int(re.search(r"Queries completed:\s+(\d+)", out).group(1)),
            "lost": int(re.search(r"Queries lost:\s+(\d+)", out).group(1)),
            "avg_us": float(re.search(r"Average Latency \(s\):\s+([0-9.]+)", out).group(1)) * 1e6,
            "p50_us": float("nan"), "p99_us": float("nan")}


class Candidate:
    def __init__(self, name, command):
        self.name, self.command = name, command
        self.proc, self.port = None, None

    def start(self, lab, workdir):
        self.port = free_port()
        cmd = self.command.format(port=self.port, resolver="127.0.0.1:%d" % lab.dnsdist_port,
                                  provider_name="2.dnscrypt-cert.dcp.test",
                                  provider_key=lab.provider_key_hex)
        self.log = open(os.path.join(workdir, "%s.log" % self.name), "ab")
        start = time.monotonic()
        self.proc = subprocess.Popen(shlex.split(cmd), stdout=self.log, stderr=subprocess.STDOUT)
        query = dnsclient.make_query("www.dcp.test", "A")

        def answered():
            try:
                wire = dnsclient.udp(self.port, query, 0.05)
            except OSError:
                return False
            try:
                return dnsclient.Response(wire).rcode == 0
            except (IndexError, ValueError) as e:
                raise RuntimeError("%s sent a malformed answer %s (%s)" % (
                    self.name, wire.hex(), e)) from e
        try:
            wait_until(answered, 30, interval=0.002, what="%s to answer" % self.name)
        except BaseException:
            self.stop()  # never leave a candidate running behind a failed benchmark
            raise
        self.first_answer_s = time.monotonic() - start
        time.sleep(1.0)
        self.idle_rss = mem_kib(self.proc.pid, "VmRSS")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# The second baseline: dnsprobe speaking DNSCrypt itself straight to dnsdist (no proxy at all),
# the floor for any proxy's latency through this chain. UDP loads only.
DIRECT = "dnscrypt-direct"


def measure(lab, cand, load, duration, queries, probe):
    """One run against a candidate, dnsdist plain (cand None) or dnsdist DNSCrypt (DIRECT)."""
    direct = cand == DIRECT
    if direct:
        cand = None
    port = lab.dnsdist_port if direct else cand.port if cand else lab.dnsdist_plain_port
    dnsdist_pid = [p for p in lab.procs if p.name == "dnsdist"][0].pid
    pids = [cand.proc.pid] if cand else []
    before = {pid: cpu_seconds(pid) for pid in pids + [dnsdist_pid]}
    r = run_load(port, load, duration, queries, probe,
                 ("2.dnscrypt-cert.dcp.test", lab.provider_key_hex) if direct else None)
    after = {pid: cpu_seconds(pid) for pid in pids + [dnsdist_pid]}
    n = max(r["completed"], 1)
    r["dnsdist_cpu_us"] = (after[dnsdist_pid] - before[dnsdist_pid]) / n * 1e6
    if cand:
        r["cpu_us"] = (after[cand.proc.pid] - before[cand.proc.pid]) / n * 1e6
        r["peak_rss_kib"] = mem_kib(cand.proc.pid, "VmHWM")
    return r


def summarize(values):
    values = [v for v in values if v == v]  # drop NaN
    if not values:
        return "-"
    med = statistics.median(values)
    fmt = (lambda v: "%.0f" % v) if med >= 100 else (lambda v: "%.1f" % v)
    if len(values) == 1:
        return fmt(med)
    return "%s (%s-%s)" % (fmt(med), fmt(min(values)), fmt(max(values)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--duration", type=int, default=10, help="seconds per dnsperf run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--loads", default="serial,inflight100,inflight1000,tcp100")
    ap.add_argument("--candidate", action="append", default=[],
                    help="name=command line (placeholders {port} {resolver} {provider_name} "
                         "{provider_key})")
    args = ap.parse_args()

    build = os.path.join(HERE, "..", "build")
    binary = os.environ.get("DCP_PROXY_BIN") or os.path.join(build, "src", "app", "dnscrypt-proxy")
    probe = os.path.join(build, "bench", "dnsprobe")
    candidates = [Candidate("ours", binary + " --local-address 127.0.0.1:{port} "
                            "--resolver-address {resolver} --provider-name {provider_name} "
                            "--provider-key {provider_key} --loglevel warning --no-cache "
                            "--max-active-requests 100000")]
    for spec in args.candidate:
        name, _, command = spec.partition("=")
        candidates.append(Candidate(name, command))
    loads = args.loads.split(",")

    lab = Lab()
    workdir = tempfile.mkdtemp(prefix="dcp-bench-")
    queries = os.path.join(workdir, "queries.txt")
    write_queries(queries)
    results = {}  # (candidate, load) -> list of run dicts
    extras = {}   # candidate -> dict of lists
    try:
        lab.start_nsd()
        lab.start_dnsdist()
        for rnd in range(args.rounds):
            # Interleaved: baselines, A, B, ... every round.
            for cand in [None, DIRECT] + candidates:
                name = (DIRECT if cand == DIRECT else cand.name if cand else "dnsdist-plain")
                if cand and cand != DIRECT:
                    cand.start(lab, workdir)
                    e = extras.setdefault(name, {"first_answer_ms": [], "idle_rss_kib": []})
                    e["first_answer_ms"].append(cand.first_answer_s * 1000)
                    e["idle_rss_kib"].append(cand.idle_rss)
                try:
                    for load in loads:
                        if cand == DIRECT and LOADS[load][0] != "dnsprobe":
                            continue
                        r = measure(lab, cand, load, args.duration, queries, probe)
                        results.setdefault((name, load), []).append(r)
                        print("round %d %-14s %-12s qps=%.0f lost=%d avg=%.0fus p50=%.0fus p99=%.0fus cpu=%s" % (
                            rnd + 1, name, load, r["qps"], r["lost"], r["avg_us"], r["p50_us"], r["p99_us"],
                            "%.1fus" % r["cpu_us"] if "cpu_us" in r else "-"), flush=True)
                finally:
                    if cand and cand != DIRECT:
                        cand.stop()
    finally:
        lab.stop()

    print("\n| candidate | load | queries/s | lost | avg µs | p50 µs | p99 µs | proxy CPU µs/query | "
          "dnsdist CPU µs/query | peak RSS KiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for cand_name in ["dnsdist-plain", DIRECT] + [c.name for c in candidates]:
        for load in loads:
            runs = results.get((cand_name, load), [])
            if not runs:
                continue
            col = lambda k: summarize([r[k] for r in runs if k in r])
            print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                cand_name, load, col("qps"), col("lost"), col("avg_us"), col("p50_us"), col("p99_us"),
                col("cpu_us"), col("dnsdist_cpu_us"), col("peak_rss_kib")))
    print("\n| candidate | idle RSS KiB | time to first answer ms |")
    print("|---|---|---|")
    for name, e in extras.items():
        print("| %s | %s | %s |" % (name, summarize(e["idle_rss_kib"]),
                                     summarize(e["first_answer_ms"])))
    print("\nmedian (min-max) over %d rounds of %d s per load; baseline measured in the same run."
          % (args.rounds, args.duration))


if __name__ == "__main__":
    main()
