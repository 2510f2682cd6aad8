"""What a person at the machine saw: a QMP screendump (PPM) decoded back
to text glyph by glyph with the kernel's own font, checked against the
serial summary, and written as PNG. It reads pictures and serial lines;
it must not start QEMU (qemu takes the screendump) nor judge the run.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from . import font as fontmod

# The kernel's palette (drivers/fb.c): the verdict column's colours.
PALETTE = [(0, 0, 0), (0, 0, 170), (0, 170, 0), (0, 170, 170), (170, 0, 0), (170, 0, 170),
           (170, 85, 0), (170, 170, 170), (85, 85, 85), (85, 85, 255), (85, 255, 85),
           (85, 255, 255), (255, 85, 85), (255, 85, 255), (255, 255, 85), (255, 255, 255)]
VERDICT_COLOUR = {"PASS": PALETTE[10], "SKIP": PALETTE[14], "FAIL": PALETTE[12],
                  "ERROR": PALETTE[13]}
SUMMARY_START = "# ---- tickscope summary ----"


@dataclass
class Picture:
    width: int
    height: int
    rgb: bytes                       # 3 bytes a pixel, rows top down

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        i = 3 * (y * self.width + x)
        return (self.rgb[i], self.rgb[i + 1], self.rgb[i + 2])


@dataclass
class Cell:
    char: str                        # "?" when no glyph matches exactly
    fg: tuple[int, int, int]
    bg: tuple[int, int, int]


def read_ppm(data: bytes) -> Picture:
    """A binary PPM (P6, maxval 255), as QEMU's screendump writes it."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError("not a binary PPM with maxval 255")
    w, h = int(fields[1]), int(fields[2])
    rgb = data[pos + 1:pos + 1 + 3 * w * h]
    if len(rgb) != 3 * w * h:
        raise ValueError("PPM is truncated")
    return Picture(w, h, rgb)


def write_png(pic: Picture, path: str) -> None:
    """Writes pic as a PNG file."""
    with open(path, "wb") as f:
        f.write(png(pic))


def png(pic: Picture) -> bytes:
    """8-bit RGB PNG, filter 0 on every row, compressed with zlib."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    stride = 3 * pic.width
    raw = b"".join(b"\x00" + pic.rgb[y * stride:(y + 1) * stride] for y in range(pic.height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", pic.width, pic.height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def decode(pic: Picture, font: fontmod.Font) -> list[list[Cell]]:
    """The character grid from the top left, one cell per glyph box. A
    cell of one colour is a space on that background; a cell of two
    colours must match a glyph exactly (either colour may be the ink);
    anything else is "?"."""
    glyphs = {tuple(font.bitmap(i)): chr(cp) for i, cp in enumerate(fontmod.CODES)}
    fw, fh = font.width, font.height
    grid = []
    for r in range(pic.height // fh):
        row = []
        for c in range(pic.width // fw):
            px = [[pic.pixel(c * fw + x, r * fh + y) for x in range(fw)] for y in range(fh)]
            colours = sorted({p for line in px for p in line})
            if len(colours) == 1:
                row.append(Cell(" ", colours[0], colours[0]))
                continue
            cell = Cell("?", colours[0], colours[-1])
            if len(colours) == 2:
                for ink, paper in ((colours[0], colours[1]), (colours[1], colours[0])):
                    bits = tuple(sum(0x80 >> x for x in range(fw) if px[y][x] == ink)
                                 for y in range(fh))
                    if bits in glyphs:
                        cell = Cell(glyphs[bits], ink, paper)
                        break
            row.append(cell)
        grid.append(row)
    return grid


def text(grid: list[list[Cell]]) -> list[str]:
    return ["".join(c.char for c in row).rstrip() for row in grid]


def serial_summary(lines: list[str]) -> list[str]:
    """The summary heading, rows and totals as printed on serial, without
    the "# " (the text the dashboard shows)."""
    out, inside = [], False
    for ln in lines:
        ln = ln.rstrip("\r\n")
        if ln.startswith(SUMMARY_START):
            inside = True
            continue
        if inside:
            if not ln.startswith("# "):
                break
            out.append(ln[2:])
            if ln.startswith("# totals:"):
                break
    return out


def check(grid: list[list[Cell]], lines: list[str]) -> list[str]:
    """Problems between the decoded screen and the serial summary ([] =
    good): every summary line (cut to the screen's width) must be on the
    screen, consecutively and in order, each row's verdict in its colour,
    and no cell may fail to decode."""
    want = serial_summary(lines)
    if not want:
        return ["the serial log has no summary"]
    if not grid:
        return ["the screendump is empty"]
    cols = len(grid[0])
    shown = text(grid)
    problems = [f"screen row {r}: {s.count('?')} cells match no glyph"
                for r, s in enumerate(shown) if "?" in s]
    first = want[0][:cols].rstrip()
    if first not in shown:
        return problems + [f"the summary heading is not on the screen: {first!r}"]
    top = shown.index(first)
    for k, line in enumerate(want):
        r = top + k
        expect = line[:cols].rstrip()
        if r >= len(shown) or shown[r] != expect:
            got = shown[r] if r < len(shown) else "(below the screen)"
            problems.append(f"summary line {k}: screen has {got!r}, serial {expect!r}")
            continue
        # The verdict is the second word; the dashboard draws it in colour.
        words = line.split()
        verdict = words[1] if len(words) > 1 else ""
        if 0 < k < len(want) - 1 and verdict in VERDICT_COLOUR:
            ink = grid[r][line.index(" " + verdict) + 1].fg
            if ink != VERDICT_COLOUR[verdict]:
                problems.append(f"summary line {k}: {verdict} drawn in {ink}, "
                                f"not {VERDICT_COLOUR[verdict]}")
    return problems


# QEMU draws the 80x25 VGA text mode in 9x16 cells.
VGA_TEXT_PICTURE = (720, 400)
VGA_GLYPHS = {0xDB: chr(0x2588), 0xB0: chr(0x2591)}      # drivers/vga.c's code page 437


def vga_grid(mem: bytes) -> list[list[Cell]]:
    """The character grid from VGA text memory (character, attribute)."""
    def char(b: int) -> str:
        return VGA_GLYPHS.get(b, chr(b) if 0x20 <= b < 0x7F else "?")
    return [[Cell(char(mem[2 * (r * 80 + c)]), PALETTE[mem[2 * (r * 80 + c) + 1] & 15],
                  PALETTE[mem[2 * (r * 80 + c) + 1] >> 4 & 7]) for c in range(80)]
            for r in range(len(mem) // 160)]


def judge(ppm: bytes, error: str, lines: list[str],
          vga: bytes = b"") -> tuple[list[str], list[str]]:
    """(problems, decoded screen text) for a run's screendump: a
    framebuffer decoded with the font, or VGA text memory when the
    picture is QEMU's rendering of the text mode."""
    if not ppm:
        return [f"no screendump: {error}"], []
    try:
        pic = read_ppm(ppm)
    except (ValueError, IndexError) as e:
        return [f"screendump unreadable: {e}"], []
    if (pic.width, pic.height) == VGA_TEXT_PICTURE:
        if len(vga) < 4000:
            return ["VGA text mode, but no copy of its memory"], []
        grid = vga_grid(vga[:4000])
    else:
        grid = decode(pic, fontmod.load())
    return check(grid, lines), text(grid)
