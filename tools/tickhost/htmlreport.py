"""The matrix as one HTML page: a table of every source across configurations,
a latency histogram per clockevent, a timeline per scenario. It works on the
JSON dictionaries only; it must not import the rest of the package or run anything.

Plots are inline SVG drawn here, so the page needs no plotting package and
renders anywhere."""
from __future__ import annotations

import html
import re
from typing import Any

SOURCES = ("tsc", "hpet", "pm", "pit", "rtc", "kvmclock")
EVENTS = ("pit", "lapic", "tscdeadline", "hpet", "rtc")
_HIST = re.compile(r"\[(\d+),(\d+)\):(\d+)")


def _m(run: dict[str, Any], name: str) -> str:
    for m in run.get("measurements", []):
        if m["name"] == name:
            v = m["value"]
            return f"{v:g}" if isinstance(v, float) else str(v)
    return ""


def _result(run: dict[str, Any], path: str) -> str:
    for t in run.get("tests", []):
        if t["path"] == path:
            return t["result"]
    return ""


def _cell(text: str, result: str = "") -> str:
    cls = {"PASS": "pass", "FAIL": "fail", "ERROR": "error", "SKIP": "skip"}.get(result, "")
    return f'<td class="{cls}">{html.escape(text)}</td>'


def source_rows(runs: list[dict[str, Any]]) -> list[str]:
    rows = []
    for s in SOURCES:
        cells = []
        for r in runs:
            present = _result(r, f"{s}.present") or ("PASS" if s == "tsc" else "")
            if present in ("", "SKIP"):
                cells.append(_cell("absent" if present == "SKIP" else "-", present))
                continue
            rate = _m(r, f"{s}.freq_hz.measured") or _m(r, "tsc.freq_khz") + " kHz"
            err = _m(r, f"tsc.err_ppm.{s}") or _m(r, "tsc.err_ppm")
            cost = _m(r, f"{s}.read_ns.p50")
            text = f"{rate} | err {err or '-'} ppm | read {cost or '-'} ns"
            cells.append(_cell(text, _result(r, f"{s}.rate") or present))
        rows.append(f"<tr><th>{s}</th>{''.join(cells)}</tr>")
    for ce in EVENTS:
        cells = []
        for r in runs:
            p50 = "/".join(_m(r, f"{ce}.oneshot.{w}.latency_ns.p50") or "-"
                           for w in ("poll", "halt"))
            p99 = "/".join(_m(r, f"{ce}.oneshot.{w}.latency_ns.p99") or "-"
                           for w in ("poll", "halt"))
            rate = _m(r, f"{ce}.periodic.rate_hz")
            res = _result(r, f"{ce}.oneshot") or _result(r, f"{ce}.periodic")
            text = (f"oneshot poll/halt p50 {p50}, p99 {p99} ns | periodic {rate or '-'} Hz"
                    if res and res != "SKIP" else "absent" if res == "SKIP" else "-")
            cells.append(_cell(text, res))
        rows.append(f"<tr><th>{ce} (events)</th>{''.join(cells)}</tr>")
    return rows


def histogram_svg(title: str, buckets: list[tuple[int, int, int]]) -> str:
    """Bars per log2 bucket (lower bound in ns on the axis)."""
    if not buckets:
        return ""
    w, h, bw = 60 * len(buckets) + 40, 170, 50
    top = max(n for _, _, n in buckets)
    parts = [f'<svg width="{w}" height="{h}" role="img" aria-label="{html.escape(title)}">']
    for i, (lo, _, n) in enumerate(buckets):
        bh = int(110 * n / top)
        x = 30 + 60 * i
        parts.append(f'<rect x="{x}" y="{130 - bh}" width="{bw}" height="{bh}" fill="#4a7"/>')
        parts.append(f'<text x="{x + bw // 2}" y="{125 - bh}" text-anchor="middle" '
                     f'font-size="11">{n}</text>')
        label = f"{lo // 1000}us" if lo >= 1000 else f"{lo}ns"
        parts.append(f'<text x="{x + bw // 2}" y="148" text-anchor="middle" '
                     f'font-size="11">{label}</text>')
    parts.append(f'<text x="4" y="165" font-size="12">{html.escape(title)}</text></svg>')
    return "".join(parts)


def histograms(run: dict[str, Any]) -> list[str]:
    out = []
    for t in run.get("tests", []):
        for d in t.get("diagnostics", []):
            if d.startswith("histogram"):
                b = [(int(lo), int(hi), int(n)) for lo, hi, n in _HIST.findall(d)]
                what = d.split(" (")[0].removeprefix("histogram ")
                out.append(histogram_svg(f"{run['config']['name']}: {t['path']} {what}", b))
    return out


