"""Unit tests of the HTML report and the number formatting: fixed-point
numbers with units, every histogram bucket with percentile marks, axes that
say their scale, the overview, drift against the TSC. No browser here
(make test renders the page in headless Chromium)."""
from __future__ import annotations

import re
import unittest

from tickhost import htmlreport, parselog, report
from tickhost.numfmt import fixed, with_unit

LOG = """KTAP version 1
1..2
    KTAP version 1
    # Subtest: tsc
    1..2
    # measure: tsc.freq_khz.hpet = 2096010.5 kHz (unc 0.061 ppm, 2967 of 4096 samples)
    ok 1 freq_hpet
    # measure: tsc.freq_khz = 2096010.0 kHz (from pm, unc 0.053 ppm)
    ok 2 freq
ok 1 tsc
    KTAP version 1
    # Subtest: hpet
    1..2
    ok 1 present
    # histogram oneshot poll latency (ns, log2 buckets): [0,2):1 [4096,8192):2 [32768,65536):3
    # measure: hpet.oneshot.poll.latency_ns.p50 = 5000 ns
    # measure: hpet.oneshot.poll.latency_ns.p99 = 40000 ns
    # measure: hpet.oneshot.poll.latency_ns.max = 60000 ns
    not ok 2 oneshot
not ok 2 hpet
# ---- tickscope summary ----
# source     result  pass  fail  skip error      ms  notes
# tsc        PASS       2     0     0     0       3  2096.010 MHz from pm
# hpet       FAIL       1     1     0     0       9  oneshot p50 poll 5 us
# totals: 3 passed, 1 failed, 0 skipped, 0 errors
"""


def run() -> dict:
    return report.to_dict(parselog.parse(LOG.splitlines(keepends=True), "log"))


class NumbersTest(unittest.TestCase):
    def test_fixed_point_with_units(self) -> None:
        self.assertEqual(with_unit(2096010.0, "kHz"), "2.096010 GHz")
        self.assertEqual(with_unit(1260701, "ns"), "1.261 ms")
        self.assertEqual(with_unit(26267.4, "ns"), "26.27 us")
        self.assertEqual(with_unit(610, "ns"), "610 ns")
        self.assertEqual(with_unit(-0.062, "ppm"), "-0.062 ppm")
        self.assertEqual(with_unit(0, "ms"), "0 ms")
        self.assertEqual(fixed(1e20), "100000000000000000000")
        self.assertEqual(fixed(0.000012345), "0.00001234")
        for v in (1e-9, 3.3e7, 2.09601e+06, -7.5e12, 123456.789):
            self.assertNotRegex(fixed(v), "[eE]")


class PageTest(unittest.TestCase):
    def test_histogram_has_every_bucket_and_marks(self) -> None:
        r = run()
        (svg,) = htmlreport.histograms(r)
        # [0,2) then [2,4) ... [32768,65536): 16 buckets, 13 of them empty.
        self.assertEqual(len(re.findall(r"<rect ", svg)), 16)
        self.assertEqual(svg.count(": 0 samples"), 13)
        for label in ("p50 5 us", "p99 40 us", "max 60 us"):
            self.assertIn(label, svg)
        self.assertIn("log2 axis", svg)
        self.assertIn("samples (linear)", svg)

    def test_page_overview_drift_and_no_scientific_notation(self) -> None:
        r = run()
        page = htmlreport.page([r], [])
        self.assertNotRegex(page, r"\d[eE][+-]\d")
        self.assertIn("2.096010 GHz", page)
        ov = htmlreport.overview([r])
        self.assertIn('<td class="fail" title="oneshot p50 poll 5 us">FAIL', ov)
        self.assertIn('<td class="pass" title="2096.010 MHz from pm">PASS', ov)
        ((src, ppm, unc),) = htmlreport.drift_against_tsc(r)
        self.assertEqual((src, round(ppm, 3), unc), ("hpet", 0.239, 0.061))
        self.assertEqual(htmlreport.plot_count(page), 2)
        self.assertIn('window.addEventListener("load"', page)


if __name__ == "__main__":
    unittest.main()
