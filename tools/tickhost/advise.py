"""`tickscope advise`: from a run's measurements (and its scenarios') to the
clock configuration to give that VM, as libvirt <clock> XML and as QEMU
options, each line with the measurement that drives it and the rule (with
its source) it follows. It works on the JSON dictionaries only (report.to_dict,
report.scenario_dict); it must not run anything (adviseverify re-measures).

Each rule looks at one knob, returns one Item: `advise` (change it), `keep`
(what is in effect is right; the line makes it explicit), `warn` (in effect,
but the evidence says it does not help), `n/a` (does not apply here, and
why) or `missing` (the evidence was not measured: the Item says what to run);
adviseverify may turn `advise` into `withdrawn`.
"""
from __future__ import annotations

import html
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Optional

from .numfmt import fixed

GUESTS = ("linux", "windows", "other")
_TIMER = re.compile(r"<timer name='(\w+)'(.*?)/>$")

# Sources, cited by name and section; each rule names the ones it follows.
SOURCES: dict[str, str] = {
    "linux-clocksource": "Linux kernel/time/clocksource.c: the watchdog compares a clocksource "
    "with another every 0.5 s (WATCHDOG_INTERVAL) and tolerates at least 500 ppm of skew "
    "(MAX_SKEW_USEC, 'based on NTP's limits'); clocksource_select() takes the highest rating",
    "linux-kvmclock": "Linux arch/x86/kernel/kvmclock.c: kvm-clock is rated 400, lowered to 299 "
    "when the TSC is constant and nonstop (CPUID invariant TSC), so that the TSC (300) is "
    "chosen; arch/x86/kernel/pvclock.c: without PVCLOCK_TSC_STABLE_BIT every read goes "
    "through one global compare-exchange (last_value) to stay monotonic",
    "linux-tsc-sync": "Linux arch/x86/kernel/tsc_sync.c: a TSC seen behind another CPU's at "
    "boot is marked unstable",
    "linux-hpet": "Linux arch/x86/kernel/hpet.c: the HPET clocksource is rated 250, below the "
    "TSC (300) and kvm-clock (400)",
    "kvm-hyperv": "Linux arch/x86/kvm/hyperv.c, compute_tsc_page_parameters(): KVM fills in the "
    "Hyper-V reference TSC page only while kvm-clock's PVCLOCK_TSC_STABLE_BIT is set",
    "qemu-rtc": "QEMU documentation, the -rtc option: base=utc|localtime ('localtime is "
    "required for correct date in MS-DOS or Windows'), clock=host (the default) or vm "
    "('recommended especially in icount mode'), driftfix=slew re-injects the timer "
    "interrupts the guest did not take ('specifically with Windows' ACPI HAL')",
    "qemu-kvm-pit": "QEMU hw/i386/kvm/i8254.c: kvm-pit's lost_tick_policy is delay "
    "(re-injection, the default) or discard; QEMU's own i8254 (TCG) has no such property",
    "qemu-hpet": "QEMU hw/timer/hpet.c: the HPET has no lost_tick_policy property (QEMU "
    "refuses -global hpet.lost_tick_policy: 'Property not found'): its missed periodic "
    "ticks are not paid back",
    "qemu-invtsc": "QEMU target/i386/kvm/kvm.c: invtsc blocks migration unless tsc-frequency= "
    "is set; an explicit tsc-frequency= the host cannot run without TSC scaling stops the "
    "VM from starting ('TSC frequency mismatch between VM and host, and TSC scaling "
    "unavailable'); target/i386/machine.c: a destination whose tsc-frequency= differs from "
    "the migrated one refuses the state",
    "qemu-hyperv": "QEMU docs/system/i386/hyperv.rst, hv-time: the Hyper-V reference TSC page, "
    "exit-less time stamps for Windows",
    "libvirt-timekeeping": "libvirt, Domain XML format, 'Time keeping': <clock offset>, <timer "
    "name= pit|rtc|hpet|kvmclock|hypervclock|tsc> with tickpolicy (delay, catchup, merge, "
    "discard), present, track (guest|wall) and frequency; libvirt turns rtc catchup into "
    "-rtc driftfix=slew, pit delay into -global kvm-pit.lost_tick_policy=delay, track guest "
    "into -rtc clock=vm (src/qemu/qemu_command.c)",
    "virt-manager": "virt-manager virtinst/domain/clock.py, the clock defaults for new x86 QEMU "
    "guests: rtc catchup, pit delay, hpet off ('unneeded and has a performance penalty'), "
    "hypervclock for Windows",
}


@dataclass(frozen=True)
class Rule:
    id: str
    knob: str           # the libvirt element or attribute it sets
    threshold: str      # what decides, in words
    sources: tuple[str, ...]
    judged_by: tuple[str, ...]  # what --verify compares: pit, rtc, wall, migrates, boot


