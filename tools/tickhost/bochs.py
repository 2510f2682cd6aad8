"""Booting tickscope under Bochs (Debian's bochs 2.7), the second platform:
the configuration file it writes (build/bochs/NAME.bochsrc), the ISO it
boots, and one run judged as a captured serial log is (parselog.judge),
returned as a qemu.RunResult. It must not know about the matrix or the
report formats; run_config is where a caller hands any configuration.

Bochs has no isa-debug-exit, so the end of a run is read from serial. A
configuration that boots the ISO (Config.iso) boots it unchanged: its
command line is GRUB's first entry, and the kernel ends in a halt (Bochs
always has a screen), so the tool stops Bochs once the KTAP stream is
complete and serial has been quiet for QUIET_S. Any other configuration
gets an ISO of its own (one GRUB entry, no menu wait) with its command
line plus end=poweroff: the kernel says its exit code on serial and ACPI
S5 ends Bochs. Bochs's complaints about the guest (error and panic lines
of its log, its display's own left out) are the run's stderr.

Time in Bochs: the TSC counts instructions, and an emulated second is IPS
of them (`cpu: ips=`). With `clock: sync=none` every device (HPET, ACPI PM
timer, PIT, RTC, LAPIC timer) runs on that emulated time, so the TSC rate
is exactly IPS and is passed as the known answer (tsc_hz=); so with
sync=slowdown, which only holds emulation back to the host's pace. With
sync=realtime (or both) Bochs paces its virtual timers, the PIT's, by the
host's clock: no known answer is passed, and the kernel holds the devices
to one another. There IPS is REALTIME_IPS, above what Bochs can emulate,
so that emulated time always runs slower than the host's and the PIT's
count runs fast against the other clocks by a known sign (ips()).
"""
from __future__ import annotations

import hashlib
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from typing import Callable, Optional

from . import ktap, parselog, paths, qemu

BIOS = "/usr/share/bochs/BIOS-bochs-latest"
VGABIOS = "/usr/share/vgabios/vgabios.bin"
PLUGINS = "/usr/lib/x86_64-linux-gnu/bochs/plugins"
PACKAGES = "bochs bochsbios vgabios bochs-term"
SYNCS = ("none", "realtime", "slowdown", "both")
# A CPU with a TSC, an invariant TSC, the xAPIC and TSC-deadline mode, and
# long mode; Bochs models none with x2APIC and a hypervisor bit.
DEFAULT_CPU = "corei7_sandy_bridge_2600k"
# Emulated instructions per second: the TSC's rate. Low enough that an
# emulated second costs little host time, high enough that a TSC tick
# (20 ns) is finer than anything the tests time.
IPS = 50000000
# Under sync=realtime the PIT's virtual time follows the host's clock (never
# ahead of it, catching up at most ips / 1 M times emulated time: Bochs's
# iodev/virt_timer.cc, BX_MIN_IPS), while the TSC, HPET and PM timer count
# instructions. At 50 M a second Bochs emulates faster or slower than that
# depending on the host's load (the PIT then came out 0.75x to 46x the
# others' rate), so the PIT's error could have either sign or none. Bochs's
# own table of speeds tops out at 85-95 M a second (a 3.4 GHz Core i7,
# bochsrc's IPS notes), this host at about 67 M: at 250 M emulated time
# always runs slower than the host's, and the PIT at least twice as fast as
# the other clocks wherever Bochs emulates under 125 M a second.
REALTIME_IPS = 250000000
DEFAULT_TIMEOUT = 300.0
ISOS_KEPT = 4         # ISOs made for command lines, the most recently used
QUIET_S = 3.0         # serial quiet this long after the KTAP stream: the end
POLL_S = 0.05
# Log modules that speak about Bochs's own display, not the guest: the
# term display cannot show GRUB's 32 bpp framebuffer and says so.
_DISPLAY = re.compile(r"\[(TERM|BXVGA|VGA|VGABIOS|GUI)\s*\]")
_COMPLAINT = re.compile(r"^\d+([ep])\[")
_POWEROFF = "ACPI control: soft power off"     # Bochs ends on S5 with this panic
_GRUB_CFG = """# Written by tickhost.bochs: one entry, the configuration's command line.
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
insmod all_video
set gfxpayload=keep
set timeout=0
set default=0
menuentry "tickscope (Bochs)" {{
	multiboot2 /boot/tickscope.elf {cmdline}
	boot
}}
"""


