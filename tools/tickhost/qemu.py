"""Booting tickscope under QEMU: one configuration, one run, one result.
It owns the QEMU command line and the run's verdict; it must not know about
the matrix, scenarios or report formats (those sit above it)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

from . import ktap
from .host import host_tsc, host_tsc_hz, kvm_usable
from .qmp import QMP

QBOOT = "/usr/share/qemu/qboot.rom"
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd"
# A screen run: the kernel keeps its finished dashboard up this long (or
# until a key) and says "# hold:" on serial; we take the picture then.
SCREEN_HOLD_S = 60
FWCFG_CMDLINE = "opt/tickscope/cmdline"
VGA_TEXT, VGA_TEXT_SIZE = 0xB8000, 80 * 25 * 2
# isa-debug-exit: the guest writes c, QEMU exits with (c << 1) | 1.
GUEST_EXIT = {1: "PASS", 3: "FAIL", 5: "ERROR"}
# Codes the kernel writes when it stops before any report (boot/boot.S).
GUEST_STOP = {7: "the kernel cannot run on this CPU: no long mode (exit code 3)"}
MACHINES = ("pc", "q35", "microvm", "isapc")


# KVM runs a vCPU's TSC unscaled when the rate asked for is within this of
# the host's (arch/x86/kvm/x86.c, tsc_tolerance_ppm).
KVM_TSC_TOLERANCE_PPM = 250
_TSC_FREQUENCY = re.compile(r"tsc-frequency=(\d+)(?:,|$|\s)")


def known_tsc_hz(c: "Config") -> tuple[int, str]:
    """The rate the guest TSC should run at, when we know it: 1 GHz under
    TCG -icount (virtual nanoseconds); else the host's rate against
    CLOCK_MONOTONIC, the clock QEMU's devices follow. `-cpu ...,tsc-frequency=`
    changes nothing under TCG (its RDTSC returns host ticks) nor under KVM
    within KVM's tolerance (it then does not scale); beyond that, no answer."""
    extra = " ".join(c.extra)
    if "-icount" in extra:
        return (1000000000, "TCG -icount: the TSC counts virtual ns")
    hz, why = host_tsc_hz()
    m = _TSC_FREQUENCY.search(c.cpu + " " + extra)
    if m and c.accel != "tcg":
        asked = int(m.group(1))
        if not hz:
            return (0, f"tsc-frequency={asked} and no host rate: {why}")
        off_ppm = (asked - hz) / hz * 1e6
        if abs(off_ppm) > KVM_TSC_TOLERANCE_PPM:
            return (0, f"tsc-frequency={asked} is {off_ppm:+.0f} ppm from the host's rate: "
                       "KVM would scale the TSC, no known answer")
        why = (f"{why}; tsc-frequency={asked} ({off_ppm:+.1f} ppm) is within KVM's "
               f"{KVM_TSC_TOLERANCE_PPM} ppm, so the TSC is not scaled")
    return (hz, f"host TSC: {why}")


@dataclass
class Config:
    name: str = "default"
    accel: str = "auto"           # auto | kvm | tcg
    firmware: str = "auto"        # auto | qboot | seabios | ovmf
    machine: str = "pc"           # pc | q35 | microvm | isapc, with ,property=value...
    iso: Optional[str] = None     # boot this ISO instead of -kernel
    kernel: str = "build/tickscope.elf"
    pvh: bool = False             # boot the kernel's PVH image (pvh_image) instead
    cmdline: str = ""
    cpu: str = ""                 # QEMU -cpu; "" picks per accelerator
    smp: int = 1
    memory: str = "128M"
    timeout: float = 120.0
    extra: list[str] = field(default_factory=list)
    screen: bool = False          # take a screendump of the finished dashboard
    # qemu, or bochs: tickhost.bochs boots the ISO in Bochs (cpu is then a
    # Bochs CPU model, and bochs_sync its `clock: sync=`)
    emulator: str = "qemu"
    bochs_sync: str = "none"
    # When a serial line matches this regex, read the VGA text memory and
    # stop QEMU (a kernel that halts with its message on screen).
    vga_at: str = ""