def timeline_svg(title: str, events: list[dict[str, str]], length_s: float) -> str:
    """Each event at its time; jumps as bars as tall as their size."""
    w, h = 640, 160
    jumps = [abs(float(e.get("size_ms", 0) or 0)) for e in events]
    top = max(jumps + [1.0])
    parts = [f'<svg width="{w}" height="{h}" role="img" aria-label="{html.escape(title)}">',
             f'<line x1="30" y1="120" x2="{w - 10}" y2="120" stroke="#333"/>']
    for e in events:
        t = float(e.get("at_s", 0) or 0)
        x = 30 + (w - 50) * min(t / max(length_s, 1e-9), 1.0)
        size = abs(float(e.get("size_ms", 0) or 0))
        bh = max(4, int(90 * size / top))
        color = {"jump": "#c33", "ticks": "#36c", "guest_stopped": "#999"}.get(e["kind"], "#690")
        parts.append(f'<rect x="{x:.1f}" y="{120 - bh}" width="6" height="{bh}" fill="{color}">'
                     f'<title>{html.escape(" ".join(f"{k}={v}" for k, v in e.items()))}'
                     f'</title></rect>')
    parts.append(f'<text x="4" y="150" font-size="12">{html.escape(title)} (0-{length_s:g} s; '
                 f'red: jumps, blue: late ticks, grey: guest stopped)</text></svg>')
    return "".join(parts)


COLORS = ("#c33", "#36c", "#393", "#c90", "#939", "#099")


def drift_svg(title: str, samples: list[dict[str, str]]) -> str:
    """Each source's offset from the median over time (ms), one line each."""
    if not samples:
        return ""
    names = [k for k in samples[0] if k != "at_s"]
    pts = {n: [(float(s["at_s"]), float(s.get(n, 0))) for s in samples] for n in names}
    t_max = max(float(s["at_s"]) for s in samples) or 1.0
    vals = [v for p in pts.values() for _, v in p] + [0.0]
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    w, h = 640, 200
    parts = [f'<svg width="{w}" height="{h}" role="img" aria-label="{html.escape(title)}">',
             f'<line x1="40" y1="{20 + 140 * hi / span:.1f}" x2="{w - 10}" '
             f'y2="{20 + 140 * hi / span:.1f}" stroke="#ccc"/>']
    for i, n in enumerate(names):
        xy = " ".join(f"{40 + (w - 60) * t / t_max:.1f},{20 + 140 * (hi - v) / span:.1f}"
                      for t, v in pts[n])
        parts.append(f'<polyline points="{xy}" fill="none" stroke="{COLORS[i % len(COLORS)]}" '
                     f'stroke-width="2"><title>{html.escape(n)}</title></polyline>')
        parts.append(f'<text x="{40 + 70 * i}" y="192" font-size="12" '
                     f'fill="{COLORS[i % len(COLORS)]}">{html.escape(n)}</text>')
    parts.append(f'<text x="4" y="14" font-size="12">{html.escape(title)}: offset from the '
                 f'median, {lo:g} to {hi:g} ms over {t_max:g} s</text></svg>')
    return "".join(parts)


def page(runs: list[dict[str, Any]], scenarios: list[dict[str, Any]], advice: str = "") -> str:
    """The page: the table, histograms, scenario plots, and advice (an
    HTML section the caller made, e.g. advise.to_html)."""
    head = "".join(f"<th>{html.escape(r['config']['name'])}<br><small>{r['accel']}, "
                   f"{r['verdict']}</small></th>" for r in runs)
    body = "\n".join(source_rows(runs))
    hists = "\n".join(h for r in runs for h in histograms(r))
    scen = "\n".join(timeline_svg(f"scenario {s.get('scenario')} ({s.get('accel')}, held "
                                  f"{s.get('held_s', 0):.2f} s): {s.get('scenario_verdict')}",
                                  s.get("events", []),
                                  float(_m(s, "monitor.seconds") or 10))
                     + drift_svg(f"scenario {s.get('scenario')} drift", s.get("samples", []))
                     for s in scenarios)
    shots = "\n".join(
        f'<figure><img alt="screen of {html.escape(r["config"]["name"])}" '
        f'src="data:image/png;base64,{r["screen"]["png_base64"]}"><figcaption>'
        f'{html.escape(r["config"]["name"])}: the screen at the end of the run</figcaption>'
        f'</figure>' for r in runs if r.get("screen", {}).get("png_base64"))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>tickscope matrix</title>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
table {{ border-collapse: collapse; font-size: 13px; }}
td, th {{ border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; }}
.pass {{ background: #e6f5e6; }} .fail {{ background: #f9d6d6; }}
.error {{ background: #f5c0f0; }} .skip {{ background: #eee; color: #777; }}
</style></head><body>
<h1>tickscope: sources across configurations</h1>
<table><tr><th>source</th>{head}</tr>
{body}
</table>
<h2>Oneshot latency histograms</h2>
{hists or "<p>none</p>"}
<h2>Scenarios</h2>
{scen or "<p>none run</p>"}
<h2>Screens</h2>
{shots or "<p>none taken</p>"}
{advice}
</body></html>
"""
