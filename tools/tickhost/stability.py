"""How stable verdicts are across repeated runs of one configuration: per test,
the majority verdict and how many runs differed, device tests apart from host
findings, and the retries the runs needed. Pure judging of finished runs (JSON
dictionaries as report.to_dict writes them); it must not start QEMU.

A test in the `host` suite is about the host (was the vCPU running, steal
time), not about a device: on a shared host it may differ between runs and
that is a finding about the host. Every other test is a device test, and a
device verdict must not depend on the host's load.
"""
from __future__ import annotations

import fnmatch
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

HOST_SUITE = "host"
ABSENT = "-"                  # the test did not report in that run
# Measurements that count attempts a test needed beyond the first, and the
# diagnostic a test prints when it measures a window again: a retry that
# succeeds must still be seen, or it hides intermittent loss.
_RETRY_MEASURE = re.compile(r"\.(retries|retried|remeasured|remeasures)(\.|$)")
_RETRY_DIAG = re.compile(r"measuring again|measured again")


def is_host(path: str) -> bool:
    """True for a test of the host suite (a finding about the host)."""
    return path == HOST_SUITE or path.startswith(HOST_SUITE + ".")


@dataclass
class TestRecord:
    path: str
    verdicts: list[str] = field(default_factory=list)   # one per run, ABSENT if missing
    reasons: list[str] = field(default_factory=list)    # the FAIL/ERROR line of each run

    @property
    def kind(self) -> str:
        return "host" if is_host(self.path) else "device"

    @property
    def majority(self) -> str:
        """The most common verdict (ties: the one seen first)."""
        counts = Counter(self.verdicts)
        best = max(counts.values())
        return next(v for v in self.verdicts if counts[v] == best)

    @property
    def differ(self) -> int:
        """How many runs gave another verdict than the majority."""
        m = self.majority
        return sum(1 for v in self.verdicts if v != m)

    def odd_runs(self) -> list[int]:
        """Indexes (from 0) of the runs that differed from the majority."""
        m = self.majority
        return [i for i, v in enumerate(self.verdicts) if v != m]

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "verdicts": self.verdicts,
                "majority": self.majority, "differ": self.differ}


def _why(test: dict[str, Any]) -> str:
    fails = [d for d in test.get("diagnostics", []) if d.startswith("FAIL:")]
    return fails[-1] if fails else test.get("reason", "")


def table(runs: list[dict[str, Any]]) -> list[TestRecord]:
    """Every test any run reported, in the order first seen, with each run's
    verdict (ABSENT where a run did not report it: a crashed or cut-short
    run differs from the others in every test it lost)."""
    records: dict[str, TestRecord] = {}
    for i, run in enumerate(runs):
        for t in run.get("tests", []):
            rec = records.setdefault(t["path"], TestRecord(t["path"]))
            while len(rec.verdicts) < i:
                rec.verdicts.append(ABSENT)
                rec.reasons.append("")
            if len(rec.verdicts) == i:
                rec.verdicts.append(t["result"])
                rec.reasons.append(_why(t) if t["result"] in ("FAIL", "ERROR") else "")
    for rec in records.values():
        while len(rec.verdicts) < len(runs):
            rec.verdicts.append(ABSENT)
            rec.reasons.append("")
    return list(records.values())


def flipped(records: list[TestRecord], kind: str) -> list[TestRecord]:
    """The tests of one kind ("device" or "host") whose verdict differed."""
    return [r for r in records if r.kind == kind and r.differ]


def retries(run: dict[str, Any]) -> dict[str, int]:
    """Per test, the retries a run needed: non-zero `*.retries` /
    `*.remeasured` measurements, and diagnostics saying a window was
    measured again (one each)."""
    out: dict[str, int] = {}
    for m in run.get("measurements", []):
        if _RETRY_MEASURE.search(m["name"]) and m["value"]:
            key = m.get("test") or m["name"]
            out[key] = out.get(key, 0) + int(m["value"])
    for t in run.get("tests", []):
        # A measurement's own line is counted above by its value (its
        # description may say "0 windows measured again").
        n = sum(1 for d in t.get("diagnostics", [])
                if _RETRY_DIAG.search(d) and not d.startswith("measure:"))
        if n:
            out[t["path"]] = out.get(t["path"], 0) + n
    return out


def retry_summary(runs: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per test: in how many runs it retried, and the retries in all."""
    out: dict[str, dict[str, int]] = {}
    for run in runs:
        for path, n in retries(run).items():
            s = out.setdefault(path, {"runs": 0, "retries": 0})
            s["runs"] += 1
            s["retries"] += n
    return out


def describe_retries(per_run: dict[str, int]) -> str:
    """'' or e.g. 'retried: rtc.periodic 1, kvmclock.flags 3' for a run line."""
    if not per_run:
        return ""
    return "retried: " + ", ".join(f"{p} {n}" for p, n in sorted(per_run.items()))


def judge_fault(fail: list[str], skip: list[str], host_fail: bool,
                baseline: list[dict[str, Any]], faulty: dict[str, Any]) -> list[str]:
    """Problems with a run carrying a planted fault ([] = as planted): every
    test a fail glob names FAILs (and did not without the fault), every test
    a skip glob names SKIPs, with host_fail some host finding FAILs, and
    every other device test keeps its fault-free verdict (the majority of
    the baseline runs). Host findings not asked for are not judged."""
    problems: list[str] = []
    if faulty.get("verdict") == "ERROR" and faulty.get("reason"):
        return [f"the faulty run broke: {faulty['reason']}"]
    base = {r.path: r.majority for r in table(baseline)}
    got = {t["path"]: t for t in faulty.get("tests", [])}
    named: set[str] = set()
    for globs, want in ((fail, "FAIL"), (skip, "SKIP")):
        for g in globs:
            hits = [p for p in got if fnmatch.fnmatchcase(p, g)]
            if not hits:
                problems.append(f"no test matches {g} (planted {want})")
            named.update(hits)
            for p in hits:
                if got[p]["result"] != want:
                    problems.append(f"{p} is {got[p]['result']}, planted {want}"
                                    + _colon(_why(got[p])))
                elif want == "FAIL" and base.get(p) == want:
                    # A check proven able to fail must pass without the fault.
                    problems.append(f"{p} FAILs without the fault too: the fault proves "
                                    "nothing")
            if hits and want == "SKIP" and all(base.get(p) == want for p in hits):
                problems.append(f"every test {g} names SKIPs without the fault too")
    if host_fail:
        hosts = [p for p in got if is_host(p)]
        if not any(got[p]["result"] == "FAIL" for p in hosts):
            problems.append("no host finding FAILed (planted: the host's doing) "
                            + (f"among {', '.join(hosts)}" if hosts else
                               "(this kernel has no host suite)"))
    for p, want in base.items():
        if p in named or is_host(p):
            continue
        if p not in got:
            problems.append(f"{p} is missing (fault-free: {want})")
        elif got[p]["result"] != want:
            problems.append(f"{p} is {got[p]['result']}, fault-free {want}" + _colon(_why(got[p])))
    for p in got:
        if p not in base and p not in named and not is_host(p):
            problems.append(f"{p} ran only with the fault ({got[p]['result']})")
    return problems


def _colon(why: str) -> str:
    return f": {why}" if why else ""
