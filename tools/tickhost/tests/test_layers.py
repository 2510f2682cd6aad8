"""Unit tests of the layering check on small synthetic trees written to a
temporary folder: a clean tree, upward includes and imports, and circles.
They must not read the real kernel's verdict (it changes as it is fixed)."""
from __future__ import annotations

import os
import tempfile
import textwrap
import unittest

from tickhost import layers, paths


def write(root: str, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text))


CLEAN_KERNEL = {
    "lib/types.h": "typedef int s32;\n",
    "lib/str.h": '#include "types.h"\n',
    "lib/str.c": '#include "str.h"\n#include "lib/types.h"\n',
    "arch-x86/cpu.h": '#include "lib/types.h"\n',
    "drivers/a.h": '#include "arch-x86/cpu.h"\n',
    "drivers/a.c": '#include "a.h"\n#include "b.h"\n',
    "drivers/b.h": "/* #include \"drivers/a.h\" in a comment is no include */\n",
    "drivers/b.c": '#include "b.h"\n',
    "boot/entry.S": '#include "drivers/a.h"\n',
    "tests/host/check.h": '#include "../../boot/main.h"\n',
}


class KernelTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        write(self.root, CLEAN_KERNEL)

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def test_clean_tree(self) -> None:
        r = layers.check_kernel(self.root)
        self.assertEqual(r.problems, [])
        self.assertEqual(r.files, 9)             # tests/host is not scanned
        self.assertEqual(r.edges, 6)             # include lines between units

    def test_upward_include(self) -> None:
        write(self.root, {"arch-x86/idt.c": '#include "cpu.h"\n\n#include "drivers/a.h"\n'})
        self.assertEqual(layers.check_kernel(self.root).problems,
                         ["arch-x86/idt.c:3: arch-x86 includes drivers/a.h: drivers is above "
                          "arch-x86"])

    def test_cycle_within_a_layer(self) -> None:
        write(self.root, {"drivers/b.c": '#include "b.h"\n#include "c.h"\n',
                          "drivers/c.h": '#include "a.h"\n'})
        problems = layers.check_kernel(self.root).problems
        self.assertEqual(len(problems), 1)
        self.assertIn("include cycle drivers/a -> drivers/b -> drivers/c -> drivers/a", problems[0])
        self.assertIn("(drivers/a.c:2, drivers/b.c:2, drivers/c.h:1)", problems[0])

    def test_cycle_across_layers_is_also_upward(self) -> None:
        write(self.root, {"arch-x86/cpu.c": '#include "drivers/b.h"\n',
                          "drivers/b.h": '#include "arch-x86/cpu.h"\n'})
        problems = layers.check_kernel(self.root).problems
        self.assertTrue(problems[0].startswith("arch-x86/cpu.c:1: arch-x86 includes"))
        self.assertTrue(any("include cycle arch-x86/cpu -> drivers/b -> arch-x86/cpu" in p
                            for p in problems))

    def test_host_code_and_missing_files(self) -> None:
        write(self.root, {"tests/t.c": '#include "host/check.h"\n#include "nowhere.h"\n'})
        self.assertEqual(layers.check_kernel(self.root).problems,
                         ["tests/t.c:1: includes host-only code tests/host/check.h",
                          'tests/t.c:2: #include "nowhere.h" is no file in the tree'])

    def test_declared_order_decides(self) -> None:
        write(self.root, {"lib/x.c": '#include "arch-x86/cpu.h"\n'})
        self.assertEqual(len(layers.check_kernel(self.root).problems), 1)
        order = ("arch-x86", "lib", "drivers", "boot", "tests")
        self.assertEqual(layers.check_kernel(self.root, order).problems,
                         ["arch-x86/cpu.h:1: arch-x86 includes lib/types.h: lib is above "
                          "arch-x86"])


INIT = 'LAYERS = (("base",), ("mid", "side"), ("top",))\n'


class PackageTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.pkg = os.path.join(self.tmp.name, "pkg")
        write(self.tmp.name, {
            "pkg/__init__.py": INIT,
            "pkg/base.py": "import os\n",
            "pkg/mid.py": "from . import base\nfrom .side import thing\n",
            "pkg/side.py": "from pkg.base import x\nthing = 1\n",
            "pkg/top.py": "import pkg.mid\nfrom pkg import side, LAYERS\n",
            "pkg/__main__.py": "from .top import main\n",
        })

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def test_clean_package(self) -> None:
        r = layers.check_package(self.pkg)
        self.assertEqual(r.problems, [])
        self.assertEqual((r.files, r.edges), (6, 7))

    def test_upward_import(self) -> None:
        write(self.tmp.name, {"pkg/base.py": "import os\n\n\ndef f():\n    from . import top\n"})
        problems = layers.check_package(self.pkg).problems
        self.assertEqual(problems[0],
                         "pkg/base.py:5: base imports top, which is in a higher row of LAYERS")
        # top already reaches base, so the upward import also closes circles.
        self.assertIn("pkg/base.py:5: import cycle base -> top -> mid -> base "
                      "(pkg/base.py:5, pkg/top.py:1, pkg/mid.py:1)", problems)

    def test_cycle_within_a_row(self) -> None:
        write(self.tmp.name, {"pkg/side.py": "from . import mid\n"})
        self.assertEqual(layers.check_package(self.pkg).problems,
                         ["pkg/mid.py:2: import cycle mid -> side -> mid "
                          "(pkg/mid.py:2, pkg/side.py:1)"])

    def test_undeclared_module_sys_path_and_sibling_import(self) -> None:
        write(self.tmp.name, {"pkg/extra.py": "import sys\nsys.path.insert(0, '.')\n"
                                              "import base\n"})
        self.assertEqual(layers.check_package(self.pkg).problems, [
            "pkg/extra.py:1: module extra is in no row of LAYERS (pkg/__init__.py)",
            "pkg/extra.py:2: uses sys.path (only the launcher may)",
            "pkg/extra.py:3: imports base other than as pkg.base (a sibling as a top-level "
            "module, or above the package)"])

    def test_missing_declaration(self) -> None:
        write(self.tmp.name, {"pkg/__init__.py": "ORDER = ()\n"})
        self.assertEqual(layers.check_package(self.pkg).problems,
                         ["pkg/__init__.py:1: declares no LAYERS"])


class RealPackageTest(unittest.TestCase):
    def test_tickhost_keeps_its_own_order(self) -> None:
        r = layers.check_package(paths.PACKAGE, paths.ROOT)
        self.assertEqual(r.problems, [])
        self.assertGreater(r.edges, 20)


if __name__ == "__main__":
    unittest.main()
