"""LAVA: the job definitions of tools/lava/ (written here, so that their
monitors follow the kernel's suites), and `make lava`: install Debian's
lava-dispatcher when missing, run the QEMU job and the x86 iPXE job (on a
board that is QEMU) with `lava-run`, and check that every result of the
serial report arrived in LAVA's results with the verdict the report gave,
and every measurement with its value.

Monitors lose lines when their pattern eats the newline the next match
starts with, so a pattern ends before the line's newline (and only matches
once the newline has come: a line is never taken half-received).

How a LAVA test monitor works (lava_dispatcher/actions/test/monitor.py,
2023.01) shapes the jobs: monitors run one after the other, each waiting
for its `start` and recording every `pattern` match until its `end`; a
match records a result from the groups `test_case_id`, `result` (mapped by
`fixupdict` to pass, fail, skip or unknown), `measurement` and `units`.
So there is one monitor per suite (its definition is the suite's name and
its cases the suite's tests: short names are unique within a suite, and a
leaf line that carries the full dotted name `hpet.oneshot` gives the same
case), one for the measurements before the first suite and one for those
after the last. A single pattern has to give a verdict to three kinds of
lines, so it reads `SKIP` from the directive, else `ok`/`not ok`, and a
`# measure:` line records its value with the result `unknown` (a
measurement has no verdict; the test it belongs to has one). LAVA turns a
case name's dots into underscores; the name as printed stays in
`extra.test_case_id`, which is what the check compares."""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from typing import Any

from . import golden, parselog, paths, report

LAVA_DIR = os.path.join(paths.ROOT, "tools", "lava")
QEMU_JOB = os.path.join(LAVA_DIR, "qemu.yaml")
X86_JOB = os.path.join(LAVA_DIR, "x86-ipxe.yaml")
QEMU_DEVICE = os.path.join(LAVA_DIR, "qemu-device.yaml")
X86_DEVICE = os.path.join(LAVA_DIR, "x86-device.yaml")
DISPATCHER = os.path.join(LAVA_DIR, "dispatcher.yaml")
# The URL the checked-in QEMU job names; `make lava` puts the built
# kernel's file:// URL in its place and changes nothing else.
KERNEL_URL = "https://example.invalid/tickscope/tickscope.elf"
# The suites, in the kernel's order, are those of the default run's names.
GOLDEN = "default-tcg"
VERDICT = {"PASS": "pass", "FAIL": "fail", "ERROR": "fail", "SKIP": "skip"}
FIXUP = {"ok": "pass", "not ok": "fail", "SKIP": "skip", "measure": "unknown"}


def suites() -> list[str]:
    """The kernel's suites in order (tests/golden/default-tcg.names)."""
    out: list[str] = []
    for line in golden.load(GOLDEN):
        kind, _, name = line.partition(" ")
        if kind == "test" and name.split(".")[0] not in out:
            out.append(name.split(".")[0])
    return out


def pattern(suite: str = "") -> str:
    """One line's result: a leaf test of suite (`ok N name`, `not ok N
    name`, `ok N name # SKIP why`; name short or `suite.name`) or a
    `# measure: NAME = VALUE UNIT` line, at any indentation. The line must
    be complete (up to its newline) before it matches. A verdict line has
    no measurement (null) and empty units."""
    prefix = f"(?:{re.escape(suite)}\\.)?" if suite else ""
    return ("\\n[ ]*(?=(?:# measure: |(?:not )?ok \\d+ " + prefix + ")(?P<test_case_id>[\\w.-]+))"
            "(?:ok \\d+ [^\\r\\n#]*# |# )?(?P<result>SKIP|ok|not ok|measure)"
            "(?:: \\S+ = (?P<measurement>-?\\d+(?:\\.\\d+)?))?"
            # units: after the value and a space, else empty (never null:
            # lava-server stores it in a text field)
            "(?:(?<=\\d) )?(?P<units>(?<=\\d )[^\\s(]+|)"
            "[^\\r\\n]*(?=\\r*\\n)")


