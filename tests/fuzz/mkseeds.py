#!/usr/bin/env python3
"""Hand-made edge cases for the fuzz corpora: truncated structures, bad
checksums, zero and oversized lengths, huge counts, unterminated strings.
Writes tests/fuzz/corpus/TARGET/edge-NAME (deterministic; rerun after a
change and commit what differs)."""
from __future__ import annotations

import os
import struct
import sys

import fwimage as fw
from fwimage import image, sdt

HERE = os.path.dirname(os.path.abspath(__file__))
TBL = 0x7FE0000          # where QEMU pc puts its tables (128 MiB guest)
BIOS = 0xE0000
MB_INFO = 0x9500
FIX = fw.IMAGE_FIX_CHECKSUMS
COPY = fw.IMAGE_RSDP_COPY


def u32(v: int) -> bytes:
    return struct.pack("<I", v)


# ---- multiboot 1 ----

def mb1_info(flags: int, **fields: int) -> bytes:
    """A 116-byte multiboot1 info structure with the given u32 fields."""
    offs = {"mem_lower": 4, "mem_upper": 8, "cmdline": 16, "mmap_length": 44,
            "mmap_addr": 48, "loader": 64}
    b = bytearray(116)
    b[0:4] = u32(flags)
    for k, v in fields.items():
        b[offs[k]:offs[k] + 4] = u32(v)
    return bytes(b)


def mmap1(entries: list[tuple[int, int, int]], size: int = 20) -> bytes:
    return b"".join(u32(size) + struct.pack("<QQI", b, n, t) for b, n, t in entries)


MB1_CMD, MB1_MMAP = 1 << 2, 1 << 6
MB1_LOADER, MB1_FB, MB1_MEM = 1 << 9, 1 << 12, 1 << 0


def mb1_cases() -> dict[str, bytes]:
    ram = [(0, 0x9FC00, 1), (0x100000, 0x7EE0000, 1)]
    return {
        "truncated-info": image(0, [(MB_INFO, mb1_info(MB1_CMD)[:40])]),
        "info-at-zero": image(0, [(0, mb1_info(MB1_MEM))]),
        "mem-only": image(0, [(MB_INFO, mb1_info(MB1_MEM, mem_lower=639, mem_upper=0xFFFFFFFF))]),
        "cmdline-nowhere": image(0, [(MB_INFO, mb1_info(MB1_CMD, cmdline=0x12345678))]),
        "cmdline-unterminated-at-end": image(0, [
            (MB_INFO, mb1_info(MB1_CMD | MB1_LOADER, cmdline=0x200000, loader=0x300000)),
            (0x200000, b"k.elf " + b"x" * 700), (0x300000, b"GRUB" * 20)]),
        "cmdline-non-ascii": image(0, [
            (MB_INFO, mb1_info(MB1_CMD, cmdline=0x200000)),
            (0x200000, "k.elf test=é\xff\x01 hz=٣\0".encode("utf-8", "surrogateescape"))]),
        "mmap-entry-size-0": image(0, [
            (MB_INFO, mb1_info(MB1_MMAP, mmap_length=48, mmap_addr=0x9000)),
            (0x9000, mmap1(ram, size=0))]),
        "mmap-entry-size-huge": image(0, [
            (MB_INFO, mb1_info(MB1_MMAP, mmap_length=48, mmap_addr=0x9000)),
            (0x9000, mmap1(ram[:1]) + u32(0xFFFFFFF0) + bytes(20))]),
        "mmap-length-past-end": image(0, [
            (MB_INFO, mb1_info(MB1_MMAP, mmap_length=0x10000, mmap_addr=0x200000)),
            (0x200000, mmap1(ram))]),
        "mmap-length-huge": image(0, [
            (MB_INFO, mb1_info(MB1_MMAP, mmap_length=0xFFFFFFFF, mmap_addr=0x9000)),
            (0x9000, mmap1(ram))]),
        "mmap-70-entries": image(0, [
            (MB_INFO, mb1_info(MB1_MMAP, mmap_length=70 * 24, mmap_addr=0x200000)),
            (0x200000, mmap1([(i << 20, 1 << 20, 1) for i in range(70)]))]),
        "fb-flag-short-info": image(0, [(0x200000, mb1_info(MB1_FB)[:90])]),
    }


# ---- multiboot 2 ----

def tag(typ: int, payload: bytes, size: int | None = None) -> bytes:
    n = 8 + len(payload) if size is None else size
    t = u32(typ) + u32(n) + payload
    return t + bytes(-len(t) % 8)


