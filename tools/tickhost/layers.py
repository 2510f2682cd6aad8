"""The one-way rule, checked: kernel `#include "..."` lines against the layer
order with no circle between units, and tickhost's imports against its LAYERS.
It only reads files: it must not build, run or import the code it checks.

Kernel: a file's layer is its top folder; a unit is foo.c + foo.h (+ foo.S)
in one folder. An include may point to the same layer or a lower one;
units of one layer may include each other, but no set of units (in any
layers) may include each other in a circle. tests/host and tests/fuzz are
host programs, outside the layers: they are not scanned, and kernel code
may not include them.

Package: a module's layer is its row in LAYERS (declared in the package's
__init__.py, read here as data); `__init__` is below every row and
`__main__` above them. The same rule applies, and no module may change
sys.path or import a sibling as a top-level module.

    python3 -m tickhost.layers [ROOT]     prints each violation as file:line
"""
from __future__ import annotations

import ast
import os
import re
import sys
from dataclasses import dataclass
from typing import Optional

from . import paths



def makefile_layers(root: str = paths.ROOT) -> tuple[str, ...]:
    """The kernel's layer order, lowest first, as the Makefile declares it
    (`LAYERS := lib arch-x86 ...`): one declaration for the build and the check."""
    with open(os.path.join(root, "Makefile"), encoding="utf-8") as f:
        m = re.search(r"^LAYERS\s*:?=\s*(.+)$", f.read(), re.M)
    if not m:
        raise SystemExit("layers: no `LAYERS :=` line in the Makefile")
    return tuple(m.group(1).split())


KERNEL_LAYERS = makefile_layers()
HOST_CODE = ("tests/host", "tests/fuzz")
SOURCE_EXT = (".c", ".h", ".S")
_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


@dataclass(frozen=True)
class Edge:
    """One include or import: where it is written, and the units it joins."""
    path: str       # file holding the line, relative to the tree's root
    line: int
    src: str        # unit (kernel) or module (package) that includes
    dst: str        # unit or module included
    what: str       # the text named: a header path or a module

    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Result:
    """A check's violations (each starting with file:line) and its size."""
    problems: list[str]
    files: int = 0
    edges: int = 0


# -- kernel ----------------------------------------------------------------

def kernel_files(root: str, layers: tuple[str, ...] = KERNEL_LAYERS) -> list[str]:
    """Kernel sources under the layer folders, relative to root, sorted."""
    out = []
    for layer in layers:
        for top, dirs, files in os.walk(os.path.join(root, layer)):
            rel_top = os.path.relpath(top, root).replace(os.sep, "/")
            dirs[:] = sorted(d for d in dirs if f"{rel_top}/{d}" not in HOST_CODE)
            out += [f"{rel_top}/{f}" for f in files if f.endswith(SOURCE_EXT)]
    return sorted(out)


def _blank_comments(text: str) -> str:
    """The text with comments replaced by blanks, keeping line numbers."""
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def includes(root: str, rel: str) -> list[tuple[int, str]]:
    """The quoted includes of one file: (line number, name as written)."""
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        text = _blank_comments(f.read())
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        m = _INCLUDE.match(line)
        if m:
            out.append((n, m.group(1)))
    return out


def resolve_include(root: str, rel: str, name: str) -> Optional[str]:
    """Where a quoted include lands, as the compiler searches: the including
    file's folder first, then the tree's root (-I.); None if nowhere."""
    for base in (os.path.dirname(rel), ""):
        cand = os.path.normpath(os.path.join(base, name)).replace(os.sep, "/")
        if not cand.startswith("../") and os.path.isfile(os.path.join(root, cand)):
            return cand
    return None


def unit_of(rel: str) -> str:
    return os.path.splitext(rel)[0]


def layer_of(rel: str) -> str:
    return rel.split("/", 1)[0]


