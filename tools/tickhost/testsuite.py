"""`make test`: unit tests, layering, the boot matrix with its checks and golden
names, a short soak, the planted faults, the scenarios and the report checks, one
line each; `N passed, N failed`. It only sequences and counts checks."""
from __future__ import annotations

import argparse
import base64
import concurrent.futures
import copy
import os
import re
import shutil
import subprocess
import sys
import time
import unittest
from typing import Callable, TypeVar

from . import (advise, bochs, conformance, diff, faults, golden, htmlreport, layers, matrix,
               menu, parselog, paths, qemu, report, scenario, soak, stability)
from .host import host_tsc, kvm_usable
from .knownanswer import Outcome

TESTS_DIR = os.path.join(paths.PACKAGE, "tests")


T = TypeVar("T")


class Tally:
    """Counts results and prints one PASS/FAIL/SKIP line each."""

    def __init__(self) -> None:
        self.passed = self.failed = self.skipped = 0
        self.second: list[str] = []     # checks that passed only on a second try

    def twice(self, name: str, attempt: Callable[[], T],
              problems: Callable[[T], list[str]]) -> T:
        """attempt(), and once more when problems() of it is not empty: a
        second try is counted and printed, never silent (make soak and make
        faults are where a flip rate is measured). Returns the last try."""
        x = attempt()
        first = problems(x)
        if not first:
            return x
        self.second.append(f"{name}: {first[0]}")
        print(f"AGAIN {name}: first try: " + "; ".join(first[:3]), flush=True)
        return attempt()

    def add(self, name: str, problems: list[str], skipped: str = "") -> None:
        if skipped:
            self.skipped += 1
            print(f"SKIP  {name}: {skipped}", flush=True)
        elif problems:
            self.failed += 1
            print(f"FAIL  {name}", flush=True)
            for p in problems:
                print(f"      - {p}", flush=True)
        else:
            self.passed += 1
            print(f"PASS  {name}", flush=True)


def unit(bins: list[str], t: Tally) -> None:
    """The sanitized host test programs, then the package's unittests."""
    for b in bins:
        r = subprocess.run([b], capture_output=True, text=True)
        last = r.stdout.strip().splitlines()[-1:] or ["(no output)"]
        problems = [] if r.returncode == 0 else [last[0]] + r.stderr.strip().splitlines()[-20:]
        t.add(f"unit {os.path.basename(b)} ({last[0]})", problems)
    suite = unittest.defaultTestLoader.discover(TESTS_DIR, pattern="test_*.py",
                                                top_level_dir=paths.TOOLS)
    res = unittest.TextTestRunner(stream=open(os.devnull, "w"), verbosity=0).run(suite)
    problems = [f"{c}: {e.strip().splitlines()[-1]}" for c, e in res.failures + res.errors]
    t.add(f"unit tools ({res.testsRun} python tests)", problems)
    properties(t)


# Debian's python3-hypothesis is installed for the system Python, which may
# not be the python3 first on PATH (a pyenv one, say).
HYPOTHESIS_PYTHONS = ("python3", "/usr/bin/python3")


def properties(t: Tally) -> None:
    """The property-based tests of the KTAP parser, `parse` and the JSON
    reader (tickhost/tests/props.py), under a Python that has hypothesis."""
    py = next((p for p in HYPOTHESIS_PYTHONS if subprocess.run(
        [p, "-c", "import hypothesis"], capture_output=True).returncode == 0), None)
    if py is None:
        t.add("unit properties", ["no Python here imports hypothesis: apt-get install "
                                  "python3-hypothesis (make deps does)"])
        return
    r = subprocess.run([py, "-m", "unittest", "tickhost.tests.props"], cwd=paths.TOOLS,
                       capture_output=True, text=True)
    tail = r.stderr.strip().splitlines()
    ran = next((ln for ln in tail if ln.startswith("Ran ")), "no tests ran")
    t.add(f"unit properties ({ran.lower()}, hypothesis, {py})",
          [] if r.returncode == 0 else tail[-25:])


