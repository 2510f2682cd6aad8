"""The `tickscope` command line: run, matrix, scenario and diff. It parses
arguments and prints results; it must not judge runs itself (qemu, matrix
and knownanswer do) and nothing in the package may import it."""
from __future__ import annotations

import argparse
import fnmatch
import json
import sys

from . import (advise, adviseverify, bochs, diff, faults, htmlreport, matrix, parselog, paths,
               qemu, report, resultfile, scenario, soak)
from .numfmt import with_unit

USAGE = """tickscope host tool: boot the kernel under QEMU and judge its report.

  tickscope run [options] [-- extra QEMU args]   boot one configuration
  tickscope run --emulator bochs [--sync S]      boot it in Bochs (an ISO made
                                                 with --cmdline, or --iso as is)
  tickscope matrix [--config FILE] [--only GLOB] run the standard matrix
  tickscope scenario pause|snapshot [--hold S]   hold the VM, check the jump
  tickscope diff A.json B.json                   what changed, regressions flagged
  tickscope parse FILE|- [--json F] [--junit F] [--html F]
                                                 judge a captured serial log as a run
  tickscope soak [--runs N] [--load K] [--only GLOB]
                                                 repeat entries beside K load boots;
                                                 per test, runs that differed
  tickscope faults [--runs N] [--only NAME]      planted faults (tools/faults.cfg):
                                                 each must FAIL exactly its tests
  tickscope advise [RESULT.json ...] [--guest G] [--verify]
                                                 the VM clock configuration to use

Exit status: 0 every test passed or skipped, 1 a test failed, 3 an error
(a test ERROR, a crash, a timeout, an incomplete report), 2 bad usage.
"""

EXIT = {"PASS": 0, "SKIP": 0, "FAIL": 1, "ERROR": 3}


def add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kernel", default=paths.KERNEL)
    p.add_argument("--iso", nargs="?", const=paths.ISO,
                   help="boot the GRUB ISO (default build/tickscope.iso) instead of -kernel")
    p.add_argument("--emulator", choices=["qemu", "bochs"], default="qemu",
                   help="bochs: Debian's Bochs 2.7 (apt-get install " + bochs.PACKAGES + ")")
    p.add_argument("--sync", choices=list(bochs.SYNCS), default="none",
                   help="Bochs's clock sync (with --emulator bochs)")
    p.add_argument("--accel", choices=["auto", "kvm", "tcg"], default="auto")
    p.add_argument("--firmware", choices=["auto", "qboot", "seabios", "ovmf"], default="auto")
    p.add_argument("--machine", default="pc",
                   help="pc, q35, microvm or isapc, with ,property=value... (microvm,acpi=on)")
    p.add_argument("--pvh", action="store_true",
                   help="boot the kernel's PVH image (build/tickscope-pvh.elf) instead")
    p.add_argument("--cmdline", default="", help="kernel command line (-kernel boots)")
    p.add_argument("--cpu", default="", help="QEMU -cpu model")
    p.add_argument("--smp", type=int, default=1)
    p.add_argument("--memory", default="128M")
    p.add_argument("--timeout", type=float, help="seconds for the whole run (default 120, "
                   f"Bochs {bochs.DEFAULT_TIMEOUT:g})")
    p.add_argument("--json", help="write the result as JSON")
    p.add_argument("--junit", help="write the result as JUnit XML")
    p.add_argument("--quiet", action="store_true", help="do not stream the serial output")


def line(r: qemu.RunResult) -> str:
    """The closing line of a run: name, verdict, accelerator, firmware, time,
    the known TSC answer passed (with the host clocks' slew)."""
    extra = f": {r.reason}" if r.reason else ""
    return (f"tickscope: {r.config['name']}: {r.verdict} (accel={r.accel}, "
            f"firmware={r.config['firmware']}, {r.duration_s:.1f} s, boot to verdict "
            f"{r.qemu_s:.1f} s; {truth_phrase(r.truth)})"
            f"{extra}")


def truth_phrase(truth: dict) -> str:
    """tsc_hz= as passed, and for the host's rate the slew of CLOCK_MONOTONIC
    (which QEMU's devices follow, and which was passed) against RAW."""
    if not truth.get("tsc_hz"):
        return "no tsc_hz=" + (f" ({truth['why']})" if truth.get("why") else "")
    host = truth.get("host")
    if not host:
        return f"tsc_hz={truth['tsc_hz']} ({truth.get('why', '')})"
    return (f"tsc_hz={truth['tsc_hz']} on CLOCK_MONOTONIC, slew {host['slew_ppm']:+.3f} ppm "
            f"against RAW, unc {host['unc_ppm']:.3f} ppm")


