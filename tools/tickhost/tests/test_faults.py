"""Unit tests of the planted faults' file and parts, and of the matrix's
exactness: tools/faults.cfg and tools/matrix.cfg as they are. No QEMU runs."""
from __future__ import annotations

import os
import re
import tempfile
import unittest
from unittest import mock

from tickhost import actions, faults, host, ktap, matrix, paths, qemu


def result(lines: list[str], verdict: str = "PASS") -> qemu.RunResult:
    rep = ktap.parse(lines)
    return qemu.RunResult({}, "tcg", [], verdict, "", 1, 1.0, lines, "", rep)


KTAP = ["KTAP version 1", "1..2",
        "    KTAP version 1", "    # Subtest: tsc", "    1..2", "    ok 1 freq",
        "    ok 2 claims # SKIP no claim", "ok 1 tsc",
        "    KTAP version 1", "    # Subtest: host", "    1..1",
        "    # FAIL: vCPU absent 400 ms of 600", "    not ok 1 absent", "not ok 2 host"]


class FaultsFileTest(unittest.TestCase):
    def setUp(self) -> None:
        self.faults = faults.load(faults.DEFAULT_FILE, paths.KERNEL)

    def test_at_least_six_and_each_plants_something(self) -> None:
        self.assertGreaterEqual(len(self.faults), 6)
        for f in self.faults:
            self.assertTrue(f.fail or f.skip or f.host_fail, f.name)
            changed = (f.faulty.extra != f.base.extra or f.faulty.cpu != f.base.cpu
                       or f.faulty.cmdline != f.base.cmdline or f.action)
            self.assertTrue(changed, f"{f.name}: the faulty run is the fault-free one")

    def test_kernel_globs(self) -> None:
        # The kernel's test= globs know * and ?, and a space ends the option.
        for f in self.faults:
            for w in f.faulty.cmdline.split():
                if w.startswith("test="):
                    self.assertIsNone(re.search(r"[\[\]{}]|,$", w), f"{f.name}: {w}")

    def test_actions_need_a_line_the_kernel_prints(self) -> None:
        for f in self.faults:
            if f.action:
                self.assertIn("verbose", f.base.cmdline.split(), f.name)
                at = f.action["at"]
                if not at.startswith("running "):   # the runner's line, else a test's own
                    self.assertTrue(any(at in open(os.path.join(d, n)).read()
                                        for d in (os.path.join(paths.ROOT, "tests"),)
                                        for n in os.listdir(d) if n.endswith(".c")), f.name)

    def test_expand(self) -> None:
        with mock.patch.object(host, "_host_tsc", host.HostTsc(hz=2000000000, why="x")):
            self.assertEqual(faults.expand("a={host_tsc_hz},b={host_tsc_hz*1.001}"),
                             "a=2000000000,b=2002000000")
        self.assertEqual(faults.expand("{root}/x"), paths.ROOT + "/x")
        with mock.patch.object(host, "_host_tsc", host.HostTsc(why="no rdtsc")):
            with self.assertRaises(ValueError):
                faults.expand("{host_tsc_hz}")


class ActionTest(unittest.TestCase):
    def test_parse(self) -> None:
        a = actions.parse('qmp-stop at="running rtc.second" delay=1.2 hold=0.3')
        self.assertEqual(a, {"kind": "qmp-stop", "at": "running rtc.second", "delay": "1.2",
                             "hold": "0.3"})
        for bad in ("pause at=x hold=1", "sigstop hold=1", "sigstop at=x", "sigstop at=x "
                    "hold=1 speed=2", "starve-vcpu at=x hold=1"):
            with self.assertRaises(ValueError, msg=bad):
                actions.parse(bad)


