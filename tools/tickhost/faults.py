"""Planted faults (tools/faults.cfg): each fault's configuration booted with the
fault put in from outside (QEMU options, QMP, signals, the host's scheduler) and
without it, judged by stability.judge_fault. It sequences runs; it judges nothing.

A fault holds when the tests it names FAIL (or SKIP, for an absence), every
other device test keeps its fault-free verdict, and the action, if any, was
done. A fault marked `waits` needs a kernel check that does not exist yet:
it runs and is reported the same way, as waiting rather than failing.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

from . import actions, matrix, paths, qemu, report, stability
from .host import host_tsc_hz, kvm_usable

DEFAULT_FILE = os.path.join(paths.TOOLS, "faults.cfg")
_HOST_HZ = re.compile(r"\{host_tsc_hz(?:\*([0-9.]+))?\}")
Printer = Callable[[str], None]


@dataclass
class Fault:
    name: str
    base: qemu.Config                 # the fault-free run
    faulty: qemu.Config               # the same with the fault's options
    action: Optional[dict[str, str]]  # actions.parse of `action`, None for none
    fail: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    host_fail: bool = False           # some host finding must FAIL
    waits: str = ""                   # the kernel check it waits for ("" = none)


@dataclass
class Outcome:
    fault: Fault
    problems: list[str]
    run: dict[str, Any]
    action: dict[str, Any]


def expand(text: str) -> str:
    """{root} is the repository; {host_tsc_hz} the host's TSC rate against
    CLOCK_MONOTONIC and {host_tsc_hz*F} that times F, rounded to a Hz."""
    text = text.replace("{root}", paths.ROOT)

    def rate(m: re.Match[str]) -> str:
        hz, why = host_tsc_hz()
        if not hz:
            raise ValueError(f"{m.group(0)}: no host TSC rate ({why})")
        return str(round(hz * float(m.group(1) or 1)))
    return _HOST_HZ.sub(rate, text) if "{host_tsc_hz" in text else text


def load(path: str, kernel: str) -> list[Fault]:
    """The faults of path; placeholders are expanded when a fault runs."""
    cp = matrix.read(path)
    out = []
    for name in cp.sections():
        s = cp[name]
        base = matrix.config_of(f"{name}-fault-free", s, kernel, accel="tcg")
        faulty = replace(base, name=f"{name}-faulty",
                         cpu=s.get("fault-cpu", base.cpu),
                         cmdline=" ".join(f"{base.cmdline} {s.get('fault-cmdline', '')}".split()),
                         extra=base.extra + shlex.split(s.get("fault-qemu", "")))
        act = actions.parse(s["action"]) if s.get("action", "").strip() else None
        out.append(Fault(name, base, faulty, act, matrix.split(s.get("fail", "")),
                         matrix.split(s.get("skip", "")), s.getboolean("host-fail", False),
                         " ".join(s.get("waits", "").split())))
    return out


def _expanded(c: qemu.Config) -> qemu.Config:
    return replace(c, cpu=expand(c.cpu), cmdline=expand(c.cmdline),
                   extra=[expand(x) for x in c.extra])


def _key(c: qemu.Config) -> tuple:
    return (c.accel, c.firmware, c.machine, c.cmdline, c.cpu, c.smp, c.memory, tuple(c.extra))


class Baselines:
    """Fault-free runs, shared by faults with the same configuration."""

    def __init__(self) -> None:
        self.runs: dict[tuple, list[dict[str, Any]]] = {}

    def get(self, f: Fault, n: int, out: Printer) -> list[dict[str, Any]]:
        c = _expanded(f.base)
        have = self.runs.setdefault(_key(c), [])
        while len(have) < n:
            r = qemu.run(c, live=False)
            have.append(report.to_dict(r))
            if r.verdict == "ERROR" and r.reason:
                out(f"      fault-free run of {f.name} broke: {r.reason}")
        return have


def run_faulty(f: Fault) -> tuple[dict[str, Any], dict[str, Any]]:
    """One boot with the fault: its run (as report.to_dict) and what the
    action did (empty without one)."""
    c = _expanded(f.faulty)
    if not f.action:
        return report.to_dict(qemu.run(c, live=False)), {}
    tmp = tempfile.mkdtemp(prefix="tickscope-fault-")
    try:
        act = actions.Action(f.action, tmp)
        c = replace(c, extra=c.extra + act.extra_args())
        r = qemu.run(c, live=False, on_line=act.on_line, on_start=act.on_start)
        return report.to_dict(r), act.record()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check(f: Fault, baselines: Baselines, n_base: int, out: Printer = print) -> Outcome:
    """One faulty run against the fault-free verdicts (n_base runs, shared)."""
    try:
        base = baselines.get(f, n_base, out)
        run, act = run_faulty(f)
    except ValueError as e:
        return Outcome(f, [str(e)], {}, {})
    problems = stability.judge_fault(f.fail, f.skip, f.host_fail, base, run)
    if f.action and not act.get("done"):
        problems.insert(0, f"the {f.action['kind']} action was not done: "
                        + act.get("error", "no reason"))
    return Outcome(f, problems, run, act)


def usable(f: Fault) -> str:
    """'' when the fault can run here, else why not (KVM absent)."""
    if f.base.accel == "kvm":
        ok, why = kvm_usable()
        if not ok:
            return f"KVM not usable: {why}"
    return ""


def label(o: Outcome) -> str:
    """The fault's one-line description: where, what was planted, what
    the action did."""
    f = o.fault
    what = []
    if f.fail:
        what.append("FAIL " + ", ".join(f.fail))
    if f.skip:
        what.append("SKIP " + ", ".join(f.skip))
    if f.host_fail:
        what.append("a host finding FAILs")
    done = ""
    if o.action.get("done"):
        done = f"; {o.action['kind']} {o.action['held_s']:.2f} s"
        if "late_s" in o.action:
            done += f", {o.action['late_s'] * 1000:.0f} ms after the line"
    return f"{f.name} [{f.base.accel}; planted {'; '.join(what)}{done}]"


def entries_of(faults: list[Fault], only: str) -> list[Fault]:
    """The faults whose names contain only (all when empty)."""
    return [f for f in faults if not only or only in f.name]
