"""Unit tests of which runs the host tool gives a virtio console (issue
#16): default -kernel runs of PCI machines, never a run that chose its own
serial setup or console. No QEMU is booted."""
from __future__ import annotations

import unittest

from tickhost import qemu


def cmd(**kw: object) -> list[str]:
    c = qemu.Config(accel="tcg", firmware="seabios", cpu="max", **kw)  # type: ignore[arg-type]
    return qemu.command(c, None)


def append(argv: list[str]) -> str:
    return argv[argv.index("-append") + 1] if "-append" in argv else ""


class ConsoleTest(unittest.TestCase):
    def test_default_kernel_run_muxes_uart_and_virtconsole(self) -> None:
        argv = cmd(cmdline="tsc_hz=1")
        self.assertIn(f"stdio,id={qemu.CONSOLE_CHARDEV},mux=on", argv)
        self.assertIn(f"chardev:{qemu.CONSOLE_CHARDEV}", argv)
        self.assertIn(f"virtconsole,chardev={qemu.CONSOLE_CHARDEV}", argv)
        self.assertEqual(append(argv), "tsc_hz=1 console=hvc0")
        # One stdio chardev, no plain -serial stdio beside it, no monitor.
        self.assertNotIn("stdio", argv)
        self.assertEqual(argv[argv.index("-monitor") + 1], "none")
        self.assertFalse(qemu.no_serial(qemu.Config(extra=argv)))

    def test_q35_too(self) -> None:
        self.assertIn("console=hvc0", append(cmd(machine="q35,hpet=off")))

    def test_runs_that_keep_the_uart(self) -> None:
        keep = {
            "own console=": cmd(cmdline="console=ttyS1"),
            "paced for LAVA": cmd(cmdline="serial_pace=115200"),
            "own -serial": cmd(extra=["-serial", "null", "-serial", "stdio"]),
            "no serial": cmd(extra=["-serial", "none"]),
            "iso": cmd(iso="build/tickscope.iso"),
            "pvh": cmd(pvh=True),
            "microvm (no PCI)": cmd(machine="microvm"),
            "isapc (no PCI)": cmd(machine="isapc"),
        }
        for why, argv in keep.items():
            with self.subTest(why):
                self.assertNotIn("console=hvc0", append(argv))
                self.assertFalse(any("virtconsole" in a for a in argv))
        self.assertIn("stdio", keep["own console="])

    def test_a_word_that_only_contains_console_does_not_count(self) -> None:
        self.assertIn("console=hvc0", append(cmd(cmdline="noconsole=1")))


if __name__ == "__main__":
    unittest.main()