def cmd_run(a: argparse.Namespace, extra: list[str]) -> int:
    timeout = a.timeout or (bochs.DEFAULT_TIMEOUT if a.emulator == "bochs" else 120.0)
    cfg = qemu.Config(accel=a.accel, firmware=a.firmware, machine=a.machine, iso=a.iso,
                      kernel=a.kernel, pvh=a.pvh, cmdline=a.cmdline, cpu=a.cpu, smp=a.smp,
                      memory=a.memory, timeout=timeout, extra=extra, emulator=a.emulator,
                      bochs_sync=a.sync)
    r = bochs.run_config(cfg, live=not a.quiet)
    if r.stderr.strip() and r.verdict == "ERROR":
        sys.stderr.write(r.stderr)
    if a.json:
        report.write_json([r], a.json)
    if a.junit:
        report.write_junit([r], a.junit)
    print(line(r))
    return EXIT[r.verdict]


def cmd_matrix(a: argparse.Namespace) -> int:
    entries = matrix.load(a.config, a.kernel, a.iso)
    results, worst = [], 0
    for e in entries:
        if a.only and not fnmatch.fnmatchcase(e.config.name, a.only):
            continue
        why = matrix.unmet(e)
        if why:
            print(f"tickscope: {e.config.name}: SKIP ({why})")
            continue
        r = bochs.run_config(e.config, live=a.verbose)
        results.append(r)
        print(line(r))
        # An entry is judged against its own expectations (a planted fault
        # that FAILs as named is good), as make test judges it.
        problems = matrix.check(e, r)
        for p in problems:
            print(f"tickscope: {e.config.name}: not as expected: {p}")
        worst = max(worst, EXIT["FAIL"] if problems else 0)
    scen = []
    if a.scenarios:
        for name in scenario.NAMES:
            cfg = qemu.Config(name=f"scenario-{name}", accel="auto", kernel=a.kernel)
            out = scenario.run(name, cfg, 1.0 if name == "starve" else 2.0)
            print(f"tickscope: scenario {name}: {out.verdict} (accel={out.accel})")
            worst = max(worst, EXIT[out.verdict])
            if out.run:
                scen.append(report.scenario_dict(out))
    if a.json and results:
        report.write_json(results, a.json)
        if scen:
            with open(a.json, encoding="utf-8") as f:
                data = json.load(f)
            data = data if "runs" in data else {
                "schema_version": resultfile.SCHEMA_VERSION, "tool": "tickscope", "runs": [data]}
            data["scenarios"] = scen
            resultfile.dump(data, a.json)
    if a.junit and results:
        report.write_junit(results, a.junit)
    if a.html:
        with open(a.html, "w", encoding="utf-8") as f:
            runs = [report.to_dict(r) for r in results]
            section = advise.to_html([advise.advise(r, scen) for r in runs], scen)
            f.write(htmlreport.page(runs, scen, section))
        print(f"tickscope: wrote {a.html}")
    return worst


def cmd_parse(a: argparse.Namespace) -> int:
    try:
        lines = parselog.read(a.log)
    except OSError as e:
        print(f"tickscope: parse: {e}", file=sys.stderr)
        return 2
    r = parselog.parse(lines, a.name or ("stdin" if a.log == "-" else a.log))
    if a.json:
        report.write_json([r], a.json)
    if a.junit:
        report.write_junit([r], a.junit)
    if a.html:
        with open(a.html, "w", encoding="utf-8") as f:
            f.write(htmlreport.page([report.to_dict(r)], []))
    rep = r.report
    counts = {v: sum(1 for n in rep.leaves() if n.result == v)
              for v in ("PASS", "FAIL", "SKIP", "ERROR")}
    print(f"tickscope: {r.config['name']}: {r.verdict} ({counts['PASS']} passed, "
          f"{counts['FAIL']} failed, {counts['SKIP']} skipped, {counts['ERROR']} errors)"
          + (f": {r.reason}" if r.reason else ""))
    return EXIT[r.verdict]


def cmd_scenario(a: argparse.Namespace) -> int:
    cfg = qemu.Config(name=a.name, accel=a.accel, firmware=a.firmware, kernel=a.kernel,
                      machine=a.machine, cmdline=a.cmdline)
    out = scenario.run(a.name, cfg, a.hold, live=not a.quiet, policy=a.policy)
    for e in out.events:
        print("event: " + " ".join(f"{k}={v}" for k, v in e.items()))
    if out.run:
        for m in out.run.report.measurements:
            if m.name.startswith("monitor."):
                print(f"measure: {m.name} = {with_unit(m.value, m.unit)}")
    print(f"tickscope: scenario {a.name}: {out.verdict} (accel={out.accel}, held "
          f"{out.held_s:.3f} s; sources that jumped by it: "
          f"{', '.join(e.get('source', '?') for e in out.jumps) or 'none'})")
    for p in out.problems:
        print(f"  - {p}")
    for n in out.notes:
        print(f"  note: {n}")
    if out.walltime_err_ms is not None:
        unc = "?" if out.walltime_unc_ms is None else f"{out.walltime_unc_ms:.1f}"
        print(f"  the guest's clock fell {out.walltime_err_ms:.1f} +- {unc} ms behind the host's")
    if a.json:
        resultfile.dump(report.scenario_dict(out), a.json)
    return EXIT[out.verdict]


