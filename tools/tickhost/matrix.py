"""The configuration matrix (tools/matrix.cfg) and the checks each entry
carries. It reads the file and judges a finished run against its entry; it
must not start QEMU itself (callers run the entries).

Each section of the file is one configuration:

    [name]
    emulator = qemu | bochs              (bochs: tickhost.bochs boots it in Bochs, where
                                         cpu is a Bochs CPU model, boot = iso boots the ISO
                                         as it is, and a kernel boot gets an ISO made with
                                         its cmdline; accel, firmware, machine, qemu and
                                         screen do not apply)
    bochs_sync = none | realtime | slowdown | both    Bochs's `clock: sync=`
    accel    = auto | kvm | tcg          (kvm entries are skipped without KVM)
    kvm_caps = hyperv, hyperv_time       KVM capabilities the entry needs (host.KVM_CAPS);
                                         skipped, with the reason, where /dev/kvm lacks one
    firmware = auto | qboot | seabios | ovmf
    machine  = pc | q35 | microvm | isapc, optionally with ,property=value...
               (e.g. microvm,acpi=on)
    boot     = kernel | iso | pvh        (pvh: the kernel's PVH image, qemu.pvh_image)
    cmdline  = kernel command line (kernel boots only)
    cpu, smp, memory, timeout
    qemu     = extra QEMU arguments ({root} is the repository's top, {spcr_com2}
               an SPCR table naming COM2, written by tickhost.spcr)
    verdict  = the expected verdict of the run's device tests (every test outside the
               `host` suite, whose findings are about the host); default PASS
    exit     = N                         QEMU's exit status must be N (e.g. 7: the
                                         kernel stopped on a CPU it cannot run on)
    expect   = path-glob=RESULT[|RESULT], ...   e.g. irq.pit_ioapic=SKIP
    rest     = RESULT                    every device test no expect glob names must
                                         have it (makes an entry exact: rest = PASS)
    measure  = name OP value, ...        OP: == != < <= > >= ; |x| with abs
    output   = regex ; regex             must each match some serial line
    stderr   = empty                     the emulator said nothing about the guest (QEMU:
                                         stderr; Bochs: its log's error and panic lines)
    golden   = NAME                      the run's test and measurement names must
                                         be those of tests/golden/NAME.names
    screen   = check                     take a screendump of the finished dashboard,
                                         decode it with the kernel's font (or read
                                         the VGA text memory) and check the summary
                                         on it against serial
    vga      = regex                     when a serial line matches it, the VGA text
                                         memory is read and QEMU stopped; a screen line
                                         must match it too (a message on both)
    soak     = yes | test                in `tickscope soak`'s default set; `test`:
                                         also in make test's short soak (which then
                                         runs it instead of a single boot)
"""
from __future__ import annotations

import configparser
import fnmatch
import operator
import re
import shlex
from dataclasses import dataclass, field
from typing import Callable, Optional

from . import bochs, host, ktap, paths, qemu, screenshot, spcr, stability
from .numfmt import fixed

DEFAULT_FILE = paths.MATRIX_FILE
_OPS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge,
    "<": operator.lt, ">": operator.gt}
_MEASURE_CHECK = re.compile(r"(abs\s+)?([A-Za-z0-9_.\-]+)\s*(==|!=|<=|>=|<|>)\s*(-?[\d.]+)$")


@dataclass
class Entry:
    config: qemu.Config
    verdict: str = "PASS"
    expect: list[tuple[str, str]] = field(default_factory=list)
    measure: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)
    golden: str = ""              # tests/golden/<golden>.names, "" for none
    screen: bool = False          # check the screendump against the serial summary
    soak: str = ""                # "", "yes" or "test" (see the module's doc)
    rest: str = ""                # the result of device tests no expect names
    quiet: bool = False           # stderr = empty
    exit: Optional[int] = None    # QEMU's expected exit status, None for any
    kvm_caps: list[str] = field(default_factory=list)   # KVM capabilities needed


def split(text: str, sep: str = ",") -> list[str]:
    """The items of a comma-separated (or sep-separated) value, which may
    run over several lines."""
    return [p.strip() for p in text.replace("\n", " ").split(sep) if p.strip()]


def config_of(name: str, s: configparser.SectionProxy, kernel: str, iso: Optional[str] = None,
              accel: str = "auto") -> qemu.Config:
    """The QEMU configuration a section describes (the keys of this module's
    doc); accel is the default when the section names none."""
    emulator = s.get("emulator", "qemu")
    return qemu.Config(
        name=name, accel=s.get("accel", accel), firmware=s.get("firmware", "auto"),
        machine=s.get("machine", "pc"), kernel=kernel,
        iso=iso if s.get("boot", "kernel") == "iso" else None,
        pvh=s.get("boot", "kernel") == "pvh",
        cmdline=" ".join(s.get("cmdline", "").split()), cpu=s.get("cpu", ""),
        smp=s.getint("smp", 1),
        memory=s.get("memory", "128M"),
        timeout=s.getfloat("timeout", bochs.DEFAULT_TIMEOUT if emulator == "bochs" else 120.0),
        extra=shlex.split(_expand(s.get("qemu", ""))),
        screen=s.get("screen", "") == "check", vga_at=s.get("vga", "").strip(),
        emulator=emulator, bochs_sync=s.get("bochs_sync", "none"))


def _expand(text: str) -> str:
    text = text.replace("{root}", paths.ROOT)
    return text.replace("{spcr_com2}", spcr.write()) if "{spcr_com2}" in text else text


def read(path: str) -> configparser.ConfigParser:
    """A configurations file (matrix or faults), sections as written;
    FileNotFoundError when it cannot be read."""
    cp = configparser.ConfigParser(interpolation=None)
    if not cp.read(path):
        raise FileNotFoundError(path)
    return cp


