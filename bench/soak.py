#!/usr/bin/env python3
"""Steady load for a long time: does the proxy's memory grow, does it lose queries?

Starts the loopback lab (NSD + dnsdist) and the proxy, then runs bench/dnsprobe at IN_FLIGHT
queries in flight for MINUTES, one minute at a time, and prints after every minute the answers,
lost queries and the proxy's RSS, split into anonymous memory (heap, stacks: what a leak grows)
and file pages (code and libraries, which grow a little as rarer paths run for the first time);
at the end the first and last figures and the totals.

  bench/soak.py [--minutes 10] [--in-flight 100]
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from netbench import NAMES, Candidate, Lab, Upstream, mem_kib  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--minutes", type=int, default=10)
    ap.add_argument("--in-flight", type=int, default=100)
    args = ap.parse_args()
    build = os.path.join(HERE, "..", "build")
    binary = os.environ.get("DCP_PROXY_BIN") or os.path.join(build, "src", "app", "dnscrypt-proxy")
    probe = os.path.join(build, "bench", "dnsprobe")
    proxy = Candidate("ours", binary + " --local-address 127.0.0.1:{port} "
                      "--resolver-address {resolver} --provider-name {provider_name} "
                      "--provider-key {provider_key} --loglevel warning --no-cache")
    lab = Lab()
    workdir = tempfile.mkdtemp(prefix="dcp-soak-")
    answered = lost = 0
    rss = []
    anon = []
    try:
        lab.start_nsd()
        lab.start_dnsdist()
        dnsdist_pid = [p for p in lab.procs if p.name == "dnsdist"][0].pid
        proxy.start(Upstream(lab.dnsdist_port, lab.dnsdist_plain_port, lab.provider_name,
                             lab.provider_key_hex, dnsdist_pid, binary), workdir)
        rss.append(mem_kib(proxy.proc.pid, "VmRSS"))
        print("start: RSS %d KiB" % rss[0], flush=True)
        for minute in range(1, args.minutes + 1):
            out = subprocess.run([probe, str(proxy.port), str(args.in_flight), "60"] + NAMES,
                                 capture_output=True, text=True, check=True).stdout
            v = dict(kv.split("=") for kv in out.split())
            answered += int(v["completed"])
            lost += int(v["lost"]) + int(v["errors"])
            rss.append(mem_kib(proxy.proc.pid, "VmRSS"))
            anon.append(mem_kib(proxy.proc.pid, "RssAnon"))
            print("minute %d: %s answered, %s lost, %s q/s, RSS %d KiB (anonymous %d, file %d)" % (
                minute, v["completed"], int(v["lost"]) + int(v["errors"]), v["qps"], rss[-1],
                anon[-1], mem_kib(proxy.proc.pid, "RssFile")), flush=True)
        peak = mem_kib(proxy.proc.pid, "VmHWM")
        proxy.stop()
    finally:
        lab.stop()
    print("total: %d answered, %d lost; RSS after the first minute %d KiB, at the end %d KiB, "
          "peak %d KiB; anonymous after the first minute %d KiB, at the end %d KiB" % (
              answered, lost, rss[1] if len(rss) > 1 else rss[0], rss[-1], peak,
              anon[0] if anon else 0, anon[-1] if anon else 0))


if __name__ == "__main__":
    main()
