#!/usr/bin/env python3
"""Line coverage of the parsers by the fuzz corpora (make fuzz-cov): runs
each build/fuzz/cov/TARGET/replay (gcc --coverage) over build/fuzz/work/
TARGET and tests/fuzz/corpus/TARGET, then prints gcov's line coverage of
the functions that target is there to exercise."""
from __future__ import annotations

import argparse
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WALKER = ["acpi_init", "rsdp_valid", "scan_rsdp", "map_table", "parse_table", "parse_madt",
          "parse_hpet", "parse_fadt", "problem", "acpi_problem", "acpi_isa_gsi",
          "acpi_enabled_cpus"]
# target: (source file, functions it is there to exercise; [] = all)
FOCUS = {
    "mb1": ("boot/multiboot.c", ["parse_mb1", "copy_phys_str", "copy_str", "add_mmap", "warn"]),
    "mb2": ("boot/multiboot.c", ["parse_mb2", "parse_mb2_tag", "copy_str", "add_mmap", "warn"]),
    "pvh": ("boot/multiboot.c", ["parse_pvh", "copy_rsdp", "copy_phys_str", "add_mmap", "warn"]),
    "acpi": ("arch-x86/acpi.c", WALKER),
    "madt": ("arch-x86/acpi.c", ["parse_madt"]),
    "fadt": ("arch-x86/acpi.c", ["parse_fadt"]),
    "hpet": ("arch-x86/acpi.c", ["parse_hpet"]),
    "cmdline": ("boot/cmdline.c", []),
}
_FUNC = re.compile(r"Function '(\w+)'\nLines executed:([\d.]+)% of (\d+)")


def coverage(target: str, cov_dir: str) -> str:
    d = os.path.abspath(os.path.join(cov_dir, target))
    for f in glob.glob(os.path.join(d, "*.gcda")):
        os.remove(f)
    dirs = [p for p in (os.path.join(ROOT, "build", "fuzz", "work", target),
                        os.path.join(HERE, "corpus", target)) if os.path.isdir(p)]
    r = subprocess.run([os.path.join(d, "replay"), *dirs], cwd=d, capture_output=True, text=True)
    runs = (r.stdout.strip().splitlines() or ["?"])[-1]
    src, funcs = FOCUS[target]
    gcda = glob.glob(os.path.join(d, f"*-{os.path.basename(src)[:-2]}.gcda"))
    if not gcda:
        return f"{target:8} no coverage data ({runs})"
    out = subprocess.run(["gcov", "-n", "-f", gcda[0]], cwd=d, capture_output=True,
                         text=True).stdout
    lines = done = 0
    for name, pct, n in _FUNC.findall(out):
        if funcs and name not in funcs:
            continue
        lines += int(n)
        done += round(float(pct) * int(n) / 100)
    pct = 100.0 * done / lines if lines else 0.0
    what = "all functions" if not funcs else ", ".join(funcs)
    return (f"{target:8} {pct:5.1f}% of {lines:3} lines of {src} ({what}); "
            f"{runs.split(': ', 1)[-1]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="+")
    ap.add_argument("--cov-dir", default=os.path.join(ROOT, "build", "fuzz", "cov"))
    a = ap.parse_args()
    for t in a.targets:
        print(coverage(t, a.cov_dir), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