def layering(t: Tally) -> None:
    """Kernel includes and the package's imports against their declared
    orders, one line (each violation listed under a FAIL)."""
    what, problems = layers.check_all()
    t.add(f"layers ({what})", problems)


# Matrix boots at once: their verdicts must not depend on the host's load
# (the soak measures how often one does), and two halve the time on two cores.
BOOT_JOBS = 2


def boots(kernel: str, iso: str, only: str, t: Tally) -> list[dict]:
    """Every matrix entry (whose name contains only, when given) against
    its checks, and against its golden names where it has them."""
    kvm_ok, kvm_why = kvm_usable()
    print(f"# KVM: {'usable' if kvm_ok else 'not usable'} ({kvm_why})", flush=True)
    print(f"# host TSC: {host_tsc().describe()}", flush=True)
    results = []
    parsed: list[str] = []
    logs = 0
    # short_soak runs the entries marked `soak = test`, three times under load.
    entries = [e for e in (matrix.load(matrix.DEFAULT_FILE, kernel, iso)
                           + matrix.load(paths.BAD_INPUT_FILE, kernel, iso))
               if (not only or only in e.config.name) and e.soak != "test"]
    unmet = {e.config.name: matrix.unmet(e) for e in entries}

    def finish(e: matrix.Entry, r: qemu.RunResult) -> None:
        nonlocal logs
        name = f"boot {e.config.name}"
        problems = matrix.check(e, r)
        results.append(report.to_dict(r))
        retried = stability.describe_retries(stability.retries(results[-1]))
        t.add(f"{name} [accel={r.accel} firmware={r.config['firmware']} "
              f"{r.duration_s:.1f} s{'; ' + retried if retried else ''}]", problems)
        if problems:
            tail = [ln.rstrip() for ln in r.lines[-25:]]
            print("      serial tail:\n" + "\n".join("        " + ln for ln in tail), flush=True)
            if r.stderr.strip():
                print(f"      {r.config.get('emulator', 'qemu')} stderr: " + r.stderr.strip()[-500:],
                      flush=True)
        if e.golden:
            same_names(e, results[-1], t)
        if not qemu.no_serial(e.config):
            logs += 1
            parsed.extend(same_as_parsed(e.config.name, r, results[-1]))
            if e.golden:
                ktap_conformance(e.config.name, t)

    # The first try of every boot, BOOT_JOBS at a time, taken in order
    # below. A second try waits until they are all done and runs alone: a
    # first try that failed beside another boot is tried again beside
    # none, not beside two more (counted and printed: Tally.twice).
    pool = concurrent.futures.ThreadPoolExecutor(BOOT_JOBS)
    firsts = {e.config.name: pool.submit(bochs.run_config, e.config, live=False)
              for e in entries if not unmet[e.config.name]}
    again = []
    for e in entries:
        why = unmet[e.config.name]
        if why:
            t.add(f"boot {e.config.name}", [], skipped=why)
            if e.golden:
                t.add(f"names {e.config.name} = golden {e.golden}", [], skipped=why)
            continue
        r = firsts.pop(e.config.name).result()
        if matrix.check(e, r):
            again.append((e, r))
        else:
            finish(e, r)
    pool.shutdown()
    for e, first in again:
        tries = [first]
        finish(e, t.twice(f"boot {e.config.name}",
                          lambda: tries.pop() if tries else bochs.run_config(e.config, live=False),
                          lambda r: matrix.check(e, r)))
    if logs:
        t.add(f"parse: {logs} saved serial logs (build/logs/) give their runs' JSON and "
              f"verdict (tickscope parse)", parsed)
    return results


def same_as_parsed(name: str, r: qemu.RunResult, run: dict) -> list[str]:
    """Saves the run's serial log and judges it as `tickscope parse` does:
    the fields that come from the log and the verdict must be the run's
    (the verdict only where QEMU's exit agreed with the report)."""
    os.makedirs(os.path.join(paths.BUILD, "logs"), exist_ok=True)
    path = os.path.join(paths.BUILD, "logs", name + ".log")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(r.lines)
    got = report.to_dict(parselog.parse(parselog.read(path), name))
    diffs = parselog.differences(run, got)
    if r.reason:
        diffs = [d for d in diffs if not d.startswith("verdict")]
    return [f"{name}: {d}" for d in diffs]