def monitors() -> list[dict[str, str]]:
    """The monitors, in the order the stream prints what they watch."""
    out = [{"name": "preamble", "start": "KTAP version 1", "end": "\\n {4}(?=\\S)",
            "pattern": pattern()}]
    for s in suites():
        out.append({"name": s, "start": f"# Subtest: {s}(?=\\s)",
                    "end": f"\\n(?:not )?ok \\d+ {s}(?=[ \\r\\n])", "pattern": pattern(s)})
    out.append({"name": "closing", "start": "\\n", "end": "# tickscope: halted",
                "pattern": pattern()})
    return out


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _test_action() -> str:
    fix = ", ".join(f"{_q(k)}: {v}" for k, v in FIXUP.items())
    lines = ["- test:", "    timeout: {minutes: 10}", "    monitors:"]
    for m in monitors():
        lines += [f"    - name: {m['name']}", f"      start: {_q(m['start'])}",
                  f"      end: {_q(m['end'])}", f"      pattern: {_q(m['pattern'])}",
                  f"      fixupdict: {{{fix}}}"]
    return "\n".join(lines) + "\n"


HEAD = """\
# {title}
# Written by `python3 -m tickhost.lava --write` (tools/tickhost/lava.py):
# one monitor per suite of the kernel's KTAP report, so every test is a
# LAVA case (definition = suite, case = test) with its verdict (pass, fail,
# skip; ERROR is fail), and every `# measure:` line a case with its value
# and unit (result unknown: a measurement has no verdict of its own).
device_type: {device_type}
job_name: {job_name}
timeouts:
  job: {{minutes: 20}}
  action: {{minutes: 10}}
  connection: {{minutes: 2}}
priority: medium
visibility: public
"""

QEMU_ACTIONS = f"""\
context:
  arch: x86_64
actions:
- deploy:
    to: tmpfs
    images:
      kernel:
        image_arg: -kernel {{kernel}} -append serial_pace=115200
        url: {KERNEL_URL}
    timeout: {{minutes: 2}}
- boot:
    method: qemu
    media: tmpfs
    timeout: {{minutes: 2}}
"""

# Both jobs pass serial_pace=115200: QEMU's UART takes a burst at once,
# and a monitor searches only the last 4000 bytes it has not matched yet
# (lava_dispatcher/shell.py, searchwindowsize), so when a suite printed
# its lines faster than LAVA records them some were lost (1-2 of 230
# measurements in the x86 job, each run others). A real UART's wire at
# 115200 baud keeps the pace LAVA was built for.
#
# iPXE loads a multiboot kernel itself (`kernel` then `boot`; a BIOS iPXE,
# built with multiboot support as iPXE's default BIOS build is): the x86
# device type offers only ipxe as its boot method, and GRUB-based commands
# use `linux`, which refuses tickscope's ELF.
X86_ACTIONS = f"""\
actions:
- deploy:
    to: tftp
    kernel:
      url: {KERNEL_URL}
    timeout: {{minutes: 5}}
- boot:
    method: ipxe
    commands:
    - dhcp net0
    - kernel tftp://{{SERVER_IP}}/{{KERNEL}} exit=halt serial_pace=115200
    - boot
    timeout: {{minutes: 5}}
"""


def job(kind: str) -> str:
    """The job definition's text: kind is qemu or x86."""
    if kind == "qemu":
        head = HEAD.format(title="tickscope on LAVA's qemu device type (make lava runs this job)",
                           device_type="qemu", job_name="tickscope report on QEMU")
        return head + QEMU_ACTIONS + _test_action()
    head = HEAD.format(title="tickscope on x86 boards of LAVA's x86 device type, booted by iPXE",
                       device_type="x86", job_name="tickscope report on an x86 board")
    return head + X86_ACTIONS + _test_action()


# ---- make lava ----

def events(text: str) -> list[dict[str, Any]]:
    """lava-run's log: one JSON object a line (others are skipped)."""
    out = []
    for line in text.splitlines():
        try:
            # lava-run tags some strings YAML's way: `"size": ! "919792"`.
            ev = json.loads(line.replace(': ! "', ': "'))
        except ValueError:
            continue
        if isinstance(ev, dict):
            out.append(ev)
    return out


def serial_log(evs: list[dict[str, Any]]) -> list[str]:
    """The target's lines as LAVA logged them (the serial report)."""
    return [str(e.get("msg", "")).replace('\\"', '"') + "\n" for e in evs
            if e.get("lvl") in ("target", "feedback")]


