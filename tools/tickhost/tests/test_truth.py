"""Unit tests of the known TSC answer the tool passes: which host clock it is
taken against, and when tsc-frequency= leaves it alone. No QEMU is booted."""
from __future__ import annotations

import unittest
from unittest import mock

from tickhost import host, qemu

# A host whose CLOCK_MONOTONIC NTP runs 100 ppm fast against RAW: the TSC
# counts fewer ticks per CLOCK_MONOTONIC second than per RAW second.
SLEWED = host.HostTsc(hz=2599740000, raw_hz=2600000000, slew_ppm=100.0, unc_ppm=0.4,
                      why="raw_hz=2600000000 mono_hz=2599740000 unc_ppb=400 slew_ppb=100000")


def cfg(accel: str, cpu: str = "", extra: list[str] | None = None,
        cmdline: str = "") -> qemu.Config:
    return qemu.Config(accel=accel, cpu=cpu, extra=extra or [], cmdline=cmdline)


class TruthTest(unittest.TestCase):
    def setUp(self) -> None:
        p = mock.patch.object(host, "_host_tsc", SLEWED)
        p.start()
        self.addCleanup(p.stop)

    def test_the_clock_qemus_devices_follow_is_passed(self) -> None:
        hz, why = qemu.known_tsc_hz(cfg("tcg"))
        self.assertEqual(hz, SLEWED.hz)
        self.assertNotEqual(hz, SLEWED.raw_hz)
        self.assertIn("+100.000 ppm against CLOCK_MONOTONIC_RAW", why)

    def test_the_slew_is_in_the_record(self) -> None:
        t = qemu.known_truth(cfg("tcg"))
        self.assertEqual(t["tsc_hz"], SLEWED.hz)
        self.assertEqual(t["host"]["slew_ppm"], 100.0)
        self.assertEqual(t["host"]["raw_hz"], SLEWED.raw_hz)

    def test_icount_is_one_ghz_without_the_host(self) -> None:
        t = qemu.known_truth(cfg("tcg", extra=["-icount", "shift=0"]))
        self.assertEqual(t["tsc_hz"], 1000000000)
        self.assertNotIn("host", t)

    def test_tsc_frequency(self) -> None:
        # TCG ignores it for the TSC's rate; KVM within 250 ppm does not scale.
        self.assertEqual(qemu.known_tsc_hz(cfg("tcg", "max,tsc-frequency=1000000000"))[0],
                         SLEWED.hz)
        near = int(SLEWED.hz * (1 - 200e-6))
        self.assertEqual(qemu.known_tsc_hz(cfg("kvm", f"host,tsc-frequency={near}"))[0],
                         SLEWED.hz)
        far = int(SLEWED.hz * (1 - 300e-6))
        self.assertEqual(qemu.known_tsc_hz(cfg("kvm", f"host,tsc-frequency={far},x=1"))[0], 0)

    def test_a_given_tsc_hz_wins(self) -> None:
        t = qemu.known_truth(cfg("tcg", cmdline="test=tsc.* tsc_hz=123"))
        self.assertEqual(t["tsc_hz"], 123)


if __name__ == "__main__":
    unittest.main()
