"""The scenarios' known answers: what the kernel must have reported, given
what was done to the VM (held, starved, migrated), and the outcome record.
Pure judging of finished runs: it must not start QEMU or talk QMP."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Optional

from . import ktap, qemu

TOLERANCE = 0.05            # the 5 %
SPURIOUS_MS = 500.0         # a jump this large must be the one we caused
MIGRATE_SLACK_MS = 100.0    # beyond QEMU's reported downtime
RTC_MON_HZ = 64             # the monitor's periodic RTC rate
SETTLE_S = 1.5              # monitor mode runs this long before a scenario acts
SAMPLE_WAIT_S = 10.0        # bound on waiting for monitor mode's first sample line


@dataclass
class Outcome:
    name: str
    accel: str
    verdict: str
    held_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    jumps: list[dict[str, str]] = field(default_factory=list)
    events: list[dict[str, str]] = field(default_factory=list)
    run: Optional[qemu.RunResult] = None
    # How far the guest's clock fell behind the host's across what was
    # done (see walltime), and that figure's uncertainty; None: unmeasured.
    walltime_err_ms: Optional[float] = None
    walltime_unc_ms: Optional[float] = None
    # The guest TSC's rate against the median of its clocks (ppm) before
    # and after what was done (see tsc_rates); None: unmeasured.
    tsc_ppm: tuple[Optional[float], Optional[float]] = (None, None)
    notes: list[str] = field(default_factory=list)  # what was tried, for the report


def settle(started: threading.Event, sampled: threading.Event, timeout: float) -> None:
    """Waits until a scenario may act: monitor mode started (bounded by
    timeout), SETTLE_S passed, and its first `# sample:` line came (bounded
    by SAMPLE_WAIT_S), so that walltime has a reading from before the act
    (under the slow KVM here the first sample comes after SETTLE_S)."""
    started.wait(timeout=timeout)
    time.sleep(SETTLE_S)
    sampled.wait(timeout=SAMPLE_WAIT_S)


def check(held_s: float, events: list[dict[str, str]]) -> tuple[list[str], list[dict[str, str]]]:
    """Problems with the reported jumps against a hold of held_s seconds."""
    want = held_s * 1000
    jumps = [e for e in events if e.get("kind") == "jump"]
    big = [e for e in jumps if abs(float(e.get("size_ms", "0"))) >= SPURIOUS_MS]
    good = [e for e in big if abs(abs(float(e["size_ms"])) - want) <= TOLERANCE * want]
    problems = []
    if not good:
        problems.append(f"no source reported a jump of {want:.0f} ms (+-5 %); jumps seen: "
                        + (", ".join(f"{e.get('source')} {e.get('size_ms')} ms" for e in jumps)
                           or "none"))
    for e in big:
        if e not in good:
            problems.append(f"{e.get('source')} jumped {e.get('size_ms')} ms, not the "
                            f"{want:.0f} ms the VM was held")
    return problems, good


def check_starve(policy: str, held_s: float, rep: ktap.Report) -> list[str]:
    """The monitor's own tick must have seen the VM held (late wake-ups
    adding up to most of the time stopped); then, with discard, the RTC's
    ticks of that time stay lost, and with slew they are paid back (as
    fast as the hypervisor likes: under KVM within one 20 ms check)."""
    m = {x.name: x.value for x in rep.measurements}
    if "monitor.rtc.deficit_max" not in m:
        return ["no RTC deficit reported (no RTC, or monitor mode did not run)"]
    late = sum(float(e["late_ms"]) for e in rep.events
               if e.get("kind") == "ticks" and "late_ms" in e)
    due = held_s * RTC_MON_HZ  # RTC ticks while the process was stopped
    end = m["monitor.rtc.deficit_end"]
    problems = []
    if late < 0.5 * held_s * 1000:
        problems.append(f"the monitor saw only {late:.0f} ms of lateness; QEMU was stopped "
                        f"{held_s * 1000:.0f} ms")
    if policy == "discard" and end < 0.5 * due:
        problems.append(f"discard: {end:g} RTC ticks missing at the end, {due:.0f} expected lost")
    if policy == "slew" and end > max(2.0, 0.1 * due):
        problems.append(f"slew: {end:g} RTC ticks still missing at the end; they should be "
                        "paid back")
    return problems


def check_migrate(downtime_ms: float, events: list[dict[str, str]]) -> list[str]:
    """No source may jump by more than the downtime QEMU reported."""
    limit = downtime_ms + MIGRATE_SLACK_MS
    return [f"{e.get('source')} jumped {e.get('size_ms')} ms across a migration with "
            f"{downtime_ms:.0f} ms of downtime" for e in events
            if e.get("kind") == "jump" and abs(float(e.get("size_ms", 0))) > limit]


def arrivals(lines: list[str], times: list[float]) -> list[tuple[float, dict[str, str]]]:
    """(host arrival time, fields) of each line monitor mode printed with
    its monitor time at_s: `# sample:` lines (at_s and each source's offset
    from the median in ms) and `# event:` lines (stamped with the same
    check's time, printed a little later: a delay, which walltime allows
    for), from a run's serial lines and their arrival times."""
    out = []
    for text, t in zip(lines, times):
        body = ktap.clean(text).strip()
        for tag in ("# sample:", "# event:"):
            if body.startswith(tag):
                fields = ktap.parse_platform(body[len(tag):])
                if "at_s" in fields:
                    out.append((t, fields))
    return out


