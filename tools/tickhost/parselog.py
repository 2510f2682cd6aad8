"""`tickscope parse FILE|-`: a serial log captured elsewhere (a physical
machine, a BMC's serial-over-LAN, a LAVA job) judged as a VM run is: the
same verdict, JSON, JUnit and HTML, with the exit status rules of `run`.
It reads text; it must not start QEMU. The verdict comes from the log
alone: the KTAP report, and the kernel's own "halted (exit code N)" line
where the machine halted, which must agree with it.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from . import ktap, qemu

HALTED = re.compile(r"^# tickscope: halted \(exit code (\d)\)")
EXIT_CODE = {0: "PASS", 1: "FAIL", 2: "ERROR"}      # arch-x86/platform.h
# The JSON fields that come from the serial log, and so must be the same
# whether the log was read live from QEMU or from a file.
LOG_FIELDS = ("platform", "warnings", "bail_out", "exception", "tests", "measurements",
              "summary", "events", "samples")


def judge(rep: ktap.Report, lines: Iterable[str]) -> tuple[str, str]:
    """The verdict of a log, with the rules qemu.judge applies to a run,
    the kernel's exit-code line standing in for QEMU's exit status."""
    if rep.root is None:
        return "ERROR", "no KTAP report in the log"
    if rep.bail_out is not None:
        return "ERROR", f"kernel bailed out: {rep.bail_out}"
    if not rep.complete():
        return "ERROR", "report incomplete (the log ends early)"
    if rep.duplicates():
        return "ERROR", "result names not unique (our defect): " + ", ".join(rep.duplicates()[:8])
    verdict = rep.verdict()
    for line in lines:
        m = HALTED.match(ktap.clean(line))
        if m:
            said = EXIT_CODE.get(int(m.group(1)), "ERROR")
            want = "PASS" if verdict == "SKIP" else verdict
            if said != want:
                return "ERROR", f"exit code says {said} but the report says {verdict}"
    return verdict, ""


def parse(lines: list[str], name: str = "log") -> qemu.RunResult:
    """A RunResult for a captured log: no QEMU, no accelerator known."""
    rep = ktap.parse(lines)
    verdict, reason = judge(rep, lines)
    return qemu.RunResult({"name": name, "source": "serial log"}, "unknown", [], verdict,
                          reason, None, 0.0, lines, "", rep)


def read(path: str) -> list[str]:
    """The log's lines; "-" is standard input. Bytes that are not UTF-8
    (line noise on a real UART) are replaced, not fatal."""
    import sys
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    return data.decode("utf-8", "replace").splitlines(keepends=True)


def differences(run: dict[str, Any], parsed: dict[str, Any]) -> list[str]:
    """Fields of a run's JSON that came from its log and differ in the
    parsed log's JSON, and a different verdict."""
    out = [f"{k} differs" for k in LOG_FIELDS if run.get(k) != parsed.get(k)]
    if run.get("verdict") != parsed.get("verdict"):
        out.append(f"verdict {parsed.get('verdict')} (the run's: {run.get('verdict')})")
    return out
