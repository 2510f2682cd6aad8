"""Unit tests of the name-identity check and of the matrix entries that
carry it. They must not boot QEMU: runs are literal JSON dictionaries."""
from __future__ import annotations

import os
import tempfile
import unittest

from tickhost import golden, matrix, paths


def run(tests: list[str], measures: list[str]) -> dict:
    return {"tests": [{"path": p, "result": "PASS"} for p in tests],
            "measurements": [{"name": n, "value": 1.0} for n in measures]}


class NamesTest(unittest.TestCase):
    def test_names_are_tests_in_order_then_sorted_distinct_measures(self) -> None:
        r = run(["tsc.freq", "hpet.rate", "irq.self_ipi"], ["tsc.freq_khz", "hpet.read_ns.p50",
                                                           "tsc.freq_khz"])
        self.assertEqual(golden.names(r), ["test tsc.freq", "test hpet.rate",
                                           "test irq.self_ipi", "measure hpet.read_ns.p50",
                                           "measure tsc.freq_khz"])

    def test_compare(self) -> None:
        want = ["test a.x", "test a.y", "measure m.one"]
        self.assertEqual(golden.compare(want, list(want)), [])
        self.assertEqual(golden.compare(want, ["test a.x", "measure m.one", "measure m.two"]),
                         ["missing 1: test a.y", "added 1: measure m.two"])
        self.assertEqual(golden.compare(want, ["test a.y", "test a.x", "measure m.one"]),
                         ["same names in another order: line 1 is 'test a.y', recorded "
                          "'test a.x'"])
        self.assertEqual(golden.compare(want, want + ["test a.x"]), ["added 1: test a.x"])
        many = [f"test t.{i}" for i in range(golden.SHOW + 5)]
        self.assertTrue(golden.compare(many, [])[0].endswith("and 5 more"))

    def test_check_against_a_file(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "x.names"), "w", encoding="utf-8") as f:
                f.write("test a.x\nmeasure m.one\n\n")
            self.assertEqual(golden.check("x", run(["a.x"], ["m.one"]), d), [])
            self.assertEqual(golden.check("x", run(["a.x"], []), d), ["missing 1: measure m.one"])
            self.assertIn("no golden list y", golden.check("y", run([], []), d)[0])


class MatrixGoldenTest(unittest.TestCase):
    def test_each_golden_list_has_its_entry(self) -> None:
        entries = {e.config.name: e for e in matrix.load(matrix.DEFAULT_FILE, "k", "i")}
        used = {e.golden: e for e in entries.values() if e.golden}
        self.assertEqual(sorted(used), ["default-kvm", "default-tcg", "smp2-tcg"])
        for name, e in used.items():
            self.assertTrue(os.path.exists(golden.path_of(name)), name)
            # The recorded runs: the default command line, -kernel, pc,
            # no extra QEMU arguments; 2 CPUs for smp2.
            c = e.config
            self.assertEqual((c.cmdline, c.iso, c.machine, c.extra, c.cpu, c.memory),
                             ("", None, "pc", [], "", "128M"), name)
            self.assertEqual(c.smp, 2 if name.startswith("smp2") else 1, name)
            self.assertEqual(c.accel, name.split("-")[-1], name)
            self.assertIn(c.firmware, ("auto", "qboot" if c.accel == "kvm" else "seabios"))
        self.assertEqual(used["default-tcg"].config.name, "tcg-pc")
        self.assertEqual(used["default-kvm"].config.name, "kvm-qboot")

    def test_recorded_lists_are_well_formed(self) -> None:
        for f in sorted(os.listdir(paths.GOLDEN_DIR)):
            if f.endswith(".names"):
                lines = golden.load(f[:-len(".names")])
                kinds = [ln.split(" ", 1)[0] for ln in lines]
                self.assertEqual(kinds, sorted(kinds, key=lambda k: k != "test"), f)
                measures = [ln for ln in lines if ln.startswith("measure ")]
                self.assertEqual(measures, sorted(set(measures)), f)



class ReadmeListTest(unittest.TestCase):
    def test_list_round_trips_and_readme_names_are_unique(self) -> None:
        r = run(["tsc.freq", "tsc.claims", "hpet.rate"], [])
        lines = golden.readme_lines(r)
        self.assertEqual(lines, ["- `tsc`: `tsc.freq`, `tsc.claims`", "- `hpet`: `hpet.rate`"])
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "README.md")
            with open(path, "w", encoding="utf-8") as f:
                f.write("text `x`\n" + golden.README_BEGIN + " -->\n" + "\n".join(lines) +
                        "\n" + golden.README_END + "\n`y`\n")
            self.assertEqual(golden.readme_listed(path), golden.result_names(r))
        listed = golden.readme_listed()
        self.assertGreater(len(listed), 40)
        self.assertEqual(len(listed), len(set(listed)))          # unique as printed


if __name__ == "__main__":
    unittest.main()
