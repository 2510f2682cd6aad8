"""Builders for the fuzz inputs' formats (tests/fuzz/image.h) and for ACPI
structures, shared by fwdump.py, mkseeds.py and mkacpitable.py."""
from __future__ import annotations

import struct

IMAGE_RSDP_COPY = 1 << 0
IMAGE_FIX_CHECKSUMS = 1 << 1


def checksum(data: bytes) -> int:
    """The byte that makes data sum to 0 mod 256 when added."""
    return (-sum(data)) & 0xFF


def image(flags: int, segments: list[tuple[int, bytes]]) -> bytes:
    """A memory image: flags, then (addr, len, bytes) per segment."""
    out = bytearray([flags])
    for addr, data in segments:
        out += struct.pack("<II", addr, len(data)) + data
    return bytes(out)


def sdt(sig: bytes, body: bytes, rev: int = 1, length: int | None = None,
        good_checksum: bool = True, oem: bytes = b"TICKSC") -> bytes:
    """An ACPI table: 36-byte header and body. length overrides the
    header's length field; good_checksum=False makes the sum off by one."""
    n = 36 + len(body) if length is None else length
    hdr = bytearray(sig[:4].ljust(4, b" ") + struct.pack("<IBB", n, rev, 0) + oem[:6].ljust(6)
                    + b"TICKSCOP" + struct.pack("<I", 1) + b"TKSC" + struct.pack("<I", 1))
    t = bytearray(hdr + body)
    t[9] = checksum(t)
    if not good_checksum:
        t[9] = (t[9] + 1) & 0xFF
    return bytes(t)


def rsdp(rsdt: int, xsdt: int | None = None, oem: bytes = b"TICKSC") -> bytes:
    """An RSDP: revision 0 (20 bytes), or 2 (36 bytes) when xsdt is given."""
    rev = 0 if xsdt is None else 2
    r = bytearray(b"RSD PTR " + b"\0" + oem[:6].ljust(6) + bytes([rev]) + struct.pack("<I", rsdt))
    r[8] = checksum(r)
    if xsdt is None:
        return bytes(r)
    r += struct.pack("<IQ", 36, xsdt) + bytes(4)     # length, XSDT, checksum, reserved
    r[32] = checksum(r)
    return bytes(r)


def root(sig: bytes, addrs: list[int]) -> bytes:
    """An RSDT (sig RSDT, 32-bit entries) or XSDT (64-bit entries)."""
    fmt = "<I" if sig == b"RSDT" else "<Q"
    return sdt(sig, b"".join(struct.pack(fmt, a) for a in addrs))


def gas(space: int, width: int, addr: int, offset: int = 0, access: int = 0) -> bytes:
    """A Generic Address Structure (12 bytes)."""
    return struct.pack("<BBBBQ", space, width, offset, access, addr)


def hpet_body(base: int, space: int = 0, block_id: int = 0x8086A201,
              number: int = 0, min_tick: int = 0x80) -> bytes:
    """The 20 bytes after an HPET table's header."""
    return struct.pack("<I", block_id) + gas(space, 0, base) + struct.pack("<BHB", number,
                                                                            min_tick, 0)
