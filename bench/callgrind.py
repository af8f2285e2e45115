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

With --candidate dnscrypt-proxy-1.9.5 (or 2.1.18) the same is measured for a reference peer
from ../shared/peers ($DCP_PEERS), with its own switches (2.1.18: its lab.toml.in); --cache and
--blocked are ours only.

  bench/callgrind.py [--n1 500] [--n2 2500] [--no-allocs] [--cache | --blocked]
                     [--candidate ours|dnscrypt-proxy-1.9.5|dnscrypt-proxy-2.1.18]
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


PEERS = os.environ.get("DCP_PEERS", os.path.join(HERE, "..", "..", "shared", "peers"))


def candidate_argv(candidate, binary, lab, port, workdir, cache, extra):
    """The command line of a candidate listening on `port` in front of the lab's dnsdist."""
    resolver = "127.0.0.1:%d" % lab.dnsdist_port
    key = lab.provider_key_hex
    if candidate == "dnscrypt-proxy-1.9.5":
        return [os.path.join(PEERS, candidate, "dnscrypt-proxy"),
                "--local-address=127.0.0.1:%d" % port, "--resolver-address=" + resolver,
                "--provider-name=" + lab.provider_name,
                "--provider-key=" + ":".join(key[i:i + 4] for i in range(0, 64, 4))]
    if candidate == "dnscrypt-proxy-2.1.18":
        v2 = os.path.join(PEERS, candidate, "dnscrypt-proxy")
        stamp = subprocess.run([binary, "stamp", "encode", "--address", resolver,
                                "--provider-name", lab.provider_name, "--provider-key", key],
                               capture_output=True, text=True, check=True).stdout.strip()
        with open(os.path.join(os.path.dirname(v2), "lab.toml.in")) as f:
            text = f.read().replace("{port}", str(port)).replace("{stamp}", stamp)
        conf = os.path.join(workdir, "v2-%d.toml" % port)
        with open(conf, "w") as f:
            f.write(text)
        return [v2, "-config", conf]
    return [binary, "--local-address", "127.0.0.1:%d" % port, "--resolver-address", resolver,
            "--provider-name", lab.provider_name, "--provider-key", key, "--loglevel",
            "warning"] + ([] if cache else ["--no-cache"]) + list(extra)


def run_queries(lab, argv_for, queries, workdir, tool):
    """Runs the proxy under valgrind `tool`, answers `queries` queries; returns the tool's count."""
    port = free_port()
    out = os.path.join(workdir, "%s.%d.out" % (tool, queries))
    log_path = os.path.join(workdir, "proxy.%s.%d.log" % (tool, queries))
    log = open(log_path, "wb")
    if tool == "callgrind":
        tool_args = ["--tool=callgrind", "--callgrind-out-file=" + out]
    else:
        tool_args = ["--tool=memcheck", "--leak-check=no", "--log-file=" + out]
    proc = subprocess.Popen(["valgrind"] + tool_args + argv_for(port), stdout=log,
                            stderr=subprocess.STDOUT)
    warm = dnsclient.make_query("www.dcp.test", "A")

    def ready():
        try:
            return dnsclient.Response(dnsclient.udp(port, warm, 0.5)).rcode == 0
        except OSError:
            return False
    wait_until(ready, 120, interval=0.1, what="the proxy under valgrind")
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
    ap.add_argument("--candidate", default="ours",
                    choices=["ours", "dnscrypt-proxy-1.9.5", "dnscrypt-proxy-2.1.18"])
    args = ap.parse_args()
    if args.candidate != "ours" and (args.cache or args.blocked):
        sys.exit("--cache and --blocked measure our cache and rules: --candidate ours only")
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
        argv_for = lambda port: candidate_argv(args.candidate, binary, lab, port, workdir,
                                               args.cache, extra)
        ir1 = run_queries(lab, argv_for, args.n1, workdir, "callgrind")
        ir2 = run_queries(lab, argv_for, args.n2, workdir, "callgrind")
        if not args.no_allocs:
            a1 = run_queries(lab, argv_for, args.n1, workdir, "memcheck")
            a2 = run_queries(lab, argv_for, args.n2, workdir, "memcheck")
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
