"""VM time under stress: boot in monitor mode with a QMP socket, do something
to the VM, and check the kernel's report against what was done. It drives
one scenario; it must not parse KTAP or write reports (ktap, report do).

  pause     stop the VM for --hold seconds, then continue
  snapshot  stop, savevm (on a scratch qcow2), wait --hold s, loadvm, cont
  starve    SIGSTOP the whole QEMU process in 250 ms pieces, --hold s in all:
            the VM still "runs", so its device timers fall behind, and the
            lost-tick policy (--policy discard|slew; the PIT's under KVM is
            delay|discard) decides whether the ticks are dropped or paid back
  migrate   live-migrate to a second QEMU on the loopback address; the
            report continues on the destination. Known answer: QEMU's own
            downtime; no source may jump by more than that (+100 ms)
  migrate-tsc  the same between two QEMUs whose -cpu tsc-frequency= differ
            (SKIP with QEMU's reason where it refuses; see migrate.run_tsc)

The known answer is the host time from `stop` returning to `cont`
returning. Sources that kept running while the VM was stopped (the RTC
follows the host clock; the TSC does under some accelerators) must show a
jump of that size (within 5 %); no source may show a jump of another size.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from typing import Any

from . import migrate, qemu
from .knownanswer import (SETTLE_S, Outcome, arrivals, check, check_starve, settle,
                          walltime)
from .qmp import QMP

STARVE_PIECE_S = 0.25
NAMES = ("pause", "snapshot", "starve", "migrate", "migrate-tsc")


def policy_args(policy: str, accel: str) -> list[str]:
    """QEMU options for a lost-tick policy: the RTC's (discard or slew)
    and, under KVM, the in-kernel PIT's (discard or delay); none for ""
    (QEMU's defaults, or whatever the configuration's own options say)."""
    if not policy:
        return []
    args = ["-global", f"mc146818rtc.lost_tick_policy={policy}"]
    if accel == "kvm":
        args += ["-global", "kvm-pit.lost_tick_policy="
                 + ("discard" if policy == "discard" else "delay")]
    return args


def run(name: str, cfg: qemu.Config, hold: float, live: bool = False,
        policy: str = "discard", tail_s: float = 4.0) -> Outcome:
    """Runs scenario name (one of NAMES) holding the VM for hold seconds;
    cfg is adjusted in place (monitor mode, QMP socket, timeout). Monitor
    mode goes on about tail_s after the hold (more sample lines, a
    tighter walltime figure)."""
    if name == "migrate":
        return migrate.run(cfg, live, tail_s=tail_s + 2)
    if name == "migrate-tsc":
        return migrate.run_tsc(cfg, live)
    tmp = tempfile.mkdtemp(prefix="tickscope-scn-")
    sock = os.path.join(tmp, "qmp.sock")
    extra, accel, err = _qemu_args(name, cfg, policy, tmp, sock)
    if err:
        shutil.rmtree(tmp, ignore_errors=True)
        return Outcome(name, accel, "ERROR", problems=[err])
    monitor_s = int(hold + SETTLE_S + tail_s)
    cfg.cmdline = (cfg.cmdline + f" monitor={monitor_s}").strip()
    cfg.extra = list(cfg.extra) + extra
    cfg.timeout = max(cfg.timeout, monitor_s + hold + 120)
    state: dict[str, Any] = {"held": 0.0, "error": None, "act": None}
    started, sampled = threading.Event(), threading.Event()

    def act(proc: subprocess.Popen) -> None:
        try:
            if name == "starve":
                _starve(proc, (started, sampled), hold, cfg.timeout, state)
            else:
                _hold(sock, name, (started, sampled), hold, cfg.timeout, state)
        except Exception as e:  # reported as the scenario's ERROR
            state["error"] = f"{type(e).__name__}: {e}"

    def on_line(line: str) -> None:
        if "# monitoring" in line:
            started.set()
        if "# sample:" in line:
            sampled.set()

    def on_start(proc: subprocess.Popen) -> None:
        actor.append(threading.Thread(target=act, args=(proc,), daemon=True))
        actor[0].start()

    actor: list[threading.Thread] = []
    r = qemu.run(cfg, live=live, on_line=on_line, on_start=on_start)
    if actor:
        actor[0].join(timeout=5)
    shutil.rmtree(tmp, ignore_errors=True)
    return _judge(name, policy, r, state)


def _qemu_args(name: str, cfg: qemu.Config, policy: str, tmp: str,
               sock: str) -> tuple[list[str], str, str]:
    """The scenario's extra QEMU arguments, the accelerator, and an error
    ('' if fine): the QMP socket, a scratch disk for snapshots, the
    lost-tick policy for starve."""
    extra = ["-qmp", f"unix:{sock},server=on,wait=off"]
    if name == "snapshot":
        disk = os.path.join(tmp, "scratch.qcow2")
        try:
            subprocess.run(["qemu-img", "create", "-f", "qcow2", disk, "16M"], check=True,
                           capture_output=True)
        except (OSError, subprocess.CalledProcessError) as e:
            return [], cfg.accel, f"qemu-img could not make the scratch disk: {e}"
        extra += ["-drive", f"if=none,id=scratch,format=qcow2,file={disk}"]
    if name == "starve":
        resolved, err = qemu.resolve(cfg)
        if err:
            return [], resolved.accel, err
        extra += policy_args(policy, resolved.accel)
    return extra, cfg.accel, ""


def _starve(proc: subprocess.Popen, events: tuple[threading.Event, threading.Event],
            hold: float, timeout: float, state: dict[str, Any]) -> None:
    """SIGSTOPs QEMU in STARVE_PIECE_S pieces until hold seconds are spent."""
    settle(*events, timeout)
    held = 0.0
    start = time.monotonic()
    while held < hold - 1e-3:
        piece = min(STARVE_PIECE_S, hold - held)
        t0 = time.monotonic()
        os.kill(proc.pid, signal.SIGSTOP)
        time.sleep(piece)
        os.kill(proc.pid, signal.SIGCONT)
        held += time.monotonic() - t0
        time.sleep(STARVE_PIECE_S)
    state["held"] = held
    state["act"] = (start, time.monotonic())


def _hold(sock: str, name: str, events: tuple[threading.Event, threading.Event], hold: float,
          timeout: float, state: dict[str, Any]) -> None:
    """Stops the VM through QMP for hold seconds (with savevm and loadvm
    in between for a snapshot), then lets it continue."""
    q = QMP(sock)
    settle(*events, timeout)
    t_act = time.monotonic()
    q.cmd("stop")
    t0 = time.monotonic()
    if name == "snapshot":
        q.hmp("savevm tickscope")
    time.sleep(max(0.0, hold - (time.monotonic() - t0)))
    if name == "snapshot":
        q.hmp("loadvm tickscope")
    q.cmd("cont")
    state["held"] = time.monotonic() - t0
    state["act"] = (t_act, time.monotonic())
    q.close()


def _judge(name: str, policy: str, r: qemu.RunResult, state: dict[str, Any]) -> Outcome:
    """The outcome of a pause, snapshot or starve run against its known answer."""
    out = Outcome(name, r.accel, "PASS", held_s=state["held"], events=r.report.events, run=r)
    if state["act"]:
        out.walltime_err_ms, out.walltime_unc_ms = walltime(
            arrivals(r.lines, r.times), state["act"])
    if state["error"]:
        out.verdict, out.problems = "ERROR", [f"QMP: {state['error']}"]
        return out
    if r.verdict == "ERROR":
        out.verdict, out.problems = "ERROR", [r.reason]
        return out
    if name == "starve":
        out.problems = check_starve(policy, out.held_s, r.report)
    else:
        out.problems, out.jumps = check(out.held_s, r.report.events)
    if out.problems:
        out.verdict = "FAIL"
    return out