def load(path: str, kernel: str, iso: str) -> list[Entry]:
    cp = read(path)
    entries = []
    for name in cp.sections():
        s = cp[name]
        cfg = config_of(name, s, kernel, iso)
        expect = []
        for item in split(s.get("expect", "")):
            glob, _, result = item.partition("=")
            expect.append((glob.strip(), result.strip().upper()))
        entries.append(Entry(cfg, s.get("verdict", "PASS").upper(), expect,
                             split(s.get("measure", "")), split(s.get("output", ""), ";"),
                             s.get("golden", "").strip(), cfg.screen, s.get("soak", "").strip(),
                             s.get("rest", "").strip().upper(),
                             _quiet(name, s.get("stderr", "")),
                             s.getint("exit") if s.get("exit") else None,
                             split(s.get("kvm_caps", ""))))
    return entries


def _quiet(name: str, value: str) -> bool:
    if value.strip() not in ("", "empty"):
        raise ValueError(f"[{name}] stderr = {value.strip()!r}: only `empty` is known")
    return value.strip() == "empty"


def unmet(entry: Entry) -> str:
    """Why the entry cannot run on this host ("" when it can): KVM not
    usable for a kvm entry, or a KVM capability it needs missing."""
    if entry.config.accel != "kvm" and not entry.kvm_caps:
        return ""
    usable, why = host.kvm_usable()
    if not usable:
        return f"KVM not usable: {why}"
    ok, why = host.kvm_offers(entry.kvm_caps)
    return "" if ok else why


def device_verdict(r: qemu.RunResult) -> str:
    """The run's verdict over its device tests (host findings left out); a
    run that broke (no complete report, QEMU died) is ERROR whatever it says."""
    if r.verdict == "ERROR" and (r.reason or not r.report.complete()):
        return "ERROR"
    results = {n.result for n in r.report.leaves() if not stability.is_host(n.path)}
    for v in ("ERROR", "FAIL", "PASS"):
        if v in results:
            return v
    return "SKIP" if results else r.verdict


def check(entry: Entry, r: qemu.RunResult) -> list[str]:
    """Problems with a run against its entry's expectations ([] = good)."""
    problems = []
    verdict = device_verdict(r)
    if verdict not in entry.verdict.split("|"):
        problems.append(f"verdict {verdict} (expected {entry.verdict})"
                        + (f": {r.reason}" if r.reason else ""))
        judged = entry.rest or ""
        for n in r.report.leaves():
            if judged or any(fnmatch.fnmatchcase(n.path, g) for g, _ in entry.expect):
                continue    # the expect and rest checks below name it
            if n.result in ("FAIL", "ERROR") and n.result != entry.verdict \
                    and not stability.is_host(n.path):
                why = [d for d in n.diagnostics if d.startswith("FAIL:")] or [n.reason]
                problems.append(f"{n.path} {n.result}: {why[-1]}")
    if entry.exit is not None and r.qemu_status != entry.exit:
        problems.append(f"QEMU exited with {r.qemu_status} (expected {entry.exit})")
    leaves = r.report.leaves()
    for glob, want in entry.expect:
        hits = [n for n in leaves if fnmatch.fnmatchcase(n.path, glob)]
        if not hits:
            problems.append(f"no test matches {glob}")
        for n in hits:
            if n.result not in want.split("|"):
                problems.append(f"{n.path} is {n.result} (expected {want})" + _why(n))
    if entry.rest:
        named = [n for n in leaves if not stability.is_host(n.path)
                 and not any(fnmatch.fnmatchcase(n.path, g) for g, _ in entry.expect)]
        for n in named:
            if n.result not in entry.rest.split("|"):
                problems.append(f"{n.path} is {n.result} (expected {entry.rest}, as every "
                                "test not named)" + _why(n))
    for spec in entry.measure:
        m = _MEASURE_CHECK.match(spec)
        if not m:
            problems.append(f"bad measure check {spec!r}")
            continue
        use_abs, name, op, value = m.groups()
        got = r.report.measure(name)
        if got is None:
            problems.append(f"measurement {name} missing")
            continue
        v = abs(got.value) if use_abs else got.value
        if not _OPS[op](v, float(value)):
            problems.append(f"{name} = {fixed(got.value)} fails {spec}")
    if entry.screen:
        problems += [f"screen: {p}" for p in
                     screenshot.judge(r.screen_ppm, r.screen_error, r.lines,
                                      r.screen_vga)[0]]
    if entry.quiet and r.stderr.strip():
        said = r.stderr.strip().splitlines()
        problems.append(f"the emulator said {len(said)} line(s) about the guest, the first: "
                        f"{said[0].strip()[:200]}")
    if entry.config.vga_at:
        screen = screenshot.text(screenshot.vga_grid(r.screen_vga[:qemu.VGA_TEXT_SIZE]))
        if not any(re.search(entry.config.vga_at, ln) for ln in screen):
            problems.append(f"no VGA text line matches /{entry.config.vga_at}/"
                            + (f" ({r.screen_error})" if not r.screen_vga else ""))
    text = [ln.rstrip("\n") for ln in r.lines]
    for rx in entry.output:
        if not any(re.search(rx, ln) for ln in text):
            problems.append(f"no output line matches /{rx}/")
    return problems


def _why(n: ktap.Node) -> str:
    """': ' and the test's FAIL line or SKIP/ERROR reason, or ''."""
    fails = [d for d in n.diagnostics if d.startswith("FAIL:")]
    why = fails[-1] if fails else n.reason
    return f": {why}" if why else ""