def missing() -> str:
    """What is missing to run Bochs here ('' when nothing is)."""
    if not shutil.which("bochs"):
        return f"bochs is missing (apt-get install {PACKAGES})"
    for f in (BIOS, VGABIOS):
        if not os.path.exists(f):
            return f"{f} is missing (apt-get install {PACKAGES})"
    if not os.path.exists(os.path.join(PLUGINS, "libbx_term_gui.so")):
        return "Bochs's term display is missing (apt-get install bochs-term)"
    return ""


def resolve(cfg: qemu.Config) -> tuple[qemu.Config, str]:
    """Fills in Bochs's defaults; returns the config and an error ('' if fine)."""
    c = qemu.Config(**asdict(cfg))
    c.accel, c.firmware = "bochs", "bochsbios"
    c.cpu = c.cpu or DEFAULT_CPU
    if c.bochs_sync not in SYNCS:
        return c, f"unknown Bochs clock sync {c.bochs_sync!r} ({', '.join(SYNCS)})"
    if c.extra:
        return c, "extra QEMU arguments do not apply to Bochs"
    if c.screen or c.vga_at:
        return c, "the screen checks need QEMU's screendump and memory reads"
    if c.pvh:
        return c, "Bochs boots an ISO (GRUB, multiboot2), not the PVH entry"
    if c.iso and c.cmdline:
        return c, "the ISO's command line is fixed in iso/grub.cfg; give a command line " \
                  "without --iso (the tool then makes an ISO with it)"
    if c.smp < 1:
        return c, f"smp={c.smp}"
    if not re.fullmatch(r"\d+[MG]?", c.memory):
        return c, f"memory {c.memory!r} is not a size in MiB (or with M/G)"
    gone = missing()
    if gone:
        return c, gone
    image = c.iso or c.kernel
    if not os.path.exists(image):
        return c, f"{image} does not exist (run make{' iso' if c.iso else ''} first)"
    if not c.iso and not shutil.which("grub-mkrescue"):
        return c, "grub-mkrescue is missing (apt-get install grub-pc-bin grub-common xorriso)"
    return c, ""


def ips(c: qemu.Config) -> int:
    """Emulated instructions per second for c's clock sync: the TSC's rate."""
    return REALTIME_IPS if c.bochs_sync in ("realtime", "both") else IPS


def megs(memory: str) -> int:
    n = int(memory.rstrip("MG"))
    return n * 1024 if memory.endswith("G") else n


def known_truth(c: qemu.Config) -> dict:
    """The known TSC rate: IPS under sync=none and sync=slowdown (which only
    holds emulation back to the host's pace), where every device runs on
    the emulated time whose second is IPS instructions; none where the
    realtime method paces the PIT by the host's clock."""
    given = re.search(r"(?:^|\s)tsc_hz=(\d+)", c.cmdline)
    if given:
        return {"tsc_hz": int(given.group(1)), "why": "tsc_hz= given by the configuration"}
    if c.iso:
        return {"tsc_hz": 0, "why": "ISO boot: the command line is fixed, no tsc_hz="}
    if c.bochs_sync not in ("none", "slowdown"):
        return {"tsc_hz": 0, "why": f"Bochs sync={c.bochs_sync}: the PIT paced by the host"}
    return {"tsc_hz": IPS, "why": f"Bochs sync={c.bochs_sync}: the TSC counts instructions, "
                                  f"ips={IPS} per emulated second"}


def bochsrc(c: qemu.Config, iso: str, serial: str, log: str) -> str:
    """The configuration file of a resolved config."""
    return "\n".join([
        "# Written by tickhost.bochs for one run.",
        f"megs: {megs(c.memory)}",
        f"romimage: file={BIOS}",
        f"vgaromimage: file={VGABIOS}",
        # No display needs no X: the term display draws into the pty the
        # tool holds (it cannot show 32 bpp, which it reports, not fatal).
        "display_library: term",
        f"cpu: model={c.cpu}, count={c.smp}, ips={ips(c)}, reset_on_triple_fault=0",
        # Bochs's i440FX brings ACPI and the HPET.
        "pci: enabled=1, chipset=i440fx",
        f"clock: sync={c.bochs_sync}, time0=utc",
        "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
        f"ata0-master: type=cdrom, path={iso}, status=inserted",
        "boot: cdrom",
        f"com1: enabled=1, mode=file, dev={serial}",
        f"log: {log}",
        "panic: action=fatal, term=report",
        "error: action=report",
        "info: action=report",
        "debug: action=ignore",
        "",
    ])