RULES: tuple[Rule, ...] = (
    Rule("offset", "<clock offset=>", "guest: windows keeps its RTC in local time, the "
         "others in UTC (a convention, not a measurement)", ("qemu-rtc", "libvirt-timekeeping"),
         ()),
    Rule("kvmclock", "<timer name='kvmclock'>", "kvmclock.stable = 1 and kvmclock.warps = 0: "
         "present, reads lock-free; stable 0 or warps: present, with a warning about the "
         "host", ("linux-kvmclock", "linux-clocksource", "libvirt-timekeeping"), ("wall",)),
    Rule("tsc", "<timer name='tsc' frequency=>", "an invariant TSC (platform.cpu "
         "invariant_tsc=1) that is not behind across CPUs (tsc.warp_cycles.max = 0) and "
         "agrees with the HPET and PM timer within 500 ppm: pin its rate; behind or beyond "
         "500 ppm: hide invtsc; not invariant: nothing", ("linux-kvmclock", "linux-tsc-sync",
                                                           "linux-clocksource", "qemu-invtsc",
                                                           "libvirt-timekeeping"),
         ("wall", "migrates", "boot")),
    Rule("pit-tickpolicy", "<timer name='pit' tickpolicy=>", "starve: PIT ticks lost of host "
         "time > 1 tick + the wall-time uncertainty (in ticks): delay (where discard was in "
         "effect); KVM only", ("qemu-kvm-pit", "libvirt-timekeeping", "virt-manager"),
         ("pit",)),
    Rule("rtc-tickpolicy", "<timer name='rtc' tickpolicy=>", "starve: RTC ticks lost of host "
         "time > 1 tick + the wall-time uncertainty (in ticks): catchup (where discard was "
         "in effect)", ("qemu-rtc", "libvirt-timekeeping", "virt-manager"), ("rtc",)),
    Rule("hpet", "<timer name='hpet' present=>", "hpet.periodic.lost > 1 (a count is "
         "quantised to one tick): present='no'", ("qemu-hpet", "linux-hpet", "virt-manager",
                                                  "libvirt-timekeeping"), ("boot",)),
    Rule("hypervclock", "<timer name='hypervclock'>", "windows guests under KVM with "
         "kvmclock.stable = 1: present", ("qemu-hyperv", "kvm-hyperv", "virt-manager",
                                          "libvirt-timekeeping"), ("boot",)),
    Rule("rtc-track", "<timer name='rtc' track=>", "the RTC's drift against the other "
         "clocks (drift.*.rtc.ppm) beyond its tolerance under -icount: track='guest'; "
         "within it: keep what is in effect", ("qemu-rtc", "libvirt-timekeeping"), ()),
)
RULE = {r.id: r for r in RULES}

# Monitor mode's periodic devices (tests/monitor_test.c): what a scenario
# counts, by the name in its monitor.<dev>.deficit_* measurements.
DEVICES = ("pit", "rtc")


@dataclass
class Item:
    """One rule's verdict for one run."""
    rule: str
    status: str                    # advise | keep | warn | n/a | missing | withdrawn
    why: str                       # the rule applied to the figures, one sentence
    evidence: list[str] = field(default_factory=list)   # "name = value ..." strings
    xml: str = ""                  # one line inside <clock> ('' for none)
    qemu: list[str] = field(default_factory=list)       # QEMU options
    cpu: list[str] = field(default_factory=list)        # -cpu flags
    todo: str = ""                 # the command that measures the missing evidence
    verify: str = ""               # --verify's finding ('' until then)

    @property
    def changes(self) -> bool:
        """True when applying it changes the configuration."""
        return self.status == "advise"


@dataclass
class Advice:
    name: str
    accel: str
    guest: str
    items: list[Item]
    scenarios: list[str]           # the scenarios whose figures were used

    def item(self, rule: str) -> Optional[Item]:
        return next((i for i in self.items if i.rule == rule), None)


# ---- reading the JSON -------------------------------------------------------

def measure(run: dict[str, Any], name: str) -> Optional[dict[str, Any]]:
    """The measurement called name (its dict: value, unit, extra), or None."""
    return next((m for m in run.get("measurements", []) if m["name"] == name), None)


def value(run: dict[str, Any], name: str) -> Optional[float]:
    m = measure(run, name)
    return None if m is None else float(m["value"])


def result(run: dict[str, Any], path: str) -> Optional[dict[str, Any]]:
    """The test called path (result, reason, diagnostics), or None if it did not run."""
    return next((t for t in run.get("tests", []) if t["path"] == path), None)


def cpu_flags(run: dict[str, Any]) -> dict[str, int]:
    """platform.cpu's `flags:` line (tsc=1 invariant_tsc=0 ...), {} if absent."""
    t = result(run, "platform.cpu")
    for d in (t or {}).get("diagnostics", []):
        if d.startswith("flags:"):
            return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", d)}
    return {}


