"""The name-identity check: a run's tests (in KTAP order) and distinct
measurement names against tests/golden/NAME.names, recorded before a change;
and the README's list of result names against a run's. It compares names
only; it must not judge values or verdicts, nor run anything.

    python3 -m tickhost.golden RUN.json           prints a run's names in that form
    python3 -m tickhost.golden --readme RUN.json  prints the README's list for a run
"""
from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from typing import Any

from . import paths

SHOW = 30       # names listed per kind before "and N more"


def names(run: dict[str, Any]) -> list[str]:
    """A run's names as the golden files hold them: `test <path>` per
    result in order, then `measure <name>` per distinct name, sorted. The
    run is a JSON dictionary (report.to_dict)."""
    tests = [f"test {t['path']}" for t in run.get("tests", [])]
    measures = sorted({m["name"] for m in run.get("measurements", [])})
    return tests + [f"measure {n}" for n in measures]


README_BEGIN = "<!-- result names: begin"
README_END = "<!-- result names: end -->"


def result_names(run: dict[str, Any]) -> list[str]:
    """Every result's name in the run, in report order: each suite's,
    then those of its tests (as printed on their result lines)."""
    out: list[str] = []
    for t in run.get("tests", []):
        suite = t["path"].split(".")[0]
        if suite not in out:
            out.append(suite)
        out.append(t["path"])
    return out


def readme_lines(run: dict[str, Any]) -> list[str]:
    """The README's list for a run: a line per suite with its tests."""
    names = result_names(run)
    suites = [n for n in names if "." not in n]
    return [f"- `{s}`: " + ", ".join(f"`{n}`" for n in names if n.startswith(s + "."))
            for s in suites]


def readme_listed(path: str = paths.README) -> list[str]:
    """The result names the README lists between its markers, in order."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < start:
        return []
    return re.findall(r"`([a-z0-9_.]+)`", text[text.index("\n", start):end])


def path_of(name: str, directory: str = paths.GOLDEN_DIR) -> str:
    return os.path.join(directory, f"{name}.names")


def load(name: str, directory: str = paths.GOLDEN_DIR) -> list[str]:
    """The recorded names (blank lines ignored)."""
    with open(path_of(name, directory), encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip()]


def _listed(kind: str, items: list[str]) -> list[str]:
    more = f" and {len(items) - SHOW} more" if len(items) > SHOW else ""
    return [f"{kind} {len(items)}: " + ", ".join(items[:SHOW]) + more] if items else []


def _extra(a: list[str], b: list[str]) -> list[str]:
    """Names of a that b lacks, in a's order; a repeated name as often as
    a has it more than b does."""
    left = Counter(b)
    out = []
    for n in a:
        if left[n]:
            left[n] -= 1
        else:
            out.append(n)
    return out


def compare(want: list[str], got: list[str]) -> list[str]:
    """Problems ([] = identical): names missing from the run, names the run
    added, and, when the same names came in another order, the first place
    they part."""
    problems = _listed("missing", _extra(want, got)) + _listed("added", _extra(got, want))
    if not problems and want != got:
        i = next(i for i, (a, b) in enumerate(zip(want, got)) if a != b)
        problems.append(f"same names in another order: line {i + 1} is {got[i]!r}, "
                        f"recorded {want[i]!r}")
    return problems


def check(name: str, run: dict[str, Any], directory: str = paths.GOLDEN_DIR) -> list[str]:
    """The run's names against golden list name; a missing list is a problem."""
    try:
        want = load(name, directory)
    except OSError as e:
        return [f"no golden list {name}: {e.strerror}"]
    return compare(want, names(run))


def main(argv: list[str]) -> int:
    readme = argv[:1] == ["--readme"]
    argv = argv[1:] if readme else argv
    if len(argv) != 1:
        print("usage: python3 -m tickhost.golden [--readme] RUN.json  "
              "(tickscope run --json RUN.json)")
        return 2
    with open(argv[0], encoding="utf-8") as f:
        data = json.load(f)
    print("\n".join(readme_lines(data) if readme else names(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