def make_iso(kernel: str, cmdline: str, out_dir: str) -> tuple[str, str]:
    """An ISO booting kernel with cmdline (GRUB, one entry, no wait),
    kept in out_dir under a name from both and reused; (path, error)."""
    with open(kernel, "rb") as f:
        key = hashlib.sha256(f.read() + b"\0" + cmdline.encode()).hexdigest()[:16]
    iso = os.path.join(out_dir, f"tickscope-{key}.iso")
    if os.path.exists(iso):
        os.utime(iso)
        return iso, ""
    os.makedirs(out_dir, exist_ok=True)
    # The tree stays small (20 MB each). make test boots two at a time, so
    # another run may be removing the same old ones.
    made = []
    for f in os.listdir(out_dir):
        if f.startswith("tickscope-") and f.endswith(".iso"):
            try:
                made.append((os.path.getmtime(os.path.join(out_dir, f)), f))
            except OSError:
                pass
    for _, old in sorted(made)[:-(ISOS_KEPT - 1)]:
        try:
            os.remove(os.path.join(out_dir, old))
        except OSError:
            pass
    tree = tempfile.mkdtemp(prefix="isodir-", dir=out_dir)
    try:
        os.makedirs(os.path.join(tree, "boot", "grub"))
        shutil.copyfile(kernel, os.path.join(tree, "boot", "tickscope.elf"))
        with open(os.path.join(tree, "boot", "grub", "grub.cfg"), "w", encoding="utf-8") as f:
            f.write(_GRUB_CFG.format(cmdline=cmdline))
        r = subprocess.run(["grub-mkrescue", "-o", iso + ".tmp", tree], capture_output=True,
                           text=True)
        if r.returncode != 0:
            return "", "grub-mkrescue failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
        os.replace(iso + ".tmp", iso)
        return iso, ""
    finally:
        shutil.rmtree(tree, ignore_errors=True)


def complaints(log_text: str) -> list[str]:
    """Bochs's error and panic lines about the guest: its display's left
    out, and the panic that is the poweroff the kernel was asked for."""
    return [ln for ln in log_text.splitlines()
            if _COMPLAINT.match(ln) and not _DISPLAY.search(ln) and _POWEROFF not in ln]


def judge(rep: ktap.Report, lines: list[str], timed_out: bool, timeout: float,
          status: Optional[int], complained: list[str]) -> tuple[str, str]:
    """The run's verdict: the serial log's (parselog.judge: the report and
    the kernel's exit-code line), or ERROR when Bochs stopped first."""
    if timed_out:
        return "ERROR", f"timed out after {timeout:g} s" + (
            "" if rep.root else " before the KTAP header")
    panic = [ln for ln in complained if ">>PANIC<<" in ln]
    if rep.root is None or not rep.complete():
        why = f"Bochs status {status}" + (f": {panic[-1].strip()}" if panic else "")
        return "ERROR", ("no KTAP report" if rep.root is None else "report incomplete") + \
            f" ({why})"
    return parselog.judge(rep, lines)


def run_config(cfg: qemu.Config, live: bool = True,
               on_line: Optional[Callable[[str], None]] = None) -> qemu.RunResult:
    """Boots a configuration under the emulator it names (QEMU or Bochs)."""
    if cfg.emulator == "bochs":
        return run(cfg, live, on_line)
    return qemu.run(cfg, live, on_line)


