"""Unit tests of the KTAP parser, the run judge, the matrix checks and the
scenarios' known answers. They must not boot QEMU: inputs are literal text."""
from __future__ import annotations

import os
import tempfile
import unittest
import xml.etree.ElementTree as ET

from tickhost import knownanswer, ktap, matrix, qemu, report

GOOD = """\x1b[2J\x1b[01;01HGRUB noise
KTAP version 1
1..2
# platform: hypervisor=KVMKVMKVM cpu="Intel(R) Xeon(R)" lapic=x2apic
# measure: platform.cpus = 2
# warning: cmdline: unknown option 'x' ignored
    KTAP version 1
    # Subtest: tsc
    1..3
    # measure: tsc.freq_khz.hpet = 2596131.7 kHz (expected 2596134, err -0.9 ppm, tol 50 ppm)
    ok 1 freq
    ok 2 wrap # SKIP no HPET
    # FAIL: went backwards
    not ok 3 mono
not ok 1 tsc
    KTAP version 1
    # Subtest: irq
    1..1
    not ok 1 hang # ERROR watchdog: still running after 1 s
not ok 2 irq
# ---- tickscope summary ----
# totals: 1 passed
""".splitlines()


class ParserTest(unittest.TestCase):
    def test_tree_and_measures(self) -> None:
        r = ktap.parse(GOOD)
        self.assertTrue(r.complete())
        self.assertEqual([(n.path, n.result) for n in r.leaves()],
                         [("tsc.freq", "PASS"), ("tsc.wrap", "SKIP"), ("tsc.mono", "FAIL"),
                          ("irq.hang", "ERROR")])
        self.assertEqual(r.leaves()[1].reason, "no HPET")
        self.assertEqual(r.leaves()[3].reason, "watchdog: still running after 1 s")
        self.assertIn("FAIL: went backwards", r.leaves()[2].diagnostics)
        m = r.measure("tsc.freq_khz.hpet")
        assert m is not None
        self.assertEqual((m.value, m.unit, m.test), (2596131.7, "kHz", "tsc.freq"))
        self.assertIn("tol 50 ppm", m.extra)
        self.assertEqual(r.measure("platform.cpus").test, "")  # type: ignore[union-attr]
        self.assertEqual(r.platform["cpu"], "Intel(R) Xeon(R)")
        self.assertEqual(r.platform["hypervisor"], "KVMKVMKVM")
        self.assertEqual(r.warnings, ["cmdline: unknown option 'x' ignored"])
        self.assertEqual(r.verdict(), "ERROR")
        self.assertEqual(r.summary[0], "---- tickscope summary ----")

    def test_incomplete_and_bail(self) -> None:
        r = ktap.parse(GOOD[:12])
        self.assertFalse(r.complete())
        self.assertEqual(r.verdict(), "ERROR")
        r = ktap.parse(["KTAP version 1", "1..1", "Bail out! boom"])
        self.assertEqual((r.bail_out, r.verdict()), ("boom", "ERROR"))
        self.assertIsNone(ktap.parse(["no header here", "ok 1 x"]).root)

    def test_verdict_order(self) -> None:
        lines = ["KTAP version 1", "1..2", "ok 1 a # SKIP absent", "ok 2 b"]
        self.assertEqual(ktap.parse(lines).verdict(), "PASS")
        self.assertEqual(ktap.parse(lines[:3] + ["1..1"][:0]).verdict(), "ERROR")
        only_skip = ["KTAP version 1", "1..1", "ok 1 a # SKIP absent"]
        self.assertEqual(ktap.parse(only_skip).verdict(), "SKIP")


# The stream as the kernel prints it now: full dotted names on the result
# lines, a suite's own lines before its result, the summary before the last.
NEW = """KTAP version 1
1..2
# platform: hypervisor=TCGTCGTCGTCG cpu="QEMU"
    KTAP version 1
    # Subtest: hpet
    1..2
    # measure: hpet.width_bits = 64
    ok 1 hpet.info
    ok 2 hpet.wrap # SKIP never wraps
# measure: run.suite_ms.hpet = 5 ms
ok 1 hpet
    KTAP version 1
    # Subtest: pit
    1..1
    ok 1 pit.info
# measure: run.suite_ms.pit = 7 ms
# ---- tickscope summary ----
# totals: 2 passed, 0 failed, 1 skipped, 0 errors
ok 2 pit
""".splitlines()