@dataclass
class RunResult:
    config: dict
    accel: str
    command: list[str]
    verdict: str                  # PASS | FAIL | ERROR (SKIP when nothing ran)
    reason: str
    qemu_status: Optional[int]
    duration_s: float
    lines: list[str]
    stderr: str
    report: ktap.Report
    screen_ppm: bytes = b""       # the screendump, when Config.screen
    screen_error: str = ""        # why there is none
    screen_vga: bytes = b""       # VGA text memory at the same moment
    # The known answer passed to the kernel: tsc_hz, where it came from,
    # and (for the host's rate) both host clocks and NTP's slew.
    truth: dict = field(default_factory=dict)
    # host time.monotonic() at which each of lines arrived (scenarios use
    # it as the host's truth for the guest's clock)
    times: list[float] = field(default_factory=list)
    # host time.monotonic() when QEMU was started and when it had exited:
    # boot to verdict is their difference (duration_s also counts the
    # host's own preparation, the known answer's measurement among it)
    launched: float = 0.0
    exited: float = 0.0

    @property
    def qemu_s(self) -> float:
        """QEMU's launch to its exit: boot to verdict."""
        return self.exited - self.launched if self.exited else 0.0


def resolve(cfg: Config) -> tuple[Config, str]:
    """Fills in auto choices; returns the config and an error ('' if fine)."""
    c = Config(**asdict(cfg))
    if c.emulator != "qemu":
        return c, f"emulator {c.emulator!r} is not QEMU: tickhost.bochs.run_config boots it"
    if c.accel == "auto":
        c.accel = "kvm" if kvm_usable()[0] else "tcg"
    if c.accel not in ("kvm", "tcg"):
        return c, f"unknown accelerator {c.accel!r} (auto, kvm or tcg)"
    if c.accel == "kvm":
        ok, why = kvm_usable()
        if not ok:
            return c, f"KVM requested but not usable: {why}"
    if c.firmware == "auto":
        # qboot cannot boot a CD; under KVM it is the only fast firmware,
        # and under TCG it reaches the kernel in ~45 ms against SeaBIOS's
        # ~120 ms (the run's tests come out the same). pc and q35 only
        # under TCG: isapc and microvm keep the firmware they always had.
        fast = c.accel == "kvm" or c.machine.split(",")[0] in ("pc", "q35")
        c.firmware = "seabios" if c.iso or not fast else "qboot"
    if c.firmware not in ("qboot", "seabios", "ovmf"):
        return c, f"unknown firmware {c.firmware!r} (qboot, seabios or ovmf)"
    if c.firmware == "qboot" and c.iso:
        return c, "qboot cannot boot an ISO; use --firmware seabios or ovmf"
    if c.firmware == "ovmf" and not c.iso:
        return c, "OVMF cannot load a multiboot kernel; boot the ISO (--iso)"
    if c.iso and c.cmdline:
        return c, "the ISO's command line is fixed in iso/grub.cfg; --cmdline needs -kernel"
    if c.machine.split(",")[0] not in MACHINES:
        return c, f"unknown machine {c.machine!r} ({', '.join(MACHINES)})"
    if c.pvh and c.iso:
        return c, "PVH boots the kernel image, not the ISO"
    if not c.cpu:
        c.cpu = "host,arch-capabilities=off" if c.accel == "kvm" else "max"
    image = c.iso or (pvh_image(c.kernel) if c.pvh else c.kernel)
    if not os.path.exists(image):
        return c, f"{image} does not exist (run make first)"
    fw = {"qboot": QBOOT, "ovmf": OVMF_CODE}.get(c.firmware)
    if fw and not os.path.exists(fw):
        return c, f"{fw} is missing (apt-get install qemu-system-x86 ovmf)"
    if not shutil.which("qemu-system-x86_64"):
        return c, "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
    return c, ""


def pvh_image(kernel: str) -> str:
    """The kernel built for a PVH boot under QEMU (the Makefile's
    PVH_KERNEL): QEMU's -kernel loader tries multiboot1 before the PVH
    note, so this copy has its multiboot1 header blanked."""
    root, ext = os.path.splitext(kernel)
    return f"{root}-pvh{ext}"


# The virtio console's chardev: the UART and the virtconsole both write to
# it (mux=on), so the report arrives on one stream whichever carries it.
CONSOLE_CHARDEV = "con0"
VIRTIO_CONSOLE = ["-chardev", f"stdio,id={CONSOLE_CHARDEV},mux=on",
                  "-serial", f"chardev:{CONSOLE_CHARDEV}",
                  "-device", "virtio-serial-pci,max_ports=1",
                  "-device", f"virtconsole,chardev={CONSOLE_CHARDEV}"]


