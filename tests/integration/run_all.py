"""Runs the integration tests, all of them or one part, and ends with the part's duration, its
slowest ten tests and a loud list of what was skipped and why.

    run_all.py                   every part, one after another (what a developer runs by hand)
    run_all.py --part NAME ...   those parts only (ctest runs one part per test, side by side)
    run_all.py --list-parts      "name labels serial|parallel seconds" per line: CMake makes
                                 one ctest test of each

Parts are the unit ctest schedules: each has its own block of ports (DCP_PORT_BLOCK, set by
CMake; lab.free_port walks only it), so parts run side by side without meeting. Its labels say
which builds run it (.ci/run selects by ctest label):
  functional   behaviour against real servers (RelWithDebInfo and ASan)
  statistical  shares, tails, rates and load (RelWithDebInfo and Release), not under the
               sanitizers, whose slowdown is not the product's
A serial part never runs beside another (ctest RUN_SERIAL): its figures are timing- or
memory-shaped. Every test belongs to exactly one part; a test no part names fails the run, so a
new class cannot silently fall out of CI.

Skips: a test skipped for want of root fails the run under DCP_NO_SKIPS=1 (CI as root). In CI
(CI=true) every skip fails the run unless ALLOWED_SKIPS names it with its reason; the allowed
ones are printed at the end."""

import argparse
import fnmatch
import os
import sys
import time
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

# (name, labels, serial, test-id patterns). A test goes to the first part whose pattern matches
# its id (module.Class.test_method).
PARTS = [
    ("pool", ("statistical",), True, ["test_pool.Pool.*"]),
    ("spill", ("statistical",), True, ["test_behaviours.SpillOver.*"]),
    # Floods with a memory bound: hostile input (so under ASan too) measured by RSS.
    ("memory", ("functional", "statistical"), True,
     ["test_hardening.NonReadingClient.*", "test_hardening.NonReadingFlood.*",
      "test_service.ActiveLimit.*",
      "test_local.Cache.test_random_name_flood_keeps_the_bound",
      "test_local.Cache.test_sixteen_shards_keep_their_bound",
      "test_local.Rules.test_a_200000_entry_list_loads_fast_and_matches"]),
    # A wall clock made up with libfaketime, which cannot be preloaded into a sanitizer build:
    # functional, and statistical too so that a second build (Release) runs it.
    ("clock", ("functional", "statistical"), False,
     ["test_local.Rules.test_a_schedule_boundary_crossed_while_running"]),
    ("relays", ("functional",), False, ["test_pool.*"]),
    ("proxy", ("functional",), False, ["test_proxy.*"]),
    ("behaviours", ("functional",), False, ["test_behaviours.*"]),
    ("catalogue", ("functional",), False, ["test_catalogue.*"]),
    ("doh", ("functional",), False, ["test_doh.*"]),
    ("hardening", ("functional",), False, ["test_hardening.*"]),
    ("cache", ("functional",), False, ["test_local.Cache.*"]),
    ("rules", ("functional",), False, ["test_local.*"]),
    ("service", ("functional",), False, ["test_service.*"]),
    # Each case inside a network namespace of its own (no route out).
    ("offline", ("functional",), False, ["test_offline.*"]),
    # The same rules through dnscrypt-proxy 2.1.18 and ours.
    ("differential", ("functional",), False, ["test_differential.*"]),
]

# Seconds a part took in a RelWithDebInfo build (stop 22): ctest starts the longest first.
COST = {"pool": 112, "proxy": 41, "behaviours": 35, "cache": 28, "service": 25,
        "catalogue": 21, "memory": 15, "hardening": 14, "relays": 14, "doh": 11, "spill": 5,
        "rules": 4, "clock": 15, "offline": 15, "differential": 12}

