"""`make deps`: checks that the Debian packages tickscope builds and boots
with are installed, and installs the missing ones when run as root. It must
not install anything without root, nor import the rest of the package."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys


def provided() -> set[str]:
    """The virtual packages installed packages provide (NodeSource's
    nodejs provides npm, and conflicts with Debian's)."""
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}\t${Provides}\n"],
                       capture_output=True, text=True)
    out: set[str] = set()
    for line in r.stdout.splitlines():
        status, _, provides = line.partition("\t")
        if "install ok installed" in status:
            out |= {p.split("(")[0].strip() for p in provides.split(",") if p.strip()}
    return out


def missing(pkgs: list[str]) -> list[str]:
    if not shutil.which("dpkg-query"):
        return []
    out = []
    for p in pkgs:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p],
                           capture_output=True, text=True)
        if "install ok installed" not in r.stdout:
            out.append(p)
    if out:
        virtual = provided()
        out = [p for p in out if p not in virtual]
    return out


def main() -> int:
    args = sys.argv[1:]
    install = "--install" in args
    pkgs = [a for a in args if not a.startswith("--")]
    if not shutil.which("dpkg-query"):
        tools = ["gcc", "make", "qemu-system-x86_64", "grub-mkrescue", "xorriso", "mformat"]
        gone = [t for t in tools if not shutil.which(t)]
        if gone:
            print(f"tickscope: not a Debian system; install these tools: {' '.join(gone)}")
            return 1
        return 0
    need = missing(pkgs)
    if not need:
        return 0
    if install and os.geteuid() == 0:
        print(f"tickscope: installing {' '.join(need)}", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *need]):
            if subprocess.run(cmd, env=env).returncode != 0:
                print(f"tickscope: `{' '.join(cmd)}` failed")
                return 1
        return 0
    print("tickscope: missing packages: " + " ".join(need))
    print("  install them with: sudo apt-get install -y " + " ".join(need))
    return 1


if __name__ == "__main__":
    sys.exit(main())
