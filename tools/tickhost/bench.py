"""`make bench`: the numbers the issues set targets for, measured over
repeated boots. Not a test: it prints medians and extremes, and must never
fail on speed nor judge a run beyond naming the tests that failed.

For TCG (and KVM when usable), for each calibration window: the TSC error
against the known answer (the host's rate) per reference, the stated
uncertainty, and the time the clocksource suites add to a run; then a short
soak (verdicts that differed between runs under load), and `advise --verify`
on the default run: the scenarios as configured and as advised, side by side
(adviseverify), and which advice stands.
"""
from __future__ import annotations

import argparse
import statistics
import sys

from . import advise, adviseverify, ktap, matrix, paths, qemu, report, soak
from .host import host_tsc_hz, kvm_usable

REFS = ("hpet", "pm", "pit", "rtc", "kvmclock")
SOURCE_SUITES = ("tsc", "hpet", "pm", "pit", "rtc", "kvmclock", "drift")
EVENT_SUITES = ("lapic", "tscdeadline", "tick")
LATENCIES = ("pit", "lapic", "tscdeadline", "hpet")
WAITS = ("poll", "halt")  # oneshot latency polling the TSC, and halted


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return (f"median {statistics.median(values):9.3f}  min {min(values):9.3f}  "
            f"max {max(values):9.3f}")


class Samples:
    """What repeated boots of one configuration measured, per quantity."""

    def __init__(self) -> None:
        self.errs: dict[str, list[float]] = {r: [] for r in REFS + ("final",)}
        self.uncs: dict[str, list[float]] = {r: [] for r in REFS}
        self.suite_ms: list[float] = []
        self.init_ms: list[float] = []
        self.lat: dict[str, list[float]] = {f"{c}.oneshot.{w}": [] for c in LATENCIES
                                            for w in WAITS}
        self.idle: list[float] = []

    def add(self, rep: ktap.Report) -> None:
        for ref in REFS:
            m = rep.measure(f"tsc.err_ppm.{ref}")
            if m:
                self.errs[ref].append(m.value)
            f = rep.measure(f"tsc.freq_khz.{ref}")
            if f and f.extra.startswith("unc "):
                self.uncs[ref].append(float(f.extra.split()[1]))
        m = rep.measure("tsc.err_ppm")
        if m:
            self.errs["final"].append(m.value)
        total = sum(m.value for m in rep.measurements
                    if m.name in {f"run.suite_ms.{s}" for s in SOURCE_SUITES})
        m = rep.measure("run.sources_init_ms")
        if m:
            self.init_ms.append(m.value)
            self.suite_ms.append(total + m.value)
        for c in self.lat:
            m = rep.measure(f"{c}.latency_ns.p50")
            if m:
                self.lat[c].append(m.value)
        p = rep.measure("tick.idle_irqs_per_s.periodic")
        o = rep.measure("tick.idle_irqs_per_s.oneshot")
        if p and o and p.value:
            self.idle.append(100.0 * o.value / p.value)

    def show(self) -> None:
        for ref in REFS + ("final",):
            if self.errs[ref]:
                print(f"  tsc.err_ppm.{ref:9s} {fmt(self.errs[ref])}")
        for ref in REFS:
            if self.uncs[ref]:
                print(f"  unc_ppm.{ref:14s} {fmt(self.uncs[ref])}")
        print(f"  sources_init_ms        {fmt(self.init_ms)}")
        print(f"  clocksource suites ms  {fmt(self.suite_ms)} (probe + calibration + tests)")
        for c, v in self.lat.items():
            if v:
                print(f"  {c + ' p50 ns':27s} {fmt(v)}")
        if self.idle:
            print(f"  oneshot idle irqs, % of periodic {fmt(self.idle)}")


def bench(kernel: str, accel: str, cal_ms: int, runs: int) -> None:
    samples = Samples()
    verdicts = []
    for _ in range(runs):
        r = qemu.run(qemu.Config(accel=accel, kernel=kernel, cmdline=f"cal_ms={cal_ms}"),
                     live=False)
        verdicts.append(r.verdict)
        for n in r.report.leaves():
            if n.result in ("FAIL", "ERROR"):
                why = [d for d in n.diagnostics if d.startswith("FAIL:")] or [n.reason]
                print(f"  ({accel}, cal_ms={cal_ms}) {n.path} {n.result}: {why[-1]}", flush=True)
        samples.add(r.report)
    print(f"== {accel}, cal_ms={cal_ms}, {runs} runs, verdicts {', '.join(verdicts)}")
    samples.show()