def check_kernel(root: str, layers: tuple[str, ...] = KERNEL_LAYERS) -> Result:
    """Upward includes, includes of host code or of nothing, and cycles."""
    rank = {name: i for i, name in enumerate(layers)}
    files = kernel_files(root, layers)
    problems: list[str] = []
    edges: list[Edge] = []
    for rel in files:
        for line, name in includes(root, rel):
            where = f"{rel}:{line}"
            target = resolve_include(root, rel, name)
            if target is None:
                problems.append(f'{where}: #include "{name}" is no file in the tree')
                continue
            if any(target.startswith(h + "/") for h in HOST_CODE):
                problems.append(f"{where}: includes host-only code {target}")
                continue
            src_layer, dst_layer = layer_of(rel), layer_of(target)
            if dst_layer not in rank:
                problems.append(f"{where}: includes {target}, outside the declared layers")
                continue
            if rank[dst_layer] > rank[src_layer]:
                problems.append(f"{where}: {src_layer} includes {target}: {dst_layer} is "
                                f"above {src_layer}")
            if unit_of(target) != unit_of(rel):
                edges.append(Edge(rel, line, unit_of(rel), unit_of(target), target))
    problems += cycle_problems(edges, "include")
    return Result(problems, len(files), len(edges))


# -- cycles ----------------------------------------------------------------

