"""Unit tests of advise's rules (each fed a measurement on each side of its
threshold), of the scenario figures they read, and of --verify's judgement.
They must not boot QEMU: runs and scenarios are literal JSON dictionaries."""
from __future__ import annotations

import unittest
from typing import Any, Optional

from tickhost import advise, adviseverify, knownanswer

KVM_CMD = ["qemu-system-x86_64", "-machine", "pc,accel=kvm", "-cpu", "host,arch-capabilities=off"]
TCG_CMD = ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-cpu", "max"]


def run(accel: str = "kvm", measures: Optional[dict[str, Any]] = None,
        tests: Optional[dict[str, str]] = None, flags: str = "tsc=1 invariant_tsc=0",
        command: Optional[list[str]] = None) -> dict[str, Any]:
    """A run dictionary: measures maps a name to a value or (value, extra)."""
    ms = []
    for name, v in (measures or {}).items():
        value, extra = v if isinstance(v, tuple) else (v, "")
        ms.append({"name": name, "value": value, "unit": "", "extra": extra, "test": ""})
    ts = [{"path": "platform.cpu", "result": "PASS", "reason": "",
           "diagnostics": [f"flags: {flags}"]}] if flags else []
    ts += [{"path": p, "result": r, "reason": "", "diagnostics": []}
           for p, r in (tests or {}).items()]
    return {"config": {"name": "t", "cpu": ""}, "accel": accel,
            "command": command or (KVM_CMD if accel == "kvm" else TCG_CMD),
            "platform": {"hypervisor": "KVMKVMKVM" if accel == "kvm" else "TCGTCGTCGTCG"},
            "tests": ts, "measurements": ms}


def starve(accel: str = "kvm", pit: float = 0, rtc: float = 0, wall: Optional[float] = 0.0,
           unc: Optional[float] = 0.0, extra: Optional[list[str]] = None,
           held: float = 1.0, name: str = "starve") -> dict[str, Any]:
    """A scenario dictionary with monitor mode's deficits at the end."""
    d = run(accel, {"monitor.pit.deficit_end": pit, "monitor.pit.deficit_max": (pit, "at 100 Hz"),
                    "monitor.rtc.deficit_end": rtc, "monitor.rtc.deficit_max": (rtc, "at 64 Hz")},
            flags="", command=(KVM_CMD if accel == "kvm" else TCG_CMD) + (extra or []))
    d.update(scenario=name, scenario_verdict="PASS", held_s=held, walltime_err_ms=wall,
             walltime_unc_ms=unc, notes=[], problems=[])
    return d


def item(rule: str, r: dict[str, Any], scen: Optional[list[dict[str, Any]]] = None,
         guest: str = "linux") -> advise.Item:
    i = advise.advise(r, scen or [], guest).item(rule)
    assert i is not None
    return i


class InEffectTest(unittest.TestCase):
    def test_defaults_and_options(self) -> None:
        self.assertEqual(advise.in_effect(KVM_CMD, "kvm")["rtc"], "discard")
        self.assertEqual(advise.in_effect(KVM_CMD, "kvm")["pit"], "delay")
        self.assertIsNone(advise.in_effect(TCG_CMD, "tcg")["pit"])
        cur = advise.in_effect(KVM_CMD + ["-rtc", "base=localtime,driftfix=slew", "-global",
                                          "kvm-pit.lost_tick_policy=discard", "-machine",
                                          "hpet=off", "-icount", "shift=0"], "kvm")
        self.assertEqual((cur["rtc"], cur["pit"], cur["hpet"], cur["icount"], cur["rtc_base"]),
                         ("slew", "discard", False, True, "localtime"))
        cur = advise.in_effect(["-cpu", "host,tsc-frequency=2000000000,-kvmclock"], "kvm")
        self.assertEqual((cur["tsc_frequency"], cur["kvmclock"]), (2000000000, False))


