#!/usr/bin/env python3
"""Boots every entry of tools/matrix-bad-input.cfg and checks it with the
host tool's matrix checks, until that file is part of make test. Prints,
per entry, the equivalent `tools/tickscope run` command, the verdict and
any problem; exit status 1 when an entry fails its checks.

  check_bad_input.py [--only GLOB] [--config FILE] [--kernel build/tickscope.elf]
"""
from __future__ import annotations

import argparse
import fnmatch
import os
import shlex
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CFG = os.path.join(ROOT, "tools", "matrix-bad-input.cfg")
sys.path.insert(0, os.path.join(ROOT, "tools"))

try:                                # the tools package, once it has moved
    from tickhost import matrix, qemu  # type: ignore
except ImportError:
    import matrix  # type: ignore  # noqa: E402
    import qemu  # type: ignore  # noqa: E402


def command(c: "qemu.Config") -> str:
    """The tools/tickscope run line that boots the same configuration."""
    args = ["tools/tickscope", "run", "--accel", c.accel, "--machine", c.machine]
    if c.cmdline:
        args += ["--cmdline", c.cmdline]
    extra = [a.replace(ROOT + "/", "") for a in c.extra]
    return " ".join(shlex.quote(a) for a in args + (["--"] + extra if extra else []))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="*")
    ap.add_argument("--config", default=CFG, help="another matrix file (e.g. tools/matrix.cfg)")
    ap.add_argument("--kernel", default=os.path.join(ROOT, "build", "tickscope.elf"))
    ap.add_argument("--verbose", action="store_true", help="print each entry's command")
    a = ap.parse_args()
    bad = 0
    iso = os.path.join(ROOT, "build", "tickscope.iso")
    for e in matrix.load(a.config, a.kernel, iso):
        if not fnmatch.fnmatchcase(e.config.name, a.only):
            continue
        r = qemu.run(e.config, live=False)
        problems = matrix.check(e, r)
        bad += bool(problems)
        print(f"{'PASS' if not problems else 'FAIL'}  {e.config.name}: verdict {r.verdict} "
              f"in {r.duration_s:.1f} s" + (f" ({r.reason})" if r.reason else ""), flush=True)
        if a.verbose:
            print("      " + command(e.config))
        for p in problems:
            print(f"      {p}")
        if problems:
            for ln in r.lines[-15:]:
                print("        | " + ln.rstrip())
    print(f"{bad} entr{'y' if bad == 1 else 'ies'} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
