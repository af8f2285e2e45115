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

With --scenario ceiling the DNSCrypt server is bench/dnscrypt_responder (answers from memory,
batched), and every candidate is pinned to one core (taskset, --proxy-cpu) while the responder and
the load generator share the other (--load-cpu): offered load is raised (--loads, in flight
16 ... 1000) until answers stop growing, so the table shows each proxy's maximum queries/s on one
core and its CPU per query there. Its baselines: dnsprobe in plain DNS straight at the responder
("responder-plain") and speaking DNSCrypt to it ("dnscrypt-direct").

  bench/netbench.py [--scenario lab|ceiling] [--duration S] [--rounds N]
                    [--loads serial,inflight100,tcp100] [--candidates ours,ours-t1,...]
                    [--candidate 'name=command line with {port} {resolver} {provider_name}
                                  {provider_key} {provider_key_colon} {stamp}'] ...

Candidates by default: "ours" ($DCP_PROXY_BIN or build/src/app/..., its default threads),
"ours-t1" (--threads 1), and the reference peers from ../shared/peers ($DCP_PEERS) when present:
"dnscrypt-proxy-1.9.5" and "dnscrypt-proxy-2.1.18" (its lab.toml.in, filled in per start).
Every candidate gets the same admission limit (100000 requests), no cache.
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
    "inflight10": ("dnsprobe", 10),
    "inflight16": ("dnsprobe", 16),
    "inflight300": ("dnsprobe", 300),
    "tcp100": ("dnsperf-tcp", 100),
}
CEILING_LOADS = "inflight16,inflight100,inflight300,inflight1000"
PEERS = os.environ.get("DCP_PEERS", os.path.join(HERE, "..", "..", "shared", "peers"))
V1 = os.path.join(PEERS, "dnscrypt-proxy-1.9.5", "dnscrypt-proxy")
V2 = os.path.join(PEERS, "dnscrypt-proxy-2.1.18", "dnscrypt-proxy")
NAMES = ["www.dcp.test", "mail.dcp.test", "ns1.dcp.test"] + ["h%d.wild.dcp.test" % i
                                                             for i in range(200)]


def cpu_split(pid):
    """(user, system) CPU seconds of all the process's threads."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def cpu_seconds(pid):
    return sum(cpu_split(pid))


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


def run_load(port, load, duration, queries, probe, dnscrypt=None, cpu=None):
    """dnscrypt: (provider name, provider key) to have dnsprobe encrypt its queries itself;
    cpu: the core the load generator is pinned to."""
    tool, in_flight = LOADS[load]
    pin = ["taskset", "-c", cpu] if cpu is not None else []
    if tool == "dnsprobe":
        prefix = ["--dnscrypt", dnscrypt[0], dnscrypt[1]] if dnscrypt else []
        out = subprocess.run(pin + [probe] + prefix + [str(port), str(in_flight), str(duration)] + NAMES,
                             capture_output=True, text=True, check=True).stdout
        v = dict(kv.split("=") for kv in out.split())
        return {"qps": float(v["qps"]), "completed": int(v["completed"]),
                "lost": int(v["lost"]) + int(v["errors"]),
                "avg_us": float(v["avg_us"]), "p50_us": float(v["p50_us"]),
                "p99_us": float(v["p99_us"])}
    args = pin + ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", queries, "-l", str(duration),
            "-t", "2", "-m", "tcp", "-q", str(in_flight), "-c", "4"]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    return {"qps": float(re.search(r"Queries per second:\s+([0-9.]+)", out).group(1)),
            "completed": int(re.search(r"Queries completed:\s+(\d+)", out).group(1)),
            "lost": int(re.search(r"Queries lost:\s+(\d+)", out).group(1)),
            "avg_us": float(re.search(r"Average Latency \(s\):\s+([0-9.]+)", out).group(1)) * 1e6,
            "p50_us": float("nan"), "p99_us": float("nan")}


class Upstream:
    """The DNSCrypt server the candidates talk to: the lab's dnsdist or the responder."""

    def __init__(self, port, plain_port, provider_name, provider_key_hex, pid, ours):
        self.port, self.plain_port, self.pid = port, plain_port, pid
        self.provider_name, self.provider_key_hex = provider_name, provider_key_hex
        self.stamp = subprocess.run(
            [ours, "stamp", "encode", "--address", "127.0.0.1:%d" % port, "--provider-name",
             provider_name, "--provider-key", provider_key_hex],
            capture_output=True, text=True, check=True).stdout.strip()