class RuleTest(unittest.TestCase):
    def test_offset_follows_the_guest(self) -> None:
        self.assertEqual((item("offset", run()).status, item("offset", run()).xml),
                         ("keep", "<clock offset='utc'>"))
        w = item("offset", run(), guest="windows")
        self.assertEqual((w.status, w.qemu), ("advise", ["-rtc base=localtime"]))
        done = run(command=KVM_CMD + ["-rtc", "base=localtime"])
        self.assertEqual(item("offset", done, guest="windows").status, "keep")

    def test_kvmclock_stable_bit_and_warps(self) -> None:
        good = item("kvmclock", run(measures={"kvmclock.stable": 1, "kvmclock.warps": 0},
                                    tests={"kvmclock.present": "PASS"}))
        self.assertEqual((good.status, good.xml),
                         ("keep", "<timer name='kvmclock' present='yes'/>"))
        for m in ({"kvmclock.stable": 0}, {"kvmclock.stable": 1, "kvmclock.warps": 1}):
            bad = item("kvmclock", run(measures=m, tests={"kvmclock.present": "PASS"}))
            self.assertEqual(bad.status, "warn", m)
        off = run(measures={"kvmclock.stable": 1}, tests={"kvmclock.present": "PASS"},
                  command=KVM_CMD[:-1] + ["host,kvmclock=off"])
        self.assertEqual(item("kvmclock", off).status, "advise")
        self.assertEqual(item("kvmclock", run("tcg")).status, "n/a")
        self.assertEqual(item("kvmclock", run("kvm")).status, "missing")
        self.assertIn("tickscope run --accel kvm", item("kvmclock", run("kvm")).todo)
        self.assertEqual(item("kvmclock", run(tests={"kvmclock.present": "PASS"}),
                              guest="windows").status, "n/a")

    def _tsc(self, ppm: float, warp: float = 0, accel: str = "kvm") -> advise.Item:
        final = 2596148.0
        return item("tsc", run(accel, {"tsc.freq_khz": final, "tsc.freq_khz.hpet":
                                       final * (1 + ppm / 1e6), "tsc.freq_khz.pm": final,
                                       "tsc.warp_cycles.max": warp,
                                       "tsc.freq_khz.kvmclock_scale": 2596148},
                               flags="tsc=1 invariant_tsc=1"))

    def test_tsc_pinned_within_500_ppm_hidden_beyond(self) -> None:
        pin = self._tsc(499)
        self.assertEqual((pin.status, pin.cpu), ("advise", ["tsc-frequency=2596148000"]))
        self.assertEqual(pin.xml, "<timer name='tsc' frequency='2596148000'/>")
        for bad in (self._tsc(501), self._tsc(-501), self._tsc(0, warp=1)):
            self.assertEqual((bad.status, bad.cpu), ("advise", ["-invtsc"]))
        self.assertEqual(item("tsc", run(flags="tsc=1 invariant_tsc=0")).status, "n/a")
        self.assertEqual(self._tsc(0, accel="tcg").status, "n/a")
        self.assertEqual(item("tsc", run(flags="")).status, "missing")

    def test_pit_policy_lost_ticks_against_one_tick(self) -> None:
        discard = ["-global", "kvm-pit.lost_tick_policy=discard"]
        r = run(command=KVM_CMD + discard)
        lost = item("pit-tickpolicy", r, [starve(pit=2, extra=discard)])
        self.assertEqual((lost.status, lost.xml),
                         ("advise", "<timer name='pit' tickpolicy='delay'/>"))
        self.assertEqual(lost.qemu, ["-global kvm-pit.lost_tick_policy=delay"])
        kept = item("pit-tickpolicy", r, [starve(pit=1, extra=discard)])
        self.assertEqual((kept.status, kept.xml),
                         ("keep", "<timer name='pit' tickpolicy='discard'/>"))
        still = item("pit-tickpolicy", run(), [starve(pit=2)])
        self.assertEqual(still.status, "warn")
        self.assertEqual(item("pit-tickpolicy", run("tcg"), [starve("tcg", pit=50)]).status, "n/a")
        self.assertEqual(item("pit-tickpolicy", run()).status, "missing")
        # make test's pair: discard for both, then slew with kvm-pit's delay;
        # each rule takes the run under the policy in effect for its device.
        pair = [starve(pit=100, rtc=60, extra=discard),
                starve(pit=0, rtc=0, extra=["-rtc", "driftfix=slew"])]
        self.assertEqual(item("pit-tickpolicy", run(), pair).status, "keep")
        self.assertEqual(item("rtc-tickpolicy", run(), pair).status, "advise")
        self.assertIn("scenario starve", item("pit-tickpolicy", run()).todo)

    def test_rtc_policy_counts_against_host_time(self) -> None:
        # 1 tick missing by the guest's clock, but the clock itself fell
        # 31.25 ms (2 ticks at 64 Hz) behind the host's: 3 lost > 1 + 0.
        lost = item("rtc-tickpolicy", run("tcg"), [starve("tcg", rtc=1, wall=31.25)])
        self.assertEqual((lost.status, lost.qemu), ("advise", ["-rtc driftfix=slew"]))
        self.assertEqual(lost.xml, "<timer name='rtc' tickpolicy='catchup'/>")
        # The same count with an uncertain clock (100 ms: 6.4 ticks) is no loss.
        kept = item("rtc-tickpolicy", run("tcg"), [starve("tcg", rtc=1, wall=31.25, unc=100)])
        self.assertEqual((kept.status, kept.qemu), ("keep", []))
        self.assertEqual(kept.xml, "<timer name='rtc' tickpolicy='delay'/>")
        already = run("tcg", command=TCG_CMD + ["-rtc", "driftfix=slew"])
        self.assertEqual(item("rtc-tickpolicy", already, [starve("tcg", rtc=40)]).status, "keep")
        slewed = item("rtc-tickpolicy", run("tcg"),
                      [starve("tcg", rtc=40, extra=["-rtc", "driftfix=slew"])])
        self.assertEqual(slewed.status, "warn")
        # Evidence from another policy that lost nothing says nothing about
        # the one in effect; of two, the one in effect is used.
        other = starve("tcg", rtc=0, extra=["-rtc", "driftfix=slew"])
        self.assertEqual(item("rtc-tickpolicy", run("tcg"), [other]).status, "missing")
        both = [starve("tcg", rtc=40), other]
        self.assertEqual(item("rtc-tickpolicy", run("tcg"), both).status, "advise")
        self.assertEqual(item("rtc-tickpolicy", already, both).status, "keep")

    def test_hpet_lost_periodic_ticks(self) -> None:
        def h(lost: float) -> advise.Item:
            return item("hpet", run(measures={"hpet.periodic.lost": lost},
                                    tests={"hpet.present": "PASS"}))
        self.assertEqual((h(2).status, h(2).qemu), ("advise", ["-machine hpet=off"]))
        self.assertEqual((h(1).status, h(1).xml), ("keep", "<timer name='hpet' present='yes'/>"))
        self.assertEqual(item("hpet", run(tests={"hpet.present": "SKIP"})).status, "n/a")
        self.assertEqual(item("hpet", run()).status, "missing")

    def test_hypervclock_needs_the_stable_bit(self) -> None:
        yes = item("hypervclock", run(measures={"kvmclock.stable": 1}), guest="windows")
        self.assertEqual((yes.status, yes.cpu), ("advise", ["hv-time"]))
        self.assertEqual(item("hypervclock", run(measures={"kvmclock.stable": 0}),
                              guest="windows").status, "n/a")
        self.assertEqual(item("hypervclock", run(measures={"kvmclock.stable": 1})).status, "n/a")
        self.assertEqual(item("hypervclock", run("tcg"), guest="windows").status, "n/a")

    def test_rtc_track_under_icount(self) -> None:
        icount = TCG_CMD + ["-icount", "shift=0"]

        def t(ppm: float, cmd: list[str]) -> advise.Item:
            return item("rtc-track", run("tcg", {"drift.hpet.rtc.ppm": (ppm, "offset 1 ns over "
                                                                        "100 ms, tol 800 ppm")},
                                         command=cmd))
        self.assertEqual((t(801, icount).status, t(801, icount).qemu),
                         ("advise", ["-rtc clock=vm"]))
        self.assertEqual(t(799, icount + ["-rtc", "clock=vm"]).xml,
                         "<timer name='rtc' track='guest'/>")
        self.assertEqual(t(799, icount).status, "keep")
        self.assertEqual(t(-801, TCG_CMD).status, "warn")
        self.assertEqual(item("rtc-track", run("tcg")).status, "missing")