def ktap_conformance(name: str, t: Tally) -> None:
    """The full run's saved serial log (same_as_parsed wrote it) through
    kunit_parser, strict tap-parser and prove: their totals must be the
    host tool's, with no line dropped (tickhost.conformance)."""
    start = time.monotonic()
    log = os.path.join(paths.BUILD, "logs", name + ".log")
    totals, problems = conformance.check(log, os.path.join(paths.BUILD, "conformance",
                                                           name + ".tap"))
    t.add(f"ktap {name}: kunit_parser, tap-parser --strict, prove agree "
          f"[{time.monotonic() - start:.1f} s] ({'; '.join(totals)})", problems)


def result_names(runs: list[dict], t: Tally) -> None:
    """README's list of result names is the default run's (tcg-pc)."""
    run = next((r for r in runs if r.get("config", {}).get("name") == "tcg-pc"), None)
    if run is None:
        return
    want = golden.result_names(run)
    got = golden.readme_listed()
    problems = golden.compare([f"result {n}" for n in want], [f"result {n}" for n in got])
    t.add(f"README lists the default run's {len(want)} result names (PYTHONPATH=tools "
          f"python3 -m tickhost.golden --readme RUN.json)", problems)


def grub_menu(iso: str, only: str, t: Tally) -> None:
    """Each GRUB menu entry after the default (which iso-bios boots),
    chosen with the arrow keys as a person would, does what it says."""
    if only and "menu" not in only and "iso" not in only:
        return
    for e in menu.ENTRIES:
        start = time.monotonic()
        problems = menu.boot_entry(iso, e)
        t.add(f"grub menu entry {e.index} ({e.title}) [{time.monotonic() - start:.1f} s]",
              problems)


def same_names(e: matrix.Entry, run: dict, t: Tally) -> None:
    """The run's test and measurement names against those recorded for its
    configuration before the layout change (tests/golden)."""
    got = golden.names(run)
    tests = sum(1 for n in got if n.startswith("test "))
    problems = golden.check(e.golden, run)
    failed = [x["path"] for x in run["tests"] if x["result"] in ("FAIL", "ERROR")]
    if problems and failed:
        # A test that fails part-way may not print all its measurements:
        # a timing failure on a busy host, not a change of names.
        problems.append(f"the run had failing tests ({', '.join(failed)}), which may print "
                        f"fewer measurements: rerun TICKSCOPE_ONLY={e.config.name} make test")
    t.add(f"names {e.config.name} = golden {e.golden} ({tests} tests, "
          f"{len(got) - tests} measurement names)", problems)


SHORT_SOAK_RUNS = 3
SHORT_SOAK_LOAD = 1


def flip_names(flips: list) -> str:
    """The tests that differed, with each run's verdict and its FAIL/ERROR
    line: a flip that passes on the second try is named, not only counted."""
    return "".join(f"; {r.path} {'/'.join(r.verdicts)}"
                   f"{': ' + next((x for x in r.reasons if x), '')[:160] if any(r.reasons) else ''}"
                   for r in flips)