def _opts(command: list[str], option: str) -> list[str]:
    """The values given to a QEMU option (-rtc, -machine, -global, -cpu)."""
    return [command[i + 1] for i, a in enumerate(command[:-1]) if a == option]


def in_effect(command: list[str], accel: str) -> dict[str, Any]:
    """The clock settings a QEMU command line puts in effect, QEMU's
    defaults where it says nothing: RTC policy discard, kvm-pit delay
    (None under TCG: no policy), HPET present, RTC on the host clock."""
    rtc_opts = ",".join(_opts(command, "-rtc"))
    globals_ = dict(g.split("=", 1) for g in _opts(command, "-global") if "=" in g)
    machine = ",".join(_opts(command, "-machine"))
    cpu = (_opts(command, "-cpu") or [""])[-1]
    rtc = globals_.get("mc146818rtc.lost_tick_policy", "discard")
    if "driftfix=slew" in rtc_opts:
        rtc = "slew"
    freq = re.search(r"tsc-frequency=(\d+)", cpu)
    return {
        "rtc": rtc,
        "pit": globals_.get("kvm-pit.lost_tick_policy", "delay") if accel == "kvm" else None,
        "hpet": "hpet=off" not in machine and "-no-hpet" not in command,
        "rtc_clock": (re.findall(r"clock=(\w+)", rtc_opts) or ["host"])[-1],
        "rtc_base": (re.findall(r"base=(\w+)", rtc_opts) or ["utc"])[-1],
        "icount": "-icount" in command,
        "cpu": cpu,
        "tsc_frequency": int(freq.group(1)) if freq else None,
        "kvmclock": not re.search(r"(-kvmclock|kvmclock=off)", cpu),
    }


@dataclass
class Ticks:
    """One periodic device's figures in one scenario."""
    hz: float
    lost: float        # ticks short of host time at the end (negative: extra ticks)
    unc: float         # the uncertainty of lost, in ticks
    bunched: float     # ticks of the held time delivered after it, back to back
    basis: str         # what lost is counted against


@dataclass
class Figures:
    """What one scenario measured, in the terms advise and verify use."""
    name: str
    accel: str
    verdict: str
    policy: dict[str, Any]
    held_s: float
    wall_ms: Optional[float]        # the guest's clock behind the host's after it
    wall_unc_ms: Optional[float]
    ticks: dict[str, Ticks]
    notes: list[str]


def figures(sd: dict[str, Any]) -> Figures:
    """A scenario dictionary (report.scenario_dict) as Figures.

    lost: monitor mode's deficit at the end (ticks due by the guest's clock,
    not taken) plus the guest clock's own shortfall against the host's
    (walltime) in ticks, so that both a tick-counting guest and a
    clocksource guest are judged against host time; its uncertainty is one
    tick (a count) plus the wall-time uncertainty in ticks. bunched: the
    ticks due while the VM was held that were not lost, hence delivered
    after it, one after the other."""
    accel = sd.get("accel", "")
    wall, wall_unc = sd.get("walltime_err_ms"), sd.get("walltime_unc_ms")
    held = float(sd.get("held_s") or 0.0)
    ticks = {}
    for dev in DEVICES:
        end = measure(sd, f"monitor.{dev}.deficit_end")
        top = measure(sd, f"monitor.{dev}.deficit_max")
        if end is None:
            continue
        hz_m = re.search(r"at (\d+) Hz", (top or {}).get("extra", ""))
        hz = float(hz_m.group(1)) if hz_m else {"pit": 100.0, "rtc": 64.0}[dev]
        lost = float(end["value"]) + (wall * hz / 1000 if wall is not None else 0.0)
        unc = 1.0 + (wall_unc * hz / 1000 if wall_unc is not None else 0.0)
        due = held * hz
        ticks[dev] = Ticks(hz, lost, unc, min(max(due - max(lost, 0.0), 0.0), due),
                           "host time" if wall is not None else "the guest's clock")
    return Figures(sd.get("scenario", "?"), accel, sd.get("scenario_verdict", ""),
                   in_effect(sd.get("command", []), accel), held, wall, wall_unc, ticks,
                   list(sd.get("notes", [])) + list(sd.get("problems", [])))


def num(x: float, digits: int = 0) -> str:
    """x rounded for the report, without a '-0'."""
    text = f"{x:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


# ---- the rules --------------------------------------------------------------

def _run_cmd(accel: str) -> str:
    return f"tools/tickscope run --accel {accel} --json run.json (no test= filter)"


def _scenario_cmd(name: str, accel: str) -> str:
    policy = " --policy discard" if name == "starve" else ""
    return (f"tools/tickscope scenario {name}{policy} --accel {accel} --json {name}.json, "
            f"then pass {name}.json to advise too")


