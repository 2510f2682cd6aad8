"""tickhost: the tickscope host tool as a package (`tools/tickscope` and
`python3 -m tickhost` run its command line). This file only declares the
package's layers; it must import nothing.

Imports point one way, down LAYERS (bottom first): a module may import
modules of its own layer or a lower one, never a higher one, and never in
a circle. tickhost.layers checks this in `make test`. `__init__` sits below
every layer and `__main__` above them; the tests/ folder is outside them.
"""

LAYERS: tuple[tuple[str, ...], ...] = (
    # where the repository's files are
    ("paths",),
    # one job each on text, files and the host: none of them runs QEMU
    ("numfmt", "resultfile", "ktap", "host", "htmlreport", "diff", "golden", "layers", "deps",
     "font", "screenshot", "spcr", "advise"),
    # one QEMU process, its control socket, what is done to it from outside
    ("qemu", "qmp", "actions"),
    # what a run means: formats, the matrix's checks, the scenarios' answers,
    # verdicts across repeated runs
    ("report", "matrix", "knownanswer", "parselog", "conformance", "stability"),
    # sequences of runs
    ("migrate", "scenario", "soak", "faults", "bench", "menu", "adviseverify", "lava"),
    # commands
    ("testsuite", "cli"),
)