class FiguresTest(unittest.TestCase):
    def test_lost_against_host_time_and_bunched(self) -> None:
        f = advise.figures(starve("kvm", pit=5, rtc=-3, wall=20.0, unc=10.0, held=1.0))
        self.assertAlmostEqual(f.ticks["pit"].lost, 7.0)        # 5 + 20 ms at 100 Hz
        self.assertAlmostEqual(f.ticks["pit"].unc, 2.0)         # 1 + 10 ms at 100 Hz
        self.assertAlmostEqual(f.ticks["pit"].bunched, 93.0)    # 100 due while held
        self.assertAlmostEqual(f.ticks["rtc"].lost, -3 + 1.28)
        self.assertAlmostEqual(f.ticks["rtc"].bunched, 64.0)
        g = advise.figures(starve("kvm", pit=150, wall=None, unc=None))
        self.assertEqual((g.ticks["pit"].lost, g.ticks["pit"].bunched), (150.0, 0.0))
        self.assertEqual(g.ticks["pit"].basis, "the guest's clock")

    def test_inputs_split_into_runs_and_scenarios(self) -> None:
        matrix = {"runs": [run(), starve(name="pause")], "scenarios": [starve(name="migrate")]}
        runs, scen = advise.split_inputs([run(), starve(), matrix])
        self.assertEqual((len(runs), [s["scenario"] for s in scen]),
                         (2, ["starve", "pause", "migrate"]))

    def test_lines_carry_evidence_and_one_timer_per_name(self) -> None:
        r = run("tcg", {"drift.hpet.rtc.ppm": (10, "tol 800 ppm"), "hpet.periodic.lost": 9},
                tests={"hpet.present": "PASS"})
        a = advise.advise(r, [starve("tcg", rtc=30)])
        xml = advise.libvirt_lines(a)
        self.assertEqual(sum("name='rtc'" in ln for ln in xml), 1)
        self.assertIn("<timer name='rtc' tickpolicy='catchup' track='wall'/>", xml[1] + xml[2])
        for ln in xml[1:-1] + advise.qemu_lines(a, "max"):
            self.assertRegex(ln, r"(<!--|#) \S+: .+ \[", ln)
        args, flags = advise.options(a)
        self.assertEqual((args, flags), (["-rtc", "driftfix=slew", "-machine", "hpet=off"], []))