def rule_offset(run: dict[str, Any], scen: dict[str, list[Figures]], guest: str) -> Item:
    base = "localtime" if guest == "windows" else "utc"
    cur = in_effect(run.get("command", []), run.get("accel", "?"))["rtc_base"]
    return Item("offset", "keep" if cur == base else "advise",
                f"the guest ({guest}) keeps its RTC in "
                + ("local time" if base == "localtime" else "UTC"),
                [f"guest = {guest} (not measurable: the RTC's base is the guest's convention)"],
                xml=f"<clock offset='{base}'>", qemu=[f"-rtc base={base}"])


def rule_kvmclock(run: dict[str, Any], scen: dict[str, list[Figures]], guest: str) -> Item:
    accel = run.get("accel", "?")
    hv = run.get("platform", {}).get("hypervisor", "")
    present = result(run, "kvmclock.present")
    if guest == "windows":
        return Item("kvmclock", "n/a", "Windows has no kvm-clock driver (see hypervclock)",
                    [f"guest = {guest}"])
    if present is None:
        if hv and hv != "KVMKVMKVM":
            return Item("kvmclock", "n/a", "kvm-clock is KVM's paravirtual clock and this VM "
                        "runs elsewhere: the guest keeps time on its TSC",
                        [f"platform hypervisor = {hv}, accel = {accel}"])
        return Item("kvmclock", "missing", "kvmclock.* did not run", todo=_run_cmd(accel))
    if present["result"] != "PASS":
        return Item("kvmclock", "n/a", "the VM offers no kvm-clock",
                    [f"kvmclock.present = {present['result']} {present.get('reason', '')}"])
    stable = value(run, "kvmclock.stable")
    warps = value(run, "kvmclock.warps")
    ev = [f"kvmclock.stable = {fixed(stable)}" if stable is not None
          else "kvmclock.stable unmeasured"]
    if warps is not None:
        ev.append(f"kvmclock.warps = {fixed(warps)} (smp.kvmclock)")
    cur = in_effect(run.get("command", []), accel)
    item = Item("kvmclock", "keep" if cur["kvmclock"] else "advise", "", ev,
                xml="<timer name='kvmclock' present='yes'/>", cpu=["kvmclock=on"])
    if stable == 1 and not warps and cpu_flags(run).get("invariant_tsc"):
        item.why = ("stable bit set, no warps; with the invariant TSC Linux lowers kvm-clock "
                    "to 299 and keeps time on the TSC (see tsc), kvm-clock staying its wall "
                    "clock and fallback")
    elif stable == 1 and not warps:
        item.why = ("stable bit set, no warps: Linux rates kvm-clock 400, above the TSC's 300, "
                    "and with the stable bit reads it without a global lock")
    else:
        item.status = "warn"
        item.why = ("the host does not offer a stable kvm-clock: Linux keeps it monotonic with "
                    "a global compare-exchange on every read (or it went backwards across "
                    "CPUs); fix the host (KVM's master clock needs a TSC clocksource there)")
    return item


def _tsc_disagreement(run: dict[str, Any]) -> Optional[tuple[str, float]]:
    """The largest disagreement (ppm) between the TSC rate measured against
    the HPET or PM timer (Linux's watchdog candidates) and the final rate."""
    final = value(run, "tsc.freq_khz")
    worst = None
    for ref in ("hpet", "pm"):
        v = value(run, f"tsc.freq_khz.{ref}")
        if final and v:
            ppm = (v - final) / final * 1e6
            if worst is None or abs(ppm) > abs(worst[1]):
                worst = (ref, ppm)
    return worst


def rule_tsc(run: dict[str, Any], scen: dict[str, list[Figures]], guest: str) -> Item:
    accel = run.get("accel", "?")
    flags = cpu_flags(run)
    if not flags:
        return Item("tsc", "missing", "platform.cpu did not run", todo=_run_cmd(accel))
    ev = [f"invariant_tsc = {flags.get('invariant_tsc', 0)} (platform.cpu)"]
    if not flags.get("invariant_tsc"):
        return Item("tsc", "n/a", "the guest sees no invariant TSC: nothing needs its rate "
                    "pinned (Linux keeps kvm-clock, or the TSC under its watchdog)", ev)
    if accel != "kvm":
        return Item("tsc", "n/a", "tsc-frequency= does not change TCG's TSC (it counts host "
                    "cycles) nor does TCG show it in CPUID", ev + [f"accel = {accel}"])
    warp = value(run, "tsc.warp_cycles.max")
    dis = _tsc_disagreement(run)
    if warp is not None:
        ev.append(f"tsc.warp_cycles.max = {fixed(warp)}")
    if dis:
        ev.append(f"TSC against {dis[0]}: {dis[1]:+.1f} ppm (tsc.freq_khz.{dis[0]} vs "
                  "tsc.freq_khz; Linux's watchdog allows 500)")
    if (warp or 0) > 0 or (dis and abs(dis[1]) > 500):
        return Item("tsc", "advise", "an invariant TSC that is behind on a CPU or off by more "
                    "than the watchdog's 500 ppm: Linux would trust it anyway (kvm-clock "
                    "lowered to 299), so hide invtsc", ev,
                    xml="<cpu><feature policy='disable' name='invtsc'/></cpu>",
                    cpu=["-invtsc"])
    khz = value(run, "tsc.freq_khz.kvmclock_scale") or value(run, "tsc.freq_khz")
    if not khz:
        return Item("tsc", "missing", "tsc.freq did not run", ev, todo=_run_cmd(accel))
    hz = round(khz) * 1000
    scale = ".kvmclock_scale" if value(run, "tsc.freq_khz.kvmclock_scale") else ""
    ev.append(f"tsc.freq_khz{scale} = {khz:.3f} kHz")
    mig = last(scen, "migrate-tsc")
    if mig:
        ev.append("migrate-tsc: " + "; ".join(mig.notes)[:300])
    cur = in_effect(run.get("command", []), accel)
    return Item("tsc", "keep" if cur["tsc_frequency"] == hz else "advise",
                "an invariant TSC: Linux lowers kvm-clock to 299 and keeps time on the TSC "
                "itself, so its rate must not change under the guest; pinned, QEMU lets the "
                "VM migrate and a destination that cannot run that rate refuses it",
                ev, xml=f"<timer name='tsc' frequency='{hz}'/>", cpu=[f"tsc-frequency={hz}"])


