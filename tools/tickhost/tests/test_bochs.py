"""Unit tests of the Bochs runner's parts and of the matrix keys that
choose it (emulator, bochs_sync, stderr = empty). No Bochs runs: the
configuration file, the known answer, the log filter and the verdict are
checked on literal inputs."""
from __future__ import annotations

import configparser
import os
import sys
import tempfile
import unittest
from unittest import mock

from tickhost import bochs, ktap, matrix, paths, qemu

LOG = """KTAP version 1
1..1
    KTAP version 1
    # Subtest: tsc
    1..1
    ok 1 freq
ok 1 tsc
# totals: 1 passed, 0 failed, 0 skipped, 0 errors
"""


def lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def entry(text: str) -> list[matrix.Entry]:
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
        f.write(text)
    try:
        return matrix.load(f.name, paths.KERNEL, paths.ISO)
    finally:
        os.remove(f.name)


class ConfigTest(unittest.TestCase):
    def test_matrix_keys_choose_bochs(self) -> None:
        e = entry("[b]\nemulator = bochs\nbochs_sync = realtime\ncmdline = test=tsc.*\n"
                  "stderr = empty\n")[0]
        self.assertEqual((e.config.emulator, e.config.bochs_sync), ("bochs", "realtime"))
        self.assertEqual(e.config.timeout, bochs.DEFAULT_TIMEOUT)
        self.assertTrue(e.quiet)
        q = entry("[q]\naccel = tcg\n")[0]
        self.assertEqual((q.config.emulator, q.config.timeout, q.quiet), ("qemu", 120.0, False))

    def test_unknown_stderr_value_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            entry("[b]\nstderr = quiet\n")

    def test_qemu_refuses_a_bochs_config(self) -> None:
        _, err = qemu.resolve(qemu.Config(emulator="bochs"))
        self.assertIn("bochs", err)

    def test_resolve_refuses_what_bochs_cannot_do(self) -> None:
        with mock.patch.object(bochs, "missing", return_value=""), \
                mock.patch("os.path.exists", return_value=True):
            for cfg, word in ((qemu.Config(emulator="bochs", bochs_sync="fast"), "sync"),
                              (qemu.Config(emulator="bochs", extra=["-S"]), "QEMU"),
                              (qemu.Config(emulator="bochs", iso="x.iso", cmdline="a"), "fixed"),
                              (qemu.Config(emulator="bochs", memory="lots"), "memory"),
                              (qemu.Config(emulator="bochs", pvh=True), "PVH"),
                              (qemu.Config(emulator="bochs", vga_at="x"), "screen")):
                self.assertIn(word, bochs.resolve(cfg)[1])
            c, err = bochs.resolve(qemu.Config(emulator="bochs", memory="1G"))
            self.assertEqual((err, c.cpu, c.accel), ("", bochs.DEFAULT_CPU, "bochs"))
            self.assertEqual(bochs.megs(c.memory), 1024)

    def test_missing_bochs_is_said_with_the_packages(self) -> None:
        with mock.patch("shutil.which", return_value=None):
            self.assertIn("apt-get install bochs", bochs.missing())
            r = bochs.run(qemu.Config(emulator="bochs", kernel=__file__))
        self.assertEqual(r.verdict, "ERROR")
        self.assertIn("bochs is missing", r.reason)

    def test_bochsrc(self) -> None:
        c, _ = bochs.resolve(qemu.Config(emulator="bochs", bochs_sync="realtime", smp=2))
        rc = bochs.bochsrc(c, "/x.iso", "/s.out", "/b.log")
        for want in ("clock: sync=realtime, time0=utc", f"ips={bochs.REALTIME_IPS}", "count=2",
                     "path=/x.iso", "mode=file, dev=/s.out", "log: /b.log", "boot: cdrom",
                     "megs: 128", "chipset=i440fx"):
            self.assertIn(want, rc)
        none, _ = bochs.resolve(qemu.Config(emulator="bochs"))
        self.assertIn(f"ips={bochs.IPS},", bochs.bochsrc(none, "/x.iso", "/s.out", "/b.log"))
        # Above Bochs's best speed: emulated time runs slower than the host's.
        self.assertGreaterEqual(bochs.REALTIME_IPS, 2 * 125000000)


class IsoTest(unittest.TestCase):
    def test_iso_per_command_line_reused_and_few_kept(self) -> None:
        cfgs: list[str] = []

        def mkrescue(cmd: list[str], **_: object) -> mock.Mock:
            out, tree = cmd[2], cmd[3]
            with open(os.path.join(tree, "boot", "grub", "grub.cfg"), encoding="utf-8") as f:
                cfgs.append(f.read())
            with open(out, "w", encoding="utf-8") as f:
                f.write("iso")
            return mock.Mock(returncode=0, stderr="")

        with tempfile.TemporaryDirectory() as d, \
                mock.patch("subprocess.run", side_effect=mkrescue) as run:
            first, err = bochs.make_iso(__file__, "test=tsc.* end=poweroff", d)
            self.assertEqual(err, "")
            self.assertIn("multiboot2 /boot/tickscope.elf test=tsc.* end=poweroff", cfgs[0])
            self.assertIn("set timeout=0", cfgs[0])
            self.assertEqual(bochs.make_iso(__file__, "test=tsc.* end=poweroff", d),
                             (first, ""))
            self.assertEqual(run.call_count, 1)
            for i in range(6):
                bochs.make_iso(__file__, f"test=x{i}", d)
            left = [f for f in os.listdir(d) if f.endswith(".iso")]
            self.assertEqual(len(left), bochs.ISOS_KEPT)
            # Another run removed the old ones first (make test boots two at once).
            with mock.patch("os.remove", side_effect=FileNotFoundError("gone")):
                self.assertEqual(bochs.make_iso(__file__, "test=y", d)[1], "")
            self.assertEqual([f for f in os.listdir(d) if not f.endswith(".iso")], [])


