#!/usr/bin/env python3
"""Runs libFuzzer targets for a set time each and prints, per target, the
executions, executions per second and coverage from libFuzzer's final
statistics. New inputs go to build/fuzz/work/TARGET (the committed corpus
is read, never grown); a crash, sanitizer report, leak or hang is saved
as a regression case into tests/fuzz/corpus/TARGET/ and fails the run.

  run.py --seconds 60 [--seconds-for acpi=150] [--bin-dir build/fuzz] mb1 acpi ...
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# The kernel keeps 511 bytes of the command line (struct boot_info).
MAX_LEN = {"cmdline": 1024}
DICTS = {"acpi": "acpi.dict", "madt": "acpi.dict", "fadt": "acpi.dict", "hpet": "acpi.dict",
         "cmdline": "cmdline.dict"}


def stat(text: str, key: str) -> int:
    m = re.search(rf"stat::{key}:\s*(\d+)", text)
    return int(m.group(1)) if m else 0


def run(target: str, seconds: int, bin_dir: str, max_len: int) -> tuple[bool, str]:
    """Fuzzes one target; (ok, summary line)."""
    corpus = os.path.join(HERE, "corpus", target)
    work = os.path.join(ROOT, "build", "fuzz", "work", target)
    os.makedirs(work, exist_ok=True)
    before = set(os.listdir(corpus))
    cmd = [os.path.join(bin_dir, f"fuzz_{target}"), work, corpus,
           f"-max_total_time={seconds}", "-print_final_stats=1", "-timeout=10",
           "-rss_limit_mb=1024", f"-max_len={MAX_LEN.get(target, max_len)}",
           f"-artifact_prefix={corpus}/"]
    if target in DICTS:
        cmd.append(f"-dict={os.path.join(HERE, DICTS[target])}")
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, errors="replace")
    out = r.stderr + r.stdout
    with open(os.path.join(ROOT, "build", "fuzz", f"{target}.log"), "w") as f:
        f.write(out)
    execs = stat(out, "number_of_executed_units")
    rate = stat(out, "average_exec_per_sec")
    # "#N DONE cov: C ft: F corp: U/S" (or the last status line)
    status = re.findall(r"#\d+\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)", out)
    cov, ft, corp = status[-1] if status else ("?", "?", "?")
    m = re.search(r"Loaded \d+ modules\s+\((\d+) inline 8-bit counters\)", out)
    edges = m.group(1) if m else "?"
    saved = sorted(set(os.listdir(corpus)) - before)
    ok = r.returncode == 0 and not saved
    line = (f"{target:8} {execs:>11} {rate:>9} {cov:>6}/{edges:<6} {ft:>6} {corp:>6}  "
            + ("ok" if ok else f"FAILED (exit {r.returncode}) saved: {' '.join(saved) or '-'};"
               f" see build/fuzz/{target}.log"))
    return ok, line


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="+")
    ap.add_argument("--seconds", type=int, default=60, help="per target")
    ap.add_argument("--seconds-for", action="append", default=[], metavar="TARGET=S",
                    help="a different time for one target")
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "fuzz"))
    ap.add_argument("--max-len", type=int, default=8192, help="largest input tried")
    a = ap.parse_args()
    seconds = {t: a.seconds for t in a.targets}
    for spec in a.seconds_for:
        t, _, s = spec.partition("=")
        seconds[t] = int(s)
    print(f"fuzzing {len(a.targets)} targets, {sum(seconds.values())} s in all", flush=True)
    print(f"{'target':8} {'executions':>11} {'exec/s':>9} {'cov/edges':>13} {'ft':>6} "
          f"{'corpus':>6}  result", flush=True)
    failed = 0
    for t in a.targets:
        ok, line = run(t, seconds[t], a.bin_dir, a.max_len)
        failed += not ok
        print(line, flush=True)
    print("cov: edges covered (of the instrumented edges in the binary), ft: libFuzzer "
          "features, corpus: inputs kept (build/fuzz/work + tests/fuzz/corpus)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