def strongly_connected(edges: list[Edge]) -> list[list[str]]:
    """Sets of nodes that reach each other (Tarjan), those of two or more
    nodes only, each sorted, in sorted order."""
    graph: dict[str, list[str]] = {}
    for e in edges:
        graph.setdefault(e.src, []).append(e.dst)
        graph.setdefault(e.dst, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        # Recursion depth is the longest include chain: tens, not thousands.
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(set(graph[v])):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def shortest_cycle(start: str, members: set[str], edges: list[Edge]) -> list[Edge]:
    """The shortest circle from start back to it through members (breadth
    first; the first edge in file order wins between two nodes)."""
    first: dict[tuple[str, str], Edge] = {}
    for e in sorted(edges, key=lambda e: (e.path, e.line)):
        if e.src in members and e.dst in members:
            first.setdefault((e.src, e.dst), e)
    came: dict[str, Edge] = {}
    frontier = [start]
    while frontier and start not in came:
        nxt = []
        for v in frontier:
            for (a, b), e in sorted(first.items()):
                if a == v and b not in came:
                    came[b] = e
                    nxt.append(b)
        frontier = nxt
    path: list[Edge] = []
    node = start
    while True:
        e = came[node]
        path.append(e)
        node = e.src
        if node == start:
            return path[::-1]


def cycle_problems(edges: list[Edge], kind: str) -> list[str]:
    """One line per circle: the shortest circle through each unit that is
    in one (each circle once), the units in order and where each arrow is
    written."""
    problems = []
    for comp in strongly_connected(edges):
        seen: set[frozenset[tuple[str, str]]] = set()
        for start in comp:
            cycle = shortest_cycle(start, set(comp), edges)
            key = frozenset((e.src, e.dst) for e in cycle)
            if key in seen:
                continue
            seen.add(key)
            chain = " -> ".join([e.src for e in cycle] + [cycle[0].src])
            problems.append(f"{cycle[0].where()}: {kind} cycle {chain} "
                            f"({', '.join(e.where() for e in cycle)})")
    return problems


# -- the package -----------------------------------------------------------

def declared_layers(pkg_dir: str) -> Optional[tuple[tuple[str, ...], ...]]:
    """The LAYERS tuple assigned in the package's __init__.py, or None."""
    with open(os.path.join(pkg_dir, "__init__.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else \
            node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == "LAYERS" and node.value:
            value = ast.literal_eval(node.value)
            return tuple(tuple(row) for row in value)
    return None


def _imports(tree: ast.AST, pkg: str, modules: set[str]) -> list[tuple[int, str, str]]:
    """(line, module of the package imported or '' for a bad import, text)."""
    out: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level > 1:
                out.append((node.lineno, "", "." * node.level + mod))
            elif node.level == 1 or mod == pkg or mod.startswith(pkg + "."):
                inner = mod[len(pkg):].lstrip(".") if node.level == 0 else mod
                if inner:
                    out.append((node.lineno, inner.split(".")[0], mod))
                else:
                    out += [(node.lineno, a.name if a.name in modules else "__init__",
                             a.name) for a in node.names]
            elif mod.split(".")[0] in modules:
                out.append((node.lineno, "", mod))
        elif isinstance(node, ast.Import):
            for a in node.names:
                top, _, rest = a.name.partition(".")
                if top == pkg:
                    out.append((node.lineno, rest.split(".")[0] or "__init__", a.name))
                elif top in modules:
                    out.append((node.lineno, "", a.name))
    return out


def _touches_sys_path(tree: ast.AST) -> list[int]:
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute)
            and n.attr == "path" and isinstance(n.value, ast.Name) and n.value.id == "sys"]


def check_package(pkg_dir: str, root: Optional[str] = None) -> Result:
    """The package's modules against its declared LAYERS, and cycles."""
    root = root or os.path.dirname(pkg_dir)
    pkg = os.path.basename(pkg_dir)
    layers = declared_layers(pkg_dir)
    init_rel = os.path.relpath(os.path.join(pkg_dir, "__init__.py"), root)
    if layers is None:
        return Result([f"{init_rel}:1: declares no LAYERS"])
    rank = {m: i for i, row in enumerate(layers) for m in row}
    rank.update({"__init__": -1, "__main__": len(layers)})
    modules = {f[:-3] for f in os.listdir(pkg_dir) if f.endswith(".py")}
    problems: list[str] = []
    edges: list[Edge] = []
    for mod in sorted(modules):
        rel = os.path.relpath(os.path.join(pkg_dir, mod + ".py"), root)
        with open(os.path.join(pkg_dir, mod + ".py"), encoding="utf-8") as f:
            tree = ast.parse(f.read(), rel)
        if mod not in rank:
            problems.append(f"{rel}:1: module {mod} is in no row of LAYERS ({init_rel})")
        problems += [f"{rel}:{n}: uses sys.path (only the launcher may)"
                     for n in _touches_sys_path(tree)]
        for line, dst, text in _imports(tree, pkg, modules):
            e = Edge(rel, line, mod, dst, text)
            problems += _import_problem(e, rank, modules, pkg)
            if dst in modules and dst != mod:
                edges.append(e)
    problems += cycle_problems(edges, "import")
    return Result(problems, len(modules), len(edges))


def _import_problem(e: Edge, rank: dict[str, int], modules: set[str], pkg: str) -> list[str]:
    if not e.dst:
        return [f"{e.where()}: imports {e.what} other than as {pkg}.{e.what.lstrip('.')} "
                "(a sibling as a top-level module, or above the package)"]
    if e.dst not in modules:
        return [f"{e.where()}: imports {e.what}: no module {e.dst} in {pkg}"]
    if e.src in rank and e.dst in rank and rank[e.dst] > rank[e.src]:
        return [f"{e.where()}: {e.src} imports {e.dst}, which is in a higher row of LAYERS"]
    return []


def check_all(root: str = paths.ROOT, pkg_dir: str = paths.PACKAGE) -> tuple[str, list[str]]:
    """Both checks: a one-line description of what was read, and violations."""
    k = check_kernel(root)
    p = check_package(pkg_dir, root)
    what = (f"kernel: {k.files} files, {k.edges} includes between units; "
            f"{os.path.basename(pkg_dir)}: {p.files} modules, {p.edges} imports")
    return what, k.problems + p.problems


def main(argv: list[str]) -> int:
    root = argv[0] if argv else paths.ROOT
    what, problems = check_all(root)
    for p in problems:
        print(p)
    print(f"layers: {what}: {len(problems)} violations (kernel order "
          f"{' < '.join(KERNEL_LAYERS)})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
