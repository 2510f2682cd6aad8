"""`tickscope advise --verify`: closes the loop. It runs the starvation, pause
and migration scenarios under a run's configuration as it is and under the
configuration advise recommends, side by side, and keeps an advised change
only where the re-measurement shows it better (and nowhere worse); otherwise
it says so and withdraws it. It sequences runs; the rules are advise's.

A change is first booted alone (test=platform.cpu): one that QEMU refuses
is withdrawn with QEMU's words and left out of the recommended
configuration. Each change is judged on the figures its rule names
(advise.RULES judged_by): pit/rtc, the ticks lost of host time (or gained);
wall, the guest clock's shortfall after the act; see classify for better.
A change no scenario exercises is reported as not re-measured, standing on
the evidence that drove it.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional

from . import advise, qemu, report, scenario

# The scenarios, their hold (s), and how long monitor mode goes on after
# it: enough sample lines after the act for walltime's spread.
PLANS: tuple[tuple[str, float], ...] = (("starve", 1.0), ("pause", 2.0), ("migrate", 0.0))
TAIL_S = 6.0
CHECK_CMDLINE = "test=platform.cpu"


def config_of(run: dict[str, Any], kernel: str) -> qemu.Config:
    """The Config a run was made with, for monitor mode: -kernel (an ISO
    run is re-made with the kernel), without its test= filter and tsc_hz=
    (qemu.run adds the known rate)."""
    c = run.get("config", {})
    words = [w for w in (c.get("cmdline") or "").split()
             if not w.startswith(("test=", "tsc_hz=", "monitor="))]
    firmware = c.get("firmware", "auto")
    return qemu.Config(name=c.get("name", "run"), accel=run.get("accel") or c.get("accel", "auto"),
                       firmware="auto" if firmware == "ovmf" or c.get("iso") else firmware,
                       machine=c.get("machine", "pc"), kernel=kernel, cmdline=" ".join(words),
                       cpu=c.get("cpu", ""), smp=int(c.get("smp", 1)),
                       memory=c.get("memory", "128M"), extra=list(c.get("extra", [])))


def applied(cfg: qemu.Config, args: list[str], flags: list[str]) -> qemu.Config:
    """cfg with QEMU arguments added and -cpu flags appended."""
    c, _ = qemu.resolve(cfg)
    cpu = ",".join([c.cpu] + flags) if flags else c.cpu
    return dataclasses.replace(c, cpu=cpu, extra=list(c.extra) + args)


def boot_check(cfg: qemu.Config, item: advise.Item) -> str:
    """'' when the kernel boots with the item's options, else why not."""
    args, flags = advise.options(advise.Advice("", "", "", [item], []))
    c = dataclasses.replace(applied(cfg, args, flags), cmdline=CHECK_CMDLINE, timeout=60.0)
    r = qemu.run(c, live=False)
    if r.verdict in ("PASS", "SKIP", "FAIL"):
        return ""
    lines = [ln.strip() for ln in r.stderr.splitlines() if ln.strip()]
    said = [ln for ln in lines if ln.startswith("qemu-system-x86_64: ")] or lines
    return " / ".join(ln.replace("qemu-system-x86_64: ", "") for ln in said) or r.reason


def planted(kernel: str, log: Callable[[str], None] = print) -> advise.Item:
    """The planted fault for judge: a change that cannot help, -global
    kvm-pit.lost_tick_policy=delay under TCG (QEMU's own PIT has no policy;
    the option reaches no device), advised on the PIT's lost ticks, must be
    withdrawn from starve as configured and as 'advised'."""
    cfg = qemu.Config(name="planted", accel="tcg", kernel=kernel)
    item = advise.Item("pit-tickpolicy", "advise", "planted: a change that cannot help",
                       qemu=["-global kvm-pit.lost_tick_policy=delay"])
    cur = run_scenarios(cfg, "current", ("starve",), log)
    rec = run_scenarios(applied(cfg, ["-global", "kvm-pit.lost_tick_policy=delay"], []),
                        "planted", ("starve",), log)
    judge(item, {d["scenario"]: advise.figures(d) for d in cur},
          {d["scenario"]: advise.figures(d) for d in rec})
    for ln in table(cur + rec):
        log("  " + ln)
    return item