def virtio_console(c: Config) -> bool:
    """Whether the run's report goes through a virtio console (console=hvc0),
    one exit per line where the UART takes one or more a byte (issue #16):
    a -kernel boot of a PCI machine with the default serial setup and no
    console= or serial_pace= of its own. ISO boots (the command line is
    grub.cfg's), PVH and the runs that choose their consoles keep the UART."""
    return (not c.iso and not c.pvh and c.machine.split(",")[0] in ("pc", "q35")
            and "-serial" not in c.extra
            and not re.search(r"(?:^|\s)(?:console|serial_pace)=", c.cmdline))


def command(c: Config, vars_file: Optional[str]) -> list[str]:
    # Extra -serial options replace ours: they give every port (e.g.
    # "-serial null -serial stdio" puts the report on COM2).
    vcon = virtio_console(c)
    serial = VIRTIO_CONSOLE if vcon else [] if "-serial" in c.extra else ["-serial", "stdio"]
    cmd = ["qemu-system-x86_64", "-machine", f"{c.machine},accel={c.accel}",
           "-cpu", c.cpu, "-smp", str(c.smp), "-m", c.memory,
           "-display", "none", *serial, "-monitor", "none",
           "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if c.firmware == "qboot":
        cmd += ["-bios", QBOOT]
    elif c.firmware == "ovmf":
        cmd += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                "-drive", f"if=pflash,format=raw,file={vars_file}"]
    if c.iso:
        cmd += ["-cdrom", c.iso, "-boot", "d"]
    else:
        cmd += ["-kernel", pvh_image(c.kernel) if c.pvh else c.kernel]
        cmdline = (c.cmdline + " console=hvc0").strip() if vcon else c.cmdline
        if cmdline:
            cmd += ["-append", cmdline]
    return cmd + list(c.extra)


def no_serial(c: Config) -> bool:
    """The configuration gives the guest no serial port on our stdout
    ("-serial none" and no stdio port): only the exit code reports."""
    return "-serial" in c.extra and not any(re.match(r"(?:mon:)?stdio(?:,|$)", x) for x in c.extra)


def judge_exit(status: Optional[int], timed_out: bool, timeout: float,
               stderr: str) -> tuple[str, str]:
    """The verdict of a run without a serial report: the exit code's."""
    if timed_out:
        return "ERROR", f"timed out after {timeout:g} s (no serial port)"
    guest = GUEST_EXIT.get(status if status is not None else -1)
    if guest is None:
        why = _qemu_error(stderr)
        return "ERROR", f"QEMU exited with {status}{': ' + why if why else ''} (no serial port)"
    return guest, "no serial port: the verdict is the exit code's"


def _qemu_error(stderr: str) -> str:
    for line in stderr.splitlines():
        if "internal error" in line or "emulation failure" in line:
            return line.strip()
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()
             and "warning:" not in ln]
    return lines[-1] if lines else ""


