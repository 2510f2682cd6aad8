"""VM time under stress: boot the kernel in monitor mode with a QMP socket,
do something to the VM, and check what the kernel reported against what
was done (the known answer).

  pause     stop the VM for --hold seconds, then continue
  snapshot  stop, savevm (on a scratch qcow2), wait --hold s, loadvm, cont
  starve    SIGSTOP the whole QEMU process in 250 ms pieces, --hold s in all:
            the VM still "runs", so its device timers fall behind, and the
            lost-tick policy (--policy discard|slew; the PIT's under KVM is
            delay|discard) decides whether the ticks are dropped or paid back
  migrate   live-migrate to a second QEMU on the loopback address; the
            report continues on the destination. Known answer: QEMU's own
            downtime; no source may jump by more than that (+100 ms)

The known answer is the host time from `stop` returning to `cont`
returning. Sources that kept running while the VM was stopped (the RTC
follows the host clock; the TSC does under some accelerators) must show a
jump of that size (within 5 %); no source may show a jump of another size.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import ktap
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


STARVE_PIECE_S = 0.25


def policy_args(policy: str, accel: str) -> list[str]:
    """QEMU options for a lost-tick policy: the RTC's (discard or slew)
    and, under KVM, the in-kernel PIT's (discard or delay)."""
    args = ["-global", f"mc146818rtc.lost_tick_policy={policy}"]
    if accel == "kvm":
        args += ["-global", "kvm-pit.lost_tick_policy="
                 + ("discard" if policy == "discard" else "delay")]
    return args


def check_starve(policy: str, held_s: float, rep: Any) -> list[str]:
    """The monitor's own tick must have seen the VM held (late wake-ups
    adding up to most of the time stopped); then, with discard, the RTC's
    ticks of that time stay lost, and with slew they are paid back (as
    fast as the hypervisor likes: under KVM within one 20 ms check)."""
    m = {x.name: x.value for x in rep.measurements}
    if "monitor.rtc.deficit_max" not in m:
        return ["no RTC deficit reported (no RTC, or monitor mode did not run)"]
    late = sum(float(e["late_ms"]) for e in rep.events
               if e.get("kind") == "ticks" and "late_ms" in e)
    due = held_s * 64          # RTC_MON_HZ ticks while the process was stopped
    end = m["monitor.rtc.deficit_end"]
    problems = []
    if late < 0.5 * held_s * 1000:
        problems.append(f"the monitor saw only {late:.0f} ms of lateness; QEMU was stopped "
                        f"{held_s * 1000:.0f} ms")
    if policy == "discard" and end < 0.5 * due:
        problems.append(f"discard: {end:g} RTC ticks missing at the end, {due:.0f} expected lost")
    if policy == "slew" and end > max(2.0, 0.1 * due):
        problems.append(f"slew: {end:g} RTC ticks still missing at the end; they should be "
                        "paid back")
    return problems


MIGRATE_SLACK_MS = 100.0   # beyond QEMU's reported downtime


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_migrate(downtime_ms: float, events: list[dict[str, str]]) -> list[str]:
    """No source may jump by more than the downtime QEMU reported."""
    limit = downtime_ms + MIGRATE_SLACK_MS
    return [f"{e.get('source')} jumped {e.get('size_ms')} ms across a migration with "
            f"{downtime_ms:.0f} ms of downtime" for e in events
            if e.get("kind") == "jump" and abs(float(e.get("size_ms", 0))) > limit]


def migrate(cfg: qemu.Config, live: bool) -> Outcome:
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
    state: dict[str, Any] = {"downtime": None, "error": None}

    def pump(proc: subprocess.Popen) -> None:
        assert proc.stdout
        for raw in proc.stdout:
            text = raw.decode("utf-8", "replace")
            lines.append(text)
            if "# monitoring" in text:
                started.set()
            if live:
                print(ktap.clean(text), flush=True)

    dst = subprocess.Popen(dst_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    src = subprocess.Popen(src_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    pumps = [threading.Thread(target=pump, args=(p,), daemon=True) for p in (src, dst)]
    pumps[0].start()
    t_start = time.monotonic()
    try:
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
    except Exception as e:
        state["error"] = f"{type(e).__name__}: {e}"
    try:
        status = dst.wait(timeout=monitor_s + 120)
    except subprocess.TimeoutExpired:
        dst.kill()
        status = dst.wait()
    for p in (src,):
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    for th in pumps:
        if th.is_alive():
            th.join(timeout=5)
    shutil.rmtree(tmp, ignore_errors=True)
    stderr = (dst.stderr.read() if dst.stderr else b"").decode("utf-8", "replace")
    rep = ktap.parse(lines)
    verdict, reason = qemu.judge(rep, status, False, 0, stderr)
    r = qemu.RunResult(c.__dict__.copy(), c.accel, dst_cmd, verdict, reason, status,
                       time.monotonic() - t_start, lines, stderr, rep)
    out = Outcome("migrate", c.accel, "PASS", held_s=(state["downtime"] or 0) / 1000,
                  events=rep.events, run=r)
    if state["error"]:
        out.verdict, out.problems = "ERROR", [state["error"]]
    elif verdict == "ERROR":
        out.verdict, out.problems = "ERROR", [f"destination: {reason}"]
    else:
        out.problems = check_migrate(state["downtime"] or 0.0, rep.events)
        out.verdict = "FAIL" if out.problems else "PASS"
    return out


def run(name: str, cfg: qemu.Config, hold: float, live: bool = False,
        policy: str = "discard") -> Outcome:
    if name == "migrate":
        return migrate(cfg, live)
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
    if name == "starve":
        resolved, err = qemu.resolve(cfg)
        if err:
            shutil.rmtree(tmp, ignore_errors=True)
            return Outcome(name, resolved.accel, "ERROR", problems=[err])
        extra += policy_args(policy, resolved.accel)
    monitor_s = int(hold + SETTLE_S + 4)
    cfg.cmdline = (cfg.cmdline + f" monitor={monitor_s}").strip()
    cfg.extra = list(cfg.extra) + extra
    cfg.timeout = max(cfg.timeout, monitor_s + hold + 120)
    state: dict[str, Any] = {"held": 0.0, "error": None, "proc": None}
    started = threading.Event()

    def starve() -> None:
        proc = state["proc"]
        started.wait(timeout=cfg.timeout)
        time.sleep(SETTLE_S)
        held = 0.0
        while held < hold - 1e-3:
            piece = min(STARVE_PIECE_S, hold - held)
            t0 = time.monotonic()
            os.kill(proc.pid, signal.SIGSTOP)
            time.sleep(piece)
            os.kill(proc.pid, signal.SIGCONT)
            held += time.monotonic() - t0
            time.sleep(STARVE_PIECE_S)
        state["held"] = held

    def act() -> None:
        if name == "starve":
            try:
                starve()
            except Exception as e:
                state["error"] = f"{type(e).__name__}: {e}"
            return
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

    def on_start(proc: subprocess.Popen) -> None:
        state["proc"] = proc
        actor.start()

    actor = threading.Thread(target=act, daemon=True)
    r = qemu.run(cfg, live=live, on_line=on_line, on_start=on_start)
    actor.join(timeout=5)
    shutil.rmtree(tmp, ignore_errors=True)
    out = Outcome(name, r.accel, "PASS", held_s=state["held"], events=r.report.events, run=r)
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
