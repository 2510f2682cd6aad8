"""The screen font: a PSF (v1 or v2) console font from a Debian package,
read for two users: the build, which turns it into the kernel's glyph table
(`python3 -m tickhost.font --c`), and the screen check, which decodes a
screendump glyph by glyph with the same bitmaps. It must not draw or judge.
"""
from __future__ import annotations

import gzip
import struct
import sys
from dataclasses import dataclass

# Terminus 8x16 from console-setup-linux (Lat15: Latin-1 and more; its
# Unicode table maps code points to glyphs, so ASCII is looked up).
DEFAULT_PSF = "/usr/share/consolefonts/Lat15-Terminus16.psf.gz"
PACKAGE = "console-setup-linux"
# The kernel's glyph table: ASCII 0x20..0x7E, then these extra code points
# at 0x7F, 0x80, ... (a full block and a light shade for the progress bar).
FIRST = 0x20
EXTRA = (0x2588, 0x2591)
CODES = list(range(FIRST, 0x7F)) + list(EXTRA)


@dataclass
class Font:
    width: int
    height: int
    glyphs: dict[int, list[int]]    # table index -> one int per row, MSB left

    def bitmap(self, index: int) -> list[int]:
        return self.glyphs[index]


def _unicode_table_v1(data: bytes, count: int) -> dict[int, int]:
    """Code point -> glyph for a PSF1 table: u16 values per glyph, 0xFFFE
    starts a sequence (ignored), 0xFFFF ends the glyph's list."""
    out: dict[int, int] = {}
    glyph, off, seq = 0, 0, False
    while off + 2 <= len(data) and glyph < count:
        (v,) = struct.unpack_from("<H", data, off)
        off += 2
        if v == 0xFFFF:
            glyph, seq = glyph + 1, False
        elif v == 0xFFFE:
            seq = True
        elif not seq:
            out.setdefault(v, glyph)
    return out


def _unicode_table_v2(data: bytes, count: int) -> dict[int, int]:
    """Code point -> glyph for a PSF2 table: UTF-8, 0xFE sequences, 0xFF ends."""
    out: dict[int, int] = {}
    for glyph, entry in enumerate(data.split(b"\xff")[:count]):
        single = entry.split(b"\xfe")[0]
        for ch in single.decode("utf-8", "replace"):
            out.setdefault(ord(ch), glyph)
    return out


def load(path: str = DEFAULT_PSF) -> Font:
    """Reads the PSF at path (gzip or not) and returns the glyphs of CODES,
    indexed from 0 as the kernel's table is."""
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[:2] == b"\x36\x04":
        mode, height = raw[2], raw[3]
        count, width, bpr, off = (512 if mode & 1 else 256), 8, 1, 4
        table = _unicode_table_v1(raw[off + count * height:], count) if mode & 2 else {}
    elif raw[:4] == b"\x72\xb5\x4a\x86":
        _, hsize, flags, count, size, height, width = struct.unpack_from("<7I", raw, 4)
        bpr, off = (width + 7) // 8, hsize
        table = _unicode_table_v2(raw[off + count * size:], count) if flags & 1 else {}
    else:
        raise ValueError(f"{path}: not a PSF font")
    if width > 8:
        raise ValueError(f"{path}: glyphs {width} wide; the kernel draws 8")
    glyphs = {}
    for i, cp in enumerate(CODES):
        g = table.get(cp, cp if cp < count and not table else None)
        if g is None:
            g = table.get(ord("?"), ord("?"))
        start = off + g * height * bpr
        glyphs[i] = list(raw[start:start + height * bpr:bpr])
    return Font(width, height, glyphs)


def c_source(font: Font, path: str) -> str:
    """The kernel's glyph table as C (build/gen/font.c)."""
    out = [f"/* Generated at build time by tools/tickhost/font.py from {path}",
           f" * (Debian package {PACKAGE}); do not edit, do not commit. */",
           '#include "drivers/font.h"', "",
           f"const u8 font_width = {font.width};",
           f"const u8 font_height = {font.height};",
           f"const u8 font_bits[FONT_GLYPHS][FONT_MAX_HEIGHT] = {{"]
    for i, cp in enumerate(CODES):
        rows = ", ".join(f"0x{b:02x}" for b in font.bitmap(i))
        out.append(f"\t{{ {rows} }},\t/* U+{cp:04X} */")
    out.append("};")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    path = argv[2] if len(argv) > 2 else DEFAULT_PSF
    if len(argv) < 2 or argv[1] != "--c":
        print("usage: python3 -m tickhost.font --c [FONT.psf.gz] > font.c", file=sys.stderr)
        return 2
    try:
        font = load(path)
    except OSError as e:
        print(f"font: {e} (apt-get install {PACKAGE})", file=sys.stderr)
        return 1
    sys.stdout.write(c_source(font, path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