def run(cfg: Config, live: bool = True,
        on_line: Optional[Callable[[str], None]] = None,
        on_start: Optional[Callable[[subprocess.Popen], None]] = None) -> RunResult:
    """Boots one configuration, streaming the serial output when live;
    on_line, when given, sees every serial line as it arrives, and
    on_start the QEMU process once it runs."""
    c, err = resolve(cfg)
    start = time.monotonic()
    if err:
        return RunResult(asdict(c), c.accel, [], "ERROR", err, None, 0.0, [], "",
                         ktap.Report())
    tmp = tempfile.mkdtemp(prefix="tickscope-")
    vars_file = None
    if c.firmware == "ovmf":
        vars_file = os.path.join(tmp, "OVMF_VARS.fd")
        shutil.copyfile(OVMF_VARS, vars_file)
    truth = known_truth(c)
    if truth.get("tsc_hz") and "tsc_hz=" not in c.cmdline:
        c.cmdline = (c.cmdline + f" tsc_hz={truth['tsc_hz']}").strip()
        unc = truth.get("unc_ppb", 0)
        if unc and "tsc_unc_ppb=" not in c.cmdline:
            c.cmdline += f" tsc_unc_ppb={unc}"
        raw = truth.get("host", {}).get("raw_hz", 0)
        if raw and "tsc_raw_hz=" not in c.cmdline:
            c.cmdline += f" tsc_raw_hz={raw}"
    cmd = command(c, vars_file)
    shot: dict[str, object] = {}
    if c.screen:
        cmd, on_line = _screen_hook(cmd, tmp, shot, on_line)
    elif c.vga_at:
        cmd, on_line = _vga_hook(cmd, tmp, shot, on_line, c.vga_at)
    launched = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        return RunResult(asdict(c), c.accel, cmd, "ERROR", f"cannot start QEMU: {e}",
                         None, 0.0, [], "", ktap.Report())
    if on_start:
        on_start(proc)
    status, timed_out, lines, times, stderr = _collect(proc, c.timeout, live, on_line)
    exited = time.monotonic()
    shutil.rmtree(tmp, ignore_errors=True)
    # QEMU's -kernel loader notes our multiboot1 video request on every
    # boot ("multiboot knows VBE. we don't"): not a message about the run.
    stderr = "".join(ln for ln in stderr.splitlines(keepends=True) if "knows VBE" not in ln)
    duration = time.monotonic() - start
    rep = ktap.parse(lines)
    if no_serial(c):
        verdict, reason = judge_exit(status, timed_out, c.timeout, stderr)
    else:
        verdict, reason = judge(rep, status, timed_out, c.timeout, stderr)
    ppm, vga_mem = shot.get("ppm", b""), shot.get("vga", b"")
    return RunResult(asdict(c), c.accel, cmd, verdict, reason, status, duration, lines,
                     stderr, rep, ppm if isinstance(ppm, bytes) else b"",
                     str(shot.get("error", "" if ppm or vga_mem else
                                  "the kernel never said # hold:" if c.screen else
                                  f"no serial line matched /{c.vga_at}/")),
                     vga_mem if isinstance(vga_mem, bytes) else b"",
                     truth, times=times, launched=launched, exited=exited)


def known_truth(c: "Config") -> dict:
    """What the run's kernel is told the TSC rate is (tsc_hz=, 0 for none),
    how well (unc_ppb, 1 sigma: 0 for an exact answer) and why: the
    configuration's own tsc_hz=, nothing for an ISO (its command line is
    fixed), else known_tsc_hz with the host's clocks."""
    given = re.search(r"(?:^|\s)tsc_hz=(\d+)", c.cmdline)
    if given:
        return {"tsc_hz": int(given.group(1)), "why": "tsc_hz= given by the configuration"}
    if c.iso:
        return {"tsc_hz": 0, "why": "ISO boot: the command line is fixed, no tsc_hz="}
    hz, why = known_tsc_hz(c)
    out: dict = {"tsc_hz": hz, "why": why}
    if hz and "-icount" not in " ".join(c.extra):
        h = host_tsc()
        out["host"] = h.as_dict()
        out["unc_ppb"] = int(round(h.unc_ppm * 1000))
    return out


def _screen_hook(cmd: list[str], tmp: str, shot: dict[str, object],
                 on_line: Optional[Callable[[str], None]]
                 ) -> tuple[list[str], Callable[[str], None]]:
    """QEMU options and a serial-line hook for a screendump: the kernel is
    told (through fw_cfg, which reaches an ISO boot too) to hold its
    finished screen; at its "# hold:" line we take the picture through
    QMP and press a key, and the run ends as usual."""
    sock = os.path.join(tmp, "qmp.sock")
    ppm = os.path.join(tmp, "screen.ppm")
    vga = os.path.join(tmp, "vga.bin")
    cmd = cmd + ["-qmp", f"unix:{sock},server=on,wait=off",
                 "-fw_cfg", f"name={FWCFG_CMDLINE},string=hold={SCREEN_HOLD_S}"]

    def hook(line: str) -> None:
        if on_line:
            on_line(line)
        if not line.startswith("# hold:") or "ppm" in shot:
            return
        try:
            q = QMP(sock)
            q.cmd("screendump", filename=ppm)
            with open(ppm, "rb") as f:
                shot["ppm"] = f.read()
            # In VGA text mode the picture is QEMU's font, not ours: the
            # text memory itself is the exact record of the screen.
            q.cmd("pmemsave", val=VGA_TEXT, size=VGA_TEXT_SIZE, filename=vga)
            with open(vga, "rb") as f:
                shot["vga"] = f.read()
            q.cmd("send-key", keys=[{"type": "qcode", "data": "spc"}])
            q.close()
        except (OSError, RuntimeError, ValueError) as e:
            shot["error"] = f"screendump failed: {e}"
    return cmd, hook