class MatrixExactTest(unittest.TestCase):
    def test_no_entry_accepts_either_verdict_or_a_check_that_cannot_fail(self) -> None:
        for e in matrix.load(matrix.DEFAULT_FILE, paths.KERNEL, paths.ISO):
            self.assertNotIn("|", e.verdict, e.config.name)
            for spec in e.measure:
                # A count or a flag is never negative: `>= 0` holds always.
                self.assertIsNone(re.search(r">=\s*0$|>\s*-", spec), f"{e.config.name}: {spec}")

    def test_no_test_list_is_split(self) -> None:
        # A test= value continued on the next line gains a space: its tail
        # becomes a stray word (the kernel warns and never runs those tests).
        for e in matrix.load(matrix.DEFAULT_FILE, paths.KERNEL, paths.ISO):
            for word in e.config.cmdline.split():
                if "=" not in word:
                    self.assertNotRegex(word, r"[.,*]", f"{e.config.name}: {word}")
                # The kernel refuses a value past 159 characters (then
                # every test runs): lib/cmdline.c, tests/fuzz seeds.
                self.assertLessEqual(len(word.partition("=")[2]), 159,
                                     f"{e.config.name}: {word}")

    def test_host_findings_do_not_make_the_verdict(self) -> None:
        r = result(KTAP, verdict="FAIL")
        self.assertEqual(matrix.device_verdict(r), "PASS")
        e = matrix.Entry(qemu.Config(name="x"), "PASS", [("tsc.claims", "SKIP")], rest="PASS")
        self.assertEqual(matrix.check(e, r), [])

    def test_rest_makes_an_entry_exact(self) -> None:
        r = result(KTAP, verdict="FAIL")
        e = matrix.Entry(qemu.Config(name="x"), "PASS", [], rest="PASS")
        self.assertEqual(matrix.check(e, r), [
            "tsc.claims is SKIP (expected PASS, as every test not named): no claim"])


    def test_kvm_caps_decide_whether_an_entry_runs(self) -> None:
        """An entry needing a KVM capability runs only where /dev/kvm has
        it, and says which it lacks; entries without needs are untouched."""
        plain = matrix.Entry(qemu.Config(name="t", accel="tcg"))
        hv = matrix.Entry(qemu.Config(name="h", accel="kvm"), kvm_caps=["hyperv", "hyperv_time"])
        with mock.patch.object(host, "kvm_usable", return_value=(False, "/dev/kvm: absent")):
            self.assertEqual(matrix.unmet(plain), "")
            self.assertEqual(matrix.unmet(hv), "KVM not usable: /dev/kvm: absent")
        with mock.patch.object(host, "kvm_usable", return_value=(True, "API 12")), \
                mock.patch.object(host.fcntl, "ioctl", side_effect=lambda fd, req, cap: cap != 44), \
                mock.patch.object(host.os, "open", return_value=-1), \
                mock.patch.object(host.os, "close"):
            self.assertEqual(matrix.unmet(hv), "/dev/kvm does not offer KVM_CAP_HYPERV")
        with mock.patch.object(host, "kvm_usable", return_value=(True, "API 12")), \
                mock.patch.object(host.fcntl, "ioctl", return_value=1), \
                mock.patch.object(host.os, "open", return_value=-1), \
                mock.patch.object(host.os, "close"):
            self.assertEqual(matrix.unmet(hv), "")
        self.assertEqual([e.kvm_caps for e in matrix.load(matrix.DEFAULT_FILE, paths.KERNEL,
                                                          paths.ISO)
                          if e.config.name == "kvm-hyperv"], [["hyperv", "hyperv_time"]])


class MatrixShapesTest(unittest.TestCase):
    """The keys for machines other than pc and q35, PVH boots and an
    expected exit status (issue #13's configurations)."""

    def load(self, text: str) -> matrix.Entry:
        with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
            f.write(text)
        try:
            return matrix.load(f.name, "build/k.elf", "build/k.iso")[0]
        finally:
            os.unlink(f.name)

    def test_pvh_boots_the_pvh_image(self) -> None:
        e = self.load("[m]\naccel = tcg\nmachine = microvm,pic=off\nboot = pvh\n")
        self.assertTrue(e.config.pvh)
        self.assertIsNone(e.config.iso)
        self.assertEqual(qemu.pvh_image(e.config.kernel), "build/k-pvh.elf")
        cmd = qemu.command(e.config, None)
        self.assertEqual(cmd[cmd.index("-kernel") + 1], "build/k-pvh.elf")
        self.assertEqual(cmd[cmd.index("-machine") + 1], "microvm,pic=off,accel=tcg")
        self.assertFalse(self.load("[m]\naccel = tcg\n").config.pvh)

    def test_machines(self) -> None:
        for machine, ok in (("microvm,acpi=on", True), ("isapc", True), ("q35", True),
                            ("virt", False), ("pcx", False)):
            c = qemu.Config(accel="tcg", machine=machine, kernel=paths.ROOT)
            err = qemu.resolve(c)[1]
            self.assertEqual("unknown machine" not in err, ok, f"{machine}: {err}")

    def test_exit_status_is_checked(self) -> None:
        e = self.load("[p]\naccel = tcg\ncpu = pentium3\nverdict = ERROR\nexit = 7\n")
        self.assertEqual(e.exit, 7)
        verdict, why = qemu.judge(ktap.parse([]), 7, False, 30, "")
        self.assertEqual(verdict, "ERROR")
        self.assertIn("no long mode", why)
        r = qemu.RunResult({}, "tcg", [], verdict, why, 7, 0.5, [], "", ktap.parse([]))
        self.assertEqual(matrix.check(e, r), [])
        r.qemu_status = 5
        self.assertEqual(matrix.check(e, r), ["QEMU exited with 5 (expected 7)"])
        self.assertIsNone(self.load("[m]\naccel = tcg\n").exit)

    def test_vga_text_is_checked(self) -> None:
        e = self.load("[p]\naccel = tcg\nverdict = ERROR\nvga = ^no long mode\n")
        self.assertEqual(e.config.vga_at, "^no long mode")
        screen = bytearray(b" \x07" * 2000)
        screen[0:24:2] = b"no long mode"
        r = qemu.RunResult({}, "tcg", [], "ERROR", "x", 0, 0.5, [], "", ktap.parse([]),
                           screen_vga=bytes(screen))
        self.assertEqual(matrix.check(e, r), [])
        r.screen_vga, r.screen_error = b" \x07" * 2000, ""
        self.assertEqual(matrix.check(e, r), ["no VGA text line matches /^no long mode/"])


if __name__ == "__main__":
    unittest.main()