def mb2(tags: list[bytes], total: int | None = None, end: bool = True) -> bytes:
    body = b"".join(tags) + (tag(0, b"") if end else b"")
    n = 8 + len(body) if total is None else total
    return u32(n) + u32(0) + body


def mmap2(esize: int, entries: list[tuple[int, int, int]]) -> bytes:
    e = b"".join(struct.pack("<QQII", b, n, t, 0).ljust(esize, b"\0")[:max(esize, 0)]
                 for b, n, t in entries)
    return u32(esize) + u32(0) + e


def mb2_cases() -> dict[str, bytes]:
    at = 0x10000
    ram = [(0, 0x9FC00, 1), (0x100000, 0x7EE0000, 1)]
    rsdp1 = fw.rsdp(TBL)
    rsdp2 = fw.rsdp(TBL, TBL + 0x100)

    def img(info: bytes, addr: int = at) -> bytes:
        return image(0, [(addr, info)])
    return {
        "total-0": img(mb2([], total=0)),
        "total-7": img(mb2([], total=7)),
        "total-huge": img(mb2([], total=0x7FFFFFFF)),
        "total-past-end": img(mb2([tag(1, b"verbose\0")], total=4096)),
        "misaligned": img(mb2([tag(1, b"verbose\0")]), addr=at + 4),
        "no-end-tag": img(mb2([tag(1, b"verbose\0")], end=False)),
        "tag-size-0": img(mb2([tag(1, b"verbose\0", size=0)])),
        "tag-size-past-end": img(mb2([tag(1, b"verbose\0", size=4000)])),
        "cmdline-empty-tag": img(mb2([tag(1, b"")])),
        "cmdline-unterminated": img(mb2([tag(1, b"test=" + b"a" * 600)])),
        "loader-long": img(mb2([tag(2, b"GRUB 2.06 " * 10 + b"\0")])),
        "mmap-entry-size-0": img(mb2([tag(6, mmap2(0, []) + bytes(24))])),
        "mmap-entry-size-23": img(mb2([tag(6, mmap2(23, ram))])),
        "mmap-entry-size-huge": img(mb2([tag(6, u32(0xFFFFFFF0) + u32(0) + bytes(8))])),
        "mmap-tag-short": img(mb2([tag(6, b"", size=12)])),
        "mmap-100-entries": img(mb2([tag(6, mmap2(24, [(i << 20, 1 << 20, 1)
                                                        for i in range(100)]))])),
        "fb-tag-short": img(mb2([tag(8, bytes(12))])),
        "efi64-no-fb": img(mb2([tag(12, bytes(8))])),
        "acpi-old-short": img(mb2([tag(14, rsdp1[:12])])),
        "acpi-new-long": img(mb2([tag(15, rsdp2 + bytes(28))])),
        "acpi-old-after-new": img(mb2([tag(15, rsdp2), tag(14, rsdp1)])),
        "acpi-old-rev2-20-bytes": img(mb2([tag(14, rsdp2[:20])])),
    }


# ---- PVH start info ----

PVH_MAGIC = 0x336EC578


def pvh_info(version: int = 1, cmdline: int = 0, rsdp: int = 0, memmap: int = 0,
             entries: int = 0, magic: int = PVH_MAGIC) -> bytes:
    """struct hvm_start_info (56 bytes: version 1's size)."""
    return struct.pack("<IIIIQQQQII", magic, version, 0, 0, 0, cmdline, rsdp, memmap,
                       entries, 0)


def pvh_map(entries: list[tuple[int, int, int]]) -> bytes:
    return b"".join(struct.pack("<QQII", a, n, t, 0) for a, n, t in entries)


