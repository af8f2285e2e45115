#!/usr/bin/env python3
"""Deterministic cost per query: instructions counted by valgrind's callgrind, not seconds.

Runs the proxy under callgrind twice against the loopback lab (NSD + dnsdist), once answering
N1 queries and once N2, sent one at a time over UDP; (Ir(N2) - Ir(N1)) / (N2 - N1) is the cost of
one query with start-up, certificate fetch and shutdown cancelled out. Compare commits with it:
the same binary and inputs give the same count whatever else the machine is doing.

  bench/callgrind.py [--n1 500] [--n2 2500]
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


def instructions(lab, binary, queries, workdir):
    port = free_port()
    out = os.path.join(workdir, "callgrind.%d.out" % queries)
    log = open(os.path.join(workdir, "proxy.%d.log" % queries), "wb")
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary,
         "--local-address", "127.0.0.1:%d" % port, "--resolver-address",
         "127.0.0.1:%d" % lab.dnsdist_port, "--provider-name", "2.dnscrypt-cert.dcp.test",
         "--provider-key", lab.provider_key_hex, "--loglevel", "warning"],
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
    m = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n1", type=int, default=500)
    ap.add_argument("--n2", type=int, default=2500)
    args = ap.parse_args()
    binary = os.environ.get("DCP_PROXY_BIN") or os.path.join(HERE, "..", "build", "src", "app",
                                                             "dnscrypt-proxy")
    workdir = tempfile.mkdtemp(prefix="dcp-callgrind-")
    lab = Lab()
    try:
        lab.start_nsd()
        lab.start_dnsdist()
        ir1 = instructions(lab, binary, args.n1, workdir)
        ir2 = instructions(lab, binary, args.n2, workdir)
    finally:
        lab.stop()
    per_query = (ir2 - ir1) / (args.n2 - args.n1)
    print("Ir(%d queries) = %d, Ir(%d queries) = %d" % (args.n1, ir1, args.n2, ir2))
    print("instructions per query: %.0f" % per_query)
    print("callgrind files in " + workdir + " (callgrind_annotate FILE)")


if __name__ == "__main__":
    main()