class FollowTest(unittest.TestCase):
    """_boot with a stand-in for Bochs: a process that writes serial to
    the file, as Bochs's com1 does, and then halts (sleeps) or exits."""

    def boot(self, body: str, timeout: float = 20.0) -> tuple:
        with tempfile.TemporaryDirectory() as d:
            serial = os.path.join(d, "serial.out")
            script = (f"import sys, time\nf = open({serial!r}, 'w')\n"
                      f"def out(s):\n    f.write(s); f.flush()\n{body}")
            with mock.patch.object(bochs, "QUIET_S", 0.3):
                return bochs._boot([sys.executable, "-c", script], serial, timeout, False,
                                   None)

    def test_a_halted_machine_is_stopped_once_its_stream_is_complete(self) -> None:
        status, timed_out, got, times = self.boot(
            f"out({LOG!r})\nout('# tickscope: halted (exit code 0)\\n')\ntime.sleep(60)")
        self.assertFalse(timed_out)
        self.assertNotEqual(status, 0)          # stopped by the tool
        self.assertEqual(got[-1], "# tickscope: halted (exit code 0)\n")
        self.assertEqual(len(got), len(times))
        self.assertTrue(ktap.parse(got).complete())

    def test_an_exit_ends_the_run_and_keeps_the_last_partial_line(self) -> None:
        status, timed_out, got, _ = self.boot(f"out({LOG!r} + 'no newline')\nsys.exit(1)")
        self.assertEqual((status, timed_out, got[-1]), (1, False, "no newline\n"))

    def test_silence_times_out(self) -> None:
        status, timed_out, got, _ = self.boot("out('GRUB loading')\ntime.sleep(60)", 1.0)
        self.assertTrue(timed_out)
        rep = ktap.parse(got)
        self.assertEqual(bochs.judge(rep, got, timed_out, 1.0, status, [])[0], "ERROR")


class TruthTest(unittest.TestCase):
    def test_known_answer_only_on_emulated_time(self) -> None:
        none = bochs.known_truth(qemu.Config(emulator="bochs"))
        self.assertEqual(none["tsc_hz"], bochs.IPS)
        self.assertEqual(bochs.known_truth(qemu.Config(bochs_sync="slowdown"))["tsc_hz"],
                         bochs.IPS)
        for other in ("realtime", "both"):
            self.assertEqual(bochs.known_truth(qemu.Config(bochs_sync=other))["tsc_hz"], 0)
        self.assertEqual(bochs.known_truth(qemu.Config(iso="x.iso"))["tsc_hz"], 0)
        self.assertEqual(bochs.known_truth(qemu.Config(cmdline="tsc_hz=7"))["tsc_hz"], 7)


class JudgeTest(unittest.TestCase):
    def test_complaints_leave_out_the_display_and_the_poweroff(self) -> None:
        log = ("00001i[CPU0  ] fine\n"
               "00002e[APIC0 ] APIC: TSC-Deadline timer is disabled\n"
               "00003e[BXVGA ] current guest pixel format is unsupported\n"
               "00004p[TERM  ] >>PANIC<< 32 bpp graphics mode not supported\n"
               "00005p[ACPI  ] >>PANIC<< ACPI control: soft power off\n")
        self.assertEqual(bochs.complaints(log),
                         ["00002e[APIC0 ] APIC: TSC-Deadline timer is disabled"])

    def test_a_complete_log_is_judged_as_parse_judges_it(self) -> None:
        rep = ktap.parse(lines(LOG))
        self.assertEqual(bochs.judge(rep, lines(LOG), False, 9, 1, []), ("PASS", ""))
        bad = lines(LOG + "# tickscope: powering off (exit code 1)\n")
        self.assertEqual(bochs.judge(ktap.parse(bad), bad, False, 9, 1, [])[0], "ERROR")

    def test_what_stops_a_run_early_is_error(self) -> None:
        part = lines(LOG)[:4]
        v, why = bochs.judge(ktap.parse(part), part, False, 9, 1,
                             ["1p[CPU0 ] >>PANIC<< triple fault"])
        self.assertEqual(v, "ERROR")
        self.assertIn("triple fault", why)
        v, why = bochs.judge(ktap.parse([]), [], True, 9, None, [])
        self.assertEqual((v, why), ("ERROR", "timed out after 9 s before the KTAP header"))

    def test_stderr_empty_check(self) -> None:
        e = entry("[b]\nemulator = bochs\nstderr = empty\n")[0]
        r = qemu.RunResult({}, "bochs", [], "PASS", "", 1, 1.0, lines(LOG),
                           "00002e[APIC0 ] APIC: TSC-Deadline timer is disabled",
                           ktap.parse(lines(LOG)))
        self.assertTrue(any("TSC-Deadline" in p for p in matrix.check(e, r)))
        r.stderr = ""
        self.assertEqual(matrix.check(e, r), [])


class EntriesTest(unittest.TestCase):
    def test_the_bochs_entries_of_the_matrix(self) -> None:
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(matrix.DEFAULT_FILE)
        bx = {n: cp[n] for n in cp.sections() if cp[n].get("emulator") == "bochs"}
        syncs = sorted(s.get("bochs_sync", "none") for s in bx.values())
        self.assertEqual(syncs, ["none", "realtime"])
        for name, s in bx.items():
            self.assertEqual(s.get("stderr"), "empty", name)
            if s.get("bochs_sync") == "realtime":
                self.assertEqual(s.get("verdict"), "FAIL", name)
                self.assertIn("=FAIL", s.get("expect"), name)


if __name__ == "__main__":
    unittest.main()
