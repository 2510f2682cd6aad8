"""The runs as one HTML page: an overview of every suite's verdict on one
screen (coloured), a table of every source across configurations, each
clockevent's latency histogram (every bucket, p50/p99/max marked), each
source's drift against the TSC, a timeline per scenario and the screens.
It works on the JSON dictionaries only; it must not import the rest of the
package (numfmt apart) or run anything.

Plots are inline SVG drawn here (class "plot"), so the page needs no
plotting package; a small script at the end counts the plots a browser
actually laid out and any script error into attributes of <body>
(data-plots, data-plots-shown, data-images-shown, data-errors), which
`make test` reads back from headless Chromium."""
from __future__ import annotations

import html
import math
import re
from typing import Any, Optional

from .numfmt import fixed, with_unit

SOURCES = ("tsc", "hpet", "pm", "pit", "rtc", "kvmclock")
EVENTS = ("pit", "lapic", "tscdeadline", "hpet", "rtc")
_HIST = re.compile(r"\[(\d+),(\d+)\):(\d+)")
_SUMMARY_ROW = re.compile(r"^(\S+)\s+(PASS|FAIL|SKIP|ERROR)\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s*(.*)$")
_UNC = re.compile(r"unc (-?\d+(?:\.\d+)?) ppm")
CLASS = {"PASS": "pass", "FAIL": "fail", "ERROR": "error", "SKIP": "skip"}
COLORS = ("#c33", "#36c", "#393", "#c90", "#939", "#099")


def _meas(run: dict[str, Any], name: str) -> Optional[dict[str, Any]]:
    return next((m for m in run.get("measurements", []) if m["name"] == name), None)


def _val(run: dict[str, Any], name: str) -> Optional[float]:
    m = _meas(run, name)
    return None if m is None else float(m["value"])


def _m(run: dict[str, Any], name: str) -> str:
    """The measurement with its unit, readable ("2.596148 GHz"); "" if absent."""
    m = _meas(run, name)
    return "" if m is None else with_unit(m["value"], m.get("unit", ""))


def _result(run: dict[str, Any], path: str) -> str:
    for t in run.get("tests", []):
        if t["path"] == path:
            return t["result"]
    return ""


def _cell(text: str, result: str = "") -> str:
    return f'<td class="{CLASS.get(result, "")}">{html.escape(text)}</td>'


# ---- overview ----

