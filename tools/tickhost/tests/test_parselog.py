"""Unit tests of `tickscope parse`: a captured log gives a run's verdict
and fields, and each way a log can be wrong makes it ERROR. They must not
boot QEMU: logs are literal lines."""
from __future__ import annotations

import unittest

from tickhost import parselog, report

LOG = """KTAP version 1
1..1
# tickscope 0.1: boot=multiboot2 loader="GRUB" firmware=uefi console=serial+fb
    KTAP version 1
    # Subtest: tsc
    1..2
    # measure: tsc.freq_khz = 2596147.0 kHz
    ok 1 freq
    not ok 2 monotonic
    # FAIL: went back
not ok 1 tsc
# ---- tickscope summary ----
# totals: 1 passed, 1 failed, 0 skipped, 0 errors
"""


def lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


class ParseTest(unittest.TestCase):
    def test_verdict_and_fields(self) -> None:
        r = parselog.parse(lines(LOG))
        self.assertEqual((r.verdict, r.reason), ("FAIL", ""))
        d = report.to_dict(r)
        self.assertEqual([t["path"] for t in d["tests"]], ["tsc.freq", "tsc.monotonic"])
        self.assertEqual(d["measurements"][0]["name"], "tsc.freq_khz")

    def test_serial_noise_is_the_same_log(self) -> None:
        noisy = "".join("\x1b[0m" + ln.rstrip("\n") + "\r\n" for ln in lines(LOG))
        a = report.to_dict(parselog.parse(lines(LOG)))
        b = report.to_dict(parselog.parse(lines(noisy)))
        self.assertEqual(parselog.differences(a, b), [])

    def test_planted_truncation_is_error(self) -> None:
        r = parselog.parse(lines(LOG)[:8])
        self.assertEqual(r.verdict, "ERROR")

    def test_planted_exit_code_disagreement_is_error(self) -> None:
        r = parselog.parse(lines(LOG + "# tickscope: halted (exit code 0)\n"))
        self.assertEqual(r.verdict, "ERROR")
        ok = parselog.parse(lines(LOG + "# tickscope: halted (exit code 1); a key press reboots\n"))
        self.assertEqual(ok.verdict, "FAIL")

    def test_differences_names_fields(self) -> None:
        a = report.to_dict(parselog.parse(lines(LOG)))
        b = report.to_dict(parselog.parse(lines(LOG.replace("2596147.0", "1.0"))))
        self.assertIn("measurements differs", parselog.differences(a, b))

    def test_no_report(self) -> None:
        self.assertEqual(parselog.parse(["GRUB loading\n"]).verdict, "ERROR")


if __name__ == "__main__":
    unittest.main()