def pvh_cases() -> dict[str, bytes]:
    at, ram = 0x10000, [(0, 0x9FC00, 1), (0x100000, 0x7EE0000, 1)]
    rsdp2 = fw.rsdp(TBL, TBL + 0x100)
    good = [(at, pvh_info(cmdline=0x11000, rsdp=0x12000, memmap=0x13000, entries=2)),
            (0x11000, b"test=irq.*\0"), (0x12000, rsdp2), (0x13000, pvh_map(ram))]
    return {
        "good": image(0, good),
        "bad-magic": image(0, [(at, pvh_info(magic=0x1BADB002))]),
        "misaligned": image(0, [(at + 4, pvh_info())]),
        "version-0-short": image(0, [(at, pvh_info(version=0)[:40])]),
        "version-1-short": image(0, [(at, pvh_info(memmap=0x13000, entries=2)[:48])]),
        "version-99": image(0, [(at, pvh_info(version=99, memmap=0x13000, entries=2)),
                                (0x13000, pvh_map(ram))]),
        "memmap-count-huge": image(0, [(at, pvh_info(memmap=0x13000, entries=0xFFFFFFFF)),
                                       (0x13000, pvh_map(ram))]),
        "memmap-past-end": image(0, [(at, pvh_info(memmap=0x13000, entries=3)),
                                     (0x13000, pvh_map(ram))]),
        "memmap-100-entries": image(0, [(at, pvh_info(memmap=0x13000, entries=100)),
                                        (0x13000, pvh_map([(i << 20, 1 << 20, 1)
                                                           for i in range(100)]))]),
        "cmdline-unterminated": image(0, [(at, pvh_info(cmdline=0x11000)),
                                          (0x11000, b"test=" + b"a" * 600)]),
        "rsdp-short": image(0, [(at, pvh_info(rsdp=0x12000)), (0x12000, rsdp2[:16])]),
        "rsdp-rev2-20-bytes": image(0, [(at, pvh_info(rsdp=0x12000)), (0x12000, rsdp2[:20])]),
    }


# ---- ACPI walker ----

def madt(entries: bytes, lapic: int = 0xFEE00000) -> bytes:
    return sdt(b"APIC", u32(lapic) + u32(1) + entries)


def lapic(uid: int, apic: int, flags: int = 1) -> bytes:
    return bytes([0, 8, uid, apic]) + u32(flags)


GOOD_MADT = madt(lapic(0, 0) + bytes([1, 12, 0, 0]) + u32(0xFEC00000) + u32(0))
GOOD_HPET = sdt(b"HPET", fw.hpet_body(0xFED00000))
GOOD_FADT = sdt(b"FACP", bytes(40) + u32(0x608) + bytes(11) + bytes([4]) + bytes(24), rev=1)


def acpi_image(tables: list[bytes], flags: int = 0, rev2: bool = False,
               rsdp_bytes: bytes | None = None, root_bytes: bytes | None = None,
               rsdp_at: int = BIOS + 0x1000) -> bytes:
    """RSDP in the BIOS area, a root table at TBL, tables after it."""
    addrs, segs, at = [], [], TBL + 0x200
    for t in tables:
        addrs.append(at)
        segs.append((at, t))
        at += (len(t) + 15) & ~15
    if root_bytes is None:
        root_bytes = fw.root(b"XSDT" if rev2 else b"RSDT", addrs)
    if rsdp_bytes is None:
        rsdp_bytes = fw.rsdp(TBL, TBL) if rev2 else fw.rsdp(TBL)
    return image(flags, [(rsdp_at, rsdp_bytes), (TBL, root_bytes)] + segs[:6])


