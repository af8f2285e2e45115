#!/usr/bin/env python3
"""Several servers, one of them misbehaving: client latency and lost queries per candidate.

Three dnsdist DNSCrypt servers on loopback (each with its own NSD), one proxy in front of all
three, an open-loop client (a fixed rate, asyncio, every query's latency) for each scenario:

  slow     server A holds back 20 % of its UDP answers for 300 ms (dnsdist DelayAction)
  freeze   server A stops (SIGSTOP) from 20 % to 70 % of the run: a black-holed path
  healthy  nothing wrong (the cost of hedging when it is not needed)

Candidates: ours with lb_strategy first, wp2 without hedging, wp2 with hedging (the default),
and dnscrypt-proxy 2.1.18 (wp2, its default) from ../shared/peers when present. Rounds are
interleaved; the table shows medians with the spread (min-max) over rounds. "upstream/query"
is what the three dnsdists received divided by client queries: the extra load hedging costs.

  bench/multiserver.py [--rounds 3] [--seconds 20] [--rate 300] [--scenarios slow,freeze]
"""

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from lab import Lab, free_port, wait_until  # noqa: E402

PEERS = os.environ.get("DCP_PEERS", os.path.join(HERE, "..", "..", "shared", "peers"))
V2 = os.path.join(PEERS, "dnscrypt-proxy-2.1.18", "dnscrypt-proxy")
OURS = os.environ.get("DCP_PROXY_BIN") or os.path.join(HERE, "..", "build", "src", "app",
                                                       "dnscrypt-proxy")
NAMES = [b"www.dcp.test", b"mail.dcp.test"] + [b"h%d.wild.dcp.test" % i for i in range(40)]


def query(qid, name):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split(b"."):
        q += bytes([len(label)]) + label
    return q + b"\x00\x00\x01\x00\x01"


class Client(asyncio.DatagramProtocol):
    def __init__(self):
        self.sent = {}
        self.latencies = []
        self.rcodes = {}

    def datagram_received(self, data, addr):
        if len(data) < 12:
            return
        qid, flags = struct.unpack(">HH", data[:4])
        start = self.sent.pop(qid, None)
        if start is None:
            return
        self.latencies.append(time.monotonic() - start)
        rc = flags & 0xF
        self.rcodes[rc] = self.rcodes.get(rc, 0) + 1


async def open_loop(port, rate, seconds, on_time=None):
    """Sends `rate` queries a second for `seconds` (IDs never reused while pending), waits 5 s
    for stragglers; returns (latencies, rcodes, lost, sent)."""
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(
        Client, remote_addr=("127.0.0.1", port))
    start = time.monotonic()
    n = 0
    qid = random.randrange(65536)
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            break
        if on_time:
            on_time(elapsed / seconds)
        due = int(elapsed * rate) + 1
        while n < due:
            qid = (qid + 1) % 65536
            while qid in client.sent:
                qid = (qid + 1) % 65536
            client.sent[qid] = time.monotonic()
            transport.sendto(query(qid, NAMES[n % len(NAMES)]))
            n += 1
        await asyncio.sleep(0.002)
    deadline = time.monotonic() + 5
    while client.sent and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    lost = len(client.sent)
    transport.close()
    return client.latencies, client.rcodes, lost, n


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p / 100.0))]


class Candidate:
    def __init__(self, name, labs, extra=(), v2=False):
        self.name, self.labs, self.extra, self.v2 = name, labs, list(extra), v2

    def start(self, workdir):
        port = free_port()
        log = open(os.path.join(workdir, "%s-%d.log" % (self.name, port)), "w")
        if self.v2:
            conf = os.path.join(workdir, "v2-%d.toml" % port)
            with open(os.path.join(os.path.dirname(V2), "lab.toml.in")) as f:
                text = f.read()
            head, _ = text.split("[static]", 1)
            head = head.replace("{port}", str(port)).replace(
                "server_names = ['lab']", "server_names = ['a', 'b', 'c']")
            statics = "".join("  [static.'%s']\n  stamp = '%s'\n" % (n, lab.stamp)
                              for n, lab in zip("abc", self.labs))
            with open(conf, "w") as f:
                f.write(head + "lb_strategy = 'wp2'\n[static]\n" + statics)
            p = subprocess.Popen([V2, "-config", conf], stdout=log, stderr=subprocess.STDOUT)
        else:
            argv = [OURS, "--local-address", "127.0.0.1:%d" % port, "--timeout", "5000",
                    "--no-cache"]  # like the peers' lab configuration: the path, not a cache
            for lab in self.labs:
                argv += ["--resolver", lab.stamp]
            p = subprocess.Popen(argv + self.extra, stdout=log, stderr=subprocess.STDOUT)
        import dnsclient

        def ready():
            try:
                return dnsclient.Response(dnsclient.udp(port, dnsclient.make_query(
                    "www.dcp.test"), 0.3)).rcode == 0
            except OSError:
                return False
        wait_until(ready, 30, interval=0.2, what=self.name + " answering")
        time.sleep(1 if not self.v2 else 3)  # every server's certificate (2.1.18: its probes)
        return p, port


