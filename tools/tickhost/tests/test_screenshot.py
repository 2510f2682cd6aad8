"""Unit tests of the screen check: pictures drawn here with the kernel's
font and palette (as drivers/fb.c and report/dashboard.c draw them), then
decoded and compared with serial lines, each check with a planted fault
that must make it fail. They must not boot QEMU."""
from __future__ import annotations

import struct
import unittest
import zlib

from tickhost import font, screenshot

GREY, BLACK = screenshot.PALETTE[7], screenshot.PALETTE[0]
SERIAL = ["# ---- tickscope summary ----",
          "# source     result  pass  fail  skip error      ms  notes",
          "# tsc        PASS       7     0     2     0      11  2596.147 MHz from hpet",
          "# pit        FAIL       6     1     0     0     370  periodic 250 Hz",
          "# tscdeadline SKIP       0     0     1     0       0",
          "# totals: 13 passed, 1 failed, 3 skipped, 0 errors",
          "# measure: run.suite_ms.tsc = 11 ms"]


def draw(lines: list[tuple[str, dict[int, tuple[int, int, int]]]], cols: int = 40,
         nrows: int = 8) -> screenshot.Picture:
    """Draws text rows (with per-column ink overrides) from the top left."""
    f = font.load()
    w, h = cols * f.width, nrows * f.height
    px = bytearray(BLACK * (w * h))
    for r, (text, inks) in enumerate(lines):
        for c, ch in enumerate(text[:cols]):
            bits = f.bitmap(font.CODES.index(ord(ch)))
            ink = inks.get(c, GREY)
            for y in range(f.height):
                for x in range(f.width):
                    i = 3 * ((r * f.height + y) * w + c * f.width + x)
                    px[i:i + 3] = bytes(ink if bits[y] & (0x80 >> x) else BLACK)
    return screenshot.Picture(w, h, bytes(px))


def dashboard(rows: list[str], colour: bool = True) -> screenshot.Picture:
    out = []
    for line in rows:
        words = line.split()
        inks = {}
        if colour and len(words) > 1 and words[1] in screenshot.VERDICT_COLOUR:
            start = line.index(" " + words[1]) + 1
            inks = {c: screenshot.VERDICT_COLOUR[words[1]]
                    for c in range(start, start + len(words[1]))}
        out.append((line, inks))
    return draw(out)


def shown(serial: list[str]) -> list[str]:
    return [ln[2:] for ln in serial[1:6]]


class ScreenTest(unittest.TestCase):
    def test_glyphs_are_distinct(self) -> None:
        f = font.load()
        bitmaps = {tuple(f.bitmap(i)) for i in range(len(font.CODES))}
        self.assertEqual(len(bitmaps), len(font.CODES))

    def test_decode_round_trip(self) -> None:
        grid = screenshot.decode(draw([("Hello, tickscope! 0123", {})]), font.load())
        self.assertEqual(screenshot.text(grid)[0], "Hello, tickscope! 0123")

    def test_summary_matches(self) -> None:
        grid = screenshot.decode(dashboard(shown(SERIAL)), font.load())
        self.assertEqual(screenshot.check(grid, SERIAL), [])

    def test_planted_verdict_change_fails(self) -> None:
        rows = shown(SERIAL)
        rows[2] = rows[2].replace("FAIL", "PASS")
        grid = screenshot.decode(dashboard(rows), font.load())
        self.assertTrue(any("summary line 2" in p for p in screenshot.check(grid, SERIAL)))

    def test_planted_missing_row_fails(self) -> None:
        rows = shown(SERIAL)
        del rows[3]
        grid = screenshot.decode(dashboard(rows), font.load())
        self.assertTrue(screenshot.check(grid, SERIAL))

    def test_planted_wrong_colour_fails(self) -> None:
        grid = screenshot.decode(dashboard(shown(SERIAL), colour=False), font.load())
        problems = screenshot.check(grid, SERIAL)
        self.assertEqual(len(problems), 3, problems)

    def test_planted_pixel_is_undecodable(self) -> None:
        pic = dashboard(shown(SERIAL))
        px = bytearray(pic.rgb)
        i = 3 * (5 * pic.width + 3)          # row 5 of the heading's first cell
        px[i:i + 3] = bytes((1, 2, 3))
        grid = screenshot.decode(screenshot.Picture(pic.width, pic.height, bytes(px)),
                                 font.load())
        self.assertTrue(any("match no glyph" in p for p in screenshot.check(grid, SERIAL)))

    def test_vga_text_memory(self) -> None:
        rows = shown(SERIAL)
        mem = bytearray(b" \x07" * 2000)
        for r, line in enumerate(rows):
            words = line.split()
            start = line.index(" " + words[1]) + 1 if len(words) > 1 else -1
            for c, ch in enumerate(line[:80]):
                attr = 0x07
                if words[1] in screenshot.VERDICT_COLOUR and start <= c < start + len(words[1]):
                    attr = {"PASS": 0x0A, "SKIP": 0x0E, "FAIL": 0x0C}[words[1]]
                mem[2 * (r * 80 + c)] = ord(ch)
                mem[2 * (r * 80 + c) + 1] = attr
        self.assertEqual(screenshot.check(screenshot.vga_grid(bytes(mem)), SERIAL), [])
        at = 2 * (2 * 80 + rows[2].index("FAIL")) + 1
        mem[at] = 0x0A                              # planted: FAIL drawn green
        self.assertEqual(len(screenshot.check(screenshot.vga_grid(bytes(mem)), SERIAL)), 1)

    def test_ppm_and_png(self) -> None:
        pic = draw([("PNG", {})], cols=4, nrows=1)
        ppm = b"P6\n# QEMU\n%d %d\n255\n" % (pic.width, pic.height) + pic.rgb
        self.assertEqual(screenshot.read_ppm(ppm), pic)
        data = screenshot.png(pic)
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        (n,) = struct.unpack(">I", data[33:37])
        raw = zlib.decompress(data[41:41 + n])
        stride = 3 * pic.width + 1
        self.assertEqual(b"".join(raw[y * stride + 1:(y + 1) * stride]
                                  for y in range(pic.height)), pic.rgb)


if __name__ == "__main__":
    unittest.main()