class VerifyTest(unittest.TestCase):
    def test_judged_at_zero_within_the_uncertainty(self) -> None:
        cur = {"starve": advise.figures(starve("tcg", rtc=60))}
        # Each figure is +-1 tick: at zero means |lost| <= 1, or an
        # overshoot (-5: more paid back than lost); a mere difference
        # (60 -> 40) is host load, not the change.
        for rec_lost, want in ((0, "stands"), (1, "stands"), (-1, "stands"), (-5, "stands"),
                               (2, "withdrawn"), (40, "withdrawn"), (62, "withdrawn"),
                               (-57, "stands"), (-58, "withdrawn"), (-70, "withdrawn")):
            i = advise.Item("rtc-tickpolicy", "advise", "")
            adviseverify.judge(i, cur, {"starve": advise.figures(starve("tcg", rtc=rec_lost))})
            self.assertTrue(i.verify.startswith(want), (rec_lost, i.verify))
            self.assertEqual(i.status, "advise" if want == "stands" else "withdrawn")
        # The current run must have been off beyond both uncertainties.
        three = {"starve": advise.figures(starve("tcg", rtc=3))}
        i = advise.Item("rtc-tickpolicy", "advise", "")
        adviseverify.judge(i, three, {"starve": advise.figures(starve("tcg", rtc=0))})
        self.assertTrue(i.verify.startswith("stands"))
        two = {"starve": advise.figures(starve("tcg", rtc=2))}
        adviseverify.judge(i, two, {"starve": advise.figures(starve("tcg", rtc=0))})
        self.assertTrue(i.verify.startswith("withdrawn"))
        self.assertEqual([adviseverify.classify(10, 1, x, 1) for x in (0, 5, -5, 12, 13, -13)],
                         ["better", "same", "better", "same", "worse", "worse"])
        h = advise.Item("hpet", "advise", "")
        adviseverify.judge(h, cur, cur)
        self.assertTrue(h.verify.startswith("not re-measured"))
        self.assertEqual(h.status, "advise")

    def test_wall_judged_by_magnitude(self) -> None:
        cur = {"pause": advise.figures(starve("kvm", wall=2000.0, unc=5.0, name="pause"))}
        rec = {"pause": advise.figures(starve("kvm", wall=-3.0, unc=5.0, name="pause"))}
        b, w, s = adviseverify.compare("kvmclock", cur, rec)
        self.assertEqual((len(b), len(w), len(s)), (1, 0, 0))
        b, w, s = adviseverify.compare("kvmclock", rec, cur)
        self.assertEqual((len(b), len(w)), (0, 1))
        # A few ms past zero is load, not a clock paying back.
        self.assertEqual(adviseverify.classify(10, 1, -5, 1, overshoot=False), "same")
        self.assertEqual(adviseverify.classify(10, 1, -1, 1, overshoot=False), "better")

    def test_a_migration_refused_as_configured_and_run_as_advised(self) -> None:
        refused = starve("kvm", name="migrate")
        refused.update(scenario_verdict="SKIP", measurements=[],
                       problems=["the source would not migrate: QMP migrate: State blocked by "
                                 "non-migratable CPU device (invtsc flag)"])
        ran = starve("kvm", name="migrate")
        b, w, s = adviseverify.compare("tsc", {"migrate": advise.figures(refused)},
                                       {"migrate": advise.figures(ran)})
        self.assertEqual((len(b), len(w)), (1, 0))
        self.assertIn("invtsc flag", b[0])
        b, w, s = adviseverify.compare("tsc", {"migrate": advise.figures(ran)},
                                       {"migrate": advise.figures(refused)})
        self.assertEqual((len(b), len(w)), (0, 1))
        b, w, s = adviseverify.compare("rtc-tickpolicy", {"migrate": advise.figures(refused)},
                                       {"migrate": advise.figures(ran)})
        self.assertEqual((b, w, s), ([], [], []))


