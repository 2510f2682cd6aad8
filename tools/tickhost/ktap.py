"""KTAP v1 parser for tickscope's serial stream: text in, a tree of results
with diagnostics and `# measure:` values out. It must not run anything or
import other modules of the package; everything else builds on it.

Lines before the first `KTAP version` header (firmware noise) are ignored;
escape sequences are stripped. Diagnostics belong to the test whose result
line follows them at their depth (ktap.rst: "diagnostic lines regarding a
test are directly before the test result line for that test"): lines
between a suite's nested block and its result line are the suite's, lines
before the first suite are the run's. A test's result line may carry its
full dotted name (`ok 4 hpet.oneshot`) or only its own (`ok 4 oneshot`);
both give the path hpet.oneshot. Result names must be unique, as paths and
as printed (a consumer that flattens the tree sees the printed names):
`duplicates()` lists any that are not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

RESULTS = ("PASS", "SKIP", "FAIL", "ERROR")
_ESC = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\r")
_HEADER = re.compile(r"(K?TAP) version (\d+)\s*$")
_PLAN = re.compile(r"1\.\.(\d+)\s*$")
_RESULT = re.compile(r"(ok|not ok) (\d+)(?: ([^#]*?))?\s*(?:#\s*(.*))?$")
_MEASURE = re.compile(
    r"measure: ([A-Za-z0-9_.\-]+) = (-?\d+(?:\.\d+)?)(?: ([^(]*?))?\s*(?:\((.*)\))?\s*$")
_KV = re.compile(r'([A-Za-z0-9_.]+)=("[^"]*"|\S*)')
_REGISTERS = re.compile(r"(rip|rax|rsi|r9|r13) ")


@dataclass
class Measurement:
    name: str
    value: float
    unit: str
    extra: str
    test: str  # path of the test that printed it ("" at top level)


@dataclass
class Node:
    name: str = ""
    number: int = 0
    result: Optional[str] = None  # one of RESULTS once its result line came
    reason: str = ""
    plan: Optional[int] = None
    diagnostics: list[str] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)
    path: str = ""


@dataclass
class Report:
    root: Optional[Node] = None
    measurements: list[Measurement] = field(default_factory=list)
    platform: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    bail_out: Optional[str] = None
    exception: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    events: list[dict[str, str]] = field(default_factory=list)  # monitor mode
    samples: list[dict[str, str]] = field(default_factory=list)  # monitor offsets
    problems: list[str] = field(default_factory=list)  # malformed stream
    printed: list[str] = field(default_factory=list)  # names as on the result lines

    def duplicates(self) -> list[str]:
        """Result names given more than once in the run, as dotted paths
        or as printed on the result lines (sorted; [] when all unique)."""
        paths: list[str] = []

        def walk(n: Node) -> None:
            for c in n.children:
                paths.append(c.path)
                walk(c)
        if self.root:
            walk(self.root)
        dup = {p for p in paths if paths.count(p) > 1}
        dup |= {p for p in self.printed if self.printed.count(p) > 1}
        return sorted(dup)

    def leaves(self) -> list[Node]:
        """Every test without subtests, depth first."""
        out: list[Node] = []

        def walk(n: Node) -> None:
            for c in n.children:
                if c.children:
                    walk(c)
                else:
                    out.append(c)
        if self.root:
            walk(self.root)
        return out

    def complete(self) -> bool:
        """True when every plan was met and every suite has its result."""
        if not self.root or self.root.plan is None:
            return False
        ok = True

        def walk(n: Node, top: bool) -> None:
            nonlocal ok
            if n.plan is not None and len(n.children) != n.plan:
                ok = False
            if not top and n.result is None:
                ok = False
            for c in n.children:
                walk(c, False)
        walk(self.root, True)
        return ok

    def verdict(self) -> str:
        """ERROR > FAIL > PASS > SKIP over all leaves; ERROR if incomplete
        or when two results share a name (our own defect)."""
        if self.bail_out is not None or not self.complete() or self.duplicates():
            return "ERROR"
        results = {n.result for n in self.leaves()}
        for r in ("ERROR", "FAIL", "PASS"):
            if r in results:
                return r
        return "SKIP" if results else "ERROR"

    def measure(self, name: str) -> Optional[Measurement]:
        for m in self.measurements:
            if m.name == name:
                return m
        return None


def clean(line: str) -> str:
    """Strips terminal escapes and carriage returns."""
    return _ESC.sub("", line).rstrip("\n")


def parse_result(status: str, directive: str) -> tuple[str, str]:
    """Maps `ok`/`not ok` and the directive to a verdict and its reason."""
    d = directive.strip()
    word, _, rest = d.partition(" ")
    if status == "ok":
        if word.upper() == "SKIP":
            return "SKIP", rest.strip()
        return "PASS", ""
    if word.upper() == "ERROR":
        return "ERROR", rest.strip()
    return "FAIL", d


def parse_platform(text: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in _KV.findall(text)}


def parse(lines: list[str]) -> Report:
    """The report the lines describe (empty when no KTAP header came)."""
    p = _Parser()
    for raw in lines:
        p.feed(clean(raw))
    return p.finish()


class _Parser:
    """Line-at-a-time KTAP reader: a stack of open (sub)tests by depth, and
    the diagnostics waiting for the result line that names their test."""

    def __init__(self) -> None:
        self.rep = Report()
        self.stack: list[Node] = []
        self.pending: dict[int, list[str]] = {}
        self.in_summary = False

    def feed(self, line: str) -> None:
        rep, stack = self.rep, self.stack
        if not stack:
            if _HEADER.search(line):
                rep.root = Node(name="", path="")
                stack.append(rep.root)
            return
        stripped = line.lstrip(" ")
        depth = (len(line) - len(stripped)) // 4
        body = stripped.rstrip()
        if not body:
            return
        if body.startswith("Bail out!"):
            rep.bail_out = body[len("Bail out!"):].strip()
            return
        if _HEADER.match(body):
            if depth == len(stack):
                stack.append(Node())
            else:
                rep.problems.append(f"unexpected header at depth {depth}: {body}")
            return
        if depth >= len(stack):
            depth = len(stack) - 1  # deeper than anything open: attach to innermost
        plan = _PLAN.match(body)
        if plan:
            stack[depth].plan = int(plan.group(1))
        elif body.startswith("#"):
            self.diagnostic(body[1:].strip(), depth)
        elif _RESULT.match(body):
            self.result(_RESULT.match(body).groups(), depth)  # type: ignore[union-attr]
        else:
            rep.problems.append(f"unparsed line: {body[:120]}")

    def diagnostic(self, text: str, depth: int) -> None:
        """A `# ` line: names a subtest, or is a measurement, sample, event,
        platform fact, warning, exception dump or summary row."""
        rep = self.rep
        parent = self.stack[depth]
        if text.startswith("Subtest:") and depth > 0:
            up = self.stack[depth - 1].path
            parent.name = text[len("Subtest:"):].strip()
            parent.path = f"{up}.{parent.name}" if up else parent.name
            return
        # A line after a nested block and before its result line is the
        # nested test's own; any other line waits for the result line that
        # follows at its depth (none at the top: those are the run's).
        closing = self.stack[depth + 1] if len(self.stack) > depth + 1 else None
        mm = _MEASURE.match(text)
        if mm:
            # The test it belongs to is only named by the result line
            # that follows; record a placeholder now, fix up later.
            owner = (_marker(closing, depth + 1) if closing else
                     _marker(parent, depth) if depth else "")
            rep.measurements.append(Measurement(
                mm.group(1), float(mm.group(2)), (mm.group(3) or "").strip(),
                (mm.group(4) or "").strip(), owner))
        elif text.startswith("sample:"):
            rep.samples.append(parse_platform(text[len("sample:"):]))
        elif text.startswith("event:"):
            kind, _, rest = text[len("event:"):].strip().partition(" ")
            rep.events.append({"kind": kind, **parse_platform(rest)})
        elif text.startswith("platform:"):
            rep.platform.update(parse_platform(text[len("platform:"):]))
        elif text.startswith("warning:"):
            rep.warnings.append(text[len("warning:"):].strip())
        elif text.startswith("EXCEPTION") or _REGISTERS.match(text):
            rep.exception.append(text)
        elif text.startswith("---- tickscope summary"):
            self.in_summary = True
        if self.in_summary and depth == 0:
            rep.summary.append(text)
        if closing:
            self.pending.setdefault(depth + 1, []).append(text)
        elif depth:
            self.pending.setdefault(depth, []).append(text)

    def result(self, groups: tuple[str, ...], depth: int) -> None:
        """An `ok`/`not ok` line: closes the subtest open at this depth, or
        is a test without subtests."""
        status, num, name, directive = groups
        result, reason = parse_result(status, directive or "")
        stack = self.stack
        self.in_summary = False
        markers = [_marker(stack[depth], depth)]
        if len(stack) > depth + 1:
            node = stack.pop()      # closes a subtest
            while len(stack) > depth + 1:
                stack.pop()
                self.rep.problems.append("subtest closed without its result")
            markers.append(_marker(node, depth + 1))
            node.diagnostics = node.diagnostics + self.pending.pop(depth + 1, [])
        else:
            node = Node()
        node.name, node.number = (name or "").strip(), int(num)
        node.result, node.reason = result, reason
        parent = stack[depth]
        # The printed name may already be the full dotted path.
        if parent.path and not node.name.startswith(parent.path + "."):
            node.path = f"{parent.path}.{node.name}"
        else:
            node.path = node.name
        self.rep.printed.append(node.name)
        node.diagnostics = self.pending.pop(depth, []) + node.diagnostics
        for m in self.rep.measurements:
            if m.test in markers:
                m.test = node.path
        parent.children.append(node)

    def finish(self) -> Report:
        for m in self.rep.measurements:
            if m.test.startswith("\0"):
                m.test = ""
        return self.rep


def _marker(parent: Node, depth: int) -> str:
    """A placeholder test path for measurements whose test is not yet named."""
    return f"\0{id(parent)}:{depth}"