def short_soak(kernel: str, iso: str, only: str, t: Tally) -> list[dict]:
    """The matrix entries marked `soak = test`, three runs each beside one
    load boot: no device verdict may differ between the runs, and the
    entry's own checks must hold in every run. Returns each entry's first run."""
    entries = [e for e in soak.select(matrix.load(matrix.DEFAULT_FILE, kernel, iso), "", "test")
               if not only or only in f"soak {e.config.name}"]
    if not entries:
        return []
    t0 = time.monotonic()
    done, boots = t.twice(
        "soak " + ", ".join(e.config.name for e in entries),
        lambda: soak.soak(entries, SHORT_SOAK_RUNS, SHORT_SOAK_LOAD, "tcg", kernel,
                          out=lambda ln: print("#" + ln, flush=True)),
        lambda res: [f"{s.name}: {len(s.device_flips())} device tests differed"
                     f"{flip_names(s.device_flips())}, checks missed "
                     f"in {sum(1 for c in s.checks if c)} runs" for s in res[0]
                     if s.device_flips() or any(s.checks)])
    spent = time.monotonic() - t0
    for s in done:
        detail: list[str] = []
        soak.show(s, SHORT_SOAK_LOAD, out=detail.append)
        flips = s.device_flips()
        hosts = s.host_flips()
        cut = next((i for i, ln in enumerate(detail) if "the entry's checks" in ln), len(detail))
        t.add(f"soak {s.name} [{len(s.runs)} runs beside {SHORT_SOAK_LOAD} load boot "
              f"({len(boots.done)} done), {spent:.0f} s; verdicts "
              f"{' '.join(r['verdict'] for r in s.runs)}; {len(flips)} device tests differed, "
              f"{len(hosts)} host findings]",
              detail[1:cut] if flips else [])
        problems = [f"run {i + 1}: {p}" for i, c in enumerate(s.checks) for p in c]
        t.add(f"boot {s.name} [its checks, in each of the {len(s.runs)} runs under load]",
              problems)
    return [s.runs[0] for s in done if s.runs]


def planted_faults(kernel: str, only: str, t: Tally) -> None:
    """Each fault of tools/faults.cfg once, beside its fault-free run. A
    fault marked `waits` that does not come out as planted is reported as
    waiting for its kernel check (SKIP), one that does as met."""
    base = faults.Baselines()
    for f in faults.load(faults.DEFAULT_FILE, kernel):
        label = f"fault {f.name}"
        if only and only not in label:
            continue
        why = faults.usable(f)
        if why:
            t.add(label, [], skipped=why)
            continue
        o = t.twice(label, lambda: faults.check(f, base, 1, out=lambda s: print(s, flush=True)),
                    lambda o: [] if f.waits else o.problems)
        name = "fault " + faults.label(o)
        if f.waits and o.problems:
            t.add(name, [], skipped=f"waits for the kernel: {f.waits}; today: "
                  + "; ".join(o.problems[:3]))
        elif f.waits:
            t.add(name + " (met: its `waits` can go)", [])
        else:
            t.add(name, o.problems)


def scenarios(kernel: str, only: str, t: Tally) -> list[dict]:
    """Pause and snapshot the VM (2 s), and starve it (1 s) under each
    lost-tick policy, under TCG and KVM when usable."""
    kvm_ok, kvm_why = kvm_usable()
    done = []
    # migrate-tsc runs in make bench (advise --verify): make test's time.
    plans = [("pause", "", 2.0), ("snapshot", "", 2.0), ("starve", "discard", 1.0),
             ("starve", "slew", 1.0), ("migrate", "", 0.0)]
    for accel in ("tcg", "kvm"):
        for name, policy, hold in plans:
            label = f"scenario {name}{'-' + policy if policy else ''}-{accel}"
            if only and only not in label:
                continue
            if accel == "kvm" and not kvm_ok:
                t.add(label, [], skipped=f"KVM not usable: {kvm_why}")
                continue
            out = t.twice(label, lambda: scenario.run(
                name, qemu.Config(name=label, accel=accel, kernel=kernel), hold,
                policy=policy or "discard"),
                lambda o: [] if o.verdict == "SKIP" else
                (o.problems or ([] if o.verdict == "PASS" else [o.verdict])))
            wall = "" if out.walltime_err_ms is None else (
                f"; clock behind host {out.walltime_err_ms:.1f} ms +- "
                + ("?" if out.walltime_unc_ms is None else f"{out.walltime_unc_ms:.1f}"))
            if out.verdict == "SKIP":
                t.add(label, [], skipped="; ".join(out.problems))
            else:
                t.add(f"{label} [held {out.held_s:.3f} s; "
                      f"{_what_moved(name, out) or 'no jumps'}{wall}]",
                      out.problems if out.verdict != "PASS" or out.problems else [])
            for n in out.notes:
                print(f"      {n}", flush=True)
            if out.run:
                done.append(report.scenario_dict(out))
    return done