class WalltimeTest(unittest.TestCase):
    def test_smallest_offset_each_side(self) -> None:
        arr = [(10.0 + 0.5 + 0.200, {"at_s": "0.5"}),                  # an event, printed late
               (10.0 + 1.0 + 0.003, {"at_s": "1.0", "tsc": "0"}),
               (10.0 + 3.0 + 2.0, {"at_s": "3.0", "tsc": "0"}),        # held 2 s, clock stopped
               (10.0 + 4.0 + 2.0 + 0.010, {"at_s": "4.0", "tsc": "0"}),
               (10.0 + 5.0 + 2.0 + 0.400, {"at_s": "5.0"})]
        err, unc = knownanswer.walltime(arr, (12.0, 14.5))
        self.assertAlmostEqual(err, 1997.0)
        self.assertAlmostEqual(unc, 197.0)                     # the gap before: 0.2 - 0.003
        err, unc = knownanswer.walltime(arr[1:], (12.0, 14.5))
        self.assertEqual((round(err, 6), unc), (1997.0, None))
        self.assertEqual(knownanswer.walltime(arr[1:2], (12.0, 14.5)), (None, None))
        arr.insert(2, (10.0 + 0.9 + 0.004, {"at_s": "0.9"}))
        self.assertAlmostEqual(knownanswer.walltime(arr, (12.0, 14.5))[1], 10.0)

    def test_tsc_rate_slope_and_rate_events(self) -> None:
        arr = [(1.0, {"at_s": "1", "tsc": "0.001"}), (5.0, {"at_s": "4", "tsc": "0.0"}),
               (6.0, {"at_s": "5", "tsc": "0.5"}), (7.0, {"at_s": "6", "tsc": "1.0"})]
        before, after = knownanswer.tsc_rates(arr, (2.0, 4.5))
        self.assertAlmostEqual(before, 1.0)     # 1 us over 1 s
        self.assertAlmostEqual(after, 500.0)    # 0.5 ms per s
        self.assertEqual(knownanswer.check_tsc_rates([]), [])
        ev = [{"kind": "rate", "source": "tsc", "before_ppm": "0", "after_ppm": "-100000"}]
        self.assertEqual(len(knownanswer.check_tsc_rates(ev)), 1)


class RulesListedTest(unittest.TestCase):
    def test_every_rule_has_a_function_sources_and_a_readme_row(self) -> None:
        ids = [f(run(), {}, "linux").rule for f in advise.RULE_FUNCS]
        self.assertEqual(ids, [r.id for r in advise.RULES])
        from tickhost import paths
        with open(f"{paths.ROOT}/README.md", encoding="utf-8") as f:
            readme = f.read()
        for r in advise.RULES:
            self.assertTrue(r.sources and all(s in advise.SOURCES for s in r.sources), r.id)
            self.assertTrue(f"| `{r.id}` |" in readme, f"README has no row for rule {r.id}")