def walltime(points: list[tuple[float, dict[str, str]]], act: tuple[float, float]
             ) -> tuple[Optional[float], Optional[float]]:
    """How many ms the guest's clock (its monitor time, on the TSC) fell
    behind the host's across act = (host start, host end) of what was done
    to the VM, and the uncertainty, from monitor mode's lines (arrivals):

    Each line's offset, arrival - at_s, is the host time at which the
    guest's clock read zero, plus the time the line took to reach us. That
    delay only ever adds, so each side's smallest offset is its best
    estimate: err = min(after) - min(before). How well a minimum is pinned
    down shows in the gap to the next smallest offset on its side (lines
    that pile up at the fastest delay leave no gap); the uncertainty is the
    larger of the two sides' gaps. (None, None) without a line on each
    side; the uncertainty is None with a single line on a side."""
    before = sorted(a - float(f["at_s"]) for a, f in points if a < act[0])
    after = sorted(a - float(f["at_s"]) for a, f in points if a > act[1])
    if not before or not after:
        return None, None
    err = (after[0] - before[0]) * 1000
    if len(before) < 2 or len(after) < 2:
        return err, None
    return err, max(after[1] - after[0], before[1] - before[0]) * 1000


def _slope(points: list[tuple[float, float]]) -> Optional[float]:
    """Least-squares slope of y over x; None with fewer than two x values."""
    n = len(points)
    if n < 2:
        return None
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in points) / sxx


def tsc_rates(points: list[tuple[float, dict[str, str]]], act: tuple[float, float]
              ) -> tuple[Optional[float], Optional[float]]:
    """The guest TSC's rate against the median of its clocks (ppm), before
    and after act, as the slope of its offset from the median (ms, in the
    sample lines) over monitor time (s): 1 ms/s is 1000 ppm. Before the
    act the offsets start from 0 at time 0 (monitor mode's baseline)."""
    before = [(0.0, 0.0)] + [(float(f["at_s"]), float(f["tsc"])) for a, f in points
                             if a < act[0] and "tsc" in f]
    after = [(float(f["at_s"]), float(f["tsc"])) for a, f in points
             if a > act[1] and "tsc" in f]
    b, a = _slope(before), _slope(after)
    return (None if b is None else b * 1000, None if a is None else a * 1000)


def check_tsc_rates(events: list[dict[str, str]]) -> list[str]:
    """Across a migration between TSC rates the guest must see its TSC keep
    its rate against its other clocks: no `rate` event for the TSC, which
    monitor mode prints when a clean 1 s window's rate moved by more than
    Linux's clocksource-watchdog bound (kernel/time/clocksource.c: 500 ppm,
    NTP's limit). (tsc_rates' slopes are shown beside it, not judged: over
    a few samples they carry monitor mode's jitter, ms-sized jumps
    included.)"""
    return [f"the TSC's rate changed: {e.get('before_ppm')} -> {e.get('after_ppm')} ppm "
            "against the other clocks" for e in events
            if e.get("kind") == "rate" and e.get("source") == "tsc"]