def acpi_cases() -> dict[str, bytes]:
    good = [GOOD_MADT, GOOD_HPET, GOOD_FADT]
    bad_rsdp = bytearray(fw.rsdp(TBL))
    bad_rsdp[8] ^= 1
    rsdp2_badext = bytearray(fw.rsdp(TBL, TBL))
    rsdp2_badext[32] ^= 1
    rsdp2_len0 = bytearray(fw.rsdp(TBL, TBL))
    rsdp2_len0[20:24] = u32(0)
    rsdp2_xsdt0 = fw.rsdp(TBL, 0)
    rsdt_self = fw.root(b"RSDT", [TBL] * 4)
    many = fw.root(b"RSDT", [TBL + 0x2000] * 1000)
    entry1 = u32(TBL + 0x200)
    rsdt1 = fw.root(b"RSDT", [TBL + 0x200])
    return {
        "good-rsdt": acpi_image(good),
        "good-xsdt": acpi_image(good, rev2=True),
        "rsdp-bad-checksum": acpi_image(good, rsdp_bytes=bytes(bad_rsdp)),
        "rsdp2-bad-ext-checksum": acpi_image(good, rsdp_bytes=bytes(rsdp2_badext)),
        "rsdp2-length-0": acpi_image(good, rsdp_bytes=bytes(rsdp2_len0)),
        "rsdp2-xsdt-0": acpi_image(good, rsdp_bytes=rsdp2_xsdt0),
        "rsdp-end-of-bios-area": acpi_image(good, rsdp_at=0xFFFE0),
        "rsdp-in-ebda": image(0, [(0x40E, struct.pack("<H", 0x9FC0)),
                                  (0x9FC00, fw.rsdp(TBL).ljust(1024, b"\0")),
                                  (TBL, fw.root(b"RSDT", [TBL + 0x100])),
                                  (TBL + 0x100, GOOD_HPET)]),
        "ebda-pointer-wild": image(0, [(0x40E, b"\xff\xff"), (BIOS + 0x10, fw.rsdp(TBL)),
                                       (TBL, fw.root(b"RSDT", []))]),
        "xsdt-bad-falls-back": image(0, [(BIOS, fw.rsdp(TBL + 0x100, TBL)),
                                         (TBL, sdt(b"XSDT", bytes(8), good_checksum=False)),
                                         (TBL + 0x100, fw.root(b"RSDT", [TBL + 0x200])),
                                         (TBL + 0x200, GOOD_HPET)]),
        "root-length-0": acpi_image(good, root_bytes=b"RSDT" + u32(0) + rsdt1[8:]),
        "root-length-huge": acpi_image(good, root_bytes=sdt(b"RSDT", entry1, length=0x7FFFFFFF)),
        "root-length-past-end": acpi_image(good, root_bytes=sdt(b"RSDT", entry1, length=400)),
        "root-bad-checksum": acpi_image(good, root_bytes=sdt(b"RSDT", entry1,
                                                             good_checksum=False)),
        "root-lists-itself": acpi_image(good, root_bytes=rsdt_self),
        "root-entries-nowhere": acpi_image(good, root_bytes=fw.root(
            b"RSDT", [0, 0xFFFFFFFF, 0x1000, TBL + 3])),
        "root-1000-entries": image(FIX, [(BIOS, fw.rsdp(TBL)), (TBL, many),
                                         (TBL + 0x2000, GOOD_HPET)]),
        "table-length-0": acpi_image([GOOD_HPET[:4] + u32(0) + GOOD_HPET[8:]]),
        "table-length-past-end": acpi_image([sdt(b"HPET", fw.hpet_body(0xFED00000), length=4096)]),
        "table-bad-checksum": acpi_image([sdt(b"HPET", fw.hpet_body(0xFED00000),
                                              good_checksum=False)]),
        "table-garbage-signature": acpi_image([sdt(b"\x00\xff\n\x7f", bytes(8))]),
        "duplicate-hpet": acpi_image([GOOD_HPET, sdt(b"HPET", fw.hpet_body(0))]),
        "duplicate-madt": acpi_image([GOOD_MADT, madt(b"")]),
        "copy-rev0": image(COPY, [(0, fw.rsdp(TBL)), (TBL, fw.root(b"RSDT", [TBL + 0x100])),
                                  (TBL + 0x100, GOOD_HPET)]),
        "copy-rev2": image(COPY, [(0, fw.rsdp(TBL, TBL + 0x80)),
                                  (TBL + 0x80, fw.root(b"XSDT", [TBL + 0x100])),
                                  (TBL + 0x100, GOOD_HPET)]),
        "copy-bad-then-scan": image(COPY, [(0, bytes(bad_rsdp)), (BIOS + 0x20, fw.rsdp(TBL)),
                                           (TBL, fw.root(b"RSDT", []))]),
        "copy-empty": image(COPY, [(0, b"")]),
        "fix-checksums": image(FIX, [(BIOS, fw.rsdp(TBL)), (TBL, fw.root(b"RSDT", [TBL + 0x100])),
                                     (TBL + 0x100, GOOD_MADT)]),
    }


# ---- single tables ----

def madt_cases() -> dict[str, bytes]:
    ioapic = bytes([1, 12, 0, 0]) + u32(0xFEC00000) + u32(0)
    iso = bytes([2, 10, 0, 0]) + u32(2) + struct.pack("<H", 0)
    return {
        "header-only": madt(b"")[:36],
        "no-entries": madt(b""),
        "entry-length-0": madt(lapic(0, 0) + bytes([0, 0]) + lapic(1, 1)),
        "entry-length-1": madt(bytes([1, 1]) + bytes(10)),
        "entry-past-end": madt(lapic(0, 0) + bytes([1, 200]) + bytes(10)),
        "entry-cut": madt(lapic(0, 0) + bytes([0, 8, 1])),
        "100-lapics": madt(b"".join(lapic(i & 0xFF, i & 0xFF) for i in range(100))),
        "20-ioapics": madt(ioapic * 20),
        "20-overrides": madt(iso * 20),
        "override-bus-1": madt(bytes([2, 10, 1, 0]) + u32(2) + struct.pack("<H", 0)),
        "x2apic-short": madt(bytes([9, 8]) + bytes(6)),
        "x2apic": madt(bytes([9, 16, 0, 0]) + u32(300) + u32(1) + u32(7)),
        "lapic-addr-override": madt(bytes([5, 12, 0, 0]) + struct.pack("<Q", 0xFEE00000FEE00000)),
        "short-entries-of-each-type": madt(b"".join(bytes([t, 2]) for t in range(16))),
    }