# Skips CI accepts, each with the reason it is not a hole: test-id pattern -> (reason prefix the
# test gives, why that is acceptable).
ALLOWED_SKIPS = {
    "test_local.Rules.test_a_schedule_boundary_crossed_while_running": (
        "under the sanitizers",
        "libfaketime cannot be preloaded before the sanitizer runtime; RelWithDebInfo and "
        "Release run it"),
    "test_differential.AgainstV2.*": (
        "needs dnscrypt-proxy 2.1.18",
        "the oracle lives outside the repository (../shared/peers, or DCP_V2_BIN); where it is "
        "absent the comparison cannot run, and the skip is printed"),
    "test_behaviours.OnRealServers.test_out_of_file_descriptors": (
        "under the sanitizers",
        "UBSan's reports need free descriptors; the other builds run it"),
}


def all_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from all_tests(t)
        else:
            yield t


def part_of(test_id):
    for name, _, _, patterns in PARTS:
        if any(fnmatch.fnmatchcase(test_id, p) for p in patterns):
            return name
    return None


def select(tests, part):
    return [t for t in tests if part_of(t.id()) == part]


class TimedResult(unittest.TextTestResult):
    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.durations.append((time.monotonic() - self._started, test.id()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", action="append", default=[])
    ap.add_argument("--list-parts", action="store_true")
    args = ap.parse_args()
    names = [n for n, _, _, _ in PARTS]
    if args.list_parts:
        for n, labels, serial, _ in PARTS:
            print(n, ",".join(labels), "serial" if serial else "parallel", COST.get(n, 10))
        return 0
    for p in args.part:
        if p not in names:
            ap.error("no part %r (parts: %s)" % (p, ", ".join(names)))

    tests = list(all_tests(unittest.defaultTestLoader.discover(here)))
    # Import errors come back as tests named unittest.loader._FailedTest.*: they fail every part.
    broken = [t for t in tests if t.id().startswith("unittest.loader.")]
    homeless = [t.id() for t in tests if not broken and part_of(t.id()) is None]
    if homeless:
        print("tests in no part (add them to PARTS in run_all.py):\n  " + "\n  ".join(homeless),
              file=sys.stderr)
        return 1
    parts = args.part or [n for n, _, _, _ in PARTS]
    failed, skipped, summary = False, [], []
    durations = []
    for part in parts:
        suite = unittest.TestSuite(broken + select(tests, part))
        print("=== part %s: %d tests" % (part, suite.countTestCases()), file=sys.stderr)
        runner = unittest.TextTestRunner(verbosity=2, resultclass=TimedResult)
        TimedResult.durations = durations
        start = time.monotonic()
        result = runner.run(suite)
        summary.append((part, time.monotonic() - start, result.testsRun))
        failed |= not result.wasSuccessful()
        skipped += result.skipped

    print("\n=== duration per part", file=sys.stderr)
    for part, seconds, n in summary:
        print("  %-12s %4d tests %7.1f s" % (part, n, seconds), file=sys.stderr)
    print("=== slowest tests", file=sys.stderr)
    for seconds, test_id in sorted(durations, reverse=True)[:10]:
        print("  %7.1f s  %s" % (seconds, test_id), file=sys.stderr)

    in_ci = os.environ.get("CI") == "true"
    allowed, refused = [], []
    for test, reason in skipped:
        rule = next((why for pattern, (prefix, why) in ALLOWED_SKIPS.items()
                     if fnmatch.fnmatchcase(test.id(), pattern) and reason.startswith(prefix)),
                    None)
        if reason.startswith("needs root") and os.environ.get("DCP_NO_SKIPS") == "1":
            rule = None
        (allowed if rule or not (in_ci or reason.startswith("needs root") and
                                 os.environ.get("DCP_NO_SKIPS") == "1") else refused).append(
            (test, reason, rule))
    if allowed:
        print("\n*** %d TEST(S) SKIPPED ***" % len(allowed), file=sys.stderr)
        for test, reason, rule in allowed:
            print("  SKIPPED %s: %s%s" % (test.id(), reason, " (allowed: %s)" % rule if rule else ""),
                  file=sys.stderr)
    if refused:
        print("\n*** %d SKIP(S) NOT ALLOWED HERE (CI=true or DCP_NO_SKIPS=1): each fails the run "
              "***" % len(refused), file=sys.stderr)
        for test, reason, _ in refused:
            print("  SKIPPED %s: %s" % (test.id(), reason), file=sys.stderr)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
