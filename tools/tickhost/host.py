"""Facts about the host the tool runs on: whether KVM is usable and the
host's TSC rate (the known answer for the guest's calibration).
It must not start QEMU or know about configurations."""
from __future__ import annotations

import fcntl
import os
import subprocess
from typing import Optional

from . import paths

KVM_GET_API_VERSION = 0xAE00
_host_tsc: Optional[tuple[int, str]] = None


def host_tsc_hz() -> tuple[int, str]:
    """The host's TSC rate against CLOCK_MONOTONIC_RAW (0 and a reason when
    it cannot be measured), from tools/hosttsc.c, built on first use."""
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
        _host_tsc = (int(fields["raw_hz"]), out.strip())
    except (OSError, subprocess.CalledProcessError, KeyError, ValueError) as e:
        _host_tsc = (0, f"host TSC helper failed: {e}")
    return _host_tsc


def host_tsc_unc_ppb() -> int:
    """The stated 1-sigma uncertainty of host_tsc_hz() in ppb (the helper's
    bracket widths over its window), 0 when it gave none."""
    hz, text = host_tsc_hz()
    fields = dict(kv.split("=", 1) for kv in text.split() if "=" in kv)
    try:
        return int(fields.get("unc_ppb", "0")) if hz else 0
    except ValueError:
        return 0


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