def verify_advice(kernel: str, accel: str) -> None:
    """advise --verify on the default run of accel: the figures side by
    side and what stands (the README's figures come from here)."""
    r = qemu.run(qemu.Config(accel=accel, kernel=kernel), live=False)
    print(f"== advise --verify, {accel} (default run: {r.verdict})", flush=True)
    a, docs = adviseverify.verify(report.to_dict(r), kernel, "linux",
                                  log=lambda s: print(s, flush=True))
    for ln in adviseverify.table(docs):
        print("  " + ln)
    for i in a.items:
        if i.verify:
            print(f"  {i.rule}: {i.verify}")
    print(f"  verify: {adviseverify.summary(a) or 'nothing changed'}")
    print("\n".join("  " + ln for ln in advise.libvirt_lines(a)))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--kernel", default="build/tickscope.elf")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--windows", default="100,1000", help="calibration windows in ms")
    p.add_argument("--soak-runs", type=int, default=3,
                   help="runs of each `soak = yes` entry beside one load boot (0: none)")
    p.add_argument("--no-advise", action="store_true", help="skip advise --verify")
    a = p.parse_args()
    accels = ["tcg"] + (["kvm"] if kvm_usable()[0] else [])
    hz, why = host_tsc_hz()
    print(f"host TSC: {hz} Hz ({why})")
    for accel in accels:
        for w in a.windows.split(","):
            bench(a.kernel, accel, int(w), a.runs)
    hpet_periodic_known(a.kernel, a.runs)
    if a.soak_runs:
        short_soak(a.kernel, a.soak_runs)
    many_cpus(a.kernel)
    for accel in accels if not a.no_advise else []:
        verify_advice(a.kernel, accel)
    if not a.no_advise:
        print("== advise --verify, planted: a change that cannot help (kvm-pit delay under TCG)")
        item = adviseverify.planted(a.kernel)
        print(f"  {item.rule}: {item.verify}")
    return 0


def hpet_periodic_known(kernel: str, runs: int) -> None:
    """The HPET's periodic rate against QEMU's exact 250 Hz under TCG in real
    time: icount cannot show it (QEMU doubles the HPET's periodic ticks
    there), and 10 ppm needs a 10 s window, too long for make test."""
    print("== hpet.periodic.err_ppm, TCG, periodic_ms=10000 (known answer: 0, within 10 ppm)")
    vals = []
    for _ in range(runs):
        r = qemu.run(qemu.Config(name="hpet-known", accel="tcg", kernel=kernel,
                                 cmdline="periodic_ms=10000 test=hpet.periodic"), live=False)
        vals += [m.value for m in r.report.measurements if m.name == "hpet.periodic.err_ppm"]
    print(f"  {fmt(vals)} ppm over {len(vals)} runs; "
          f"{sum(1 for v in vals if abs(v) <= 10)} within 10 ppm")


def many_cpus(kernel: str) -> None:
    """The entries of tools/matrix-bench.cfg (more than 255 CPUs under KVM):
    their checks, how long the run and the bring-up took, and each AP's
    start-up time as the kernel reported it."""
    for e in matrix.load(paths.BENCH_MATRIX_FILE, kernel, paths.ISO):
        name = e.config.name
        if e.config.accel == "kvm" and not kvm_usable()[0]:
            print(f"== {name}: SKIP (KVM not usable: {kvm_usable()[1]})")
            continue
        r = qemu.run(e.config, live=False)
        problems = matrix.check(e, r)
        print(f"== {name}: {r.verdict}, {r.duration_s:.1f} s; checks: "
              f"{'; '.join(problems) if problems else 'all hold'}", flush=True)
        got = {m.name: m.value for m in r.report.measurements}
        print("  " + ", ".join(f"{k} {got[k]:g}" for k in
                               ("smp.started", "smp.bringup_ms", "smp.start_us.p50",
                                "smp.start_us.max", "run.suite_ms.smp") if k in got))
        for n in r.report.leaves():
            if n.path == "smp.bringup":
                for d in n.diagnostics:
                    if d.startswith("start-up us"):
                        print(f"  {d}")


def short_soak(kernel: str, runs: int) -> None:
    """The soak's figures (tickscope soak, a few runs): per entry, the device
    tests and host findings whose verdicts differed, and the retries."""
    entries = soak.select(matrix.load(matrix.DEFAULT_FILE, kernel, paths.ISO), "")
    print(f"== soak: {', '.join(e.config.name for e in entries)}, {runs} runs each beside "
          "one load boot")
    done, boots = soak.soak(entries, runs, 1, "tcg", kernel)
    for s in done:
        soak.show(s, 1)
    print(f"  {len(boots.done)} load boots ran")


if __name__ == "__main__":
    sys.exit(main())