def cmd_soak(a: argparse.Namespace) -> int:
    """Exit status 1 when any device verdict differed between runs, 3 when
    nothing could be run, else 0 (host findings may differ: the host's)."""
    entries = soak.select(matrix.load(a.config, a.kernel, a.iso), a.only)
    if not entries:
        print(f"tickscope soak: no matrix entry matches {a.only or 'soak = yes'}")
        return 2
    print(f"tickscope soak: {', '.join(e.config.name for e in entries)}; {a.runs} runs each "
          f"beside {a.load} load boot(s) ({a.load_accel}, default configuration)", flush=True)
    done, boots = soak.soak(entries, a.runs, a.load, a.load_accel, a.kernel,
                            out=lambda s: print(s, flush=True))
    for s in done:
        soak.show(s, a.load)
    flips = sum(len(s.device_flips()) for s in done)
    hflips = sum(len(s.host_flips()) for s in done)
    print(f"tickscope soak: {len(boots.done)} load boots ran; {flips} device verdicts "
          f"differed between runs, {hflips} host findings did")
    if a.json:
        resultfile.dump(soak.to_json(done, a.runs, a.load, a.load_accel, boots), a.json)
    if not done:
        return 3
    return 1 if flips else 0


def cmd_faults(a: argparse.Namespace) -> int:
    """Exit status 1 when a fault not marked `waits` came out otherwise than
    planted in any run, else 0."""
    todo = faults.entries_of(faults.load(a.config, a.kernel), a.only)
    base = faults.Baselines()
    bad, table = 0, []
    for f in todo:
        why = faults.usable(f)
        if why:
            print(f"fault {f.name}: SKIP ({why})")
            continue
        outs = []
        for i in range(a.runs):
            o = faults.check(f, base, min(3, a.runs), out=print)
            outs.append(o)
            state = "as planted" if not o.problems else f"{len(o.problems)} problem(s)"
            print(f"  {faults.label(o)} run {i + 1}/{a.runs}: {state}", flush=True)
            for p in o.problems[:12]:
                print(f"      - {p}", flush=True)
        good = sum(1 for o in outs if not o.problems)
        tag = f" (waits: {f.waits})" if f.waits else ""
        table.append(f"fault {f.name}: {good}/{a.runs} as planted{tag}")
        if good < a.runs and not f.waits:
            bad += 1
    for ln in table:
        print(ln)
    return 1 if bad else 0


