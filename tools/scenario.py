"""VM time under stress: boot the kernel in monitor mode with a QMP socket,
do something to the VM, and check what the kernel reported against what
was done (the known answer).

  pause     stop the VM for --hold seconds, then continue
  snapshot  stop, savevm (on a scratch qcow2), wait --hold s, loadvm, cont

The known answer is the host time from `stop` returning to `cont`
returning. Sources that kept running while the VM was stopped (the RTC
follows the host clock; the TSC does under some accelerators) must show a
jump of that size (within 5 %); no source may show a jump of another size.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import qemu

TOLERANCE = 0.05            # the 5 %
SPURIOUS_MS = 500.0         # a jump this large must be the one we caused
SETTLE_S = 1.5              # monitor running before we act


class QMP:
    """A minimal QMP client over a UNIX socket."""

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(timeout + 60)
        self.buf = b""
        self._read()                      # greeting
        self.cmd("qmp_capabilities")

    def _read(self) -> dict[str, Any]:
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("QMP socket closed")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def cmd(self, name: str, **args: Any) -> Any:
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError(f"QMP {name}: {r['error'].get('desc')}")
            # asynchronous events (STOP, RESUME) are skipped

    def hmp(self, line: str) -> str:
        out = self.cmd("human-monitor-command", **{"command-line": line})
        if out and ("Error" in out or "error" in out):
            raise RuntimeError(f"{line}: {out.strip()}")
        return out

    def close(self) -> None:
        self.sock.close()


@dataclass
class Outcome:
    name: str
    accel: str
    verdict: str
    held_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    jumps: list[dict[str, str]] = field(default_factory=list)
    events: list[dict[str, str]] = field(default_factory=list)
    run: Optional[qemu.RunResult] = None


def check(held_s: float, events: list[dict[str, str]]) -> tuple[list[str], list[dict[str, str]]]:
    """Problems with the reported jumps against a hold of held_s seconds."""
    want = held_s * 1000
    jumps = [e for e in events if e.get("kind") == "jump"]
    big = [e for e in jumps if abs(float(e.get("size_ms", "0"))) >= SPURIOUS_MS]
    good = [e for e in big if abs(abs(float(e["size_ms"])) - want) <= TOLERANCE * want]
    problems = []
    if not good:
        problems.append(f"no source reported a jump of {want:.0f} ms (+-5 %); jumps seen: "
                        + (", ".join(f"{e.get('source')} {e.get('size_ms')} ms" for e in jumps)
                           or "none"))
    for e in big:
        if e not in good:
            problems.append(f"{e.get('source')} jumped {e.get('size_ms')} ms, not the "
                            f"{want:.0f} ms the VM was held")
    return problems, good


def run(name: str, cfg: qemu.Config, hold: float, live: bool = False) -> Outcome:
    tmp = tempfile.mkdtemp(prefix="tickscope-scn-")
    sock = os.path.join(tmp, "qmp.sock")
    extra = ["-qmp", f"unix:{sock},server=on,wait=off"]
    if name == "snapshot":
        disk = os.path.join(tmp, "scratch.qcow2")
        try:
            subprocess.run(["qemu-img", "create", "-f", "qcow2", disk, "16M"], check=True,
                           capture_output=True)
        except (OSError, subprocess.CalledProcessError) as e:
            shutil.rmtree(tmp, ignore_errors=True)
            return Outcome(name, cfg.accel, "ERROR",
                           problems=[f"qemu-img could not make the scratch disk: {e}"])
        extra += ["-drive", f"if=none,id=scratch,format=qcow2,file={disk}"]
    monitor_s = int(hold + SETTLE_S + 4)
    cfg.cmdline = (cfg.cmdline + f" monitor={monitor_s}").strip()
    cfg.extra = list(cfg.extra) + extra
    cfg.timeout = max(cfg.timeout, monitor_s + hold + 120)
    state: dict[str, Any] = {"held": 0.0, "error": None}
    started = threading.Event()

    def act() -> None:
        try:
            q = QMP(sock)
            started.wait(timeout=cfg.timeout)
            time.sleep(SETTLE_S)
            q.cmd("stop")
            t0 = time.monotonic()
            if name == "snapshot":
                q.hmp("savevm tickscope")
            time.sleep(max(0.0, hold - (time.monotonic() - t0)))
            if name == "snapshot":
                q.hmp("loadvm tickscope")
            q.cmd("cont")
            state["held"] = time.monotonic() - t0
            q.close()
        except Exception as e:  # reported as the scenario's ERROR
            state["error"] = f"{type(e).__name__}: {e}"

    def on_line(line: str) -> None:
        if "# monitoring" in line:
            started.set()

    actor = threading.Thread(target=act, daemon=True)
    actor.start()
    r = qemu.run(cfg, live=live, on_line=on_line)
    actor.join(timeout=5)
    shutil.rmtree(tmp, ignore_errors=True)
    out = Outcome(name, r.accel, "PASS", held_s=state["held"], events=r.report.events, run=r)
    if state["error"]:
        out.verdict, out.problems = "ERROR", [f"QMP: {state['error']}"]
        return out
    if r.verdict == "ERROR":
        out.verdict, out.problems = "ERROR", [r.reason]
        return out
    out.problems, out.jumps = check(out.held_s, r.report.events)
    if out.problems:
        out.verdict = "FAIL"
    return out
