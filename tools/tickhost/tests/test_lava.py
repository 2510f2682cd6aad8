"""Unit tests of the LAVA jobs (tickhost.lava): the checked-in jobs are the
generated ones, the monitors read every verdict and measurement of a KTAP
stream the way LAVA's monitor action does (leaf names short or dotted), and
the check finds each way LAVA's results can differ from the serial report.
No lava-run here: `make lava` runs the real one."""
from __future__ import annotations

import os
import re
import unittest

from tickhost import lava, parselog, paths, report

LOG = """KTAP version 1
1..3
# measure: run.sources_init_ms = 248 ms
# measure: smp.cpus = 1
    KTAP version 1
    # Subtest: tsc
    1..3
    # measure: tsc.freq_khz = 2596147.756 kHz (from pm)
    ok 1 freq
    # measure: tsc.backwards = 0 (in 100000 reads)
    not ok 2 monotonic
    ok 3 claims # SKIP neither CPUID nor the hypervisor states a TSC rate
not ok 1 tsc
    KTAP version 1
    # Subtest: tscdeadline
    1..2
    ok 1 tscdeadline.oneshot # SKIP CPUID.1:ECX.TSC_DEADLINE is clear
    not ok 2 tscdeadline.periodic # ERROR timed out
not ok 2 tscdeadline
    KTAP version 1
    # Subtest: smp
    1..1
    # measure: smp.cpus = 2
    not ok 1 bringup # SKIP a FAIL with a SKIP word is still a FAIL
not ok 3 smp
# ---- tickscope summary ----
# totals: 1 passed, 3 failed, 2 skipped, 1 errors
# measure: run.suite_ms.tsc = 30 ms
# tickscope: halted (exit code 1)
"""


def monitor_run(text: str, monitors: list[dict[str, str]]) -> list[dict]:
    """What LAVA's monitor action records from text (lava_dispatcher
    actions/test/monitor.py): per monitor, wait for start, then take the
    earliest of end and pattern (end first on a tie) until end."""
    pos, out = 0, []
    for m in monitors:
        s = re.search(m["start"], text[pos:])
        if not s:
            break
        pos += s.end()
        while True:
            e = re.search(m["end"], text[pos:])
            p = re.search(m["pattern"], text[pos:])
            if e and (not p or e.start() <= p.start()):
                pos += e.end()
                break
            if not p:
                return out
            g = p.groupdict()
            out.append({"definition": m["name"], "result": lava.FIXUP[g["result"]],
                        "extra": {"test_case_id": g["test_case_id"]},
                        "measurement": g["measurement"], "units": g["units"]})
            pos += p.end()
    return out


def monitors_for(suites: list[str]) -> list[dict[str, str]]:
    ms = lava.monitors()
    return [ms[0]] + [m for m in ms[1:-1] if m["name"] in suites] + [ms[-1]]


class LavaTest(unittest.TestCase):
    def test_checked_in_jobs_are_generated(self) -> None:
        for path, kind in ((lava.QEMU_JOB, "qemu"), (lava.X86_JOB, "x86")):
            with open(path, encoding="utf-8") as f:
                self.assertEqual(f.read(), lava.job(kind), f"{path}: run tickhost.lava --write")
        self.assertEqual([m["name"] for m in lava.monitors()][1:-1], lava.suites())

    def test_readme_shows_the_job_that_runs(self) -> None:
        with open(os.path.join(paths.ROOT, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        self.assertTrue("```yaml\n" + lava.job("qemu") + "```" in readme,
                        "README.md: run tickhost.lava --write")

    def test_monitors_record_every_result_and_measurement(self) -> None:
        for eol in ("\n", "\r\n", "\r\r\n"):
            text = LOG.replace("\n", eol)
            got = monitor_run(text, monitors_for(["tsc", "tscdeadline", "smp"]))
            run = report.to_dict(parselog.parse(text.splitlines(keepends=True)))
            problems, counts = lava.check(run, got)
            self.assertEqual(problems, [], repr(eol))
            self.assertEqual(counts["lava"], {"pass": 1, "fail": 3, "skip": 2})
            self.assertEqual(counts["lava_measurements"], 6)
        meas = [r for r in got if r["result"] == "unknown"]
        self.assertEqual((meas[2]["extra"]["test_case_id"], meas[2]["measurement"],
                          meas[2]["units"]), ("tsc.freq_khz", "2596147.756", "kHz"))
        self.assertEqual(meas[1]["units"], "")
        self.assertEqual([(r["measurement"], r["units"]) for r in got if r["result"] != "unknown"],
                         [(None, "")] * 6)
        # The subtest header before the nested version line: the same results.
        swapped = LOG.replace("    KTAP version 1\n    # Subtest: smp", "    # Subtest: smp\n"
                              "    KTAP version 1")
        self.assertNotEqual(swapped, LOG)
        self.assertEqual(monitor_run(swapped, monitors_for(["tsc", "tscdeadline", "smp"])),
                         monitor_run(LOG, monitors_for(["tsc", "tscdeadline", "smp"])))

    def test_check_finds_each_difference(self) -> None:
        text = LOG
        run = report.to_dict(parselog.parse(text.splitlines(keepends=True)))
        good = monitor_run(text, monitors_for(["tsc", "tscdeadline", "smp"]))
        cases = [
            (lambda g: g.pop(3), "tsc.freq: pass in the serial report, not in LAVA"),
            (lambda g: g[3].update(result="skip"), "tsc.freq: pass in the serial report, skip"),
            (lambda g: g.append(dict(g[3])), "tsc/freq: recorded twice"),
            (lambda g: g.append(dict(g[3], extra={"test_case_id": "extra"})),
             "tsc.extra: in LAVA's results"),
            (lambda g: g[2].update(measurement="1"), "measurement tsc.freq_khz"),
            (lambda g: g.pop(0), "measurement run.sources_init_ms"),
        ]
        for spoil, said in cases:
            got = [dict(r) for r in good]
            spoil(got)
            problems, _ = lava.check(run, got)
            self.assertTrue(any(said in p for p in problems), (said, problems))


if __name__ == "__main__":
    unittest.main()
