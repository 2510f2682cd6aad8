"""Things done to a running QEMU from outside, at a moment the kernel's serial
output names: stop it through QMP, SIGSTOP it, or starve one vCPU's thread.
It acts on one process; it must not start QEMU or judge what the kernel said.

    qmp-stop    QMP `stop`, hold seconds, `cont` (the VM's clocks pause, the
                RTC on the host clock does not)
    sigstop     SIGSTOP the whole QEMU process for hold seconds (the VM's
                clocks run on, nothing runs it)
    starve-vcpu vCPU `cpu`'s thread (QMP query-cpus-fast) moved to one host
                core at SCHED_IDLE beside a busy loop for hold seconds: the
                other vCPUs run, that one nearly never
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Optional

from .qmp import QMP

KINDS = ("qmp-stop", "sigstop", "starve-vcpu")
WAIT_FOR_LINE_S = 300.0


def parse(spec: str) -> dict[str, str]:
    """`kind key=value ...` (values may be quoted) as a dictionary; raises
    ValueError naming what is wrong."""
    words = shlex.split(spec)
    if not words or words[0] not in KINDS:
        raise ValueError(f"action {spec!r}: the kind must be one of {', '.join(KINDS)}")
    out = {"kind": words[0]}
    for w in words[1:]:
        k, sep, v = w.partition("=")
        if not sep or k not in ("at", "delay", "hold", "cpu"):
            raise ValueError(f"action {spec!r}: {w!r} is not at=, delay=, hold= or cpu=")
        out[k] = v
    if "at" not in out or "hold" not in out:
        raise ValueError(f"action {spec!r}: needs at= (a serial line) and hold= (seconds)")
    if out["kind"] == "starve-vcpu" and "cpu" not in out:
        raise ValueError(f"action {spec!r}: starve-vcpu needs cpu=")
    return out


class Action:
    """One action on one run: extra_args() go on QEMU's command line,
    on_start and on_line are qemu.run's hooks, record() says what was done."""

    def __init__(self, spec: dict[str, str], tmpdir: str) -> None:
        self.kind = spec["kind"]
        self.at = spec["at"]
        self.delay = float(spec.get("delay", "0"))
        self.hold = float(spec["hold"])
        self.cpu = int(spec.get("cpu", "0"))
        self.sock = os.path.join(tmpdir, "qmp.sock")
        self.seen = threading.Event()
        self.rec: dict[str, Any] = {"kind": self.kind, "at": self.at, "delay_s": self.delay,
                                    "hold_s": self.hold, "done": False}
        self._thread: Optional[threading.Thread] = None
        self._loop: Optional[subprocess.Popen] = None

    def extra_args(self) -> list[str]:
        if self.kind == "sigstop":
            return []
        return ["-qmp", f"unix:{self.sock},server=on,wait=off"]

    def on_line(self, line: str) -> None:
        if not self.seen.is_set() and self.at in line:
            self.rec["line_at"] = time.monotonic()
            self.seen.set()

    def on_start(self, proc: subprocess.Popen) -> None:
        self._thread = threading.Thread(target=self._run, args=(proc,), daemon=True)
        self._thread.start()

    def record(self) -> dict[str, Any]:
        """What was done: done, held_s (measured), error, and for
        starve-vcpu the thread and host core."""
        if self._thread:
            self._thread.join(timeout=self.hold + 30)
        self.rec.pop("line_at", None)
        return self.rec

    def _run(self, proc: subprocess.Popen) -> None:
        q = None
        try:
            if self.kind != "sigstop":
                q = QMP(self.sock)
                self.rec["qmp_connect_attempts"] = q.attempts
            tid = self._vcpu_thread(q) if self.kind == "starve-vcpu" else 0
            if self.kind == "starve-vcpu":
                self._spawn_loop()
            if not self.seen.wait(timeout=WAIT_FOR_LINE_S):
                self.rec["error"] = f"the kernel never printed {self.at!r}"
                return
            time.sleep(max(0.0, self.rec["line_at"] + self.delay - time.monotonic()))
            if proc.poll() is not None:
                self.rec["error"] = "QEMU had already exited"
                return
            if self.kind == "qmp-stop":
                assert q
                self._qmp_stop(q)
            elif self.kind == "sigstop":
                self._sigstop(proc)
            else:
                self._starve(tid)
            self.rec["done"] = True
        except Exception as e:  # reported in the record, judged by the caller
            self.rec["error"] = f"{type(e).__name__}: {e}"
        finally:
            if q:
                q.close()
            if self._loop:
                self._loop.kill()
                self._loop.wait()

    def _qmp_stop(self, q: QMP) -> None:
        t0 = time.monotonic()
        q.cmd("stop")
        time.sleep(max(0.0, self.hold - (time.monotonic() - t0)))
        q.cmd("cont")
        self.rec["held_s"] = round(time.monotonic() - t0, 4)

    def _sigstop(self, proc: subprocess.Popen) -> None:
        t0 = time.monotonic()
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            time.sleep(self.hold)
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        self.rec["held_s"] = round(time.monotonic() - t0, 4)

    def _vcpu_thread(self, q: Optional[QMP]) -> int:
        assert q
        for c in q.cmd("query-cpus-fast"):
            if c.get("cpu-index") == self.cpu:
                self.rec["thread"] = c["thread-id"]
                return int(c["thread-id"])
        raise RuntimeError(f"QEMU has no vCPU {self.cpu}")

    def _spawn_loop(self) -> None:
        """starve-vcpu's busy loop, started before the moment and held on its
        stdin, pinned to the last host core we may use: at the moment only a
        write and two system calls remain (an interpreter starting on a
        loaded host took long enough to miss a 200 ms window)."""
        self.rec["core"] = sorted(os.sched_getaffinity(0))[-1]
        self._loop = subprocess.Popen(
            [sys.executable, "-c", "import sys\nsys.stdin.read(1)\nwhile True: pass"],
            stdin=subprocess.PIPE)
        os.sched_setaffinity(self._loop.pid, {self.rec["core"]})

    def _starve(self, tid: int) -> None:
        """The vCPU thread alone with the busy loop on its core, at SCHED_IDLE
        (it runs only when nothing else wants the core, which the loop does);
        restored after hold seconds. Records how long after the line seen
        the starvation began (late_s)."""
        assert self._loop and self._loop.stdin
        core = self.rec["core"]
        old_aff = os.sched_getaffinity(tid)
        old_pol = os.sched_getscheduler(tid)
        old_param = os.sched_getparam(tid)
        self._loop.stdin.write(b"go")
        self._loop.stdin.flush()
        t0 = time.monotonic()
        try:
            os.sched_setaffinity(tid, {core})
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
            self.rec["late_s"] = round(time.monotonic() - self.rec["line_at"], 4)
            time.sleep(self.hold)
        finally:
            try:
                os.sched_setscheduler(tid, old_pol, old_param)
                os.sched_setaffinity(tid, old_aff)
            except OSError:
                pass   # the thread is gone: QEMU ended meanwhile
        self.rec["held_s"] = round(time.monotonic() - t0, 4)
