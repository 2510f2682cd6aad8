"""Unit tests of verdicts across runs: majorities, what differed, device tests
apart from host findings, retries counted, and a planted fault's judgement.
They must not boot QEMU: runs are literal JSON dictionaries."""
from __future__ import annotations

import unittest

from tickhost import stability


def run(verdicts: dict[str, str], measures: dict[str, float] | None = None,
        diags: dict[str, list[str]] | None = None, **kw: str) -> dict:
    diags = diags or {}
    return {"verdict": kw.get("verdict", "PASS"), "reason": kw.get("reason", ""),
            "tests": [{"path": p, "result": v, "reason": "",
                       "diagnostics": diags.get(p, [])} for p, v in verdicts.items()],
            "measurements": [{"name": n, "value": v, "test": n.rsplit(".", 1)[0]}
                             for n, v in (measures or {}).items()]}


class TableTest(unittest.TestCase):
    def test_majority_and_differ(self) -> None:
        runs = [run({"a.x": "PASS", "host.absent": "PASS"}),
                run({"a.x": "FAIL", "host.absent": "FAIL"},
                    diags={"a.x": ["FAIL: late by 9 us"]}),
                run({"a.x": "PASS", "host.absent": "PASS"})]
        recs = {r.path: r for r in stability.table(runs)}
        self.assertEqual(recs["a.x"].majority, "PASS")
        self.assertEqual(recs["a.x"].differ, 1)
        self.assertEqual(recs["a.x"].odd_runs(), [1])
        self.assertEqual(recs["a.x"].reasons[1], "FAIL: late by 9 us")
        self.assertEqual([r.path for r in stability.flipped(list(recs.values()), "device")],
                         ["a.x"])
        self.assertEqual([r.path for r in stability.flipped(list(recs.values()), "host")],
                         ["host.absent"])

    def test_a_run_that_lost_tests_differs_in_each(self) -> None:
        runs = [run({"a.x": "PASS", "a.y": "PASS"}), run({"a.x": "PASS"}),
                run({"a.x": "PASS", "a.y": "PASS"})]
        recs = {r.path: r for r in stability.table(runs)}
        self.assertEqual(recs["a.y"].verdicts, ["PASS", stability.ABSENT, "PASS"])
        self.assertEqual(recs["a.y"].differ, 1)
        self.assertEqual(recs["a.x"].differ, 0)

    def test_a_test_only_later_runs_report(self) -> None:
        recs = {r.path: r for r in stability.table([run({}), run({"a.z": "SKIP"})])}
        self.assertEqual(recs["a.z"].verdicts, [stability.ABSENT, "SKIP"])

    def test_ties_go_to_the_first_seen(self) -> None:
        r = stability.TestRecord("a.x", ["FAIL", "PASS"])
        self.assertEqual(r.majority, "FAIL")
        self.assertEqual(r.differ, 1)

    def test_host_suite(self) -> None:
        self.assertTrue(stability.is_host("host.steal"))
        self.assertTrue(stability.is_host("host"))
        self.assertFalse(stability.is_host("hostile.x"))
        self.assertFalse(stability.is_host("tsc.host"))


class RetryTest(unittest.TestCase):
    def test_counted_from_measures_and_diagnostics(self) -> None:
        r = run({"kvmclock.flags": "PASS", "rtc.periodic": "PASS", "pit.wrap": "PASS"},
                measures={"kvmclock.retries": 3, "pm.verify_retries": 0, "tsc.freq_khz": 7},
                diags={"rtc.periodic": ["first window: 2 lost; measuring again"],
                       "pit.wrap": ["measure: pit.wraps_by_tsc = 0 (...; 0 windows measured "
                                    "again)"]})
        self.assertEqual(stability.retries(r), {"kvmclock": 3, "rtc.periodic": 1})
        s = stability.retry_summary([r, run({}), r])
        self.assertEqual(s["rtc.periodic"], {"runs": 2, "retries": 2})
        self.assertEqual(stability.describe_retries({}), "")
        self.assertEqual(stability.describe_retries({"b": 1, "a": 2}), "retried: a 2, b 1")


