"""Numbers for people: fixed-point (never scientific notation), a sensible
number of significant digits, and the unit scaled to a readable prefix
(2596147.756 kHz -> "2596.148 MHz", 1260701 ns -> "1.261 ms"). The JSON keeps
full precision; this is for the console and the HTML page only. It must not
import the rest of the package."""
from __future__ import annotations

import math

# Units that scale by powers of 1000, each with its ladder (smallest first).
_LADDERS = (
    (("Hz", 1.0), ("kHz", 1e3), ("MHz", 1e6), ("GHz", 1e9)),
    (("ns", 1.0), ("us", 1e3), ("ms", 1e6), ("s", 1e9)),
)


def fixed(v: float, digits: int = 4, strip: bool = True) -> str:
    """v with `digits` significant digits in fixed point (whole numbers as
    they are: 26267 stays 26267; 0.06210 -> "0.0621" unless not strip)."""
    if v is None or isinstance(v, bool):
        return "-"
    if isinstance(v, int) or (math.isfinite(v) and float(v).is_integer() and abs(v) < 1e15):
        return str(int(v))
    if not math.isfinite(v):
        return str(v)
    mag = math.floor(math.log10(abs(v))) if v else 0
    decimals = max(0, digits - 1 - mag)
    s = f"{v:.{decimals}f}"
    if "." in s and strip:
        s = s.rstrip("0").rstrip(".")
    return s


def with_unit(v: float, unit: str = "", digits: int = 4) -> str:
    """v in unit, scaled to the prefix that puts it in [1, 1000) where unit
    is one of Hz/kHz/MHz/GHz or ns/us/ms/s; "2596.148 MHz", "26.27 us"."""
    for ladder in _LADDERS:
        scale = dict(ladder)
        if unit in scale and v is not None and math.isfinite(v) and v != 0:
            base = v * scale[unit]
            name, f = ladder[0]
            for n, s in ladder:
                if abs(base) >= s:
                    name, f = n, s
            # A frequency keeps more digits: its ppm are what is measured.
            d = max(digits, 7) if ladder is _LADDERS[0] else digits
            if f == scale[unit] and float(v).is_integer():
                return f"{fixed(v)} {unit}"
            # Zeros kept: 100.0000 MHz says the digits that were measured.
            return f"{fixed(base / f, d, strip=False)} {name}"
    return f"{fixed(v, digits)} {unit}".rstrip()