def fadt_cases() -> dict[str, bytes]:
    full = bytearray(sdt(b"FACP", bytes(244 - 36), rev=6))
    full[76:80] = u32(0x608)
    full[91] = 4
    full[112:116] = u32((1 << 8) | (1 << 10))
    full[116:128] = fw.gas(1, 8, 0xCF9)
    full[128] = 6
    full[208:220] = fw.gas(1, 32, 0xB008)
    reset_no_addr = bytearray(full)
    reset_no_addr[116:128] = bytes(12)
    return {
        "header-only": bytes(full[:36]),
        "115-bytes": bytes(full[:115]),
        "116-bytes": bytes(full[:116]),
        "128-bytes": bytes(full[:128]),
        "129-bytes": bytes(full[:129]),
        "219-bytes": bytes(full[:219]),
        "220-bytes": bytes(full[:220]),
        "full-rev6": bytes(full),
        "no-pm-timer": (bytes(full[:76]) + bytes(4) + bytes(full[80:91]) + b"\0"
                        + bytes(full[92:208])),
        "reset-flag-no-address": bytes(reset_no_addr),
    }


def hpet_cases() -> dict[str, bytes]:
    return {
        "header-only": sdt(b"HPET", b""),
        "55-bytes": sdt(b"HPET", fw.hpet_body(0xFED00000))[:55],
        "base-0": sdt(b"HPET", fw.hpet_body(0)),
        "base-io-space": sdt(b"HPET", fw.hpet_body(0xFED00000, space=1)),
        "base-above-4g": sdt(b"HPET", fw.hpet_body(0x1_0000_0000_0000)),
        "longer": sdt(b"HPET", fw.hpet_body(0xFED00000) + bytes(200)),
    }


def cmdline_cases() -> dict[str, bytes]:
    every_out_of_range = (b"watchdog=0 watchdog=601 cal_ms=9 cal_ms=10001 hz=99 hz=1001 "
                          b"tsc_hz=1 monitor=0 monitor=86401 tsc_warp=0 tsc_warp=1099511627777 "
                          b"exit=never apic=x3apic clockevent=sundial clocksource=hourglass "
                          b"pmtimer=fast test=")
    return {
        "empty": b"",
        "blanks": b" \t \t  ",
        "very-long": b"k.elf " + b" ".join(b"test=" + b"x" * 150 for _ in range(4)),
        "one-huge-word": b"test=" + b"*" * 600,
        "non-ascii": "k.elf test=ünïcødé hz=١٠٠ \x01\x7f\xff".encode("utf-8",
                                                                     "surrogateescape"),
        "unterminated-quote": b'k.elf test="irq.* verbose "hz=100',
        "every-option-out-of-range": b"k.elf " + every_out_of_range,
        "numbers": (b"hz=0x hz=0x0 hz=18446744073709551615 hz=18446744073709551616 "
                    b"hz=-1 hz=+5 hz=1e3"),
        "keys-23-24": b"a" * 23 + b"=1 " + b"b" * 24 + b"=1",
        "value-159-160": b"test=" + b"v" * 159 + b" test=" + b"w" * 160,
        "equals": b"= == ==x x== test== verbose=",
        "40-words": b" ".join([b"verbose"] * 40),
        "globs": b"test=*********************************************x,?*?*?*,,,",
    }


def main() -> int:
    sets = {"mb1": mb1_cases(), "mb2": mb2_cases(), "pvh": pvh_cases(), "acpi": acpi_cases(),
            "madt": madt_cases(), "fadt": fadt_cases(), "hpet": hpet_cases(),
            "cmdline": cmdline_cases()}
    for target, cases in sets.items():
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in cases.items():
            with open(os.path.join(d, f"edge-{name}"), "wb") as f:
                f.write(data)
        print(f"{target}: {len(cases)} edge cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
