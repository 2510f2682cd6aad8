"""A Serial Port Console Redirection table for QEMU's -acpitable, made at
test time: it names a 16550 in I/O space (COM2 for the matrix) and its baud
rate, as a server's firmware names its serial-over-LAN port. It writes a
file; it must not start QEMU.
"""
from __future__ import annotations

import os
import struct
import sys

from . import paths

BAUD_CODE = {9600: 3, 19200: 4, 57600: 6, 115200: 7}
COM2 = 0x2F8


def table(port: int = COM2, baud: int = 115200) -> bytes:
    """SPCR revision 2, 80 bytes: interface 0 (full 16550), base address
    as a Generic Address Structure in I/O space (8-bit registers), IRQ 3,
    the baud code, 8N1, no flow control, VT-UTF8, no PCI device."""
    body = struct.pack("<B3x", 0)                               # interface type
    body += struct.pack("<BBBBQ", 1, 8, 0, 1, port)              # GAS: I/O, byte access
    body += struct.pack("<BBI", 1, 3, 3)                         # 8259 IRQ 3, GSI 3
    body += struct.pack("<BBBBB", BAUD_CODE[baud], 0, 1, 0, 3)   # baud, parity, stop, flow, VT-UTF8
    body += struct.pack("<B", 0)                                 # language
    body += struct.pack("<HHBBBIB", 0xFFFF, 0xFFFF, 0, 0, 0, 0, 0)  # no PCI device
    body += b"\x00" * 4                                          # reserved
    length = 36 + len(body)
    head = b"SPCR" + struct.pack("<IBB", length, 2, 0) + b"TICKSC" + b"TICKSCOP" \
        + struct.pack("<I", 1) + b"TCKS" + struct.pack("<I", 1)
    raw = bytearray(head + body)
    raw[9] = (-sum(raw)) & 0xFF
    return bytes(raw)


def write(path: str = os.path.join(paths.BUILD, "spcr-com2.dat")) -> str:
    """Writes the COM2 table (once per content) and returns its path."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = table()
    if not os.path.exists(path) or open(path, "rb").read() != data:
        with open(path, "wb") as f:
            f.write(data)
    return path


if __name__ == "__main__":
    print(write(sys.argv[1]) if len(sys.argv) > 1 else write())