def run_one(cand, scenario, rate, seconds, workdir):
    labs = cand.labs
    a = labs[0]
    a.set_delay(0.2 if scenario == "slow" else 0, 300 if scenario == "slow" else 0)
    time.sleep(1.2)
    p, port = cand.start(workdir)
    try:
        asyncio.run(open_loop(port, rate, 3))  # warm-up: estimates learn
        before = sum(lab.dnsdist_counts()[0] for lab in labs)
        state = {"stopped": False, "resumed": False}

        def on_time(frac):
            if scenario != "freeze":
                return
            if frac >= 0.2 and not state["stopped"]:
                os.kill(a.dnsdist.pid, signal.SIGSTOP)
                state["stopped"] = True
            if frac >= 0.7 and not state["resumed"]:
                os.kill(a.dnsdist.pid, signal.SIGCONT)
                state["resumed"] = True
        try:
            lat, rcodes, lost, sent = asyncio.run(open_loop(port, rate, seconds, on_time))
        finally:
            os.kill(a.dnsdist.pid, signal.SIGCONT)
        upstream = sum(lab.dnsdist_counts()[0] for lab in labs) - before
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    servfail = sum(v for k, v in rcodes.items() if k != 0)
    return {"p50": pct(lat, 50) * 1e3, "p99": pct(lat, 99) * 1e3, "p999": pct(lat, 99.9) * 1e3,
            "lost": lost, "servfail": servfail, "sent": sent,
            "amplification": upstream / max(1, sent)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=int, default=300)
    ap.add_argument("--scenarios", default="slow,freeze,healthy")
    args = ap.parse_args()
    import tempfile
    workdir = tempfile.mkdtemp(prefix="dcp-multiserver-")
    labs = []
    try:
        for n in "abc":
            lab = Lab(provider_name="2.dnscrypt-cert.%s.test" % n)
            labs.append(lab)
            lab.start_nsd()
            lab.start_dnsdist()
            r = subprocess.run([OURS, "stamp", "encode", "--address",
                                "127.0.0.1:%d" % lab.dnsdist_port, "--provider-name",
                                lab.provider_name, "--provider-key", lab.provider_key_hex],
                               capture_output=True, text=True, check=True)
            lab.stamp = r.stdout.strip()
        cands = [Candidate("ours-first", labs, ["--lb-strategy", "first", "--no-hedging"]),
                 Candidate("ours-wp2", labs, ["--no-hedging"]),
                 Candidate("ours-wp2+hedging", labs)]
        if os.path.exists(V2):
            cands.append(Candidate("dnscrypt-proxy-2.1.18", labs, v2=True))
        results = {}
        for rnd in range(args.rounds):
            for scenario in args.scenarios.split(","):
                for cand in (cands if rnd % 2 == 0 else list(reversed(cands))):
                    r = run_one(cand, scenario, args.rate, args.seconds, workdir)
                    results.setdefault((scenario, cand.name), []).append(r)
                    print("round %d %-8s %-22s p50 %.2f p99 %.2f p99.9 %.1f ms, lost %d, "
                          "non-NOERROR %d of %d, upstream/query %.3f" % (
                              rnd + 1, scenario, cand.name, r["p50"], r["p99"], r["p999"],
                              r["lost"], r["servfail"], r["sent"], r["amplification"]),
                          flush=True)
        print("\n| scenario | candidate | p50 ms | p99 ms | p99.9 ms | lost | SERVFAIL | "
              "upstream/query |")
        print("|---|---|---|---|---|---|---|---|")
        for scenario in args.scenarios.split(","):
            for cand in cands:
                rs = results[(scenario, cand.name)]

                def col(k, fmt):
                    vals = [r[k] for r in rs]
                    return (fmt % statistics.median(vals)) + " (" + (fmt % min(vals)) + "–" + (
                        fmt % max(vals)) + ")"
                print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    scenario, cand.name, col("p50", "%.2f"), col("p99", "%.1f"),
                    col("p999", "%.0f"), col("lost", "%d"), col("servfail", "%d"),
                    col("amplification", "%.3f")))
    finally:
        for lab in labs:
            lab.stop()


if __name__ == "__main__":
    main()
