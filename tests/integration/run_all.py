"""Runs every integration test (unittest discovery) and ends with a loud list of the tests
skipped and why: the root-only ones (daemon, --user, chroot, syslog namespace) skip when not run
as root. With DCP_NO_SKIPS=1 (CI sets it when it runs as root) a test skipped for want of root
fails the run: there, nothing may be skipped. Skips for what the machine lacks (no ::1) stay
skips, listed."""

import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
suite = unittest.defaultTestLoader.discover(here)
result = unittest.TextTestRunner(verbosity=2).run(suite)
if result.skipped:
    print("\n*** %d TEST(S) SKIPPED ***" % len(result.skipped), file=sys.stderr)
    for test, reason in result.skipped:
        print("  SKIPPED %s: %s" % (test.id(), reason), file=sys.stderr)
failed = not result.wasSuccessful()
needed_root = [t for t, reason in result.skipped if reason.startswith("needs root")]
if needed_root and os.environ.get("DCP_NO_SKIPS") == "1":
    print("DCP_NO_SKIPS=1: %d root-only test(s) skipped count as failures" % len(needed_root),
          file=sys.stderr)
    failed = True
sys.exit(1 if failed else 0)
