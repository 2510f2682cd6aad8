"""The scenarios' known answers: what the kernel must have reported, given
what was done to the VM (held, starved, migrated), and the outcome record.
Pure judging of finished runs: it must not start QEMU or talk QMP."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from . import ktap, qemu

TOLERANCE = 0.05            # the 5 %
SPURIOUS_MS = 500.0         # a jump this large must be the one we caused
MIGRATE_SLACK_MS = 100.0    # beyond QEMU's reported downtime
RTC_MON_HZ = 64             # the monitor's periodic RTC rate
SETTLE_S = 1.5              # monitor mode runs this long before a scenario acts


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