def suites(run: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per suite (the first part of each test's path), the count of each verdict."""
    out: dict[str, dict[str, int]] = {}
    for t in run.get("tests", []):
        c = out.setdefault(t["path"].split(".")[0], {"PASS": 0, "FAIL": 0, "SKIP": 0, "ERROR": 0})
        c[t["result"]] = c.get(t["result"], 0) + 1
    return out


def _suite_verdict(c: dict[str, int]) -> str:
    for v in ("ERROR", "FAIL", "PASS"):
        if c.get(v):
            return v
    return "SKIP"


def _notes(run: dict[str, Any]) -> dict[str, str]:
    """The notes column of the kernel's summary table, per suite."""
    out = {}
    for row in run.get("summary", []):
        m = _SUMMARY_ROW.match(row.strip())
        if m:
            out[m.group(1)] = m.group(3).strip()
    return out


def overview(runs: list[dict[str, Any]]) -> str:
    """One row per suite, one column per run: the suite's verdict and its
    pass/fail/skip/error counts, coloured; a run's notes as a tooltip."""
    names: list[str] = []
    per_run = [suites(r) for r in runs]
    for s in per_run:
        names += [n for n in s if n not in names]
    head = "".join(f'<th class="{CLASS.get(r.get("verdict", ""), "")}">'
                   f'{html.escape(r["config"]["name"])}<br><small>'
                   f'{html.escape(str(r.get("accel", "")))}, {html.escape(str(r.get("verdict")))}'
                   f'</small></th>' for r in runs)
    rows = []
    for n in names:
        cells = []
        for r, s in zip(runs, per_run):
            c = s.get(n)
            if c is None:
                cells.append("<td>-</td>")
                continue
            v = _suite_verdict(c)
            note = _notes(r).get(n, "")
            cells.append(f'<td class="{CLASS[v]}" title="{html.escape(note)}">{v} '
                         f'<small>{c["PASS"]}/{c["FAIL"]}/{c["SKIP"]}/{c["ERROR"]}</small></td>')
        rows.append(f"<tr><th>{html.escape(n)}</th>{''.join(cells)}</tr>")
    return (f'<table class="overview"><tr><th>suite <small>(pass/fail/skip/error)</small></th>'
            f'{head}</tr>{"".join(rows)}</table>')


# ---- sources table ----

def source_rows(runs: list[dict[str, Any]]) -> list[str]:
    rows = []
    for s in SOURCES:
        cells = []
        for r in runs:
            present = _result(r, f"{s}.present") or ("PASS" if s == "tsc" else "")
            if present in ("", "SKIP"):
                cells.append(_cell("absent" if present == "SKIP" else "-", present))
                continue
            rate = _m(r, f"{s}.freq_hz.measured") or _m(r, "tsc.freq_khz")
            err = _m(r, f"tsc.err_ppm.{s}") or _m(r, "tsc.err_ppm")
            cost = _m(r, f"{s}.read_ns.p50")
            text = f"{rate or '-'} | err {err or '-'} | read p50 {cost or '-'}"
            cells.append(_cell(text, _result(r, f"{s}.rate") or present))
        rows.append(f"<tr><th>{s}</th>{''.join(cells)}</tr>")
    for ce in EVENTS:
        cells = []
        for r in runs:
            p50 = " / ".join(_m(r, f"{ce}.oneshot.{w}.latency_ns.p50") or "-"
                             for w in ("poll", "halt"))
            p99 = " / ".join(_m(r, f"{ce}.oneshot.{w}.latency_ns.p99") or "-"
                             for w in ("poll", "halt"))
            rate = _m(r, f"{ce}.periodic.rate_hz")
            res = _result(r, f"{ce}.oneshot") or _result(r, f"{ce}.periodic")
            text = (f"oneshot poll / halt: p50 {p50}, p99 {p99} | periodic {rate or '-'}"
                    if res and res != "SKIP" else "absent" if res == "SKIP" else "-")
            cells.append(_cell(text, res))
        rows.append(f"<tr><th>{ce} (events)</th>{''.join(cells)}</tr>")
    return rows


# ---- histograms ----

def all_buckets(buckets: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """The log2 buckets from the lowest to the highest that has samples,
    the empty ones included ([0,2) is the first; then [2^k, 2^(k+1)))."""
    if not buckets:
        return []
    counts = {max(1, hi.bit_length() - 1): n for _, hi, n in buckets}
    lo_e, hi_e = min(counts), max(counts)
    return [(0 if e == 1 else 1 << (e - 1), 1 << e, counts.get(e, 0))
            for e in range(lo_e, hi_e + 1)]


def histogram_svg(title: str, buckets: list[tuple[int, int, int]],
                  marks: list[tuple[str, float]] = ()) -> str:
    """Bars for every log2 bucket (empty ones too) on a log2 latency axis,
    counts on a linear axis, each mark (label, ns) as a line at its value."""
    full = all_buckets(buckets)
    if not full:
        return ""
    bw, x0, top_y, base_y = 44, 56, 62, 202
    w, h = x0 + bw * len(full) + 130, 266
    top = max(n for _, _, n in full) or 1
    e0 = max(1, full[0][1].bit_length() - 1)
    parts = [f'<svg class="plot" width="{w}" height="{h}" role="img" '
             f'aria-label="{html.escape(title)}">',
             f'<text x="4" y="14" font-size="12" font-weight="bold">{html.escape(title)}</text>',
             f'<line x1="{x0}" y1="{base_y}" x2="{w - 16}" y2="{base_y}" stroke="#333"/>',
             f'<line x1="{x0}" y1="{top_y}" x2="{x0}" y2="{base_y}" stroke="#333"/>',
             f'<text x="{x0 - 4}" y="{top_y + 4}" text-anchor="end" font-size="10">{top}</text>',
             f'<text x="{x0 - 4}" y="{base_y}" text-anchor="end" font-size="10">0</text>',
             f'<text x="12" y="{(top_y + base_y) // 2}" font-size="11" text-anchor="middle" '
             f'transform="rotate(-90 12 {(top_y + base_y) // 2})">samples (linear)</text>']
    for i, (lo, hi, n) in enumerate(full):
        bh = (base_y - top_y) * n / top
        x = x0 + bw * i
        parts.append(f'<rect x="{x + 2}" y="{base_y - bh:.1f}" width="{bw - 4}" '
                     f'height="{bh:.1f}" fill="#4a7"><title>[{with_unit(lo, "ns")}, '
                     f'{with_unit(hi, "ns")}): {n} samples</title></rect>')
        if n:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{base_y - bh - 3:.1f}" '
                         f'text-anchor="middle" font-size="10">{n}</text>')
        parts.append(f'<text x="{x:.1f}" y="{base_y + 12}" text-anchor="middle" '
                     f'font-size="9">{with_unit(lo, "ns")}</text>')
    parts.append(f'<text x="{x0 + bw * len(full):.1f}" y="{base_y + 12}" text-anchor="middle" '
                 f'font-size="9">{with_unit(full[-1][1], "ns")}</text>')
    for j, (label, v) in enumerate(marks):
        if v is None or v <= 0:
            continue
        pos = min(max(math.log2(max(v, 1.0)) - (e0 - 1), 0.0), float(len(full)))
        x = x0 + bw * pos
        color = COLORS[j % len(COLORS)]
        y = 26 + 12 * j
        parts.append(f'<line x1="{x:.1f}" y1="{y + 2}" x2="{x:.1f}" y2="{base_y}" '
                     f'stroke="{color}" stroke-dasharray="4 2" stroke-width="1.5"/>'
                     f'<text x="{x + 3:.1f}" y="{y}" font-size="10" font-weight="bold" '
                     f'fill="{color}">{label} {with_unit(v, "ns")}</text>')
    parts.append(f'<text x="{x0}" y="{h - 8}" font-size="11">latency, log2 axis (each bar '
                 f'one doubling, labels its lower bound); dashed: p50, p99, max</text></svg>')
    return "".join(parts)


def histograms(run: dict[str, Any]) -> list[str]:
    out = []
    for t in run.get("tests", []):
        for d in t.get("diagnostics", []):
            if d.startswith("histogram"):
                b = [(int(lo), int(hi), int(n)) for lo, hi, n in _HIST.findall(d)]
                what = d.split(" (")[0].removeprefix("histogram ")
                words = what.split()
                suite = t["path"].split(".")[0]
                marks = []
                if len(words) >= 2:
                    base = f"{suite}.{words[0]}.{words[1]}.latency_ns"
                    marks = [(p, _val(run, f"{base}.{p}")) for p in ("p50", "p99", "max")]
                out.append(histogram_svg(f"{run['config']['name']}: {t['path']} {what}", b,
                                         [(lbl, v) for lbl, v in marks if v is not None]))
    return out


# ---- drift against the TSC ----

def drift_against_tsc(run: dict[str, Any]) -> list[tuple[str, float, Optional[float]]]:
    """Per source that measured the TSC: (source, ppm, unc ppm) of the TSC
    rate it saw against the rate the run settled on (tsc.freq_khz): how
    much faster (+) the source runs than the TSC says, over one window."""
    ref = _val(run, "tsc.freq_khz")
    out = []
    for s in SOURCES[1:]:
        m = _meas(run, f"tsc.freq_khz.{s}")
        if m is None or not ref:
            continue
        unc = _UNC.search(m.get("extra", ""))
        out.append((s, (float(m["value"]) / ref - 1) * 1e6, float(unc.group(1)) if unc else None))
    return out


def drift_bars_svg(title: str, rows: list[tuple[str, float, Optional[float]]]) -> str:
    """Horizontal bars around 0 ppm on a linear axis, each with its
    uncertainty as a whisker."""
    if not rows:
        return ""
    span = max(max(abs(v) + (u or 0) for _, v, u in rows), 1e-3)
    w, x0, half, rh = 640, 90, 250, 22
    h = 50 + rh * len(rows) + 30
    mid = x0 + half
    parts = [f'<svg class="plot" width="{w}" height="{h}" role="img" '
             f'aria-label="{html.escape(title)}">',
             f'<text x="4" y="14" font-size="12" font-weight="bold">{html.escape(title)}</text>',
             f'<line x1="{mid}" y1="30" x2="{mid}" y2="{h - 30}" stroke="#333"/>']
    for i, (s, v, u) in enumerate(rows):
        y = 36 + rh * i
        x = mid + half * v / span
        parts.append(f'<text x="{x0 - 6}" y="{y + 13}" text-anchor="end" font-size="11">'
                     f'{s}</text><rect x="{min(x, mid):.1f}" y="{y + 3}" '
                     f'width="{max(abs(x - mid), 1):.1f}" height="{rh - 8}" '
                     f'fill="{COLORS[i % len(COLORS)]}"><title>{s}: {fixed(v)} ppm</title></rect>')
        if u:
            parts.append(f'<line x1="{mid + half * (v - u) / span:.1f}" y1="{y + 9}" '
                         f'x2="{mid + half * (v + u) / span:.1f}" y2="{y + 9}" stroke="#000"/>')
        parts.append(f'<text x="{w - 6}" y="{y + 13}" text-anchor="end" font-size="10">'
                     f'{fixed(v)} ppm' + (f" +- {fixed(u)}" if u else "") + '</text>')
    ya = h - 16
    parts.append(f'<text x="{x0}" y="{ya}" font-size="10">-{fixed(span)} ppm</text>'
                 f'<text x="{mid}" y="{ya}" font-size="10" text-anchor="middle">0</text>'
                 f'<text x="{x0 + 2 * half}" y="{ya}" font-size="10" text-anchor="end">'
                 f'+{fixed(span)} ppm</text>'
                 f'<text x="{x0}" y="{h - 3}" font-size="10">ppm, linear axis; whisker: the '
                 f'measurement\'s uncertainty</text></svg>')
    return "".join(parts)


def timeline_svg(title: str, events: list[dict[str, str]], length_s: float) -> str:
    """Each event at its time; jumps as bars as tall as their size."""
    w, h = 640, 170
    jumps = [abs(float(e.get("size_ms", 0) or 0)) for e in events]
    top = max(jumps + [1.0])
    parts = [f'<svg class="plot" width="{w}" height="{h}" role="img" '
             f'aria-label="{html.escape(title)}">',
             f'<line x1="30" y1="120" x2="{w - 10}" y2="120" stroke="#333"/>',
             f'<text x="30" y="134" font-size="10">0 s</text>',
             f'<text x="{w - 10}" y="134" font-size="10" text-anchor="end">'
             f'{fixed(length_s)} s</text>',
             f'<text x="4" y="14" font-size="10">bar height: jump size, linear, '
             f'up to {fixed(top)} ms</text>']
    for e in events:
        t = float(e.get("at_s", 0) or 0)
        x = 30 + (w - 50) * min(t / max(length_s, 1e-9), 1.0)
        size = abs(float(e.get("size_ms", 0) or 0))
        bh = max(4, int(90 * size / top))
        color = {"jump": "#c33", "ticks": "#36c", "guest_stopped": "#999"}.get(e["kind"], "#690")
        parts.append(f'<rect x="{x:.1f}" y="{120 - bh}" width="6" height="{bh}" fill="{color}">'
                     f'<title>{html.escape(" ".join(f"{k}={v}" for k, v in e.items()))}'
                     f'</title></rect>')
    parts.append(f'<text x="4" y="160" font-size="12">{html.escape(title)} (time in s, linear; '
                 f'red: jumps, blue: late ticks, grey: guest stopped)</text></svg>')
    return "".join(parts)


def drift_svg(title: str, samples: list[dict[str, str]]) -> str:
    """Each source's offset from the TSC over time (ms, linear), one line
    each; from the median of all sources where the samples have no TSC."""
    if not samples:
        return ""
    names = [k for k in samples[0] if k != "at_s"]
    ref = "tsc" if "tsc" in names else ""
    names = [n for n in names if n != ref]

    def off(s: dict[str, str], n: str) -> float:
        return float(s.get(n, 0) or 0) - (float(s.get(ref, 0) or 0) if ref else 0.0)
    pts = {n: [(float(s["at_s"]), off(s, n)) for s in samples] for n in names}
    t_max = max(float(s["at_s"]) for s in samples) or 1.0
    vals = [v for p in pts.values() for _, v in p] + [0.0]
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    w, h = 640, 220
    parts = [f'<svg class="plot" width="{w}" height="{h}" role="img" '
             f'aria-label="{html.escape(title)}">',
             f'<line x1="40" y1="{20 + 140 * hi / span:.1f}" x2="{w - 10}" '
             f'y2="{20 + 140 * hi / span:.1f}" stroke="#ccc"/>',
             f'<text x="36" y="24" font-size="10" text-anchor="end">{fixed(hi)}</text>',
             f'<text x="36" y="160" font-size="10" text-anchor="end">{fixed(lo)}</text>',
             f'<text x="40" y="174" font-size="10">0 s</text>',
             f'<text x="{w - 10}" y="174" font-size="10" text-anchor="end">{fixed(t_max)} s</text>']
    for i, n in enumerate(names):
        xy = " ".join(f"{40 + (w - 60) * t / t_max:.1f},{20 + 140 * (hi - v) / span:.1f}"
                      for t, v in pts[n])
        parts.append(f'<polyline points="{xy}" fill="none" stroke="{COLORS[i % len(COLORS)]}" '
                     f'stroke-width="2"><title>{html.escape(n)}</title></polyline>')
        parts.append(f'<text x="{40 + 70 * i}" y="192" font-size="12" '
                     f'fill="{COLORS[i % len(COLORS)]}">{html.escape(n)}</text>')
    against = "the TSC" if ref else "the median of the sources"
    parts.append(f'<text x="4" y="12" font-size="12">{html.escape(title)}: offset from '
                 f'{against} (ms, linear axis) against time (s, linear)</text>'
                 f'<text x="4" y="212" font-size="10">{fixed(lo)} to {fixed(hi)} ms over '
                 f'{fixed(t_max)} s</text></svg>')
    return "".join(parts)


CHECK_SCRIPT = """<script>
window.addEventListener("load", function () {
  var plots = document.querySelectorAll("svg.plot"), shown = 0, i, b;
  for (i = 0; i < plots.length; i++) {
    b = plots[i].getBoundingClientRect();
    if (b.width > 0 && b.height > 0 && plots[i].querySelector("rect, polyline, line"))
      shown++;
  }
  var imgs = document.querySelectorAll("img"), seen = 0;
  for (i = 0; i < imgs.length; i++)
    if (imgs[i].complete && imgs[i].naturalWidth > 0) seen++;
  var body = document.body;
  body.setAttribute("data-plots", plots.length);
  body.setAttribute("data-plots-shown", shown);
  body.setAttribute("data-images-shown", seen);
  body.setAttribute("data-errors", window.tickscopeErrors.join(" | ") || "none");
});
</script>"""


def plot_count(page_html: str) -> int:
    """How many plots the page draws (what a browser must show)."""
    return page_html.count('<svg class="plot"')


def page(runs: list[dict[str, Any]], scenarios: list[dict[str, Any]], advice: str = "") -> str:
    """The page: overview, sources table, histograms, drift, scenario plots,
    screens, and advice (an HTML section the caller made, e.g. advise.to_html)."""
    head = "".join(f"<th>{html.escape(r['config']['name'])}<br><small>{r.get('accel', '')}, "
                   f"{r.get('verdict', '')}</small></th>" for r in runs)
    body = "\n".join(source_rows(runs))
    hists = "\n".join(h for r in runs for h in histograms(r))
    drifts = "\n".join(drift_bars_svg(f"{r['config']['name']}: each source against the TSC "
                                      "(ppm; one window each, test tsc.freq_<source>)",
                                      drift_against_tsc(r)) for r in runs)
    scen = "\n".join(timeline_svg(f"scenario {s.get('scenario')} ({s.get('accel')}, held "
                                  f"{fixed(s.get('held_s', 0) or 0)} s): "
                                  f"{s.get('scenario_verdict')}",
                                  s.get("events", []),
                                  _val(s, "monitor.seconds") or 10.0)
                     + drift_svg(f"scenario {s.get('scenario')} drift", s.get("samples", []))
                     for s in scenarios)
    shots = "\n".join(
        f'<figure><img alt="screen of {html.escape(r["config"]["name"])}" '
        f'src="data:image/png;base64,{r["screen"]["png_base64"]}"><figcaption>'
        f'{html.escape(r["config"]["name"])}: the screen at the end of the run</figcaption>'
        f'</figure>' for r in runs if r.get("screen", {}).get("png_base64"))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>tickscope report</title>
<script>window.tickscopeErrors = [];
window.addEventListener("error", function (e) {{
  window.tickscopeErrors.push(String(e.message));
}});
</script>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
table {{ border-collapse: collapse; font-size: 13px; }}
td, th {{ border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; }}
.overview td, .overview th {{ padding: 2px 6px; font-size: 12px; }}
.pass {{ background: #cdeccd; }} .fail {{ background: #f4b6b6; }}
.error {{ background: #eab0e4; }} .skip {{ background: #eee; color: #666; }}
svg.plot {{ display: block; margin: 8px 0; }}
</style></head><body>
<h1>tickscope report</h1>
<h2>Overview</h2>
{overview(runs)}
<h2>Sources across configurations</h2>
<table><tr><th>source</th>{head}</tr>
{body}
</table>
<h2>Oneshot latency histograms</h2>
{hists or "<p>none</p>"}
<h2>Drift of each source against the TSC</h2>
<p>Each source measured the TSC's rate once, over one window (the tsc.freq_&lt;source&gt;
tests, 100 ms by default); a bar is how much faster (+) the source ran than the rate the run
settled on. The kernel prints no time series of these offsets in a normal run, so drift over
time is not plotted here; monitor-mode scenarios print one (below, per scenario).</p>
{drifts or "<p>no source measured the TSC</p>"}
<h2>Scenarios</h2>
{scen or "<p>none run</p>"}
<h2>Screens</h2>
{shots or "<p>none taken</p>"}
{advice}
{CHECK_SCRIPT}
</body></html>
"""