def results(evs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The results the monitors recorded (not LAVA's own: definition lava)."""
    return [e["msg"] for e in evs if e.get("lvl") == "results" and isinstance(e.get("msg"), dict)
            and e["msg"].get("definition") != "lava"]


def check(run: dict[str, Any], got: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """Problems with LAVA's results against the run parsed from the same
    serial log, and the counts: every test once with its verdict, every
    measurement once with its value, nothing else."""
    problems: list[str] = []
    want_tests = {}
    for t in run["tests"]:
        suite, _, name = t["path"].partition(".")
        # A leaf printed with its full dotted name: the same case.
        name = name[len(suite) + 1:] if name.startswith(suite + ".") else name
        want_tests[(suite, name)] = VERDICT[t["result"]]
    # Measurements by name: which monitor saw one depends on where the
    # stream prints it (in a suite, before the first, after the last).
    want_meas: dict[str, list[float]] = {}
    for m in run["measurements"]:
        want_meas.setdefault(m["name"], []).append(float(m["value"]))
    seen_tests: dict[tuple[str, str], str] = {}
    seen_meas: dict[str, list[float]] = {}
    for r in got:
        d, case = r.get("definition", ""), r.get("extra", {}).get("test_case_id", "")
        if r.get("result") == "unknown":
            seen_meas.setdefault(case, []).append(float(r.get("measurement", "nan")))
            continue
        short = case[len(d) + 1:] if case.startswith(d + ".") else case
        if (d, short) in seen_tests:
            problems.append(f"{d}/{short}: recorded twice")
        seen_tests[(d, short)] = r.get("result", "")
    for key, v in want_tests.items():
        if key not in seen_tests:
            problems.append(f"{key[0]}.{key[1]}: {v} in the serial report, not in LAVA's results")
        elif seen_tests[key] != v:
            problems.append(f"{key[0]}.{key[1]}: {v} in the serial report, "
                            f"{seen_tests[key]} in LAVA's results")
    problems += [f"{k[0]}.{k[1]}: in LAVA's results ({v}), not a test of the serial report"
                 for k, v in seen_tests.items() if k not in want_tests]
    for key, vals in want_meas.items():
        if sorted(seen_meas.get(key, [])) != sorted(vals):
            problems.append(f"measurement {key}: {vals} in the serial report, "
                            f"{seen_meas.get(key, [])} in LAVA's")
    problems += [f"measurement {k}: in LAVA's results, not in the serial report"
                 for k in seen_meas if k not in want_meas]
    counts = {"serial": {v: sum(1 for x in want_tests.values() if x == v)
                         for v in ("pass", "fail", "skip")},
              "lava": {v: sum(1 for x in seen_tests.values() if x == v)
                       for v in ("pass", "fail", "skip")},
              "serial_measurements": sum(len(v) for v in want_meas.values()),
              "lava_measurements": sum(len(v) for v in seen_meas.values())}
    return problems, counts


# What make lava needs, by the program that shows it is there: lava-run, and
# tftpd-hpa, whose configuration names the TFTP directory LAVA's tftp
# deploy writes to (QEMU's user network serves it; the daemon is not used).
NEEDS = (("lava-dispatcher", "lava-run"), ("tftpd-hpa", "in.tftpd"))


def ensure_dispatcher() -> str:
    """lava-run's path, installing Debian's lava-dispatcher and tftpd-hpa
    when missing (as root; without lava-dispatcher's recommendations, which
    bring other architectures' QEMUs, LXC and NFS servers no job here uses)."""
    def have(exe: str) -> bool:
        return bool(shutil.which(exe) or shutil.which(exe, path="/usr/sbin:/sbin"))
    need = [pkg for pkg, exe in NEEDS if not have(exe)]
    if not need:
        return shutil.which("lava-run") or "lava-run"
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *need]
    if os.geteuid() != 0:
        raise SystemExit(f"make lava: {' '.join(need)} missing: sudo " + " ".join(install))
    print(f"make lava: installing {' '.join(need)}", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(install, check=False, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if [pkg for pkg, exe in NEEDS if not have(exe)]:
        raise SystemExit("make lava: still missing after " + " ".join(install))
    return shutil.which("lava-run") or "lava-run"


def run_job(kind: str, kernel: str, out_dir: str) -> tuple[int, str]:
    """lava-run on the job of kind (qemu, x86) with the built kernel's URL;
    its exit status and log (also written to out_dir/lava-run-KIND.log)."""
    os.makedirs(out_dir, exist_ok=True)
    path, device = (QEMU_JOB, QEMU_DEVICE) if kind == "qemu" else (X86_JOB, X86_DEVICE)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text != job(kind):
        raise SystemExit(f"make lava: {path} is not what tickhost.lava writes: "
                         "run python3 -m tickhost.lava --write (PYTHONPATH=tools)")
    url = "file://" + os.path.abspath(kernel)
    local = os.path.join(out_dir, f"{kind}-job.yaml")
    with open(local, "w", encoding="utf-8") as f:
        f.write(text.replace(KERNEL_URL, url))
    cmd = [ensure_dispatcher(), "--job-id", str(os.getpid()), "--output-dir",
           os.path.join(out_dir, "out-" + kind), "--device", device,
           "--dispatcher", DISPATCHER, local]
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    with open(os.path.join(out_dir, f"lava-run-{kind}.log"), "w", encoding="utf-8") as f:
        f.write(r.stdout + r.stderr)
    return r.returncode, r.stdout + r.stderr


def job_result(evs: list[dict[str, Any]]) -> str:
    """LAVA's verdict on the job itself (pass, fail; none if it said none)."""
    return next((e["msg"].get("result") for e in evs if e.get("lvl") == "results"
                 and isinstance(e.get("msg"), dict) and e["msg"].get("case") == "job"
                 and e["msg"].get("definition") == "lava"), "none")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tickhost.lava")
    p.add_argument("--write", action="store_true", help="write tools/lava/*.yaml jobs")
    p.add_argument("--kernel", default=os.path.join(paths.BUILD, "tickscope.elf"))
    p.add_argument("--out", default=os.path.join(paths.BUILD, "lava"))
    a = p.parse_args(argv)
    if a.write:
        for path, kind in ((QEMU_JOB, "qemu"), (X86_JOB, "x86")):
            with open(path, "w", encoding="utf-8") as f:
                f.write(job(kind))
            print(f"wrote {path}")
        # The README shows the QEMU job as it is: its ```yaml block.
        readme = os.path.join(paths.ROOT, "README.md")
        with open(readme, encoding="utf-8") as f:
            text = f.read()
        first = job("qemu").splitlines()[0]
        start = text.index("```yaml\n" + first) + len("```yaml\n")
        end = text.index("```", start)
        with open(readme, "w", encoding="utf-8") as f:
            f.write(text[:start] + job("qemu") + text[end:])
        print(f"updated the job in {readme}")
        return 0
    failed = 0
    for kind in ("qemu", "x86"):
        problems = run_and_check(kind, a.kernel, a.out)
        for pr in problems[:40]:
            print(f"  - {pr}")
        if len(problems) > 40:
            print(f"  ... and {len(problems) - 40} more")
        failed += bool(problems)
    print("make lava: " + ("FAIL" if failed else "PASS"))
    return 1 if failed else 0


def run_and_check(kind: str, kernel: str, out: str) -> list[str]:
    """Runs the job of kind, prints its line, returns its problems."""
    t0 = time.monotonic()
    status, log = run_job(kind, kernel, out)
    evs = events(log)
    lines = serial_log(evs)
    with open(os.path.join(out, f"serial-{kind}.log"), "w", encoding="utf-8") as f:
        f.writelines(lines)
    run = report.to_dict(parselog.parse(lines, "lava"))
    result = job_result(evs)
    problems, counts = check(run, results(evs))
    if result != "pass":
        problems.insert(0, f"the LAVA job's result is {result} (lava-run status {status})")
    if not run["tests"]:
        problems.insert(0, "no KTAP report in the job's log")
    s, lv = counts["serial"], counts["lava"]
    log_path = os.path.relpath(os.path.join(out, f"lava-run-{kind}.log"), paths.ROOT)
    job_path = os.path.relpath(QEMU_JOB if kind == "qemu" else X86_JOB, paths.ROOT)
    print(f"make lava: {kind} job ({job_path}): "
          f"lava-run {status}, job {result}, {time.monotonic() - t0:.1f} s; serial report "
          f"{s['pass']} pass, {s['fail']} fail, {s['skip']} skip, "
          f"{counts['serial_measurements']} measurements; LAVA recorded {lv['pass']} pass, "
          f"{lv['fail']} fail, {lv['skip']} skip, {counts['lava_measurements']} measurements "
          f"(log: {log_path})", flush=True)
    return problems


if __name__ == "__main__":
    sys.exit(main())