def _tick_rule(rule: str, dev: str, run: dict[str, Any], scen: dict[str, list[Figures]],
               guest: str) -> Item:
    """pit-tickpolicy and rtc-tickpolicy: the starve scenario's lost ticks
    under the policy it ran with."""
    accel = run.get("accel", "?")
    cur = in_effect(run.get("command", []), accel)[dev]
    # Of several starve runs, the one under the policy in effect is the
    # evidence about the configuration as it is.
    runs = scen.get("starve", [])
    fig = next((f for f in reversed(runs) if f.policy[dev] == cur), runs[-1] if runs else None)
    if dev == "pit" and accel != "kvm":
        ev = [f"accel = {accel}"]
        if fig and dev in fig.ticks:
            ev.append(f"starve: PIT {num(fig.ticks[dev].lost)} ticks lost of "
                      f"{fig.ticks[dev].basis}")
        return Item(rule, "n/a", "QEMU's own PIT (TCG) has no lost-tick policy: it drops "
                    "what it could not deliver, and -global kvm-pit.* only reaches KVM's", ev)
    if fig is None or dev not in fig.ticks:
        return Item(rule, "missing", "no starve scenario for this accelerator",
                    todo=_scenario_cmd("starve", accel))
    t = fig.ticks[dev]
    policy = fig.policy[dev]
    ev = [f"starve (held {fig.held_s:.2f} s, {dev} policy {policy}): {num(t.lost)} of "
          f"{fixed(t.hz)} Hz ticks lost of {t.basis} (+-{t.unc:.1f}), "
          f"monitor.{dev}.deficit_end and walltime"]
    good, fix = ("delay", "delay") if dev == "pit" else ("slew", "catchup")
    # libvirt has no rtc 'discard': its 'delay' leaves QEMU's RTC default, discard.
    tag = {"delay": "delay", "discard": "discard" if dev == "pit" else "delay",
           "slew": "catchup"}
    if t.lost > t.unc and policy != good:
        why = f"{num(t.lost)} ticks lost (> {t.unc:.1f}) under {policy}: {fix} pays them back"
        want = good
    elif t.lost > t.unc:
        why, want = (f"{num(t.lost)} ticks lost (> {t.unc:.1f}) even under {policy}: no "
                     "policy recovers them here"), good
    elif policy == cur:
        why, want = f"{num(t.lost)} ticks lost (<= {t.unc:.1f}) under {policy}", policy
    else:
        return Item(rule, "missing", f"the starve scenario ran under {policy}, not the {cur} "
                    f"in effect, and lost nothing ({num(t.lost)} <= {t.unc:.1f})", ev,
                    todo=_scenario_cmd("starve", accel) + f" (with {dev} {cur})")
    status = "keep" if want == cur else "advise"
    if t.lost > t.unc and policy == good:
        status = "warn"
    if guest == "linux":
        why += ("; Linux keeps time on its clocksource, so this matters to what counts ticks "
                "(a tick-counting guest, timer interrupts)")
    if dev == "pit":
        opt = [f"-global kvm-pit.lost_tick_policy={want}"]
    else:
        opt = ["-rtc driftfix=slew"] if want == "slew" else []
    return Item(rule, status, why, ev, xml=f"<timer name='{dev}' tickpolicy='{tag[want]}'/>",
                qemu=opt)


def rule_pit(run: dict[str, Any], scen: dict[str, list[Figures]], guest: str) -> Item:
    return _tick_rule("pit-tickpolicy", "pit", run, scen, guest)


