#!/usr/bin/env python3
"""Seed corpora from real firmware: boots the kernel with `fwdump` on its
command line under QEMU (or reads a serial log, e.g. from Bochs), and
turns the hexdumped multiboot info and ACPI tables into seed files:

  corpus/mb1/NAME, corpus/mb2/NAME   memory images (image.h) of the info
  corpus/acpi/NAME                   image: EBDA pointer, RSDP, tables
  corpus/madt|fadt|hpet/NAME         the raw table
  corpus/cmdline/NAME                the command line the loader passed

  fwdump.py [--only NAME] [CONFIG...]   boot configurations (default: all)
  fwdump.py --log FILE --name NAME      read a serial log instead
A seed identical to one already in its directory is not written again.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import fwimage

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
BUILD = os.path.join(ROOT, "build", "fwdump")
KERNEL = "build/tickscope.elf"     # relative: the command line shows it
CMDLINE = "fwdump test=platform.cpu"
QBOOT = "/usr/share/qemu/qboot.rom"
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd"
MAX_OWN = 7        # image.h: IMAGE_MAX_OWN
BIOS_AREA = (0xE0000, 0x100000)

# name: (machine, firmware, boot) with boot "kernel", "mb1" or "mb2" (GRUB ISO)
CONFIGS = {
    "qemu-pc": ("pc", "seabios", "kernel"),
    "qemu-q35": ("q35", "seabios", "kernel"),
    "qemu-pc-qboot": ("pc", "qboot", "kernel"),
    "qemu-microvm": ("microvm,acpi=on", "qboot", "kernel"),
    "grub-pc-mb1": ("pc", "seabios", "mb1"),
    "grub-pc-mb2": ("pc", "seabios", "mb2"),
    "grub-q35-ovmf-mb2": ("q35", "ovmf", "mb2"),
    "bochs-mb2": ("bochs", "bochs", "mb2"),
    "bochs-mb1": ("bochs", "bochs", "mb1"),
}

# Bochs 2.7 (Debian bochs, bochsbios, vgabios): its own BIOS and ACPI
# tables. No isa-debug-exit: the kernel halts, and is stopped once its
# report has ended. The Debian build starts in its debugger: "c" goes on.
BOCHSRC = """megs: 128
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
cpu: model=corei7_sandy_bridge_2600k, ips=50000000
ata0-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev={serial}
display_library: rfb, options="timeout=0"
speaker: enabled=0
log: {log}
panic: action=report
clock: sync=none, time0=946684800
"""

GRUB_CFG = """serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
menuentry "fwdump" {{
	{cmd} /boot/tickscope.elf {args}
	boot
}}
"""

_BEGIN = re.compile(r"# fwdump: begin (\S+) 0x([0-9a-f]+) (\d+)")
_HEX = re.compile(r"# fwdump: ([0-9a-f]+)\s*$")


def parse(lines: list[str]) -> list[tuple[str, int, bytes]]:
    """The (kind, address, bytes) blobs of a serial log."""
    blobs, cur = [], None
    for line in lines:
        m = _BEGIN.search(line)
        if m:
            cur = (m.group(1), int(m.group(2), 16), int(m.group(3)), bytearray())
            continue
        if cur is None:
            continue
        if "# fwdump: end" in line:
            kind, addr, n, data = cur
            if len(data) == n:
                blobs.append((kind, addr, bytes(data)))
            else:
                print(f"  {kind} at {addr:#x}: {len(data)} of {n} bytes, dropped")
            cur = None
            continue
        h = _HEX.search(line)
        if h:
            cur[3].extend(bytes.fromhex(h.group(1)))
    return blobs


def iso(boot: str) -> str:
    """A GRUB ISO whose one entry boots the kernel with fwdump."""
    path = os.path.join(BUILD, f"fwdump-{boot}.iso")
    tree = os.path.join(BUILD, f"iso-{boot}")
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(os.path.join(tree, "boot", "grub"))
    shutil.copy(os.path.join(ROOT, KERNEL), os.path.join(tree, "boot", "tickscope.elf"))
    with open(os.path.join(tree, "boot", "grub", "grub.cfg"), "w") as f:
        f.write(GRUB_CFG.format(cmd="multiboot2" if boot == "mb2" else "multiboot",
                                args=CMDLINE))
    subprocess.run(["grub-mkrescue", "-o", path, tree], check=True, capture_output=True)
    return path


def boot_bochs(name: str, how: str) -> list[str]:
    """Boots a GRUB ISO under Bochs; its serial lines."""
    os.makedirs(BUILD, exist_ok=True)
    serial = os.path.join(BUILD, f"{name}.log")
    rc = os.path.join(BUILD, f"{name}.bochsrc")
    with open(rc, "w") as f:
        f.write(BOCHSRC.format(iso=iso(how), serial=serial,
                               log=os.path.join(BUILD, f"{name}.bochs.log")))
    if os.path.exists(serial):
        os.remove(serial)
    p = subprocess.Popen(["bochs", "-q", "-f", rc], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert p.stdin is not None
    p.stdin.write(b"c\n")
    p.stdin.flush()
    text = ""
    try:
        for _ in range(600):
            time.sleep(0.5)
            if os.path.exists(serial):
                with open(serial, encoding="latin-1") as f:
                    text = f.read()
            if "# tickscope: halted" in text or p.poll() is not None:
                break
    finally:
        p.kill()
        p.wait()
    return text.splitlines()


def boot(name: str) -> list[str]:
    """Boots one configuration under TCG (or Bochs); its serial lines."""
    machine, firmware, how = CONFIGS[name]
    if firmware == "bochs":
        return boot_bochs(name, how)
    cmd = ["qemu-system-x86_64", "-machine", f"{machine},accel=tcg", "-m", "128M",
           "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    tmp = tempfile.mkdtemp()
    if firmware == "qboot":
        cmd += ["-bios", QBOOT]
    elif firmware == "ovmf":
        shutil.copy(OVMF_VARS, os.path.join(tmp, "vars.fd"))
        cmd += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                "-drive", f"if=pflash,format=raw,file={os.path.join(tmp, 'vars.fd')}"]
    if how == "kernel":
        cmd += ["-kernel", KERNEL, "-append", CMDLINE]
    else:
        cmd += ["-cdrom", iso(how), "-boot", "d"]
    try:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=300)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = r.stdout.decode("latin-1")
    os.makedirs(BUILD, exist_ok=True)
    with open(os.path.join(BUILD, f"{name}.log"), "w") as f:
        f.write(out)
    return out.splitlines()


def write(target: str, name: str, data: bytes) -> None:
    """Writes a seed unless the same bytes are already there."""
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        with open(os.path.join(d, f), "rb") as g:
            if g.read() == data:
                print(f"  {target}/{name}: same as {f}, skipped")
                return
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    print(f"  {target}/{name}: {len(data)} bytes")


def fit(segs: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """Joins segments outside the BIOS area that (nearly) touch, zero-
    filling the gaps, until they fit the image's own regions."""
    def in_bios(s: tuple[int, bytes]) -> bool:
        return BIOS_AREA[0] <= s[0] and s[0] + len(s[1]) <= BIOS_AREA[1]
    bios = [s for s in segs if in_bios(s)]
    own = sorted(s for s in segs if not in_bios(s))
    gap = 0
    while len(own) > MAX_OWN and gap <= 0x10000:
        gap = gap * 2 if gap else 64
        out: list[tuple[int, bytearray]] = []
        for a, d in own:
            if out and a - (out[-1][0] + len(out[-1][1])) <= gap:
                pa, pd = out[-1]
                end = max(pa + len(pd), a + len(d))
                pd.extend(b"\0" * (end - pa - len(pd)))
                pd[a - pa:a - pa + len(d)] = d
            else:
                out.append((a, bytearray(d)))
        own = [(a, bytes(d)) for a, d in out]
    return bios + own[:MAX_OWN]


