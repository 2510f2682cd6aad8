"""The ISO's GRUB menu driven as a person would: boot the BIOS ISO, wait
for GRUB's menu on serial, press Down n times and Enter through QMP, and
check that the entry does what its title says (its command line, the
suites it starts, the screen it keeps). It runs QEMU through qemu's
command line; it must not judge a test report (the default entry is the
matrix's iso-bios run).
"""
from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

from . import ktap, qemu
from .qmp import QMP

GRUB_MENU = "GNU GRUB"


@dataclass
class Entry:
    index: int                   # position in iso/grub.cfg, 0 = default
    title: str
    want: tuple[str, ...]        # regexes every one of which some line must match
    stop: str                    # regex of the line after which we have seen enough


# iso/grub.cfg's entries after the default, and what each must show.
ENTRIES = (
    Entry(1, "quick", (r'^# cmdline: "test=platform\.\*,irq\.\*,tsc\.freq\*"', r"^1\.\.3$",
                       r"console=serial\+fb"), r"^# totals: \d+ passed, 0 failed"),
    Entry(2, "thorough", (r'^# cmdline: "thorough"',), r"# Subtest: platform"),
    Entry(3, "monitor", (r'^# cmdline: "monitor=60"', r"^1\.\.1$"), r"# Subtest: monitor"),
    Entry(4, "serial only", (r'^# cmdline: "noscreen"', r"console=serial$"),
          r"# Subtest: irq"),
)


def _reader(proc: subprocess.Popen, q: "queue.Queue[str | None]") -> None:
    assert proc.stdout
    for raw in proc.stdout:
        q.put(ktap.clean(raw.decode("utf-8", "replace")))
    q.put(None)


def boot_entry(iso: str, e: Entry, timeout: float = 90.0) -> list[str]:
    """Boots the entry under TCG (SeaBIOS); returns problems ([] = good)."""
    c, err = qemu.resolve(qemu.Config(name=f"menu-{e.index}", accel="tcg",
                                      firmware="seabios", iso=iso))
    if err:
        return [err]
    tmp = tempfile.mkdtemp(prefix="tickscope-menu-")
    sock = os.path.join(tmp, "qmp.sock")
    cmd = qemu.command(c, None) + ["-qmp", f"unix:{sock},server=on,wait=off"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    q: "queue.Queue[str | None]" = queue.Queue()
    threading.Thread(target=_reader, args=(proc, q), daemon=True).start()
    lines: list[str] = []
    chosen, done, deadline = False, False, time.monotonic() + timeout
    try:
        while not done and time.monotonic() < deadline:
            try:
                line = q.get(timeout=1.0)
            except queue.Empty:
                continue
            if line is None:
                break
            if not chosen and GRUB_MENU in line:
                qm = QMP(sock)
                for _ in range(e.index):
                    qm.cmd("send-key", keys=[{"type": "qcode", "data": "down"}])
                qm.cmd("send-key", keys=[{"type": "qcode", "data": "ret"}])
                qm.close()
                chosen = True
            lines.append(line.strip())
            done = chosen and re.search(e.stop, line.strip()) is not None
    except (OSError, RuntimeError) as ex:
        return [f"QMP: {ex}"]
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    if not chosen:
        return ["GRUB's menu never appeared on serial"]
    problems = [f"no line matches /{rx}/" for rx in e.want
                if not any(re.search(rx, ln) for ln in lines)]
    if not done:
        problems.append(f"never reached /{e.stop}/ within {timeout:g} s")
    return problems