def cmd_advise(a: argparse.Namespace) -> int:
    """advise: the rules over the given JSON (or, with --verify and no file,
    over a default run made here), then, with --verify, the scenarios under
    the current and the recommended configuration."""
    try:
        docs = [resultfile.load(path) for path in a.results]
    except resultfile.ResultError as e:
        sys.stderr.write(f"advise: {e}\n")
        return 2
    runs, scen = advise.split_inputs(docs)
    if not runs:
        if not a.verify:
            sys.stderr.write("advise: no run in the input (give a `run --json` or "
                             "`matrix --json` file, or use --verify)\n")
            return 2
        r = qemu.run(qemu.Config(accel=a.accel, kernel=a.kernel), live=False)
        print(line(r))
        if r.verdict == "ERROR":
            return EXIT["ERROR"]
        runs = [report.to_dict(r)]
    advices, made = [], list(scen)
    for run in runs:
        if a.verify:
            adv, docs_made = adviseverify.verify(run, a.kernel, a.guest)
            made += docs_made
            print("\n".join(["side by side:"] + ["  " + x for x in adviseverify.table(docs_made)]))
            print(f"verify: {adviseverify.summary(adv) or 'nothing changed'}")
        else:
            adv = advise.advise(run, scen, a.guest)
        advices.append(adv)
        print(advise.text(adv, run.get("config", {}).get("cpu", "")))
        print()
    if a.json:
        resultfile.dump({"schema_version": resultfile.SCHEMA_VERSION, "tool": "tickscope",
                         "runs": runs, "scenarios": made,
                         "advice": [advise.to_dict(x) for x in advices]}, a.json)
    if a.html:
        with open(a.html, "w", encoding="utf-8") as f:
            f.write(htmlreport.page(runs, made, advise.to_html(advices, made)))
        print(f"tickscope: wrote {a.html}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tickscope", description=USAGE,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    add_run_args(sub.add_parser("run", help="boot one configuration"))
    m = sub.add_parser("matrix", help="run the configurations file")
    m.add_argument("--config", default=matrix.DEFAULT_FILE)
    m.add_argument("--kernel", default=paths.KERNEL)
    m.add_argument("--iso", default=paths.ISO)
    m.add_argument("--only", help="glob over configuration names")
    m.add_argument("--json")
    m.add_argument("--junit")
    m.add_argument("--verbose", action="store_true", help="stream every serial line")
    m.add_argument("--html", help="write the HTML page (table, histograms, scenario plots)")
    m.add_argument("--scenarios", action="store_true",
                   help="also run the pause, snapshot, starve and migrate scenarios")
    pl = sub.add_parser("parse", help="judge a captured serial log (hardware, BMC, LAVA)")
    pl.add_argument("log", help="the serial log, or - for standard input")
    pl.add_argument("--name", help="the run's name in the outputs (default: the file's)")
    pl.add_argument("--json")
    pl.add_argument("--junit")
    pl.add_argument("--html")
    so = sub.add_parser("soak", help="repeat matrix entries beside load boots; report "
                        "verdicts that differ between runs")
    so.add_argument("--config", default=matrix.DEFAULT_FILE)
    so.add_argument("--kernel", default=paths.KERNEL)
    so.add_argument("--iso", default=paths.ISO)
    so.add_argument("--only", default="",
                    help="comma-separated globs over entry names (default: soak = yes)")
    so.add_argument("--runs", type=int, default=10, help="runs of each entry")
    so.add_argument("--load", type=int, default=1, help="default boots looping beside them")
    so.add_argument("--load-accel", choices=["auto", "kvm", "tcg"], default="tcg",
                    help="accelerator of the load boots (default tcg: a whole host core each)")
    so.add_argument("--json", help="write every run and the tallies as JSON")
    fa = sub.add_parser("faults", help="run the planted faults of tools/faults.cfg")
    fa.add_argument("--config", default=faults.DEFAULT_FILE)
    fa.add_argument("--kernel", default=paths.KERNEL)
    fa.add_argument("--only", default="", help="faults whose names contain this")
    fa.add_argument("--runs", type=int, default=1, help="faulty runs of each fault")
    d = sub.add_parser("diff", help="compare two JSON results, flag regressions")
    d.add_argument("a")
    d.add_argument("b")
    ad = sub.add_parser("advise", help="the VM clock configuration the measurements call "
                        "for, as libvirt XML and QEMU options")
    ad.add_argument("results", nargs="*", help="run, scenario or matrix JSON files")
    ad.add_argument("--guest", choices=list(advise.GUESTS), default="linux")
    ad.add_argument("--verify", action="store_true", help="run starve, pause and migrate "
                    "as configured and as recommended; withdraw what does not measure better")
    ad.add_argument("--accel", choices=["auto", "kvm", "tcg"], default="auto",
                    help="--verify without a file: the run to make first")
    ad.add_argument("--kernel", default=paths.KERNEL)
    ad.add_argument("--json", help="write the advice (and scenarios made) as JSON")
    ad.add_argument("--html", help="write the HTML page with the advice section")
    sc = sub.add_parser("scenario", help="pause or snapshot the VM in monitor mode and "
                        "check what the kernel saw")
    sc.add_argument("name", choices=list(scenario.NAMES))
    sc.add_argument("--policy", choices=["discard", "slew"], default="discard",
                    help="starve: the lost-tick policy (RTC; KVM's PIT: discard or delay)")
    sc.add_argument("--hold", type=float, default=3.0, help="seconds the VM is held")
    sc.add_argument("--accel", choices=["auto", "kvm", "tcg"], default="auto")
    sc.add_argument("--firmware", choices=["auto", "qboot", "seabios"], default="auto")
    sc.add_argument("--machine", choices=["pc", "q35"], default="pc")
    sc.add_argument("--kernel", default=paths.KERNEL)
    sc.add_argument("--cmdline", default="")
    sc.add_argument("--json")
    sc.add_argument("--quiet", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    """Runs one subcommand; returns the exit status (see USAGE)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    p = build_parser()
    a = p.parse_args(argv)
    if a.cmd == "run":
        return cmd_run(a, extra)
    if a.cmd == "scenario":
        return cmd_scenario(a)
    if a.cmd == "diff":
        return diff.main(a.a, a.b)
    if a.cmd == "parse":
        return cmd_parse(a)
    if a.cmd == "soak":
        return cmd_soak(a)
    if a.cmd == "faults":
        return cmd_faults(a)
    if a.cmd == "advise":
        return cmd_advise(a)
    if extra:
        p.error("extra QEMU arguments go with `run`")
    return cmd_matrix(a)