class Candidate:
    def __init__(self, name, command, v2_config=False):
        self.name, self.command, self.v2_config = name, command, v2_config
        self.proc, self.port = None, None

    def start(self, upstream, workdir, cpu=None):
        self.port = free_port()
        key = upstream.provider_key_hex
        fields = dict(port=self.port, resolver="127.0.0.1:%d" % upstream.port,
                      provider_name=upstream.provider_name, provider_key=key,
                      provider_key_colon=":".join(key[i:i + 4] for i in range(0, 64, 4)),
                      stamp=upstream.stamp)
        if self.v2_config:
            # dnscrypt-proxy 2's lab file, with the admission limit the others get.
            with open(os.path.join(os.path.dirname(V2), "lab.toml.in")) as f:
                text = f.read()
            text = text.replace("{port}", str(self.port)).replace("{stamp}", upstream.stamp)
            text = re.sub(r"(?m)^max_clients = \d+", "max_clients = 100000", text)
            fields["config"] = os.path.join(workdir, "v2-%d.toml" % self.port)
            with open(fields["config"], "w") as f:
                f.write(text)
        argv = shlex.split(self.command.format(**fields))
        if cpu is not None:
            argv = ["taskset", "-c", cpu] + argv  # taskset execs: the PID stays the proxy's
        self.log = open(os.path.join(workdir, "%s.log" % self.name), "ab")
        start = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
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


def builtin_candidates(binary):
    ours = (binary + " --local-address 127.0.0.1:{port} --resolver-address {resolver} "
            "--provider-name {provider_name} --provider-key {provider_key} --loglevel warning "
            "--no-cache --max-active-requests 100000")
    cands = [Candidate("ours", ours), Candidate("ours-t1", ours + " --threads 1")]
    if os.access(V1, os.X_OK):
        cands.append(Candidate("dnscrypt-proxy-1.9.5", V1 + " --local-address=127.0.0.1:{port} "
                               "--resolver-address={resolver} --provider-name={provider_name} "
                               "--provider-key={provider_key_colon} --max-active-requests=100000"))
    if os.access(V2, os.X_OK):
        cands.append(Candidate("dnscrypt-proxy-2.1.18", V2 + " -config {config}", v2_config=True))
    return cands


# The second baseline: dnsprobe speaking DNSCrypt itself straight to dnsdist (no proxy at all),
# the floor for any proxy's latency through this chain. UDP loads only.
DIRECT = "dnscrypt-direct"


PLAIN = "plain"  # the first baseline: plain DNS straight at the server


def measure(upstream, cand, load, duration, queries, probe, cpu=None):
    """One run against a candidate, the server's plain DNS (PLAIN) or its DNSCrypt (DIRECT)."""
    baseline = cand in (PLAIN, DIRECT)
    port = (upstream.plain_port if cand == PLAIN else upstream.port if cand == DIRECT
            else cand.port)
    pids = [] if baseline else [cand.proc.pid]
    before = {pid: cpu_split(pid) for pid in pids + [upstream.pid]}
    r = run_load(port, load, duration, queries, probe,
                 (upstream.provider_name, upstream.provider_key_hex) if cand == DIRECT else None,
                 cpu)
    after = {pid: cpu_split(pid) for pid in pids + [upstream.pid]}
    n = max(r["completed"], 1)
    r["server_cpu_us"] = (sum(after[upstream.pid]) - sum(before[upstream.pid])) / n * 1e6
    if not baseline:
        pid = cand.proc.pid
        r["cpu_us"] = (sum(after[pid]) - sum(before[pid])) / n * 1e6
        r["sys_cpu_us"] = (after[pid][1] - before[pid][1]) / n * 1e6  # of which in the kernel
        r["peak_rss_kib"] = mem_kib(pid, "VmHWM")
    return r