def _vga_hook(cmd: list[str], tmp: str, shot: dict[str, object],
              on_line: Optional[Callable[[str], None]], at: str
              ) -> tuple[list[str], Callable[[str], None]]:
    """QEMU options and a serial-line hook that, at the first line matching
    at, copies the VGA text memory through QMP and quits QEMU: for a
    kernel that says why it stopped on serial and screen, then halts."""
    sock = os.path.join(tmp, "qmp.sock")
    vga = os.path.join(tmp, "vga.bin")
    cmd = cmd + ["-qmp", f"unix:{sock},server=on,wait=off"]

    def hook(line: str) -> None:
        if on_line:
            on_line(line)
        if "vga" in shot or "error" in shot or not re.search(at, line):
            return
        try:
            q = QMP(sock)
            # The kernel writes serial first: the screen may still be
            # being written when the line arrives (give it 2 s).
            for _ in range(40):
                q.cmd("pmemsave", val=VGA_TEXT, size=VGA_TEXT_SIZE, filename=vga)
                with open(vga, "rb") as f:
                    shot["vga"] = f.read()
                if re.search(at, bytes(shot["vga"][0::2]).decode("latin-1")):
                    break
                time.sleep(0.05)
            q.cmd("quit")
            q.close()
        except (OSError, RuntimeError, ValueError) as e:
            shot["error"] = f"reading the VGA text memory failed: {e}"
    return cmd, hook


def _collect(proc: subprocess.Popen, timeout: float, live: bool,
             on_line: Optional[Callable[[str], None]]
             ) -> tuple[Optional[int], bool, list[str], list[float], str]:
    """Reads QEMU's serial output and stderr until it exits or the timeout
    kills it: (exit status, timed out, serial lines, their arrival times,
    stderr)."""
    lines: list[str] = []
    times: list[float] = []
    errbuf: list[bytes] = []

    def pump_out() -> None:
        assert proc.stdout
        for raw in proc.stdout:
            text = raw.decode("utf-8", "replace")
            times.append(time.monotonic())
            lines.append(text)
            if on_line:
                on_line(ktap.clean(text))
            if live:
                sys.stdout.write(ktap.clean(text) + "\n")
                sys.stdout.flush()

    def pump_err() -> None:
        assert proc.stderr
        errbuf.append(proc.stderr.read())

    threads = [threading.Thread(target=pump_out, daemon=True),
               threading.Thread(target=pump_err, daemon=True)]
    for t in threads:
        t.start()
    timed_out = False
    try:
        status: Optional[int] = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        status = proc.wait()
    for t in threads:
        t.join(timeout=5)
    return status, timed_out, lines, times, b"".join(errbuf).decode("utf-8", "replace")


def judge(rep: ktap.Report, status: Optional[int], timed_out: bool, timeout: float,
          stderr: str) -> tuple[str, str]:
    """The run's verdict from the parsed report and how QEMU ended."""
    if timed_out:
        return "ERROR", f"timed out after {timeout:g} s" + (
            "" if rep.root else " before the KTAP header")
    if rep.root is None:
        if status in GUEST_STOP:
            return "ERROR", f"no KTAP report: {GUEST_STOP[status]} (QEMU status {status})"
        why = _qemu_error(stderr)
        return "ERROR", f"no KTAP report (QEMU status {status}{': ' + why if why else ''})"
    if rep.bail_out is not None:
        return "ERROR", f"kernel bailed out: {rep.bail_out}"
    if not rep.complete():
        why = _qemu_error(stderr)
        return "ERROR", f"report incomplete (QEMU status {status}{': ' + why if why else ''})"
    if rep.duplicates():
        return "ERROR", "result names not unique (our defect): " + ", ".join(rep.duplicates()[:8])
    guest = GUEST_EXIT.get(status if status is not None else -1)
    verdict = rep.verdict()
    if guest is None:
        return "ERROR", f"QEMU exited with {status}, not through isa-debug-exit"
    want = "PASS" if verdict == "SKIP" else verdict
    if guest != want:
        return "ERROR", f"exit code says {guest} but the report says {verdict}"
    return verdict, ""
