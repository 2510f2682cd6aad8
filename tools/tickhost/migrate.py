"""The migrate scenarios: live-migrate a VM in monitor mode to a second QEMU
on the loopback address and join the two serial streams into one report;
migrate-tsc does so between QEMUs whose -cpu tsc-frequency= differ. It
drives the two QEMUs; the verdict's rules live in knownanswer."""
from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from typing import Optional

from . import ktap, qemu
from .host import host_tsc_hz
from .knownanswer import (SETTLE_S, Outcome, arrivals, check_migrate, check_tsc_rates,
                          settle, tsc_rates, walltime)
from .qmp import QMP

# The destination's TSC rate in migrate-tsc, as a fraction of the host's:
# far enough from it (10 %) that no rounding makes the two equal.
TSC_RATIO = 0.9
PROGRAM = "qemu-system-x86_64: "
# What QEMU prints when a destination refuses the incoming state.
LOAD_FAILED = "load of migration failed"


class Refused(Exception):
    """The destination would not take the VM: QEMU's own message."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cfg: qemu.Config, live: bool, dst_cpu: str = "", name: str = "migrate",
        tail_s: float = 6.0) -> Outcome:
    """Source and destination QEMUs (the destination with -cpu dst_cpu when
    given); the serial streams are joined; monitor mode runs SETTLE_S +
    tail_s seconds. A destination that exits, or
    fails the incoming migration, makes the outcome SKIP with its reason."""
    c, err = qemu.resolve(cfg)
    if err:
        return Outcome(name, c.accel, "ERROR", problems=[err])
    tmp = tempfile.mkdtemp(prefix="tickscope-mig-")
    sock = os.path.join(tmp, "qmp.sock")
    port = free_port()
    monitor_s = int(SETTLE_S + tail_s)
    c.cmdline = (c.cmdline + f" monitor={monitor_s}").strip()
    d = dataclasses.replace(c, cpu=dst_cpu or c.cpu)
    src_cmd = qemu.command(c, None) + ["-qmp", f"unix:{sock},server=on,wait=off"]
    dst_cmd = qemu.command(d, None) + ["-incoming", f"tcp:127.0.0.1:{port}"]
    # Each QEMU's serial lines and their arrival times, read as they come
    # (the destination prints nothing before the VM arrives); joined below.
    streams: tuple[tuple[list[str], list[float]], ...] = (([], []), ([], []))
    started, sampled = threading.Event(), threading.Event()
    dst = subprocess.Popen(dst_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    src = subprocess.Popen(src_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    pumps = [threading.Thread(target=_pump, args=(p, *st, (started, sampled), live), daemon=True)
             for p, st in zip((src, dst), streams)]
    for th in pumps:
        th.start()
    t_start = time.monotonic()
    state: dict[str, float] = {}
    error = refused = None
    try:
        _migrate(sock, (started, sampled), port, state, dst)
    except Refused as e:
        refused = str(e)
    except Exception as e:  # reported as the scenario's ERROR
        if src.poll() is not None and not started.is_set():
            refused = "the source QEMU would not start: " + _refusal(src, 0)
        else:
            error = f"{type(e).__name__}: {e}"
    if refused:
        for p in (src, dst):
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
        return Outcome(name, c.accel, "SKIP", problems=[refused])
    status = _reap(src, dst, pumps, monitor_s)
    shutil.rmtree(tmp, ignore_errors=True)
    stderr = (dst.stderr.read() if dst.stderr else b"").decode("utf-8", "replace")
    lines, times = streams[0][0] + streams[1][0], streams[0][1] + streams[1][1]
    if LOAD_FAILED in stderr:
        # The source saw the stream go out ("completed"); the destination
        # refused the state it got and exited.
        return Outcome(name, c.accel, "SKIP", problems=[_messages(stderr, status)])
    rep = ktap.parse(lines)
    verdict, reason = qemu.judge(rep, status, False, 0, stderr)
    r = qemu.RunResult(c.__dict__.copy(), c.accel, dst_cmd, verdict, reason, status,
                       time.monotonic() - t_start, lines, stderr, rep, times=times)
    downtime = state.get("downtime", 0.0)
    out = Outcome(name, c.accel, "PASS", held_s=downtime / 1000, events=rep.events, run=r)
    if "act_end" in state:
        act = (state["act_start"], state["act_end"])
        points = arrivals(lines, times)
        out.walltime_err_ms, out.walltime_unc_ms = walltime(points, act)
        out.tsc_ppm = tsc_rates(points, act)
    if error:
        out.verdict, out.problems = "ERROR", [error]
    elif verdict == "ERROR":
        out.verdict, out.problems = "ERROR", [f"destination: {reason}"]
    else:
        out.problems = check_migrate(downtime, rep.events)
        out.verdict = "FAIL" if out.problems else "PASS"
    return out


def run_tsc(cfg: qemu.Config, live: bool) -> Outcome:
    """migrate-tsc: the destination's -cpu asks for a TSC rate TSC_RATIO of
    the host's. First from a source pinned at the host's rate (what an
    operator who set tsc-frequency= has), then from an unpinned source
    (QEMU's default). Where QEMU refuses both, SKIP with its messages;
    where one runs, its verdict is what the guest saw there: no jump
    beyond the downtime and no change of the TSC's rate against the other
    clocks (check_tsc_rates), both reported in the outcome's notes."""
    c, err = qemu.resolve(cfg)
    if err:
        return Outcome("migrate-tsc", c.accel, "ERROR", problems=[err])
    hz, why = host_tsc_hz()
    if not hz:
        return Outcome("migrate-tsc", c.accel, "SKIP",
                       problems=[f"the host's TSC rate is unknown ({why})"])
    here, there = round(hz / 1000) * 1000, round(hz * TSC_RATIO / 1000) * 1000
    legs = [(f"pinned source (tsc-frequency={here})", f"{c.cpu},tsc-frequency={here}"),
            ("unpinned source", c.cpu)]
    notes: list[str] = []
    for label, src_cpu in legs:
        leg = dataclasses.replace(c, cpu=src_cpu, extra=list(c.extra))
        out = run(leg, live, dst_cpu=f"{c.cpu},tsc-frequency={there}", name="migrate-tsc")
        if out.verdict == "SKIP":
            notes.append(f"{label} -> destination tsc-frequency={there}: refused: "
                         + "; ".join(out.problems))
            continue
        if out.verdict == "PASS" and out.run:
            before, after = out.tsc_ppm
            out.problems = check_tsc_rates(out.events)
            out.verdict = "FAIL" if out.problems else "PASS"
            notes.append(f"{label} -> destination tsc-frequency={there}: ran; the guest's TSC "
                         f"against its other clocks: {_ppm(before)} before, {_ppm(after)} after")
        out.notes = notes + out.notes
        return out
    return Outcome("migrate-tsc", c.accel, "SKIP", problems=notes)


def _ppm(v: Optional[float]) -> str:
    return "unmeasured" if v is None else f"{v:+.1f} ppm"


def _pump(proc: subprocess.Popen, lines: list[str], times: list[float],
          events: tuple[threading.Event, threading.Event], live: bool) -> None:
    """Appends one QEMU's serial lines (and their arrival times) to the
    joined stream."""
    assert proc.stdout
    for raw in proc.stdout:
        text = raw.decode("utf-8", "replace")
        times.append(time.monotonic())
        lines.append(text)
        if "# monitoring" in text:
            events[0].set()
        if "# sample:" in text:
            events[1].set()
        if live:
            print(ktap.clean(text), flush=True)


def _refusal(dst: subprocess.Popen, wait_s: float) -> str:
    """The destination's reason for not taking the VM: its stderr once it
    has exited (it is killed after wait_s)."""
    try:
        dst.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        dst.kill()
        dst.wait()
    text = (dst.stderr.read() if dst.stderr else b"").decode("utf-8", "replace")
    return _messages(text, dst.returncode)


def _messages(stderr: str, status: Optional[int]) -> str:
    """QEMU's error lines (those it prefixes with its name; all lines when
    none is), joined, without the program name."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    said = [ln for ln in lines if ln.startswith(PROGRAM)] or lines
    return " / ".join(ln.replace(PROGRAM, "").strip() for ln in said) or \
        f"QEMU exited with status {status}"


def _migrate(sock: str, events: tuple[threading.Event, threading.Event], port: int,
             state: dict[str, float], dst: subprocess.Popen) -> None:
    """Waits for monitor mode, migrates and quits the source; QEMU's downtime (ms) goes into
    state as soon as it is known, so a later failure still reports it.
    Raises Refused when the destination exited or failed the migration."""
    q = QMP(sock)
    if not events[0].wait(timeout=120):
        raise TimeoutError("monitor mode never started")
    settle(*events, 0)
    if dst.poll() is not None:
        raise Refused(_refusal(dst, 0))
    state["act_start"] = time.monotonic()
    try:
        q.cmd("migrate", uri=f"tcp:127.0.0.1:{port}")
    except RuntimeError as e:  # QEMU's refusal, e.g. invtsc without tsc-frequency=
        raise Refused(f"the source would not migrate: {e}") from e
    deadline = time.monotonic() + 120
    while True:
        info = q.cmd("query-migrate")
        if info.get("status") == "completed":
            state["downtime"] = float(info.get("downtime", 0))
            state["act_end"] = time.monotonic()
            break
        if info.get("status") in ("failed", "cancelled"):
            q.cmd("quit")
            desc = info.get("error-desc", "")
            raise Refused(_refusal(dst, 10) + (f" (source: {desc})" if desc else ""))
        if time.monotonic() > deadline:
            raise RuntimeError(f"migration {info.get('status')}: {info.get('error-desc', '')}")
        time.sleep(0.05)
    q.cmd("quit")
    q.close()


def _reap(src: subprocess.Popen, dst: subprocess.Popen, pumps: list[threading.Thread],
          monitor_s: int) -> Optional[int]:
    """Waits for the destination to finish its report (killing either QEMU
    that overstays); returns the destination's exit status."""
    try:
        status: Optional[int] = dst.wait(timeout=monitor_s + 120)
    except subprocess.TimeoutExpired:
        dst.kill()
        status = dst.wait()
    try:
        src.wait(timeout=10)
    except subprocess.TimeoutExpired:
        src.kill()
    for th in pumps:
        if th.is_alive():
            th.join(timeout=5)
    return status