def _what_moved(name: str, out: Outcome) -> str:
    """The scenario's result line: the jumps seen (all of them across a
    migration), or for starve the ticks each device lost."""
    jumped = ", ".join(f"{e.get('source')} {e.get('size_ms')} ms" for e in out.jumps)
    if name == "migrate":
        jumped = f"downtime {out.held_s * 1000:.0f} ms; jumps: " + (", ".join(
            f"{e.get('source')} {e.get('size_ms')} ms" for e in out.events
            if e.get("kind") == "jump") or "none")
    if name == "starve" and out.run:
        ms = {m.name: m.value for m in out.run.report.measurements}
        jumped = ", ".join(f"{k.split('.')[1]} lost {ms[k]:g}" for k in sorted(ms)
                           if k.endswith(".deficit_end"))
    return jumped


def advice(runs: list[dict], scen: list[dict], t: Tally) -> list[advise.Advice]:
    """advise on every matrix run (with the scenarios of its accelerator):
    each line it gives carries its evidence, each gap names what to run,
    and every run gets at least one rule decided on evidence."""
    out = []
    for r in runs:
        a = advise.advise(r, scen)
        out.append(a)
        problems = [f"{i.rule} ({i.status}) has no evidence" for i in a.items
                    if i.status != "missing" and not i.evidence]
        problems += [f"{i.rule} is missing evidence but names nothing to run" for i in a.items
                     if i.status == "missing" and not i.todo]
        if all(i.status == "missing" for i in a.items if i.rule != "offset"):
            problems.append("no measured rule had its evidence (offset follows --guest)")
        counts = {k: sum(1 for i in a.items if i.status == k)
                  for k in ("advise", "keep", "warn", "n/a", "missing")}
        t.add(f"advise {a.name} [" + ", ".join(f"{n} {k}" for k, n in counts.items() if n)
              + "]", problems)
    return out


def _is_latency_p50(name: str) -> bool:
    """A oneshot latency median, in either waiting mode (poll, halt)."""
    return ".oneshot." in name and name.endswith(".latency_ns.p50")


def _save(page: str, shots: list[dict]) -> None:
    """build/report.html and build/screens/NAME.png, for a person to look at."""
    os.makedirs(os.path.join(paths.BUILD, "screens"), exist_ok=True)
    with open(os.path.join(paths.BUILD, "report.html"), "w", encoding="utf-8") as f:
        f.write(page)
    for r in shots:
        with open(os.path.join(paths.BUILD, "screens", r["config"]["name"] + ".png"), "wb") as f:
            f.write(base64.b64decode(r["screen"]["png_base64"]))


def in_browser(path: str, plots: int, images: int) -> list[str]:
    """Problems of the page at path as headless Chromium renders it: the
    page's own script reports (into <body>) the plots laid out, the images
    decoded and any script error; all plots and images must be shown."""
    exe = shutil.which("chromium")
    if not exe:
        return ["chromium is missing: apt-get install chromium (make deps does)"]
    try:
        r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu",
                            "--virtual-time-budget=3000", "--dump-dom",
                            "file://" + os.path.abspath(path)],
                           capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return ["chromium did not finish within 120 s"]
    body = re.search(r"<body[^>]*>", r.stdout)
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(0))) if body else {}
    if "plots" not in attrs:
        return [f"the page's check script did not run in chromium (status {r.returncode}: "
                + (r.stderr.strip().splitlines() or ["no output"])[-1] + ")"]
    problems = []
    if attrs.get("errors") != "none":
        problems.append(f"script errors: {attrs.get('errors')}")
    if int(attrs["plots"]) != plots or int(attrs.get("plots-shown", -1)) != plots:
        problems.append(f"chromium laid out {attrs.get('plots-shown')} of {attrs['plots']} "
                        f"plots; the page draws {plots}")
    if int(attrs.get("images-shown", -1)) != images:
        problems.append(f"chromium showed {attrs.get('images-shown')} of {images} screens")
    return problems