class FaultTest(unittest.TestCase):
    BASE = [run({"tsc.freq": "PASS", "hpet.present": "PASS", "hpet.wrap": "SKIP",
                 "pm.rate": "PASS", "host.absent": "PASS"})]

    def judge(self, faulty: dict, fail: list[str] = [], skip: list[str] = [],
              host: bool = False) -> list[str]:
        return stability.judge_fault(fail, skip, host, self.BASE, faulty)

    def test_as_planted(self) -> None:
        f = run({"tsc.freq": "PASS", "hpet.present": "FAIL", "hpet.wrap": "FAIL",
                 "pm.rate": "PASS", "host.absent": "FAIL"})
        self.assertEqual(self.judge(f, fail=["hpet.*"]), [])

    def test_the_rest_must_keep_its_verdict(self) -> None:
        f = run({"tsc.freq": "FAIL", "hpet.present": "FAIL", "hpet.wrap": "FAIL",
                 "pm.rate": "PASS"}, diags={"tsc.freq": ["FAIL: off by 900 ppm"]})
        self.assertEqual(self.judge(f, fail=["hpet.*"]),
                         ["tsc.freq is FAIL, fault-free PASS: FAIL: off by 900 ppm"])

    def test_the_named_must_fail_and_exist(self) -> None:
        f = run({"tsc.freq": "PASS", "hpet.present": "PASS", "hpet.wrap": "SKIP",
                 "pm.rate": "PASS"})
        self.assertEqual(self.judge(f, fail=["hpet.present", "kvmclock.*"]),
                         ["hpet.present is PASS, planted FAIL", "no test matches kvmclock.* "
                          "(planted FAIL)"])

    def test_a_check_failing_anyway_proves_nothing(self) -> None:
        base = [run({"rtc.second": "FAIL"})]
        self.assertEqual(stability.judge_fault(["rtc.second"], [], False, base,
                                               run({"rtc.second": "FAIL"})),
                         ["rtc.second FAILs without the fault too: the fault proves nothing"])

    def test_absence_skips(self) -> None:
        f = run({"tsc.freq": "PASS", "hpet.present": "SKIP", "hpet.wrap": "SKIP",
                 "pm.rate": "PASS"})
        self.assertEqual(self.judge(f, skip=["hpet.*"]), [])
        self.assertEqual(self.judge(f, skip=["hpet.wrap"]),
                         ["every test hpet.wrap names SKIPs without the fault too",
                          "hpet.present is SKIP, fault-free PASS"])

    def test_a_host_finding(self) -> None:
        quiet = run({"tsc.freq": "PASS", "hpet.present": "PASS", "hpet.wrap": "SKIP",
                     "pm.rate": "PASS", "host.absent": "PASS"})
        self.assertEqual(self.judge(quiet), [])
        self.assertEqual(self.judge(quiet, host=True),
                         ["no host finding FAILed (planted: the host's doing) among "
                          "host.absent"])
        none = run({"tsc.freq": "PASS", "hpet.present": "PASS", "hpet.wrap": "SKIP",
                    "pm.rate": "PASS"})
        self.assertIn("(this kernel has no host suite)", self.judge(none, host=True)[0])

    def test_missing_and_broken_runs(self) -> None:
        f = run({"tsc.freq": "PASS", "hpet.present": "PASS", "hpet.wrap": "SKIP"})
        self.assertEqual(self.judge(f), ["pm.rate is missing (fault-free: PASS)"])
        broke = run({}, verdict="ERROR", reason="timed out after 120 s")
        self.assertEqual(self.judge(broke), ["the faulty run broke: timed out after 120 s"])



class SoakGroupTest(unittest.TestCase):
    def test_problems_grouped_by_what_they_name(self) -> None:
        from tickhost import soak
        got = soak._grouped([["verdict FAIL (expected PASS)", "a.b is FAIL (x)",
                              "m.n = 3 fails m.n == 0"], [],
                             ["verdict FAIL (expected PASS)", "a.b is FAIL (y)", "a.b FAIL: z"]])
        self.assertEqual(got, [("verdict", [0, 2], "verdict FAIL (expected PASS)"),
                               ("a.b", [0, 2], "a.b is FAIL (x)"),
                               ("m.n", [0], "m.n = 3 fails m.n == 0")])


if __name__ == "__main__":
    unittest.main()
