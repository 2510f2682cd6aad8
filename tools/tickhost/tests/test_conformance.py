"""Unit tests of the KTAP conformance check's own logic (cutting the KTAP
output from a log, counting tap-parser's events). They must not run the
parsers: inputs are literal text and events."""
from __future__ import annotations

import unittest

from tickhost import conformance

LOG = ["SeaBIOS noise\n", "\x1b[2Jjunk KTAP version 1\n", "junk 1..1\n",
       "junk     KTAP version 1\n", "junk     # Subtest: pit\n", "junk     1..1\n",
       "junk     ok 1 pit.info\n", "junk ok 1 pit\n", "junk # tickscope: halted (exit code 0)\n"]


class ConformanceTest(unittest.TestCase):
    def test_document_is_version_line_to_last_result(self) -> None:
        doc, end = conformance.document(LOG)
        self.assertEqual(doc[0], "KTAP version 1")
        self.assertEqual(doc[-1], "ok 1 pit")
        self.assertEqual((len(doc), end), (7, 8))   # the halt line follows

    def test_tap_events_count_leaves_and_suites(self) -> None:
        events = [["version", 14], ["plan", {}],
                  ["child", [["assert", {"ok": True}], ["assert", {"ok": True, "skip": "x"}],
                             ["assert", {"ok": False}], ["complete", {"failures": []}]]],
                  ["comment", "# measure: run.suite_ms.pit = 1 ms\n"],
                  ["assert", {"ok": False}], ["extra", "garbage\n"],
                  ["complete", {"failures": [{"tapError": "Non-TAP data", "data": "x"}]}]]
        acc = {"leaves": {"pass": 0, "fail": 0, "skip": 0},
               "suites": {"pass": 0, "fail": 0, "skip": 0}}
        errs: list[str] = []
        conformance._tap_count(events, acc, errs)
        self.assertEqual(acc["leaves"], {"pass": 1, "fail": 1, "skip": 1})
        self.assertEqual(acc["suites"], {"pass": 0, "fail": 1, "skip": 0})
        self.assertEqual(len(errs), 2)


if __name__ == "__main__":
    unittest.main()