def rule_rtc(run: dict[str, Any], scen: dict[str, list[Figures]], guest: str) -> Item:
    return _tick_rule("rtc-tickpolicy", "rtc", run, scen, guest)


def rule_hpet(run: dict[str, Any], scen: dict[str, list[Figures]], guest: str) -> Item:
    accel = run.get("accel", "?")
    present = result(run, "hpet.present")
    if present is None:
        return Item("hpet", "missing", "hpet.* did not run", todo=_run_cmd(accel))
    if present["result"] != "PASS":
        return Item("hpet", "n/a", "the VM has no working HPET",
                    [f"hpet.present = {present['result']} {present.get('reason', '')}".strip()])
    lost = value(run, "hpet.periodic.lost")
    if lost is None:
        return Item("hpet", "missing", "hpet.periodic did not run", todo=_run_cmd(accel))
    stolen = measure(run, "hpet.periodic.stolen_ms")
    ev = [f"hpet.periodic.lost = {fixed(lost)}" + (f" (hpet.periodic.stolen_ms = "
                                              f"{fixed(stolen['value'])}: the vCPU was away)"
                                              if stolen else "")]
    if lost > 1:
        why = (f"its periodic mode lost {fixed(lost)} ticks (> 1) and QEMU's HPET has no lost-tick "
               "policy to pay them back")
        if guest == "linux":
            why += "; Linux needs it only as a fallback clocksource (rating 250)"
        return Item("hpet", "advise", why, ev, xml="<timer name='hpet' present='no'/>",
                    qemu=["-machine hpet=off"])
    return Item("hpet", "keep", f"its periodic mode lost {fixed(lost)} ticks (<= 1)", ev,
                xml="<timer name='hpet' present='yes'/>")


def rule_hypervclock(run: dict[str, Any], scen: dict[str, list[Figures]], guest: str) -> Item:
    accel = run.get("accel", "?")
    if guest != "windows":
        return Item("hypervclock", "n/a", f"the guest ({guest}) has no Hyper-V clock driver",
                    [f"guest = {guest}"])
    if accel != "kvm":
        return Item("hypervclock", "n/a", "hv-time needs KVM", [f"accel = {accel}"])
    stable = value(run, "kvmclock.stable")
    if stable is None:
        return Item("hypervclock", "missing", "kvmclock.flags did not run", todo=_run_cmd(accel))
    ev = [f"kvmclock.stable = {fixed(stable)}"]
    if stable != 1:
        return Item("hypervclock", "n/a", "without kvm-clock's stable bit KVM leaves the "
                    "reference TSC page empty and Windows reads the reference counter MSR, "
                    "an exit per read", ev)
    return Item("hypervclock", "advise", "kvm-clock is stable, so KVM fills in the reference "
                "TSC page: exit-less time stamps for Windows", ev,
                xml="<timer name='hypervclock' present='yes'/>", cpu=["hv-time"])


def _rtc_drift(run: dict[str, Any]) -> Optional[tuple[str, float, float]]:
    """(name, ppm, tolerance) of the drift.*.rtc.ppm pair furthest beyond
    (or nearest to) its tolerance."""
    worst = None
    for m in run.get("measurements", []):
        if m["name"].startswith("drift.") and ".rtc." in m["name"] + ".":
            tol = re.search(r"tol ([\d.]+)", m.get("extra", ""))
            if tol:
                margin = abs(float(m["value"])) - float(tol.group(1))
                if worst is None or margin > worst[0]:
                    worst = (margin, m["name"], float(m["value"]), float(tol.group(1)))
    return None if worst is None else worst[1:]


def rule_rtc_track(run: dict[str, Any], scen: dict[str, list[Figures]], guest: str) -> Item:
    accel = run.get("accel", "?")
    cur = in_effect(run.get("command", []), accel)
    d = _rtc_drift(run)
    if d is None:
        return Item("rtc-track", "missing", "drift.pairs did not run (or found no RTC)",
                    todo=_run_cmd(accel))
    name, ppm, tol = d
    ev = [f"{name} = {fixed(ppm)} ppm (tol {fixed(tol)})",
          f"-icount {'on' if cur['icount'] else 'off'}, RTC clock={cur['rtc_clock']}"]
    track = {"vm": "guest", "host": "wall", "rt": "realtime"}.get(cur["rtc_clock"], "wall")
    if abs(ppm) > tol and cur["icount"]:
        return Item("rtc-track", "advise", "under -icount the other clocks run on instruction "
                    "counts and the RTC on the host's: they disagree beyond the tolerance",
                    ev, xml="<timer name='rtc' track='guest'/>", qemu=["-rtc clock=vm"])
    if abs(ppm) > tol:
        return Item("rtc-track", "warn", "the RTC disagrees with the other clocks beyond the "
                    "tolerance without -icount: look at the host's clock", ev,
                    xml=f"<timer name='rtc' track='{track}'/>")
    return Item("rtc-track", "keep", "the RTC agrees with the other clocks within the tolerance",
                ev, xml=f"<timer name='rtc' track='{track}'/>")