class NamesTest(unittest.TestCase):
    def test_full_names_and_suite_lines(self) -> None:
        r = ktap.parse(NEW)
        self.assertEqual([n.path for n in r.leaves()], ["hpet.info", "hpet.wrap", "pit.info"])
        self.assertEqual(r.measure("hpet.width_bits").test, "hpet.info")  # type: ignore
        self.assertEqual(r.measure("run.suite_ms.hpet").test, "hpet")  # type: ignore
        self.assertEqual(r.measure("run.suite_ms.pit").test, "pit")  # type: ignore
        self.assertEqual(r.summary, ["---- tickscope summary ----",
                                     "totals: 2 passed, 0 failed, 1 skipped, 0 errors"])
        self.assertEqual((r.duplicates(), r.verdict()), ([], "PASS"))
        self.assertEqual(qemu.judge(r, 1, False, 10, ""), ("PASS", ""))

    def test_junit_testcases_carry_the_dotted_path(self) -> None:
        r = qemu.RunResult({"name": "x"}, "tcg", [], "PASS", "", 1, 1.0, NEW, "", ktap.parse(NEW))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "j.xml")
            report.write_junit([r], path)
            names = [tc.get("name") for tc in ET.parse(path).iter("testcase")]
        self.assertEqual(names, ["hpet.info", "hpet.wrap", "pit.info"])

    def test_duplicate_names_are_our_error(self) -> None:
        # Flattened, two suites' "info" tests collide: an ERROR of ours.
        old = [ln.replace("hpet.info", "info").replace("pit.info", "info") for ln in NEW]
        r = ktap.parse(old)
        self.assertEqual([n.path for n in r.leaves()], ["hpet.info", "hpet.wrap", "pit.info"])
        self.assertEqual((r.duplicates(), r.verdict()), (["info"], "ERROR"))
        self.assertIn("not unique", qemu.judge(r, 1, False, 10, "")[1])
        again = NEW[:8] + ["    ok 3 hpet.info"] + NEW[8:]
        again[5] = "    1..3"
        self.assertEqual(ktap.parse(again).duplicates(), ["hpet.info"])


class EventTest(unittest.TestCase):
    def test_events_and_scenario_check(self) -> None:
        r = ktap.parse(["KTAP version 1", "1..1",
                        "    # event: jump source=tsc at_s=4.5 size_ms=3001.2 median_ms=13",
                        "    # event: guest_stopped source=kvmclock at_s=4.5 flags=0x3",
                        "    ok 1 run", "ok 1 monitor"])
        self.assertEqual(r.events[0], {"kind": "jump", "source": "tsc", "at_s": "4.5",
                                       "size_ms": "3001.2", "median_ms": "13"})
        problems, good = knownanswer.check(3.0, r.events)
        self.assertEqual((problems, [e["source"] for e in good]), ([], ["tsc"]))
        self.assertTrue(knownanswer.check(5.0, r.events)[0])      # wrong size
        spurious = r.events + [{"kind": "jump", "source": "hpet", "size_ms": "900"}]
        self.assertTrue(any("hpet" in p for p in knownanswer.check(3.0, spurious)[0]))
        self.assertTrue(knownanswer.check(3.0, [])[0])             # nothing reported
        self.assertEqual(knownanswer.check_migrate(7.0, r.events[1:]), [])
        self.assertTrue(knownanswer.check_migrate(7.0, r.events))  # 3 s jump > 107 ms


class JudgeTest(unittest.TestCase):
    def test_exit_codes(self) -> None:
        ok = ktap.parse(["KTAP version 1", "1..1", "ok 1 a"])
        self.assertEqual(qemu.judge(ok, 1, False, 10, ""), ("PASS", ""))
        self.assertEqual(qemu.judge(ok, 3, False, 10, "")[0], "ERROR")  # disagreement
        self.assertIn("not through isa-debug-exit", qemu.judge(ok, 0, False, 10, "")[1])
        self.assertIn("timed out", qemu.judge(ok, None, True, 10, "")[1])
        err = "KVM internal error. Suberror: 1\nemulation failure\n"
        self.assertIn("internal error", qemu.judge(ktap.parse([]), 1, False, 10, err)[1])


class MatrixTest(unittest.TestCase):
    def test_matrix_file_loads_and_checks(self) -> None:
        entries = matrix.load(matrix.DEFAULT_FILE, "k.elf", "k.iso")
        names = [e.config.name for e in entries]
        for want in ("tcg-pc", "tcg-q35", "kvm-qboot", "iso-bios", "iso-uefi", "no-acpi",
                     "hpet-off"):
            self.assertIn(want, names)
        e = matrix.Entry(qemu.Config(), "PASS", [("tsc.*", "PASS")],
                         ["abs tsc.freq_khz.hpet < 1", "platform.cpus == 2"], ["KVMKVMKVM"])
        rep = ktap.parse(GOOD)
        r = qemu.RunResult({}, "kvm", [], "ERROR", "x", 5, 1.0, GOOD, "", rep)
        problems = matrix.check(e, r)
        self.assertTrue(any("verdict ERROR" in p for p in problems))
        self.assertTrue(any("tsc.mono is FAIL" in p for p in problems))
        self.assertTrue(any("fails abs tsc.freq_khz.hpet < 1" in p for p in problems))
        self.assertFalse(any("platform.cpus" in p for p in problems))
        self.assertFalse(any("KVMKVMKVM" in p for p in problems))


if __name__ == "__main__":
    unittest.main()
