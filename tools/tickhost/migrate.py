"""The migrate scenario: live-migrate a VM in monitor mode to a second QEMU
on the loopback address and join the two serial streams into one report.
It drives the two QEMUs; the verdict's rules live in knownanswer."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from typing import Optional

from . import ktap, qemu
from .knownanswer import SETTLE_S, Outcome, check_migrate
from .qmp import QMP


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cfg: qemu.Config, live: bool) -> Outcome:
    """Source and destination QEMUs; the serial streams are joined."""
    c, err = qemu.resolve(cfg)
    if err:
        return Outcome("migrate", c.accel, "ERROR", problems=[err])
    tmp = tempfile.mkdtemp(prefix="tickscope-mig-")
    sock = os.path.join(tmp, "qmp.sock")
    port = free_port()
    monitor_s = int(SETTLE_S + 6)
    c.cmdline = (c.cmdline + f" monitor={monitor_s}").strip()
    src_cmd = qemu.command(c, None) + ["-qmp", f"unix:{sock},server=on,wait=off"]
    dst_cmd = qemu.command(c, None) + ["-incoming", f"tcp:127.0.0.1:{port}"]
    lines: list[str] = []
    started = threading.Event()
    dst = subprocess.Popen(dst_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    src = subprocess.Popen(src_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    pumps = [threading.Thread(target=_pump, args=(p, lines, started, live), daemon=True)
             for p in (src, dst)]
    pumps[0].start()
    t_start = time.monotonic()
    state: dict[str, float] = {}
    error = None
    try:
        _migrate(sock, started, port, pumps, state)
    except Exception as e:  # reported as the scenario's ERROR
        error = f"{type(e).__name__}: {e}"
    status = _reap(src, dst, pumps, monitor_s)
    shutil.rmtree(tmp, ignore_errors=True)
    stderr = (dst.stderr.read() if dst.stderr else b"").decode("utf-8", "replace")
    rep = ktap.parse(lines)
    verdict, reason = qemu.judge(rep, status, False, 0, stderr)
    r = qemu.RunResult(c.__dict__.copy(), c.accel, dst_cmd, verdict, reason, status,
                       time.monotonic() - t_start, lines, stderr, rep)
    downtime = state.get("downtime", 0.0)
    out = Outcome("migrate", c.accel, "PASS", held_s=downtime / 1000,
                  events=rep.events, run=r)
    if error:
        out.verdict, out.problems = "ERROR", [error]
    elif verdict == "ERROR":
        out.verdict, out.problems = "ERROR", [f"destination: {reason}"]
    else:
        out.problems = check_migrate(downtime, rep.events)
        out.verdict = "FAIL" if out.problems else "PASS"
    return out


def _pump(proc: subprocess.Popen, lines: list[str], started: threading.Event,
          live: bool) -> None:
    """Appends one QEMU's serial lines to the joined stream."""
    assert proc.stdout
    for raw in proc.stdout:
        text = raw.decode("utf-8", "replace")
        lines.append(text)
        if "# monitoring" in text:
            started.set()
        if live:
            print(ktap.clean(text), flush=True)


def _migrate(sock: str, started: threading.Event, port: int,
             pumps: list[threading.Thread], state: dict[str, float]) -> None:
    """Waits for monitor mode, migrates, hands the serial stream over to
    the destination and quits the source; QEMU's downtime (ms) goes into
    state as soon as it is known, so a later failure still reports it."""
    q = QMP(sock)
    if not started.wait(timeout=120):
        raise TimeoutError("monitor mode never started")
    time.sleep(SETTLE_S)
    q.cmd("migrate", uri=f"tcp:127.0.0.1:{port}")
    deadline = time.monotonic() + 120
    while True:
        info = q.cmd("query-migrate")
        if info.get("status") == "completed":
            state["downtime"] = float(info.get("downtime", 0))
            break
        if info.get("status") in ("failed", "cancelled") or time.monotonic() > deadline:
            raise RuntimeError(f"migration {info.get('status')}: {info.get('error-desc', '')}")
        time.sleep(0.05)
    # The source's serial ends here; the destination's goes on.
    pumps[0].join(timeout=1)
    pumps[1].start()
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