def run_scenarios(cfg: qemu.Config, label: str, names: tuple[str, ...],
                  log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Each named scenario once under cfg, as scenario dictionaries."""
    out = []
    for name, hold in PLANS + (("migrate-tsc", 0.0),):
        if name not in names:
            continue
        o = scenario.run(name, dataclasses.replace(cfg, extra=list(cfg.extra)), hold,
                         policy="", tail_s=TAIL_S)
        d = report.scenario_dict(o)
        d["verify_label"] = label
        out.append(d)
        log(f"  {name} ({label}): {o.verdict}")
    return out


def row(f: advise.Figures) -> str:
    """One scenario's figures on a line."""
    parts = []
    for dev in advise.DEVICES:
        t = f.ticks.get(dev)
        if t:
            parts.append(f"{dev.upper()} lost {advise.num(t.lost):>6s} +-{t.unc:<4.1f} "
                         f"bunched {advise.num(t.bunched):>4s}")
    wall = "-" if f.wall_ms is None else f"{advise.num(f.wall_ms, 1):>8s} +-" + (
        "?" if f.wall_unc_ms is None else f"{f.wall_unc_ms:.1f}") + " ms"
    rtc = f.ticks.get("rtc")
    counted = "" if not rtc else \
        f"; tick-counting guest (RTC) {advise.num(rtc.lost / rtc.hz * 1000, 1):>8s} ms"
    return " | ".join(parts) + f" | clock behind host {wall}{counted}"


def classify(cur: float, cur_unc: float, rec: float, rec_unc: float,
             overshoot: bool = True) -> str:
    """better, worse or same, for a figure that should be zero (ticks or
    ms off host time, either way). Better is what a lost-tick policy or a
    clock claims: the recommended run is at zero within its uncertainty,
    or on the other side of zero (paid back more than was lost), where the
    current one was off beyond both uncertainties. A mere difference is
    not enough: two runs minutes apart on a busy host differ by more than
    either's uncertainty (TCG's PIT, which no option touches, lost 186
    ticks in one starve and 232 in the next), but the load does not turn a
    loss into a gain. (For a clock's shortfall in ms, overshoot=False: a
    few ms either way is load, so only zero counts.) Worse: further from
    zero beyond both uncertainties."""
    off = abs(cur) > cur_unc + rec_unc
    past = overshoot and rec * cur < 0 and abs(rec) < abs(cur) - cur_unc - rec_unc
    if off and (abs(rec) <= rec_unc or past):
        return "better"
    if abs(rec) > abs(cur) + cur_unc + rec_unc:
        return "worse"
    return "same"


def compare(rule: str, cur: dict[str, advise.Figures], rec: dict[str, advise.Figures]
            ) -> tuple[list[str], list[str], list[str]]:
    """(better, worse, same) findings of the figures rule is judged by,
    scenario by scenario (see classify); `migrates`: a migration QEMU
    refused as configured and ran as advised is better, the reverse worse."""
    found: dict[str, list[str]] = {"better": [], "worse": [], "same": []}
    for name in sorted(set(cur) & set(rec)):
        c, r = cur[name], rec[name]
        ran = [f.verdict in ("PASS", "FAIL") for f in (c, r)]
        if "migrates" in advise.RULE[rule].judged_by and name == "migrate" and ran[0] != ran[1]:
            found["better" if ran[1] else "worse"].append(
                f"{name}: {'refused' if ran[1] else 'ran'} as configured"
                f"{' (' + '; '.join(c.notes) + ')' if ran[1] else ''}, "
                f"{'ran' if ran[1] else 'refused'} as advised"
                f"{'' if ran[1] else ' (' + '; '.join(r.notes) + ')'}")
        if not all(ran) or not (c.ticks and r.ticks):
            continue
        for what in advise.RULE[rule].judged_by:
            if what in advise.DEVICES and what in c.ticks and what in r.ticks:
                a, b = c.ticks[what], r.ticks[what]
                found[classify(a.lost, a.unc, b.lost, b.unc)].append(
                    f"{name}: {what.upper()} lost {advise.num(a.lost)} +-{a.unc:.1f} -> "
                    f"{advise.num(b.lost)} +-{b.unc:.1f}")
            elif what == "wall" and c.wall_ms is not None and r.wall_ms is not None:
                cu, ru = c.wall_unc_ms or 0.0, r.wall_unc_ms or 0.0
                found[classify(c.wall_ms, cu, r.wall_ms, ru, overshoot=False)].append(
                    f"{name}: clock behind host {c.wall_ms:.1f} +-{cu:.1f} -> "
                    f"{r.wall_ms:.1f} +-{ru:.1f} ms")
    return found["better"], found["worse"], found["same"]


def judge(item: advise.Item, cur: dict[str, advise.Figures],
          rec: dict[str, advise.Figures]) -> str:
    """Sets item.verify (and withdraws it: status 'withdrawn') from the
    side-by-side figures; returns the finding."""
    better, worse, same = compare(item.rule, cur, rec)
    if worse or (not better and same):
        item.status = "withdrawn"
        item.verify = ("withdrawn: not better where re-measured: "
                       + "; ".join(worse + same))
    elif better:
        item.verify = "stands: better where re-measured: " + "; ".join(better)
    else:
        item.verify = ("not re-measured: no scenario here measures what it changes; it "
                       "stands on the evidence that drove it")
    return item.verify


def verify(run: dict[str, Any], kernel: str, guest: str,
           log: Callable[[str], None] = print) -> tuple[advise.Advice, list[dict[str, Any]]]:
    """The advice for run, verified; and every scenario dictionary made
    (labelled current/recommended in verify_label)."""
    cfg = config_of(run, kernel)
    if "-icount" in cfg.extra:
        a = advise.advise(run, [], guest)
        for i in a.items:
            if i.changes:
                i.verify = ("not re-measured: under -icount monitor mode's seconds are "
                            "virtual and take minutes each")
        return a, []
    log(f"advise --verify {cfg.name} (accel={cfg.accel}): the scenarios as configured")
    names = tuple(n for n, _ in PLANS)
    cur_d = run_scenarios(cfg, "current", names + ("migrate-tsc",), log)
    a = advise.advise(run, cur_d, guest)
    args: list[str] = []
    flags: list[str] = []
    for i in a.items:
        if not i.changes:
            if i.status in ("keep", "warn"):
                i.verify = "in effect already: measured as the current configuration"
            continue
        why = boot_check(cfg, i)
        if why:
            i.status, i.verify = "withdrawn", f"withdrawn: QEMU would not run it here: {why}"
            log(f"  {i.rule}: {i.verify}")
            continue
        x, f = advise.options(advise.Advice("", "", "", [i], []))
        args += x
        flags += f
    if not args and not flags:
        log("  nothing to change: the recommended configuration is the current one")
        return a, cur_d
    rec_cfg = applied(cfg, args, flags)
    log(f"the scenarios as recommended: {' '.join(args)}"
        + (f" -cpu {rec_cfg.cpu}" if flags else ""))
    rec_d = run_scenarios(rec_cfg, "recommended", names, log)
    cur = {d["scenario"]: advise.figures(d) for d in cur_d}
    rec = {d["scenario"]: advise.figures(d) for d in rec_d}
    for i in a.items:
        if i.changes and not i.verify:
            judge(i, cur, rec)
            log(f"  {i.rule}: {i.verify}")
    return a, cur_d + rec_d


def table(docs: list[dict[str, Any]]) -> list[str]:
    """The side-by-side figures of verify's scenario dictionaries."""
    out = []
    for d in docs:
        f = advise.figures(d)
        out.append(f"{f.name:11s} {d.get('verify_label', ''):11s} {f.verdict:5s} "
                   + (row(f) if f.ticks else ""))
        if f.name == "migrate-tsc" or not f.ticks:
            out += [f"{'':30s}{n}" for n in f.notes]
    return out


def withdrawn(a: advise.Advice) -> list[advise.Item]:
    return [i for i in a.items if i.status == "withdrawn"]


def summary(a: advise.Advice) -> Optional[str]:
    """One line: how many changes stand, were withdrawn, were not re-measured."""
    changed = [i for i in a.items if i.verify and i.verify.split(":")[0] in
               ("stands", "withdrawn", "not re-measured")]
    if not changed:
        return None
    count = {k: sum(1 for i in changed if i.verify.startswith(k))
             for k in ("stands", "withdrawn", "not re-measured")}
    return ", ".join(f"{n} {k}" for k, n in count.items())