def reports(runs: list[dict], scen: list[dict], t: Tally) -> None:
    """The HTML page has the table, plots and advice; diff flags a planted
    regression."""
    if not runs:
        return
    section = advise.to_html(advice(runs, scen, t), scen)
    page = htmlreport.page(runs, scen, section)
    problems = [f"no column for {r['config']['name']}" for r in runs
                if r["config"]["name"] not in page]
    if scen and page.count("<svg") < len(scen) + 1:
        problems.append("the page lacks the histogram and scenario plots")
    if "<table>" not in page:
        problems.append("the page has no table")
    if page.count("<h3>") < len(runs) or "Advice: VM clock configuration" not in page:
        problems.append("the page lacks the advice section for every configuration")
    shots = [r for r in runs if r.get("screen", {}).get("png_base64")]
    problems += [f"no screen picture for {r['config']['name']}" for r in runs
                 if r.get("screen") and r not in shots]
    if page.count("<img") != len(shots):
        problems.append(f"{page.count('<img')} pictures on the page for {len(shots)} screens")
    hists = sum(len(htmlreport.histograms(r)) for r in runs)
    if any(x["result"] != "SKIP" and x["path"].endswith(".oneshot") for r in runs
           for x in r["tests"]) and not hists:
        problems.append("no latency histogram though a oneshot test ran")
    if re.search(r"\d[eE][+-]\d", re.sub(r"<img[^>]*>", "", page)):
        problems.append("a number in scientific notation on the page")
    _save(page, shots)
    t.add(f"report html ({len(page)} bytes, {htmlreport.plot_count(page)} plots, "
          f"{page.count('<img')} screens; build/report.html)", problems)
    t0 = time.monotonic()
    problems = in_browser(os.path.join(paths.BUILD, "report.html"), htmlreport.plot_count(page),
                          len(shots))
    t.add(f"report html in chromium (headless, {time.monotonic() - t0:.1f} s: every plot "
          "laid out, no script error)", problems)
    base = next((r for r in runs if any(_is_latency_p50(m["name"])
                                        for m in r["measurements"])
                 and any(x["result"] == "PASS" for x in r["tests"])), None)
    if base is None:
        t.add("report diff", [], skipped="no run with latencies and a passing test")
        return
    worse = copy.deepcopy(base)
    for m in worse["measurements"]:
        if _is_latency_p50(m["name"]):
            m["value"] = m["value"] * 3 + 5000
            break
    passed = next(x for x in worse["tests"] if x["result"] == "PASS")
    passed["result"] = "FAIL"
    _, same = diff.diff(base, base)
    _, regressions = diff.diff(base, worse)
    problems = [] if len(regressions) == 2 and not same else \
        [f"diff found {len(regressions)} regressions in a planted pair (want 2) and "
         f"{len(same)} between identical runs"]
    t.add("report diff (planted latency and test regressions)", problems)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("bins", nargs="*")
    p.add_argument("--kernel")
    p.add_argument("--iso")
    p.add_argument("--unit-only", action="store_true")
    p.add_argument("--only", default=os.environ.get("TICKSCOPE_ONLY", ""),
                   help="run only matrix entries whose name contains this")
    a = p.parse_args()
    t = Tally()
    unit(a.bins, t)
    layering(t)
    if not a.unit_only:
        runs = boots(a.kernel, a.iso, a.only, t)
        result_names(runs, t)
        grub_menu(a.iso, a.only, t)
        runs += short_soak(a.kernel, a.iso, a.only, t)
        planted_faults(a.kernel, a.only, t)
        scen = scenarios(a.kernel, a.only, t)
        reports(runs, scen, t)
    if t.second:
        print(f"# {len(t.second)} check(s) passed only on a second try (each a flip a soak "
              "would count): " + " | ".join(t.second), flush=True)
    print(f"{t.passed} passed, {t.failed} failed, {t.skipped} skipped")
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
