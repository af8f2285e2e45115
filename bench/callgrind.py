#!/usr/bin/env python3
"""Deterministic cost per query: instructions counted by valgrind's callgrind, not seconds, and
heap allocations counted by memcheck.

Runs the proxy under callgrind twice against the loopback lab (NSD + dnsdist), once answering
N1 queries and once N2, sent one at a time over UDP; (Ir(N2) - Ir(N1)) / (N2 - N1) is the cost of
one query with start-up, certificate fetch and shutdown cancelled out. Compare commits with it:
the same binary and inputs give the same count whatever else the machine is doing. The same
difference taken over memcheck's "total heap usage" gives heap allocations per query.

With --cache the proxy keeps its cache (the default) and every query after the first four is a
cache hit: the cost of a hit. Without it, --no-cache: the cost of the way to the resolver. With
--blocked every name is blocked by a blocked_names rule (answered here, HINFO).

  bench/callgrind.py [--n1 500] [--n2 2500] [--no-allocs] [--cache | --blocked]
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import dnsclient  # noqa: E402
from lab import Lab, free_port, wait_until  # noqa: E402


def run_queries(lab, binary, queries, workdir, tool, cache=False, extra=()):
    """Runs the proxy under valgrind `tool`, answers `queries` queries; returns the tool's count."""
    port = free_port()
    out = os.path.join(workdir, "%s.%d.out" % (tool, queries))
    log_path = os.path.join(workdir, "proxy.%s.%d.log" % (tool, queries))
    log = open(log_path, "wb")
    if tool == "callgrind":
        tool_args = ["--tool=callgrind", "--callgrind-out-file=" + out]
    else:
        tool_args = ["--tool=memcheck", "--leak-check=no", "--log-file=" + out]
    proc = subprocess.Popen(
        ["valgrind"] + tool_args + [binary,
         "--local-address", "127.0.0.1:%d" % port, "--resolver-address",
         "127.0.0.1:%d" % lab.dnsdist_port, "--provider-name", "2.dnscrypt-cert.dcp.test",
         "--provider-key", lab.provider_key_hex, "--loglevel", "warning"]
        + ([] if cache else ["--no-cache"]) + list(extra),
        stdout=log, stderr=subprocess.STDOUT)
    warm = dnsclient.make_query("www.dcp.test", "A")

    def ready():
        try:
            return dnsclient.Response(dnsclient.udp(port, warm, 0.5)).rcode == 0
        except OSError:
            return False
    wait_until(ready, 60, interval=0.1, what="the proxy under valgrind")
    names = ["www.dcp.test", "dcp.test", "h1.wild.dcp.test", "mail.dcp.test"]
    for i in range(queries):
        q = dnsclient.make_query(names[i % len(names)], "A", qid=i)
        r = dnsclient.Response(dnsclient.udp(port, q, 5))
        assert r.rcode == 0
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    log.close()
    with open(out) as f:
        text = f.read()
    if tool == "callgrind":
        m = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
    else:
        m = re.search(r"total heap usage: ([\d,]+) allocs", text)
    return int(m.group(1).replace(",", ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n1", type=int, default=500)
    ap.add_argument("--n2", type=int, default=2500)
    ap.add_argument("--no-allocs", action="store_true", help="skip the memcheck runs")
    ap.add_argument("--cache", action="store_true", help="cache hits instead of the resolver")
    ap.add_argument("--blocked", action="store_true", help="every name blocked by a rule")
    args = ap.parse_args()
    binary = os.environ.get("DCP_PROXY_BIN") or os.path.join(HERE, "..", "build", "src", "app",
                                                             "dnscrypt-proxy")
    workdir = tempfile.mkdtemp(prefix="dcp-callgrind-")
    extra = []
    if args.blocked:
        blocked = os.path.join(workdir, "blocked.txt")
        with open(blocked, "w") as f:
            f.write("# every name the bench asks\ndcp.test\n")
        extra = ["--blocked-names", blocked]
    lab = Lab()
    try:
        lab.start_nsd()
        lab.start_dnsdist()
        ir1 = run_queries(lab, binary, args.n1, workdir, "callgrind", args.cache, extra)
        ir2 = run_queries(lab, binary, args.n2, workdir, "callgrind", args.cache, extra)
        if not args.no_allocs:
            a1 = run_queries(lab, binary, args.n1, workdir, "memcheck", args.cache, extra)
            a2 = run_queries(lab, binary, args.n2, workdir, "memcheck", args.cache, extra)
    finally:
        lab.stop()
    per_query = (ir2 - ir1) / (args.n2 - args.n1)
    print("Ir(%d queries) = %d, Ir(%d queries) = %d" % (args.n1, ir1, args.n2, ir2))
    print("instructions per query: %.0f" % per_query)
    if not args.no_allocs:
        print("heap allocations: %d (%d queries), %d (%d queries)" % (a1, args.n1, a2, args.n2))
        print("heap allocations per query: %.2f" % ((a2 - a1) / (args.n2 - args.n1)))
    print("callgrind files in " + workdir + " (callgrind_annotate FILE)")


if __name__ == "__main__":
    main()
