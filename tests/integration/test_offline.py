"""A machine whose network is not up, and servers that cannot be reached: offline_cases.py, each
case run inside a network namespace of its own (`unshare -n`, loopback up, no route out), so
that nothing it does can reach another machine, the defaults' public resolver included."""

import os
import shutil
import subprocess
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"),
                     "needs root, unshare and ip for a private network namespace")
class Offline(unittest.TestCase):
    def run_inside(self, case):
        r = subprocess.run(
            ["unshare", "--net", "--", "sh", "-c",
             'ip link set lo up && exec "$0" -m unittest -v "offline_cases.Offline.$1"',
             sys.executable, case],
            cwd=here, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("OK", r.stderr)

    def test_unreachable_servers_are_down_and_the_others_serve(self):
        self.run_inside("test_unreachable_servers_are_down_and_the_others_serve")

    def test_no_server_reachable_then_one_is(self):
        self.run_inside("test_no_server_reachable_then_one_is")

    def test_the_defaults_start_without_a_network(self):
        self.run_inside("test_the_defaults_start_without_a_network")

    def test_the_v2_example_file_starts_without_a_network(self):
        self.run_inside("test_the_v2_example_file_starts_without_a_network")
