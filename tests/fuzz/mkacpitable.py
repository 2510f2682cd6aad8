#!/usr/bin/env python3
"""Malformed ACPI tables for boots on the real path (tools/matrix-bad-input.cfg).

QEMU's -acpitable recomputes a table's length and checksum, and adds the
table after QEMU's own (so a second MADT or FADT is a duplicate). The
cases that need bytes exactly as written (bad checksum, a length past the
end, a MADT entry of length 0 in the only MADT) go instead through the
firmware's table loader, as QEMU's own tables do: with -machine acpi=off
QEMU builds no tables, and three fw_cfg files give SeaBIOS the tables, the
RSDP and the loader script (ALLOCATE, ADD_POINTER, ADD_CHECKSUM commands,
QEMU hw/acpi/bios-linker-loader.c) that places and links them. The table
set is QEMU q35's own (dumped with fwdump; PM timer, HPET and IOAPIC all
work under q35,acpi=off, where the ICH9 PM block is still there), with one
table replaced or added.

Writes tests/fuzz/acpitable/: NAME.bin for -acpitable file=, and
NAME.tables, NAME.rsdp, NAME.loader for the fw_cfg route. Deterministic:
rerun after a change and commit what differs.
"""
from __future__ import annotations

import os
import struct
import sys

import fwimage as fw

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "acpitable")

CORPUS = os.path.join(HERE, "corpus")


def corpus(target: str, name: str) -> bytes:
    with open(os.path.join(CORPUS, target, name), "rb") as f:
        return f.read()


def no_pointers(fadt: bytes) -> bytes:
    """The FADT with its FACS and DSDT pointers (32- and 64-bit) zeroed:
    the kernel reads neither, and this table set has no DSDT."""
    b = bytearray(fadt)
    for off, n in ((36, 4), (40, 4), (132, 8), (140, 8)):
        b[off:off + n] = bytes(n)
    return sealed(bytes(b))


LOADER_ALLOCATE, LOADER_ADD_POINTER, LOADER_ADD_CHECKSUM = 1, 2, 3
ZONE_HIGH, ZONE_FSEG = 1, 2
TABLES, RSDP = b"etc/acpi/tables", b"etc/acpi/rsdp"


def sealed(t: bytes) -> bytes:
    """t with its checksum byte set."""
    b = bytearray(t)
    b[9] = 0
    b[9] = fw.checksum(b)
    return bytes(b)


def cmd(command: int, body: bytes) -> bytes:
    return struct.pack("<I", command) + body.ljust(124, b"\0")


def name(n: bytes) -> bytes:
    return n.ljust(56, b"\0")


def table_set(tables: list[bytes]) -> tuple[bytes, bytes, bytes]:
    """(tables blob, RSDP, loader script): the RSDT lists every table;
    each is put in the blob as given (checksum and length untouched)."""
    blob, offsets = bytearray(), []
    for t in tables:
        offsets.append(len(blob))
        blob += t + bytes(-len(t) % 8)
    rsdt_at = len(blob)
    rsdt = bytearray(fw.sdt(b"RSDT", b"".join(struct.pack("<I", o) for o in offsets)))
    rsdt[9] = 0         # the loader sums it after the pointers are patched
    blob += rsdt
    rsdp = bytearray(fw.rsdp(rsdt_at))
    rsdp[8] = 0
    loader = cmd(LOADER_ALLOCATE, name(RSDP) + struct.pack("<IB", 16, ZONE_FSEG))
    loader += cmd(LOADER_ALLOCATE, name(TABLES) + struct.pack("<IB", 64, ZONE_HIGH))
    for i in range(len(offsets)):
        loader += cmd(LOADER_ADD_POINTER, name(TABLES) + name(TABLES)
                      + struct.pack("<IB", rsdt_at + 36 + 4 * i, 4))
    loader += cmd(LOADER_ADD_CHECKSUM, name(TABLES) + struct.pack("<III", rsdt_at + 9,
                                                                    rsdt_at, len(rsdt)))
    loader += cmd(LOADER_ADD_POINTER, name(RSDP) + name(TABLES) + struct.pack("<IB", 16, 4))
    loader += cmd(LOADER_ADD_CHECKSUM, name(RSDP) + struct.pack("<III", 8, 0, 20))
    return bytes(blob), bytes(rsdp), loader


