"""`tickscope soak`: matrix configurations run again and again while other boots
of the kernel load the host, and per test how often its verdict differed from
the majority. It sequences runs; the tallies are stability's, the checks matrix's.

The load is K plain default boots (`tickscope run`, all tests, no options) in
a loop each, started before the first measured run and killed after the
last. A device verdict that differs between runs depends on the host's load,
which is a defect; a host finding (the `host` suite) may differ, and is shown
apart. Nothing is retried: every run counts, a crashed one too.
"""
from __future__ import annotations

import fnmatch
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from . import matrix, qemu, report, resultfile, stability

Printer = Callable[[str], None]


class LoadBoots:
    """K threads, each booting the default configuration in a loop until
    stop(); stop() kills the boots still running."""

    def __init__(self, k: int, accel: str, kernel: str) -> None:
        self.cfg = qemu.Config(name="load", accel=accel, kernel=kernel)
        self.done: list[str] = []           # verdicts of the load boots that finished
        self._stop = threading.Event()
        self._procs: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, args=(i,), daemon=True)
                         for i in range(k)]

    def start(self) -> "LoadBoots":
        for t in self._threads:
            t.start()
        return self

    def _loop(self, i: int) -> None:
        def on_start(p: subprocess.Popen) -> None:
            with self._lock:
                self._procs[i] = p
                if self._stop.is_set():
                    p.kill()

        while not self._stop.is_set():
            r = qemu.run(self.cfg, live=False, on_start=on_start)
            with self._lock:
                self._procs.pop(i, None)
            if not self._stop.is_set():
                self.done.append(r.verdict)
            if r.verdict == "ERROR" and not r.lines:
                time.sleep(1.0)   # QEMU could not start: do not spin

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            for p in self._procs.values():
                p.kill()
        for t in self._threads:
            t.join(timeout=30)


@dataclass
class EntrySoak:
    """Every run of one matrix entry under load, and what they say together."""
    entry: matrix.Entry
    runs: list[dict[str, Any]] = field(default_factory=list)
    checks: list[list[str]] = field(default_factory=list)   # matrix.check per run
    records: list[stability.TestRecord] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.entry.config.name

    def device_flips(self) -> list[stability.TestRecord]:
        return stability.flipped(self.records, "device")

    def host_flips(self) -> list[stability.TestRecord]:
        return stability.flipped(self.records, "host")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name,
                "runs": [{"verdict": r["verdict"], "reason": r["reason"],
                          "duration_s": r["duration_s"], "checks": c,
                          "retries": stability.retries(r)}
                         for r, c in zip(self.runs, self.checks)],
                "tests": [rec.as_dict() for rec in self.records],
                "device_flips": [rec.path for rec in self.device_flips()],
                "host_flips": [rec.path for rec in self.host_flips()],
                "retries": stability.retry_summary(self.runs)}


def select(entries: list[matrix.Entry], only: str, level: str = "yes") -> list[matrix.Entry]:
    """The entries to soak: those whose names match one of the comma-separated
    globs in only, else those the matrix marks `soak = yes` (or `test`, which
    make test's short soak runs; level "test" keeps only those)."""
    if only:
        globs = [g.strip() for g in only.split(",") if g.strip()]
        return [e for e in entries if any(fnmatch.fnmatchcase(e.config.name, g) for g in globs)]
    keep = ("test",) if level == "test" else ("yes", "test")
    return [e for e in entries if e.soak in keep]


def soak(entries: list[matrix.Entry], runs: int, load: int, load_accel: str, kernel: str,
         out: Printer = print) -> tuple[list[EntrySoak], LoadBoots]:
    """Runs every entry `runs` times beside `load` load boots; prints one
    line per run as it ends."""
    todo = []
    for e in entries:
        why = matrix.unmet(e)
        if why:
            out(f"soak {e.config.name}: SKIP ({why})")
        else:
            todo.append(EntrySoak(e))
    boots = LoadBoots(load, load_accel, kernel).start()
    try:
        for s in todo:
            for i in range(runs):
                r = qemu.run(s.entry.config, live=False)
                d = report.to_dict(r)
                s.runs.append(d)
                s.checks.append(matrix.check(s.entry, r))
                extra = stability.describe_retries(stability.retries(d))
                out(f"  {s.name} run {i + 1}/{runs}: {r.verdict} ({r.duration_s:.1f} s"
                    f"{'; ' + extra if extra else ''}){': ' + r.reason if r.reason else ''}")
            s.records = stability.table(s.runs)
    finally:
        boots.stop()
    return todo, boots


def show(s: EntrySoak, load: int, out: Printer = print) -> None:
    """The entry's table: device tests that differed, host findings that
    differed, the retries, and how often the entry's own checks held."""
    n = len(s.runs)
    loads = f"{load} load boot{'s' if load != 1 else ''}"
    out(f"soak {s.name}: {n} runs beside {loads}; verdicts "
        + " ".join(r["verdict"] for r in s.runs))
    dev, hst = s.device_flips(), s.host_flips()
    ndev = sum(1 for r in s.records if r.kind == "device")
    out(f"  device tests: {len(dev)} of {ndev} differed from the majority")
    for rec in dev:
        out("    " + _flip_line(rec, n))
    nhost = sum(1 for r in s.records if r.kind == "host")
    out(f"  host findings: {len(hst)} of {nhost} differed from the majority"
        + ("" if nhost else " (no host suite in this kernel)"))
    for rec in hst:
        out("    " + _flip_line(rec, n))
    for path, c in sorted(stability.retry_summary(s.runs).items()):
        out(f"  retried: {path} in {c['runs']} of {n} runs, {c['retries']} retries in all")
    met = sum(1 for c in s.checks if not c)
    out(f"  the entry's checks held in {met} of {n} runs")
    for what, runs, first in _grouped(s.checks):
        out(f"    {what:24s} in {len(runs)} of {n} runs ({', '.join(str(i + 1) for i in runs)})"
            f", e.g. {first}")


def _grouped(checks: list[list[str]]) -> list[tuple[str, list[int], str]]:
    """The checks' problems grouped by what they are about (the test or
    measurement named first): (name, runs from 0, the first problem)."""
    groups: dict[str, tuple[list[int], str]] = {}
    for i, problems in enumerate(checks):
        for p in problems:
            what = p.split(" ", 1)[0] if not p.startswith("verdict ") else "verdict"
            runs, first = groups.setdefault(what, ([], p))
            if not runs or runs[-1] != i:
                runs.append(i)
    return [(w, r, f) for w, (r, f) in groups.items()]


def _flip_line(rec: stability.TestRecord, n: int) -> str:
    odd = rec.odd_runs()
    first = odd[0]
    why = rec.reasons[first] or next((rec.reasons[i] for i in odd if rec.reasons[i]), "")
    return (f"{rec.path:24s} {rec.differ}/{n} differ from {rec.majority} "
            f"(runs {', '.join(str(i + 1) for i in odd)}: "
            f"{', '.join(sorted(set(rec.verdicts[i] for i in odd)))})"
            + (f": {why}" if why else ""))


def to_json(done: list[EntrySoak], runs: int, load: int, load_accel: str,
            boots: LoadBoots) -> dict[str, Any]:
    return {"schema_version": resultfile.SCHEMA_VERSION, "tool": "tickscope", "soak": {
        "runs": runs, "load": load, "load_accel": load_accel,
        "load_boots": len(boots.done), "load_verdicts": dict(
            (v, boots.done.count(v)) for v in sorted(set(boots.done))),
        "entries": [s.as_dict() for s in done]},
        "runs": [dict(r, soak_entry=s.name) for s in done for r in s.runs]}
