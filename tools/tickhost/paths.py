"""Where the host tool finds the repository's files: the kernel images, the
matrix file, the host TSC helper and the golden name lists.
Only paths live here: no module of the package may be imported from it."""
from __future__ import annotations

import os

PACKAGE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(PACKAGE)
ROOT = os.path.dirname(TOOLS)
BUILD = os.path.join(ROOT, "build")

KERNEL = os.path.join(BUILD, "tickscope.elf")
ISO = os.path.join(BUILD, "tickscope.iso")
MATRIX_FILE = os.path.join(TOOLS, "matrix.cfg")
# Malformed firmware tables and hostile command lines (issue #15).
BAD_INPUT_FILE = os.path.join(TOOLS, "matrix-bad-input.cfg")
# Configurations too slow for make test, which make bench runs.
BENCH_MATRIX_FILE = os.path.join(TOOLS, "matrix-bench.cfg")
HOSTTSC_SRC = os.path.join(TOOLS, "hosttsc.c")
HOSTTSC_BIN = os.path.join(BUILD, "hosttsc")
GOLDEN_DIR = os.path.join(ROOT, "tests", "golden")
README = os.path.join(ROOT, "README.md")
