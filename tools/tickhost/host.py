"""Facts about the host the tool runs on: whether KVM is usable, and the host's
TSC rate against the clock QEMU's devices follow, with NTP's slew of that clock.
It must not start QEMU or know about configurations."""
from __future__ import annotations

import fcntl
import os
import subprocess
from dataclasses import dataclass
from typing import Optional

from . import paths

KVM_GET_API_VERSION = 0xAE00
KVM_CHECK_EXTENSION = 0xAE03
# The KVM capabilities a matrix entry may need (linux/kvm.h KVM_CAP_*).
# QEMU exposes Hyper-V's CPUID leaves only with KVM_CAP_HYPERV (its
# hyperv_enabled()); hv-time also needs the reference TSC MSR.
KVM_CAPS = {"hyperv": 44, "hyperv_time": 72}


@dataclass(frozen=True)
class HostTsc:
    """The host's TSC rate against the two host clocks (tools/hosttsc.c).
    QEMU's device clocks follow CLOCK_MONOTONIC (util/qemu-timer-common.c;
    KVM's in-kernel timers run on hrtimers of the same clock), which NTP
    slews against CLOCK_MONOTONIC_RAW by up to 500 ppm: `hz` is the rate
    against CLOCK_MONOTONIC, the one a guest's devices measure the TSC by."""

    hz: int = 0               # against CLOCK_MONOTONIC: the known answer passed
    raw_hz: int = 0           # against CLOCK_MONOTONIC_RAW
    slew_ppm: float = 0.0     # CLOCK_MONOTONIC's rate against RAW, minus one
    unc_ppm: float = 0.0      # of each rate (and of the slew): bracket widths / window
    why: str = ""             # how it was measured, or why it could not be

    def describe(self) -> str:
        """One phrase for run lines: the rate passed and the slew."""
        if not self.hz:
            return self.why
        return (f"{self.hz} Hz against CLOCK_MONOTONIC, which ran {self.slew_ppm:+.3f} ppm "
                f"against CLOCK_MONOTONIC_RAW (unc {self.unc_ppm:.3f} ppm)")

    def as_dict(self) -> dict[str, object]:
        return {"clock": "CLOCK_MONOTONIC", "hz": self.hz, "raw_hz": self.raw_hz,
                "slew_ppm": round(self.slew_ppm, 4), "unc_ppm": round(self.unc_ppm, 4),
                "how": self.why}


_host_tsc: Optional[HostTsc] = None


def host_tsc() -> HostTsc:
    """The host's TSC rate against both host clocks (hz 0 and a reason when
    it cannot be measured), from tools/hosttsc.c, built and run on first use."""
    global _host_tsc
    if _host_tsc is not None:
        return _host_tsc
    src, binary = paths.HOSTTSC_SRC, paths.HOSTTSC_BIN
    try:
        if not os.path.exists(binary) or os.path.getmtime(binary) < os.path.getmtime(src):
            os.makedirs(os.path.dirname(binary), exist_ok=True)
            subprocess.run(["gcc", "-O2", "-Wall", "-o", binary, src],
                           check=True, capture_output=True)
        out = subprocess.run([binary, "300"], check=True, capture_output=True,
                             text=True).stdout
        fields = dict(kv.split("=") for kv in out.split())
        _host_tsc = HostTsc(int(fields["mono_hz"]), int(fields["raw_hz"]),
                            int(fields["slew_ppb"]) / 1000.0,
                            int(fields["unc_ppb"]) / 1000.0, out.strip())
    except (OSError, subprocess.CalledProcessError, KeyError, ValueError) as e:
        _host_tsc = HostTsc(why=f"host TSC helper failed: {e}")
    return _host_tsc


def host_tsc_now() -> Optional[tuple[int, float]]:
    """One (host TSC, time.monotonic() seconds) pair, read inside one narrow
    bracket by tools/hosttsc.c; None when it cannot run. Where a guest's TSC
    is the host's, this places a guest TSC reading in host time."""
    if not host_tsc().hz:       # builds the helper, or says why not
        return None
    try:
        out = subprocess.run([paths.HOSTTSC_BIN, "now"], check=True, capture_output=True,
                             text=True).stdout
        fields = dict(kv.split("=") for kv in out.split())
        return int(fields["tsc"]), int(fields["mono_ns"]) / 1e9
    except (OSError, subprocess.CalledProcessError, KeyError, ValueError):
        return None


def host_tsc_hz() -> tuple[int, str]:
    """The host's TSC rate against CLOCK_MONOTONIC, the clock QEMU's devices
    follow (0 and a reason when it cannot be measured)."""
    h = host_tsc()
    return h.hz, h.describe()


def kvm_usable() -> tuple[bool, str]:
    """True when /dev/kvm opens read-write and answers the API version.
    TICKSCOPE_NO_KVM=1 pretends it is absent (to test a TCG-only host)."""
    if os.environ.get("TICKSCOPE_NO_KVM") == "1":
        return False, "TICKSCOPE_NO_KVM=1"
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return False, f"/dev/kvm: {e.strerror}"
    try:
        ver = fcntl.ioctl(fd, KVM_GET_API_VERSION)
        return (ver == 12, f"KVM API version {ver}")
    except OSError as e:
        return False, f"/dev/kvm ioctl: {e.strerror}"
    finally:
        os.close(fd)


def kvm_offers(caps: list[str]) -> tuple[bool, str]:
    """Whether /dev/kvm reports every capability named (keys of KVM_CAPS)
    through KVM_CHECK_EXTENSION, and which it lacks."""
    ok, why = kvm_usable()
    if not ok or not caps:
        return ok, why
    fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    try:
        lacking = [c for c in caps if c not in KVM_CAPS
                   or fcntl.ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAPS[c]) <= 0]
    finally:
        os.close(fd)
    if lacking:
        return False, "/dev/kvm does not offer " + ", ".join(
            f"KVM_CAP_{c.upper()}" if c in KVM_CAPS else f"{c} (unknown capability)"
            for c in lacking)
    return True, why
