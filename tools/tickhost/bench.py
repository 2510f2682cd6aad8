"""`make bench`: the numbers the issues set targets for, measured over
repeated boots. Not a test: it prints medians and extremes, and must never
fail on speed nor judge a run beyond naming the tests that failed.

First the speed of the default run (`--speed-runs`, 10 by default; also
`--speed-only`): per suite, its wall time and device accesses (each an exit
under a hypervisor), their sum against boot to verdict (QEMU's launch to
its exit), and where the time before the first test goes; then boot paths
side by side (-kernel with SeaBIOS or qboot, the GRUB ISO).

Then, for TCG (and KVM when usable), for each calibration window: the TSC error
against the known answer (the host's rate) per reference, the stated
uncertainty, and the time the clocksource suites add to a run; then a short
soak (verdicts that differed between runs under load), and `advise --verify`
on the default run: the scenarios as configured and as advised, side by side
(adviseverify), and which advice stands.

Every run whose verdict is not PASS is kept (keep): its serial text, its
JSON and QEMU's stderr under build/bench/<UTC start>/, named in the output
with its failing tests' lines, so that a flip seen once can be read after.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time

from . import advise, adviseverify, ktap, matrix, paths, qemu, report, soak
from .host import host_tsc_hz, host_tsc_now, kvm_usable

REFS = ("hpet", "pm", "pit", "rtc", "kvmclock")
SOURCE_SUITES = ("tsc", "hpet", "pm", "pit", "rtc", "kvmclock", "drift")
EVENT_SUITES = ("lapic", "tscdeadline", "tick")
LATENCIES = ("pit", "lapic", "tscdeadline", "hpet")
WAITS = ("poll", "halt")  # oneshot latency polling the TSC, and halted
KEEP_DIR = os.path.join(paths.BUILD, "bench", time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))


def keep(r: qemu.RunResult, what: str, where: str = "") -> None:
    """A run whose verdict is not PASS: its serial text (what.log), JSON
    (what.json) and QEMU's stderr (what.stderr, when it said anything)
    saved in where (KEEP_DIR), and printed: where they are, then each
    failing test's verdict line and its diagnostics as the kernel wrote
    them. A PASS run leaves nothing."""
    if r.verdict == "PASS":
        return
    where = where or KEEP_DIR
    os.makedirs(where, exist_ok=True)
    base = os.path.join(where, what)
    with open(base + ".log", "w", encoding="utf-8") as f:
        f.writelines(r.lines)
    report.write_json([r], base + ".json")
    if r.stderr.strip():
        with open(base + ".stderr", "w", encoding="utf-8") as f:
            f.write(r.stderr)
    print(f"  kept {what} ({r.verdict}{': ' + r.reason if r.reason else ''}): "
          f"{os.path.relpath(base, paths.ROOT)}.log, .json"
          f"{', .stderr' if r.stderr.strip() else ''}", flush=True)
    for n in r.report.leaves():
        if n.result in ("FAIL", "ERROR"):
            print(f"    {n.path} {n.result}{matrix._why(n)}")
            print("".join(f"      # {d}\n" for d in n.diagnostics), end="", flush=True)


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
    for i in range(runs):
        r = qemu.run(qemu.Config(accel=accel, kernel=kernel, cmdline=f"cal_ms={cal_ms}"),
                     live=False)
        verdicts.append(r.verdict)
        keep(r, f"cal{cal_ms}-{accel}-{i + 1}")
        samples.add(r.report)
    print(f"== {accel}, cal_ms={cal_ms}, {runs} runs, verdicts {', '.join(verdicts)}")
    samples.show()


def verify_advice(kernel: str, accel: str) -> None:
    """advise --verify on the default run of accel: the figures side by
    side and what stands (the README's figures come from here)."""
    r = qemu.run(qemu.Config(accel=accel, kernel=kernel), live=False)
    print(f"== advise --verify, {accel} (default run: {r.verdict})", flush=True)
    keep(r, f"advise-{accel}")
    a, docs = adviseverify.verify(report.to_dict(r), kernel, "linux",
                                  log=lambda s: print(s, flush=True))
    for ln in adviseverify.table(docs):
        print("  " + ln)
    for i in a.items:
        if i.verify:
            print(f"  {i.rule}: {i.verify}")
    print(f"  verify: {adviseverify.summary(a) or 'nothing changed'}")
    print("\n".join("  " + ln for ln in advise.libvirt_lines(a)))


BOOT_PARTS = ("qemu_start", "firmware", "before_kernel", "setup", "tests")
BOOT_WHAT = {
    "before_kernel": "QEMU's launch to kernel entry: the two above, or by the host's TSC "
                     "where the guest's is the host's",
    "qemu_start": "QEMU's launch until the VM's TSC starts (host)",
    "firmware": "firmware and loader: the TSC at kernel entry",
    "setup": "kernel entry to the KTAP header (sources_init in it)",
    "tests": "the KTAP header's arrival to QEMU's exit (host)",
}


def boot_parts(r: qemu.RunResult) -> dict[str, float]:
    """Where one run's time went, in ms, from the kernel's run.boot.*
    measurements and the host's arrival time of the KTAP header line
    ({} when the run did not say); QEMU's launch to kernel entry also by
    the host's TSC where the guest's is the host's."""
    rep = r.report
    m = {k: rep.measure(f"run.boot.{k}_ms") for k in ("entry", "setup", "header")}
    at = next((t for ln, t in zip(r.lines, r.times) if ktap.clean(ln) == "KTAP version 1"),
              None)
    if at is None or not r.exited or not all(m.values()):
        return {}
    header_host_ms = (at - r.launched) * 1000.0
    parts = {"qemu_start": header_host_ms - m["header"].value,
             "firmware": m["entry"].value, "setup": m["setup"].value,
             "tests": (r.exited - at) * 1000.0}
    parts["before_kernel"] = parts["qemu_start"] + parts["firmware"]
    if m["header"].value > header_host_ms:
        # The VM's TSC did not start at zero when the VM did (kvm_pvm
        # hands the guest the host's): QEMU's start and the firmware's
        # time cannot be told apart from it, but together they are the
        # kernel's entry less the host's TSC at QEMU's launch.
        del parts["qemu_start"], parts["firmware"], parts["before_kernel"]
        now, (hz, _) = host_tsc_now(), host_tsc_hz()
        if now and hz:
            launch_ms = now[0] * 1000.0 / hz + (r.launched - now[1]) * 1000.0
            before = m["entry"].value - launch_ms
            if 0 < before < header_host_ms:
                parts["before_kernel"] = before
    return parts


def speed(kernel: str, count_kernel: str, accel: str, runs: int, count_runs: int) -> None:
    """Boot to verdict of the default run: per suite wall time (runs of
    kernel) and device accesses (count_runs of the counting build, whose
    read paths carry the count), medians; their sum against the whole;
    where the time before the first test went. Prints numbers only."""
    total: list[float] = []
    suite_ms: dict[str, list[float]] = {}
    reads: dict[str, list[float]] = {}
    parts: dict[str, list[float]] = {k: [] for k in BOOT_PARTS}
    verdicts = []
    not_passed: list[str] = []
    cpu: list[float] = []
    for i in range(runs + count_runs):
        counting = i >= runs
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = qemu.run(qemu.Config(accel=accel, kernel=count_kernel if counting else kernel),
                     live=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        keep(r, f"speed-{accel}-count-{i - runs + 1}" if counting else f"speed-{accel}-{i + 1}")
        if counting:
            for m in r.report.measurements:
                if m.name.startswith("run.reads."):
                    reads.setdefault(m.name[len("run.reads."):], []).append(m.value)
            continue
        verdicts.append(r.verdict)
        # A run that did not pass says which tests did not, so that a slow
        # run can be told apart from one that measured again or gave up.
        bad = [n.path for n in r.report.leaves() if n.result in ("FAIL", "ERROR")]
        if bad:
            not_passed.append(f"run {i + 1}: {', '.join(bad)}")
        total.append(r.qemu_s)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        for m in r.report.measurements:
            if m.name.startswith("run.suite_ms."):
                suite_ms.setdefault(m.name[len("run.suite_ms."):], []).append(m.value)
        for k, v in boot_parts(r).items():
            parts[k].append(v)
    med = statistics.median
    print(f"== speed, {accel}, default run, {runs} runs (reads: {count_runs} runs of "
          f"{count_kernel}), verdicts {', '.join(verdicts)}")
    for line in not_passed:
        print(f"  not passed in {line}")
    print(f"  boot to verdict s        {fmt(total)}")
    # Where the guest is interpreted (kvm_pvm) its run is mostly CPU time
    # of QEMU's vCPU thread; on a loaded host wall time grows with the
    # load and this far less, so a change shows here first.
    print(f"  QEMU CPU s (user+sys)    {fmt(cpu)}")
    print(f"  {'suite':12s} {'ms (median)':>12s} {'min':>7s} {'max':>7s} {'reads (median)':>15s}")
    for name in ["setup"] + list(suite_ms):
        ms = suite_ms.get(name, parts["setup"] if name == "setup" else [])
        rd = reads.get(name, [])
        print(f"  {name:12s} {med(ms) if ms else 0:12.0f} {min(ms) if ms else 0:7.0f} "
              f"{max(ms) if ms else 0:7.0f} {med(rd) if rd else 0:15.0f}")
    suites = sum(med(v) for v in suite_ms.values())
    for k in BOOT_PARTS:
        if parts[k]:
            print(f"  boot.{k:10s} ms {fmt(parts[k])}  ({BOOT_WHAT[k]})")
    if parts["tests"] and total:
        print(f"  sum of suite medians {suites:.0f} ms of tests and exit "
              f"{med(parts['tests']):.0f} ms; "
              f"boot parts sum {sum(med(v) for v in parts.values() if v):.0f} ms "
              f"of boot to verdict {med(total) * 1000:.0f} ms")


def boot_paths(kernel: str, iso: str, runs: int) -> None:
    """Where the time before the first test goes on each boot path: the
    same kernel from -kernel (SeaBIOS, qboot) and from the GRUB ISO, with
    one quick test so that only the boot differs (an ISO's command line is
    fixed: it runs everything, and only its boot parts count here)."""
    paths_ = [("tcg -kernel seabios", qemu.Config(accel="tcg", firmware="seabios")),
              ("tcg -kernel qboot", qemu.Config(accel="tcg", firmware="qboot")),
              ("tcg iso seabios+grub", qemu.Config(accel="tcg", firmware="seabios", iso=iso))]
    if kvm_usable()[0]:
        paths_ += [("kvm -kernel qboot", qemu.Config(accel="kvm", firmware="qboot")),
                   ("kvm -kernel seabios", qemu.Config(accel="kvm", firmware="seabios"))]
    print(f"== boot paths, {runs} runs each (ms, medians)")
    print(f"  {'path':22s} " + " ".join(f"{k:>10s}" for k in BOOT_PARTS))
    for name, cfg in paths_:
        cfg.kernel = kernel
        if not cfg.iso:
            cfg.cmdline = "test=platform.cpu"
        parts: dict[str, list[float]] = {k: [] for k in BOOT_PARTS}
        for i in range(runs):
            r = qemu.run(cfg, live=False)
            keep(r, f"boot-{name.replace(' ', '-')}-{i + 1}")
            for k, v in boot_parts(r).items():
                parts[k].append(v)
        print(f"  {name:22s} " + " ".join(
            f"{statistics.median(parts[k]) if parts[k] else float('nan'):10.0f}"
            for k in BOOT_PARTS))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--kernel", default="build/tickscope.elf")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--windows", default="100,1000", help="calibration windows in ms")
    p.add_argument("--soak-runs", type=int, default=3,
                   help="runs of each `soak = yes` entry beside one load boot (0: none)")
    p.add_argument("--no-advise", action="store_true", help="skip advise --verify")
    p.add_argument("--speed-runs", type=int, default=10,
                   help="default runs for boot to verdict per accelerator (0: none)")
    p.add_argument("--boot-runs", type=int, default=3, help="runs of each boot path (0: none)")
    p.add_argument("--iso", default=paths.ISO)
    p.add_argument("--count-kernel", default="build/count/tickscope.elf",
                   help="the counting build (make build/count/tickscope.elf) for run.reads.*")
    p.add_argument("--count-runs", type=int, default=3, help="runs of it per accelerator")
    p.add_argument("--speed-only", action="store_true",
                   help="only boot to verdict and the boot paths")
    a = p.parse_args()
    accels = ["tcg"] + (["kvm"] if kvm_usable()[0] else [])
    hz, why = host_tsc_hz()
    print(f"host TSC: {hz} Hz ({why})")
    print(f"runs not PASS are kept in {os.path.relpath(KEEP_DIR, paths.ROOT)}/")
    print(f"host: {os.uname().nodename}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    for accel in accels if a.speed_runs else []:
        speed(a.kernel, a.count_kernel, accel, a.speed_runs, a.count_runs)
    if a.boot_runs:
        boot_paths(a.kernel, a.iso, a.boot_runs)
    if a.speed_only:
        return 0
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
    for i in range(runs):
        r = qemu.run(qemu.Config(name="hpet-known", accel="tcg", kernel=kernel,
                                 cmdline="periodic_ms=10000 test=hpet.periodic"), live=False)
        keep(r, f"hpet-known-{i + 1}")
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
        keep(r, name)
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