def start_responder(workdir, build, cpu, ours):
    port = free_port()
    argv = ["taskset", "-c", cpu] if cpu is not None else []
    proc = subprocess.Popen(argv + [os.path.join(build, "bench", "dnscrypt_responder"), str(port)],
                            stdout=subprocess.PIPE, text=True)
    fields = dict(kv.split("=") for kv in proc.stdout.readline().split())
    # The responder answers plain DNS on the same port.
    return proc, Upstream(port, port, fields["provider_name"], fields["provider_key"], proc.pid,
                          ours)


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
    ap.add_argument("--scenario", choices=["lab", "ceiling"], default="lab")
    ap.add_argument("--duration", type=int, default=10, help="seconds per dnsperf run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--loads", help="lab: serial,inflight100,inflight1000,tcp100; ceiling: "
                    + CEILING_LOADS)
    ap.add_argument("--candidates", help="built-in candidates to run, comma-separated "
                    "(default: all present)")
    ap.add_argument("--candidate", action="append", default=[],
                    help="name=command line (placeholders {port} {resolver} {provider_name} "
                         "{provider_key} {provider_key_colon} {stamp})")
    ap.add_argument("--proxy-cpu", default="0", help="ceiling: the candidates' core")
    ap.add_argument("--load-cpu", default="1", help="ceiling: the responder's and dnsprobe's core")
    args = ap.parse_args()
    ceiling = args.scenario == "ceiling"

    build = os.path.join(HERE, "..", "build")
    binary = os.environ.get("DCP_PROXY_BIN") or os.path.join(build, "src", "app", "dnscrypt-proxy")
    probe = os.path.join(build, "bench", "dnsprobe")
    candidates = builtin_candidates(binary)
    if args.candidates:
        wanted = args.candidates.split(",")
        candidates = [c for c in candidates if c.name in wanted]
    for spec in args.candidate:
        name, _, command = spec.partition("=")
        candidates.append(Candidate(name, command))
    loads = (args.loads or (CEILING_LOADS if ceiling else
                            "serial,inflight100,inflight1000,tcp100")).split(",")
    proxy_cpu = args.proxy_cpu if ceiling else None
    load_cpu = args.load_cpu if ceiling else None
    plain_name = "responder-plain" if ceiling else "dnsdist-plain"

    lab = Lab()
    responder = None
    workdir = tempfile.mkdtemp(prefix="dcp-bench-")
    queries = os.path.join(workdir, "queries.txt")
    write_queries(queries)
    results = {}  # (candidate, load) -> list of run dicts
    extras = {}   # candidate -> dict of lists
    try:
        if ceiling:
            responder, upstream = start_responder(workdir, build, load_cpu, binary)
        else:
            lab.start_nsd()
            lab.start_dnsdist()
            dnsdist_pid = [p for p in lab.procs if p.name == "dnsdist"][0].pid
            upstream = Upstream(lab.dnsdist_port, lab.dnsdist_plain_port, lab.provider_name,
                                lab.provider_key_hex, dnsdist_pid, binary)
        for rnd in range(args.rounds):
            # Interleaved: baselines, A, B, ... every round.
            for cand in [PLAIN, DIRECT] + candidates:
                baseline = cand in (PLAIN, DIRECT)
                name = plain_name if cand == PLAIN else DIRECT if cand == DIRECT else cand.name
                if not baseline:
                    cand.start(upstream, workdir, proxy_cpu)
                    e = extras.setdefault(name, {"first_answer_ms": [], "idle_rss_kib": []})
                    e["first_answer_ms"].append(cand.first_answer_s * 1000)
                    e["idle_rss_kib"].append(cand.idle_rss)
                try:
                    for load in loads:
                        if cand == DIRECT and LOADS[load][0] != "dnsprobe":
                            continue
                        r = measure(upstream, cand, load, args.duration, queries, probe, load_cpu)
                        results.setdefault((name, load), []).append(r)
                        print("round %d %-22s %-12s qps=%.0f lost=%d avg=%.0fus p50=%.0fus "
                              "p99=%.0fus cpu=%s" % (
                                  rnd + 1, name, load, r["qps"], r["lost"], r["avg_us"],
                                  r["p50_us"], r["p99_us"],
                                  "%.1fus" % r["cpu_us"] if "cpu_us" in r else "-"), flush=True)
                finally:
                    if not baseline:
                        cand.stop()
    finally:
        if responder:
            responder.kill()
            responder.wait()
        lab.stop()

    names = [plain_name, DIRECT] + [c.name for c in candidates]
    print("\n| candidate | load | queries/s | lost | avg µs | p50 µs | p99 µs | proxy CPU µs/query | "
          "of which kernel | server CPU µs/query | peak RSS KiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for cand_name in names:
        for load in loads:
            runs = results.get((cand_name, load), [])
            if not runs:
                continue
            col = lambda k: summarize([r[k] for r in runs if k in r])
            print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                cand_name, load, col("qps"), col("lost"), col("avg_us"), col("p50_us"),
                col("p99_us"), col("cpu_us"), col("sys_cpu_us"), col("server_cpu_us"),
                col("peak_rss_kib")))
    if ceiling:
        # Per candidate, the load where the median answers/s peaked: its ceiling on one core.
        print("\n| candidate | ceiling queries/s | at | proxy CPU µs/query there | "
              "lost up to it | ratio to 1.9.5 |")
        print("|---|---|---|---|---|---|")
        rows = []
        for cand_name in names:
            runs = [(load, results.get((cand_name, load), [])) for load in loads]
            runs = [(load, rs) for load, rs in runs if rs]
            if runs:
                best = max(runs, key=lambda lr: statistics.median(r["qps"] for r in lr[1]))
                upto = loads[:loads.index(best[0]) + 1]
                lost = sum(r["lost"] for load, rs in runs if load in upto for r in rs)
                rows.append((cand_name, best, lost, statistics.median(r["qps"] for r in best[1])))
        v1 = next((peak for n, _, _, peak in rows if n == "dnscrypt-proxy-1.9.5"), None)
        for cand_name, (load, runs), lost, peak in rows:
            print("| %s | %s | %s | %s | %d | %s |" % (
                cand_name, summarize([r["qps"] for r in runs]), load,
                summarize([r["cpu_us"] for r in runs if "cpu_us" in r]), lost,
                "%.2f" % (peak / v1) if v1 else "-"))
    print("\n| candidate | idle RSS KiB | time to first answer ms |")
    print("|---|---|---|")
    for name, e in extras.items():
        print("| %s | %s | %s |" % (name, summarize(e["idle_rss_kib"]),
                                     summarize(e["first_answer_ms"])))
    print("\nmedian (min-max) over %d rounds of %d s per load; baselines measured in the same run."
          % (args.rounds, args.duration))


if __name__ == "__main__":
    main()
