"""Unit tests of make bench's keeping of runs that did not pass (bench.keep):
a run that is not PASS leaves its serial text, its JSON (which reads back as a
tickscope result) and its failing tests' lines in the output; a PASS run
leaves nothing. No QEMU: runs come from literal logs."""
from __future__ import annotations

import io
import os
import tempfile
import unittest
from contextlib import redirect_stdout

from tickhost import bench, parselog, resultfile
from tickhost.tests.test_parselog import LOG as PARSED, lines

# A test's diagnostics come before its verdict line.
LOG = PARSED.replace("    not ok 2 monotonic\n    # FAIL: went back\n",
                     "    # monotonic: 3 reads\n    # FAIL: went back\n    not ok 2 monotonic\n")


class KeepTest(unittest.TestCase):
    def keep(self, log: str) -> tuple[str, str]:
        where = tempfile.mkdtemp()
        out = io.StringIO()
        with redirect_stdout(out):
            bench.keep(parselog.parse(lines(log), "log"), "speed-tcg-3", where)
        return where, out.getvalue()

    def test_failed_run_is_kept_and_its_failing_lines_printed(self) -> None:
        where, out = self.keep(LOG)
        with open(os.path.join(where, "speed-tcg-3.log"), encoding="utf-8") as f:
            self.assertEqual(f.read(), LOG)
        doc = resultfile.load(os.path.join(where, "speed-tcg-3.json"))
        self.assertEqual(doc["verdict"], "FAIL")
        self.assertIn("kept speed-tcg-3 (FAIL)", out)
        self.assertIn("speed-tcg-3.log, .json", out)
        self.assertIn("tsc.monotonic FAIL: FAIL: went back", out)
        self.assertIn("      # monotonic: 3 reads\n      # FAIL: went back\n", out)
        self.assertNotIn("tsc.freq", out)

    def test_passed_run_leaves_nothing(self) -> None:
        passed = LOG.replace("not ok 2 monotonic", "ok 2 monotonic") \
            .replace("    # FAIL: went back\n", "").replace("not ok 1 tsc", "ok 1 tsc") \
            .replace("1 passed, 1 failed", "2 passed, 0 failed")
        where, out = self.keep(passed)
        self.assertEqual((os.listdir(where), out), ([], ""))

    def test_broken_run_is_kept_with_its_reason(self) -> None:
        where, out = self.keep("".join(lines(LOG)[:8]))
        self.assertIn("kept speed-tcg-3 (ERROR: ", out)
        self.assertTrue(os.path.exists(os.path.join(where, "speed-tcg-3.json")))


if __name__ == "__main__":
    unittest.main()
