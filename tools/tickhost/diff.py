"""`tickscope diff A.json B.json`: what changed between two runs (two hosts,
or before and after a hypervisor upgrade), with regressions flagged. It
reads JSON results only (through resultfile) and must not run QEMU.

A regression is a test that passed in A and fails or errors in B, or a
measurement that got worse by more than 20 % and by more than its floor:
latencies and read costs growing, |errors| in ppm growing, lost ticks or
warps appearing."""
from __future__ import annotations

import sys
from typing import Any

from . import resultfile
from .numfmt import fixed

# (name pattern suffix or prefix, floor): bigger is worse for these.
WORSE_IF_BIGGER = (("latency_ns.", 1000.0), ("read_ns.", 100.0), ("read_cycles.p50", 200.0),
                   ("lateness_ns.", 1000.0), (".lost", 0.5), ("warp_cycles.max", 0.5),
                   ("backwards", 0.5), ("warps", 0.5))
WORSE_IF_ABS_BIGGER = (("err_ppm", 1.0), ("drift.", 5.0))


def runs_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    runs = data.get("runs", [data])
    return {r["config"]["name"]: r for r in runs}


def _worse(name: str, a: float, b: float) -> bool:
    for key, floor in WORSE_IF_BIGGER:
        if key in name:
            return b - a > floor and b > a * 1.2
    for key, floor in WORSE_IF_ABS_BIGGER:
        if key in name:
            return abs(b) - abs(a) > floor and abs(b) > abs(a) * 1.2
    return False


def diff(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Lines describing changes, and the regressions among them."""
    lines, regressions = [], []
    ra, rb = runs_of(a), runs_of(b)
    for cfg in sorted(set(ra) & set(rb)):
        x, y = ra[cfg], rb[cfg]
        tx = {t["path"]: t["result"] for t in x.get("tests", [])}
        ty = {t["path"]: t["result"] for t in y.get("tests", [])}
        for path in sorted(set(tx) | set(ty)):
            if tx.get(path) != ty.get(path):
                line = f"{cfg}: {path}: {tx.get(path, 'absent')} -> {ty.get(path, 'absent')}"
                lines.append(line)
                if tx.get(path) == "PASS" and ty.get(path) in ("FAIL", "ERROR"):
                    regressions.append(line)
        mx = {m["name"]: m["value"] for m in x.get("measurements", [])}
        my = {m["name"]: m["value"] for m in y.get("measurements", [])}
        for name in sorted(set(mx) & set(my)):
            va, vb = float(mx[name]), float(my[name])
            if va == vb:
                continue
            if _worse(name, va, vb):
                line = f"{cfg}: {name}: {fixed(va)} -> {fixed(vb)} (worse)"
                lines.append(line)
                regressions.append(line)
    for cfg in sorted(set(ra) ^ set(rb)):
        lines.append(f"{cfg}: only in {'A' if cfg in ra else 'B'}")
    return lines, regressions


def main(path_a: str, path_b: str) -> int:
    try:
        a, b = resultfile.load(path_a), resultfile.load(path_b)
    except resultfile.ResultError as e:
        print(f"tickscope diff: {e}", file=sys.stderr)
        return 2
    lines, regressions = diff(a, b)
    for line in lines:
        print(line)
    print(f"tickscope diff: {len(lines)} changes, {len(regressions)} regressions")
    for r in regressions:
        print(f"  REGRESSION {r}")
    return 1 if regressions else 0
