#!/usr/bin/env python3
"""Time from exec to the first answer, with resolver lists in play, side by side.

Starts NSD and Debian's dnsdist as the integration tests do; the lab server is named by a
[static] stamp, and the configuration also has the official public-resolvers source whose list
host is unreachable (a closed loopback port), with no cache ("cold") or with a fresh one.
Candidates, interleaved for several rounds:

  ours-v1        our proxy with -r/-N/-k (no lists at all): the baseline
  ours-cold      dnscrypt-proxy 2 file, public-resolvers source, no cache, host unreachable
  ours-cached    the same with a fresh verified cache
  v2-static      dnscrypt-proxy 2.1.18 (shared/peers), the lab server only, no sources
  v2-cold        dnscrypt-proxy 2.1.18 with the same cold, unreachable source

Prints median and min-max per candidate and the ratio of medians to the baseline. Nothing
leaves 127.0.0.1 (every URL points at a closed loopback port; netprobe off).

  bench/startup.py [--rounds 10] [--v2 PATH-TO-dnscrypt-proxy-2]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import dnsclient  # noqa: E402
from lab import PROVIDER_NAME, Lab, free_port  # noqa: E402

OFFICIAL_KEY = "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3"


def first_answer(args, port, timeout=30.0, env=None):
    """Seconds from exec to the first NOERROR answer, or (None, why)."""
    start = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        while time.monotonic() - start < timeout:
            if p.poll() is not None:
                return None, "exited with %d: %s" % (p.returncode,
                                                     p.stderr.read().decode()[-200:].strip())
            try:
                r = dnsclient.Response(dnsclient.udp(port, dnsclient.make_query("www.dcp.test"),
                                                     timeout=0.002))
                if r.rcode == 0 and r.answer:
                    return time.monotonic() - start, None
            except OSError:
                pass
        return None, "no answer in %.0f s" % timeout
    finally:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def v2_file(path, port, stamp, cache_dir, down_port, with_source, ours):
    text = """listen_addresses = ['127.0.0.1:%d']
server_names = ['lab']
max_clients = 250
require_nolog = false
require_nofilter = false
timeout = 5000
cert_refresh_delay = 240
bootstrap_resolvers = ['127.0.0.1:%d']
ignore_system_dns = true
netprobe_timeout = 0
netprobe_address = '127.0.0.1:%d'
cache = false
log_level = 2
""" % (port, down_port, down_port)
    if with_source:
        text += """
[sources]
  [sources.public-resolvers]
  urls = ['https://127.0.0.1:%d/public-resolvers.md']
  cache_file = '%s/public-resolvers.md'
  minisign_key = '%s'
  refresh_delay = 72
""" % (down_port, cache_dir, OFFICIAL_KEY)
    text += "\n[static]\n  [static.lab]\n  stamp = '%s'\n" % stamp
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--v2", default=os.path.join(HERE, "..", "..", "shared", "peers",
                                                 "dnscrypt-proxy-2.1.18", "dnscrypt-proxy"))
    args = ap.parse_args()
    ours = os.environ.get("DCP_PROXY_BIN",
                          os.path.join(HERE, "..", "build", "src", "app", "dnscrypt-proxy"))
    lab = Lab()
    work = tempfile.mkdtemp(prefix="dcp-startup-")
    try:
        lab.start_nsd()
        lab.start_dnsdist()
        stamp = subprocess.run([ours, "stamp", "encode", "--address",
                                "127.0.0.1:%d" % lab.dnsdist_port, "--provider-name", PROVIDER_NAME,
                                "--provider-key", lab.provider_key_hex], capture_output=True,
                               text=True, check=True).stdout.strip()
        down = free_port()  # nothing listens there: the list host is unreachable
        fresh = os.path.join(work, "fresh")
        os.mkdir(fresh)
        lists = os.path.join(HERE, "..", "data", "resolvers-v3")
        for f in ("public-resolvers.md", "public-resolvers.md.minisig"):
            shutil.copy(os.path.join(lists, f), fresh)

        def candidate(name, round_no):
            port = free_port()
            cold = os.path.join(work, "cold-%s-%d" % (name, round_no))
            os.mkdir(cold)
            conf = os.path.join(work, "%s-%d.toml" % (name, round_no))
            if name == "ours-v1":
                return [ours, "-a", "127.0.0.1:%d" % port, "-r", "127.0.0.1:%d" % lab.dnsdist_port,
                        "-N", PROVIDER_NAME, "-k", lab.provider_key_hex], port
            if name in ("ours-cold", "ours-cached"):
                v2_file(conf, port, stamp, fresh if name == "ours-cached" else cold, down, True, True)
                return [ours, "--config", conf], port
            v2_file(conf, port, stamp, cold, down, name == "v2-cold", False)
            return [args.v2, "-config", conf], port

        names = ["ours-v1", "ours-cold", "ours-cached"]
        if os.path.exists(args.v2):
            names += ["v2-static", "v2-cold"]
        results = {n: [] for n in names}
        failures = {n: [] for n in names}
        for r in range(args.rounds):
            for n in names:
                cmd, port = candidate(n, r)
                t, why = first_answer(cmd, port)
                (results[n].append(t) if t is not None else failures[n].append(why))
        base = statistics.median(results["ours-v1"])
        print("%-12s %10s %18s %8s  %s" % ("candidate", "median ms", "min-max ms", "ratio", "notes"))
        for n in names:
            ts = results[n]
            if ts:
                med = statistics.median(ts)
                print("%-12s %10.1f %18s %8.2f  %d/%d answered" % (
                    n, med * 1000, "%.1f-%.1f" % (min(ts) * 1000, max(ts) * 1000), med / base,
                    len(ts), args.rounds))
            else:
                print("%-12s %10s %18s %8s  %s" % (n, "-", "-", "-", failures[n][0]))
    finally:
        lab.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
