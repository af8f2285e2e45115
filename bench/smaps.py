#!/usr/bin/env python3
"""Where a running process's resident pages are: per mapping (the binary, each library, heap,
thread stacks and other anonymous memory), resident and private KiB, from /proc/PID/smaps; then
the totals from smaps_rollup (Rss, Pss, private dirty: what the process alone costs).

  bench/smaps.py PID [PID ...]

Used for issue 14's memory figures (bench/README.md): run it beside netbench's candidates, or
against any proxy started by hand on loopback.
"""

import collections
import sys


def breakdown(pid):
    rss, private = collections.Counter(), collections.Counter()
    mapping = None
    with open("/proc/%s/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if not parts[0].endswith(":"):  # a mapping's header line
                name = parts[5] if len(parts) > 5 else "[anonymous]"
                mapping = name.rsplit("/", 1)[-1]
            elif parts[0] == "Rss:":
                rss[mapping] += int(parts[1])
            elif parts[0] in ("Private_Clean:", "Private_Dirty:"):
                private[mapping] += int(parts[1])
    totals = {}
    with open("/proc/%s/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                totals[parts[0].rstrip(":")] = int(parts[1])
    return rss, private, totals


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for pid in sys.argv[1:]:
        rss, private, totals = breakdown(pid)
        print("PID %s: Rss %d KiB, Pss %d, Private_Dirty %d, Private_Clean %d, Shared_Clean %d"
              % (pid, totals.get("Rss", 0), totals.get("Pss", 0), totals.get("Private_Dirty", 0),
                 totals.get("Private_Clean", 0), totals.get("Shared_Clean", 0)))
        print("  %8s %8s  %s" % ("Rss KiB", "private", "mapping"))
        for name, kib in rss.most_common():
            if kib:
                print("  %8d %8d  %s" % (kib, private[name], name))


if __name__ == "__main__":
    main()