def seeds(name: str, blobs: list[tuple[str, int, bytes]]) -> None:
    """Writes every seed one dump yields."""
    by_kind: dict[str, list[tuple[int, bytes]]] = {}
    for kind, addr, data in blobs:
        by_kind.setdefault(kind, []).append((addr, data))
    one = {k: v[0] for k, v in by_kind.items()}
    if "mb1-info" in one:
        segs = [one[k] for k in ("mb1-info", "mb1-cmdline", "mb1-loader", "mb1-mmap") if k in one]
        write("mb1", name, fwimage.image(0, segs))
        if "mb1-cmdline" in one:
            write("cmdline", name, one["mb1-cmdline"][1].rstrip(b"\0"))
    if "mb2-info" in one:
        addr, info = one["mb2-info"]
        write("mb2", name, fwimage.image(0, [(addr, info)]))
        off = 8
        while off + 8 <= len(info):
            typ, size = struct.unpack_from("<II", info, off)
            if typ == 0 or size < 8:
                break
            if typ == 1:
                write("cmdline", name, info[off + 8:off + size].rstrip(b"\0"))
            off += (size + 7) & ~7
    tables = by_kind.get("table", [])
    if tables:
        if "rsdp-copy" in one:
            segs = [(0, one["rsdp-copy"][1])] + fit(tables)
            flags = fwimage.IMAGE_RSDP_COPY
        else:
            segs = fit([one[k] for k in ("ebda-ptr", "rsdp") if k in one] + tables)
            flags = 0
        write("acpi", name, fwimage.image(flags, segs))
    for _, t in tables:
        target = {b"APIC": "madt", b"FACP": "fadt", b"HPET": "hpet"}.get(t[:4])
        if target:
            write(target, name, t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="*", help=f"of: {', '.join(CONFIGS)}")
    ap.add_argument("--log", help="a serial log to read instead of booting")
    ap.add_argument("--name", help="seed name for --log")
    a = ap.parse_args()
    if a.log:
        if not a.name:
            ap.error("--log needs --name")
        with open(a.log, encoding="latin-1") as f:
            seeds(a.name, parse(f.read().splitlines()))
        return 0
    if not os.path.exists(os.path.join(ROOT, KERNEL)):
        print(f"{KERNEL} is missing: run make first")
        return 1
    for name in a.configs or list(CONFIGS):
        print(f"{name}:", flush=True)
        blobs = parse(boot(name))
        if not blobs:
            print(f"  no dump (see build/fwdump/{name}.log)")
            continue
        seeds(name, blobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