# QEMU 7.2 q35's own tables, as fwdump dumped them (the seed corpus).
Q35_FADT = no_pointers(corpus("fadt", "qemu-q35"))
Q35_MADT = corpus("madt", "qemu-pc")       # q35's is the same
Q35_HPET = corpus("hpet", "qemu-pc")


def madt_with(entries: bytes) -> bytes:
    return sealed(Q35_MADT[:4] + struct.pack("<I", 44 + len(entries)) + Q35_MADT[8:44] + entries)


def hpet_at(base: int) -> bytes:
    return fw.sdt(b"HPET", fw.hpet_body(base))


def loader_cases() -> dict[str, list[bytes]]:
    """Table sets for the fw_cfg route, one defect each."""
    fadt, madt, hpet = Q35_FADT, Q35_MADT, Q35_HPET
    bad_sum = bytearray(hpet)
    bad_sum[9] ^= 0x55
    madt_bad_sum = bytearray(madt)
    madt_bad_sum[50] ^= 1
    lapic = bytes([0, 8, 0, 0, 1, 0, 0, 0])
    ioapic = Q35_MADT[52:64]
    overrides = Q35_MADT[64:114]
    long_hpet = bytearray(hpet)
    long_hpet[4:8] = struct.pack("<I", 0x1000)   # the blob ends 56 bytes in
    huge_hpet = bytearray(hpet)
    huge_hpet[4:8] = struct.pack("<I", 0x7FFFFFF0)
    fadt_short = sealed(fadt[:4] + struct.pack("<I", 100) + fadt[8:100])
    return {
        "good": [fadt, madt, hpet],
        "hpet-bad-checksum": [fadt, madt, bytes(bad_sum)],
        "madt-bad-checksum": [fadt, bytes(madt_bad_sum), hpet],
        "hpet-length-past-end": [fadt, madt, bytes(long_hpet)],
        "hpet-length-huge": [fadt, madt, bytes(huge_hpet)],
        "madt-entry-length-0": [fadt, madt_with(lapic + bytes([1, 0]) + ioapic[2:] + overrides),
                                hpet],
        "madt-entry-past-end": [fadt, madt_with(lapic + ioapic + bytes([2, 60]) + bytes(8)), hpet],
        "fadt-too-short": [fadt_short, madt, hpet],
        "hpet-duplicate": [fadt, madt, hpet, hpet_at(0xFEB00000)],
        "madt-duplicate": [fadt, madt, madt_with(lapic), hpet],
    }


def acpitable_cases() -> dict[str, bytes]:
    """Tables for -acpitable file= (QEMU sets length and checksum)."""
    return {
        "hpet-base-0": hpet_at(0),
        "hpet-base-io": fw.sdt(b"HPET", fw.hpet_body(0xFED00000, space=1)),
        "hpet-nothing-there": hpet_at(0xFEB00000),
        "hpet-above-4g": hpet_at(0x100_0000_0000),
        "madt-entry-length-0": madt_with(bytes([0, 8, 0, 0, 1, 0, 0, 0, 1, 0]) + bytes(10)),
        "fadt-short": sealed(Q35_FADT[:4] + struct.pack("<I", 100) + Q35_FADT[8:100]),
    }


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    for n, t in acpitable_cases().items():
        with open(os.path.join(OUT, f"{n}.bin"), "wb") as f:
            f.write(t)
    for n, tables in loader_cases().items():
        for ext, data in zip(("tables", "rsdp", "loader"), table_set(tables)):
            with open(os.path.join(OUT, f"{n}.{ext}"), "wb") as f:
                f.write(data)
    print(f"{OUT}: {len(acpitable_cases())} -acpitable files, "
          f"{len(loader_cases())} table-loader sets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