def run(cfg: qemu.Config, live: bool = True,
        on_line: Optional[Callable[[str], None]] = None) -> qemu.RunResult:
    """Boots one configuration in Bochs, streaming serial when live."""
    c, err = resolve(cfg)
    start = time.monotonic()
    truth = known_truth(c)
    if err:
        return qemu.RunResult(asdict(c), c.accel, [], "ERROR", err, None, 0.0, [], "",
                              ktap.Report(), truth=truth)
    out_dir = os.path.join(paths.BUILD, "bochs")
    os.makedirs(out_dir, exist_ok=True)
    iso = c.iso
    if not iso:
        words = c.cmdline
        if truth.get("tsc_hz") and "tsc_hz=" not in words:
            words += f" tsc_hz={truth['tsc_hz']}"
        if "end=" not in words:
            words += " end=poweroff"
        c.cmdline = words.strip()
        iso, err = make_iso(c.kernel, c.cmdline, out_dir)
        if err:
            return qemu.RunResult(asdict(c), c.accel, [], "ERROR", err, None,
                                  time.monotonic() - start, [], "", ktap.Report(), truth=truth)
    tmp = tempfile.mkdtemp(prefix="run-", dir=out_dir)
    serial, log = os.path.join(tmp, "serial.out"), os.path.join(tmp, "bochs.log")
    rc, dbg = os.path.join(out_dir, f"{c.name}.bochsrc"), os.path.join(tmp, "continue.rc")
    with open(rc, "w", encoding="utf-8") as f:
        f.write(bochsrc(c, os.path.abspath(iso), serial, log))
    # Debian builds Bochs with its debugger, which stops before the first
    # instruction: its command file says continue.
    with open(dbg, "w", encoding="utf-8") as f:
        f.write("c\n")
    cmd = ["bochs", "-q", "-f", rc, "-rc", dbg]
    status, timed_out, lines, times = _boot(cmd, serial, c.timeout, live, on_line)
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            log_text = f.read()
        shutil.copyfile(log, os.path.join(out_dir, f"{c.name}.log"))
    except OSError as e:
        log_text = f"0p[TOOL ] >>PANIC<< no Bochs log: {e}"
    shutil.rmtree(tmp, ignore_errors=True)
    complained = complaints(log_text)
    rep = ktap.parse(lines)
    verdict, reason = judge(rep, lines, timed_out, c.timeout, status, complained)
    return qemu.RunResult(asdict(c), c.accel, cmd, verdict, reason, status,
                          time.monotonic() - start, lines, "\n".join(complained), rep,
                          truth=truth, times=times)


def _boot(cmd: list[str], serial: str, timeout: float, live: bool,
          on_line: Optional[Callable[[str], None]]
          ) -> tuple[Optional[int], bool, list[str], list[float]]:
    """Runs Bochs on a pty (its term display and debugger want a terminal)
    and follows the serial file until Bochs exits, the KTAP stream is
    complete and serial quiet, or the timeout: (status, timed out, lines,
    their arrival times)."""
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="vt100")
    try:
        proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env,
                                close_fds=True)
    except OSError as e:
        os.close(master)
        os.close(slave)
        return None, False, [f"# bochs: cannot start: {e}\n"], [time.monotonic()]
    os.close(slave)

    def drain() -> None:    # the screen, unread: a full pty would stop Bochs
        while True:
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return

    threading.Thread(target=drain, daemon=True).start()
    lines: list[str] = []
    times: list[float] = []
    pos = 0
    partial = b""

    def take(final: bool) -> int:
        """Reads what serial has gained; returns how many lines it ended."""
        nonlocal pos, partial
        try:
            with open(serial, "rb") as f:
                f.seek(pos)
                chunk = f.read()
        except FileNotFoundError:
            return 0
        pos += len(chunk)
        *done, partial = (partial + chunk).split(b"\n")
        if final and partial:
            done, partial = done + [partial], b""
        for raw in done:
            text = raw.decode("utf-8", "replace") + "\n"
            lines.append(text)
            times.append(time.monotonic())
            if on_line:
                on_line(ktap.clean(text))
            if live:
                sys.stdout.write(ktap.clean(text) + "\n")
                sys.stdout.flush()
        return len(done)

    deadline = time.monotonic() + timeout
    last_new, done_at = time.monotonic(), None
    timed_out = False
    while proc.poll() is None:
        now = time.monotonic()
        if take(False):
            last_new = now
            if done_at is None and ktap.parse(lines).complete():
                done_at = now
        if done_at is not None and now - last_new >= QUIET_S:
            break
        if now >= deadline:
            timed_out = True
            break
        time.sleep(POLL_S)
    if proc.poll() is None:
        # SIGINT stops the simulation into the debugger's prompt (Bochs
        # installs its Ctrl-C handler there), whose `q` ends Bochs with its
        # log written out.
        proc.send_signal(signal.SIGINT)
        for _ in range(20):
            try:
                os.write(master, b"q\n")
                proc.wait(timeout=0.25)
                break
            except (OSError, subprocess.TimeoutExpired):
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    take(True)
    os.close(master)
    return proc.returncode, timed_out, lines, times
