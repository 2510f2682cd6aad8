#!/usr/bin/env python3
"""Checks the kernel's include graph against its declared layer order.

Usage: check_layers.py LAYER...   (lowest first, as the Makefile's LAYERS)
       check_layers.py --selftest (plants an upward include and a circle)

Every #include "..." in a .c, .h or .S file directly inside a layer's folder
must name a header of the same layer or a lower one, and no units (foo.c and
foo.h together) may include each other in a circle. Subfolders (tests/host,
tests/fuzz) are host programs, not kernel units, and are not checked. It
must not change any file; it prints what is wrong and exits 1, or prints one
line and exits 0.
"""
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def resolve(root: str, src: str, name: str) -> str | None:
    """The header a quoted include names: next to src first, then from root
    (the compiler's -I.). Returns its path relative to root, or None."""
    for base in (os.path.dirname(src), ""):
        path = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(os.path.join(root, path)):
            return path
    return None


def unit(path: str) -> str:
    return os.path.splitext(path)[0]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of units, as a list that starts and ends with the same
    unit, or None when the graph has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(u: str) -> list[str] | None:
        state[u] = 1
        path.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                return path[path.index(v):] + [v]
            if v not in state:
                found = visit(v)
                if found:
                    return found
        path.pop()
        state[u] = 2
        return None

    for u in sorted(graph):
        if u not in state:
            found = visit(u)
            if found:
                return found
    return None


def check(root: str, layers: list[str]) -> list[str]:
    """Every problem found under root, as lines to print."""
    rank = {layer: i for i, layer in enumerate(layers)}
    problems = []
    graph: dict[str, set[str]] = {}
    nfiles = 0
    for layer in layers:
        folder = os.path.join(root, layer)
        if not os.path.isdir(folder):
            continue
        for fname in sorted(os.listdir(folder)):
            if not fname.endswith((".c", ".h", ".S")):
                continue
            src = os.path.join(layer, fname)
            nfiles += 1
            with open(os.path.join(root, src), encoding="utf-8") as f:
                text = f.read()
            for name in INCLUDE.findall(text):
                dst = resolve(root, src, name)
                if dst is None:
                    problems.append(f'{src}: "{name}" is no file in the tree')
                    continue
                top = dst.split(os.sep)[0]
                if top not in rank or os.path.dirname(dst) != top:
                    problems.append(f"{src}: includes {dst}, which is in no layer")
                elif rank[top] > rank[layer]:
                    problems.append(f"{src}: includes {dst}: {top} is above {layer}")
                if unit(dst) != unit(src):
                    graph.setdefault(unit(src), set()).add(unit(dst))
    cycle = find_cycle(graph)
    if cycle:
        problems.append("circle of units: " + " -> ".join(cycle))
    if not problems:
        print(f"layers: {nfiles} files in {' < '.join(layers)}: "
              "every include points down, no circle")
    return problems


def selftest() -> int:
    """A tree with one upward include and one circle must give both."""
    with tempfile.TemporaryDirectory() as root:
        files = {
            "low/a.h": '#include "high/b.h"\n',  # upward
            "high/b.h": "",
            "high/c.c": '#include "c.h"\n#include "d.h"\n',
            "high/c.h": "",
            "high/d.h": '#include "high/c.h"\n',  # d -> c -> d
        }
        for path, text in files.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                f.write(text)
        problems = check(root, ["low", "high"])
    upward = any("high is above low" in p for p in problems)
    circle = any(p.startswith("circle of units") for p in problems)
    print(f"selftest: upward include {'found' if upward else 'MISSED'}, "
          f"circle {'found' if circle else 'MISSED'}")
    return 0 if upward and circle else 1


def main(argv: list[str]) -> int:
    if argv == ["--selftest"]:
        return selftest()
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems = check(root, argv)
    for p in problems:
        print("layers: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