RULE_FUNCS = (rule_offset, rule_kvmclock, rule_tsc, rule_pit, rule_rtc, rule_hpet,
              rule_hypervclock, rule_rtc_track)


def scenarios_for(run: dict[str, Any], scenarios: list[dict[str, Any]]
                  ) -> dict[str, list[Figures]]:
    """The scenarios run under the same accelerator as run, by name, in
    the order given."""
    out: dict[str, list[Figures]] = {}
    for sd in scenarios:
        if sd.get("accel") == run.get("accel"):
            f = figures(sd)
            out.setdefault(f.name, []).append(f)
    return out


def last(scen: dict[str, list[Figures]], name: str) -> Optional[Figures]:
    """The last scenario called name, or None."""
    return scen[name][-1] if scen.get(name) else None


def advise(run: dict[str, Any], scenarios: list[dict[str, Any]], guest: str = "linux") -> Advice:
    """Every rule applied to one run and the scenarios of its accelerator."""
    scen = scenarios_for(run, scenarios)
    items = [f(run, scen, guest) for f in RULE_FUNCS]
    return Advice(run.get("config", {}).get("name", "run"), run.get("accel", "?"), guest,
                  items, sorted(scen))


def split_inputs(docs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Boot runs and scenario runs out of JSON documents: single runs
    (tickscope run --json), scenarios (scenario --json) and matrices
    (matrix --json: {"runs": [...], "scenarios": [...]})."""
    runs, scen = [], []
    for d in docs:
        for r in d.get("runs", [d] if "tests" in d or "scenario" in d else []):
            (scen if "scenario" in r else runs).append(r)
        scen.extend(d.get("scenarios", []))
    return runs, scen


# ---- output -----------------------------------------------------------------

def _note(i: Item) -> str:
    """The comment beside a line: rule, evidence, sources (why: below)."""
    srcs = ", ".join(RULE[i.rule].sources)
    return f"{i.rule}: {'; '.join(i.evidence)} [{srcs}]"


def libvirt_lines(a: Advice) -> list[str]:
    """The <clock> element, each timer line followed by its evidence."""
    off = a.item("offset")
    head = off.xml if off else "<clock offset='utc'>"
    out = [head + f"  <!-- {_note(off)} -->" if off else head]
    shown = [i for i in a.items if i.rule != "offset" and i.xml
             and i.status in ("advise", "keep", "warn")]
    # One <timer> per name: the attributes of the rules that set the same
    # timer (rtc: tickpolicy and track) go on one line, both notes after it.
    timers: dict[str, tuple[list[str], list[Item]]] = {}
    for i in shown:
        m = _TIMER.match(i.xml)
        if m:
            attrs, items = timers.setdefault(m.group(1), ([], []))
            attrs.append(m.group(2).strip())
            items.append(i)
    for name, (attrs, items) in timers.items():
        out.append(f"  <timer name='{name}' {' '.join(x for x in attrs if x)}/>"
                   f"  <!-- {' | '.join(_note(i) for i in items)} -->")
    out.append("</clock>")
    out += [f"{i.xml}  <!-- {_note(i)} -->" for i in shown if i.xml.startswith("<cpu>")]
    return out


def qemu_lines(a: Advice, cpu: str) -> list[str]:
    """QEMU options, each with its evidence; -cpu is cpu plus the flags."""
    out = []
    flags = [(f, i) for i in a.items if i.status in ("advise", "keep", "warn") for f in i.cpu]
    if flags:
        out.append(f"-cpu {','.join([cpu] + [f for f, _ in flags])}  # "
                   + " | ".join(_note(i) for i in {id(i): i for _, i in flags}.values()))
    for i in a.items:
        if i.status in ("advise", "keep", "warn"):
            out.extend(f"{o}  # {_note(i)}" for o in i.qemu)
    return out


def options(a: Advice, only_changes: bool = True) -> tuple[list[str], list[str]]:
    """(QEMU arguments, -cpu flags) that apply the advice (only what
    changes the configuration, by default)."""
    args: list[str] = []
    flags: list[str] = []
    for i in a.items:
        if i.status in ("advise",) or (not only_changes and i.status in ("keep", "warn")):
            for o in i.qemu:
                args += shlex.split(o)
            flags += i.cpu
    return args, flags


def text(a: Advice, cpu: str = "") -> str:
    """The advice for a terminal: the XML, the QEMU options, what does not
    apply and what to measure, then the rules' sources."""
    lines = [f"tickscope advise: {a.name} (accel={a.accel}, guest={a.guest}; scenarios used: "
             f"{', '.join(a.scenarios) or 'none'})", "", "libvirt:"]
    lines += ["  " + ln for ln in libvirt_lines(a)]
    lines += ["", "QEMU:"] + ["  " + ln for ln in qemu_lines(a, cpu or "<model>")]
    lines += ["", "Why:"] + [f"  {i.rule} ({i.status}): {i.why}" for i in a.items
                             if i.status in ("advise", "keep", "warn")]
    other = [i for i in a.items if i.status == "n/a"]
    missing = [i for i in a.items if i.status == "missing"]
    if other:
        lines += ["", "Not applicable:"] + [f"  {i.rule}: {i.why}"
                                             + (f" ({'; '.join(i.evidence)})" if i.evidence else "")
                                             for i in other]
    if missing:
        lines += ["", "Evidence missing (nothing guessed):"] + [
            f"  {i.rule}: {i.why}; run: {i.todo}" for i in missing]
    gone = [i for i in a.items if i.status == "withdrawn"]
    if gone:
        lines += ["", "Withdrawn (not in the lines above):"] + [
            f"  {i.rule}: {' '.join([i.xml] + i.qemu + i.cpu)}: {i.verify}" for i in gone]
    verified = [i for i in a.items if i.verify and i.status != "withdrawn"]
    if verified:
        lines += ["", "Verified:"] + [f"  {i.rule}: {i.verify}" for i in verified]
    used = sorted({s for i in a.items if i.status in ("advise", "keep", "warn")
                   for s in RULE[i.rule].sources})
    lines += ["", "Sources:"] + [f"  [{s}] {SOURCES[s]}" for s in used]
    return "\n".join(lines)


def to_dict(a: Advice) -> dict[str, Any]:
    return {"name": a.name, "accel": a.accel, "guest": a.guest, "scenarios": a.scenarios,
            "items": [i.__dict__ for i in a.items]}


def figures_html(scenarios: list[dict[str, Any]]) -> str:
    """The scenarios' figures as a table (labelled current/recommended by
    --verify), or '' without scenarios."""
    if not scenarios:
        return ""
    rows = ["<table><tr><th>scenario</th><th>accel</th><th>configuration</th><th>verdict</th>"
            "<th>PIT lost</th><th>RTC lost</th><th>bunched (PIT/RTC)</th>"
            "<th>clock behind host (ms)</th><th>notes</th></tr>"]
    for sd in scenarios:
        f = figures(sd)
        tick = {d: f.ticks.get(d) for d in DEVICES}
        lost = [f"{num(t.lost)} &plusmn;{t.unc:.1f}" if t else "-" for t in tick.values()]
        bunched = "/".join(num(t.bunched) if t else "-" for t in tick.values())
        wall = "-" if f.wall_ms is None else f"{f.wall_ms:.1f}" + (
            "" if f.wall_unc_ms is None else f" &plusmn;{f.wall_unc_ms:.1f}")
        rows.append(f"<tr><td>{html.escape(f.name)}</td><td>{html.escape(f.accel)}</td>"
                    f"<td>{html.escape(sd.get('verify_label', ''))}</td><td>{f.verdict}</td>"
                    f"<td>{lost[0]}</td><td>{lost[1]}</td><td>{bunched}</td><td>{wall}</td>"
                    f"<td>{html.escape('; '.join(f.notes))}</td></tr>")
    return "\n".join(rows + ["</table>"])


def to_html(advices: list[Advice], scenarios: Optional[list[dict[str, Any]]] = None) -> str:
    """The HTML report's advice section: per configuration, the XML and
    QEMU lines and a table of every rule with its evidence and source;
    then the scenarios' figures."""
    parts = ["<h2>Advice: VM clock configuration</h2>"]
    for a in advices:
        parts.append(f"<h3>{html.escape(a.name)} ({html.escape(a.accel)}, guest "
                     f"{html.escape(a.guest)})</h3>")
        parts.append("<pre>" + html.escape("\n".join(libvirt_lines(a))) + "</pre>")
        parts.append("<table><tr><th>rule</th><th>status</th><th>setting</th><th>evidence</th>"
                     "<th>why</th><th>verified</th><th>sources</th></tr>")
        for i in a.items:
            setting = " ".join([i.xml] + i.qemu + [f"-cpu ...,{f}" for f in i.cpu]).strip()
            cls = {"advise": "pass", "keep": "", "warn": "fail", "missing": "skip",
                   "n/a": "skip", "withdrawn": "fail"}[i.status]
            parts.append(
                f'<tr class="{cls}"><td>{html.escape(i.rule)}</td><td>{i.status}</td>'
                f"<td><code>{html.escape(setting)}</code></td>"
                f"<td>{html.escape('; '.join(i.evidence) or ('run: ' + i.todo))}</td>"
                f"<td>{html.escape(i.why)}</td><td>{html.escape(i.verify)}</td>"
                f"<td>{html.escape(', '.join(RULE[i.rule].sources))}</td></tr>")
        parts.append("</table>")
    if scenarios:
        parts += ["<h3>Scenario figures (lost ticks against host time)</h3>",
                  figures_html(scenarios)]
    return "\n".join(parts)
