"""The KTAP conformance check: a run's serial log read by the field's own
parsers, whose totals must be the host tool's. It reads a log and runs
parsers; it must not boot QEMU nor judge devices.

- Linux's kunit_parser (tools/testing/kunit, extracted at first use from
  Debian's linux-source-6.1 into build/, never into the repository) reads
  the whole log: it must report no errors, give every test the host's
  verdict and file every measurement under the test the host files it
  under. It stops reading at the plan's last result, so no diagnostic may
  follow that (only the kernel's halt line, printed after the run).
- tap-parser (npm, installed at first use into build/npm) in strict mode,
  where any line TAP does not define is an error. TAP has no "KTAP version
  N" line (tap-parser knows only "TAP version N"), so the version lines,
  and nothing else, are given to it as "TAP version 14", which ktap.rst
  lists as a version line parsers accept; the count of lines so renamed is
  checked too.
- prove (Perl's TAP::Harness) sees only the top level: ktap.rst says a TAP
  consumer loses the nested results, so its totals are the suites'. Every
  unindented line must be TAP it knows.

Result names must be unique, no KTAP line may end in white space, and the
summary's verdict column must line up with its heading.

    python3 -m tickhost.conformance LOG   prints each parser's totals
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from typing import Optional

from . import ktap, parselog, paths

LINUX_SOURCE = "/usr/src/linux-source-6.1.tar.xz"      # Debian linux-source-6.1
KUNIT_DIR = os.path.join(paths.BUILD, "kunit-6.1")
NPM_DIR = os.path.join(paths.BUILD, "npm")
# tap-parser 18 (the issue's) wants Node 20 or newer; 17.0.0 is the last
# for Node 18, Debian 12's nodejs. Both read every log the same.
TAP_PARSER_NEW, TAP_PARSER_OLD = "18.3.4", "17.0.0"
_VERSION = re.compile(r"^(\s*)KTAP version 1$")
_TOP_RESULT = re.compile(r"^(ok|not ok) (\d+)\b")

Totals = dict[str, int]     # pass, fail, skip


def _totals(verdicts: list[str]) -> Totals:
    """pass/fail/skip as a TAP consumer counts them: ERROR is a failure."""
    return {"pass": verdicts.count("PASS"), "fail": verdicts.count("FAIL") +
            verdicts.count("ERROR"), "skip": verdicts.count("SKIP")}


def document(lines: list[str]) -> tuple[list[str], int]:
    """The KTAP output in a log: its lines (escapes stripped, firmware
    noise before the version line left out) from the version line to the
    result line that meets the top-level plan, and how many log lines came
    before that end."""
    clean = [ktap.clean(x) for x in lines]
    start = next((i for i, x in enumerate(clean) if x.endswith("KTAP version 1")), None)
    if start is None:
        return [], 0
    prefix = len(clean[start]) - len("KTAP version 1")
    doc = [x[prefix:] for x in clean[start:]]
    plan = next((int(x[3:]) for x in doc[:3] if re.fullmatch(r"1\.\.\d+", x)), None)
    for i, x in enumerate(doc):
        m = _TOP_RESULT.match(x)
        if m and plan is not None and int(m.group(2)) == plan:
            return doc[:i + 1], start + i + 1
    return doc, len(clean)


def host_totals(rep: ktap.Report) -> tuple[Totals, Totals, dict[str, str]]:
    """The host tool's own count: leaves, suites, and each leaf's verdict
    by its printed name."""
    leaves = rep.leaves()
    suites = rep.root.children if rep.root else []
    return (_totals([n.result or "ERROR" for n in leaves]),
            _totals([n.result or "ERROR" for n in suites]),
            {n.path: n.result or "ERROR" for n in leaves})


# ---- kunit_parser ----

def kunit_dir() -> tuple[Optional[str], str]:
    """tools/testing/kunit of Linux 6.1 under build/, extracted once."""
    if os.path.exists(os.path.join(KUNIT_DIR, "kunit_parser.py")):
        return KUNIT_DIR, ""
    if not os.path.exists(LINUX_SOURCE):
        return None, f"{LINUX_SOURCE} missing (apt-get install linux-source-6.1)"
    tmp = KUNIT_DIR + ".tmp"
    os.makedirs(tmp, exist_ok=True)
    r = subprocess.run(["tar", "-xJf", LINUX_SOURCE, "-C", tmp, "--strip-components=4",
                        "linux-source-6.1/tools/testing/kunit"], capture_output=True, text=True)
    if r.returncode != 0:
        return None, f"tar: {r.stderr.strip()[-300:]}"
    os.rename(tmp, KUNIT_DIR)
    return KUNIT_DIR, ""


# Runs in kunit_parser's directory (it imports its siblings): parses the
# whole log and prints the leaves, the counts, and what it left unread.
_KUNIT_SCRIPT = r"""
import json, re, sys
import kunit_parser
with open(sys.argv[1], encoding="utf-8") as f:
    lines = f.read().splitlines()
stream = kunit_parser.extract_tap_lines(lines)
main = kunit_parser.parse_test(stream, 0, [], False)
leaves, measures = [], []
def walk(t, top):
    for line in t.log:
        m = re.match(r"\s*# measure: (\S+) = ", line)
        if m:
            measures.append(["" if top else t.name, m.group(1)])
    for s in t.subtests:
        walk(s, False)
        if not s.subtests:
            leaves.append([s.name, s.status.name])
walk(main, True)
left = 0
while stream:
    stream.pop()
    left += 1
c = main.counts
print(json.dumps({"leaves": leaves, "measures": measures, "passed": c.passed, "failed": c.failed,
                  "crashed": c.crashed, "skipped": c.skipped, "errors": c.errors,
                  "suites": len(main.subtests), "unread": left}))
"""
_KUNIT_VERDICT = {"SUCCESS": "PASS", "FAILURE": "FAIL", "SKIPPED": "SKIP"}


def kunit(path: str, end: int, nlines: int, host: dict[str, str],
          measures: list[tuple[str, str]]) -> tuple[Totals, list[str]]:
    """kunit_parser's totals for the log at path, and its problems: among
    them a verdict other than the host's, or a measurement (test, name)
    filed under another test than the host files it."""
    where, why = kunit_dir()
    if not where:
        return {}, [f"kunit_parser: {why}"]
    r = subprocess.run([sys.executable, "-c", _KUNIT_SCRIPT, os.path.abspath(path)], cwd=where,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return {}, [f"kunit_parser failed: {r.stderr.strip()[-300:]}"]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    problems = []
    if out["errors"]:
        problems.append(f"kunit_parser reported {out['errors']} error(s)")
    if out["unread"] != nlines - end:
        problems.append(f"kunit_parser left {out['unread']} line(s) unread, "
                        f"{nlines - end} follow the last result")
    got = {n: _KUNIT_VERDICT.get(s, s) for n, s in out["leaves"]}
    want = {n: ("FAIL" if v == "ERROR" else v) for n, v in host.items()}
    if got != want:
        differ = sorted(n for n in set(got) | set(want) if got.get(n) != want.get(n))
        problems.append("kunit_parser's verdicts differ for " + ", ".join(
            f"{n} ({got.get(n)} vs {want.get(n)})" for n in differ[:6]))
    filed = sorted(tuple(x) for x in out["measures"])
    if filed != sorted(measures):
        moved = sorted(set(filed) ^ set(measures))
        problems.append(f"kunit_parser files {len(moved)} measurement(s) elsewhere: " +
                        ", ".join(f"{n} under {t or 'the run'!r}" for t, n in moved[:6]))
    if out["crashed"]:
        problems.append(f"kunit_parser counted {out['crashed']} crashed")
    return {"pass": out["passed"], "fail": out["failed"] + out["crashed"],
            "skip": out["skipped"]}, problems


# ---- tap-parser ----

def tap_parser_cmd() -> tuple[Optional[str], str]:
    """tap-parser's command line tool under build/npm/VERSION, installed
    once; the version is the newest the installed Node runs."""
    if not shutil.which("node") or not shutil.which("npm"):
        return None, "node or npm missing (apt-get install npm)"
    r = subprocess.run(["node", "--version"], capture_output=True, text=True)
    major = re.match(r"v(\d+)", r.stdout.strip())
    version = TAP_PARSER_NEW if major and int(major.group(1)) >= 20 else TAP_PARSER_OLD
    where = os.path.join(NPM_DIR, version)
    cmd = os.path.join(where, "node_modules", "tap-parser", "bin", "cmd.cjs")
    if os.path.exists(cmd):
        return cmd, ""
    r = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund",
                        "--prefix", where, f"tap-parser@{version}"], capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(cmd):
        return None, f"npm install tap-parser@{version} failed: {r.stderr.strip()[-300:]}"
    return cmd, ""


def _tap_count(events: list, acc: dict[str, Totals], errs: list[str]) -> None:
    """Counts tap-parser's events: an assert that closes a child block is
    that block's (a suite's) result, any other a leaf's."""
    after_child = False
    for ev in events:
        kind = ev[0]
        if kind == "child":
            _tap_count(ev[1], acc, errs)
            after_child = True
        elif kind == "assert":
            a = ev[1]
            v = "fail" if not a.get("ok") else "skip" if a.get("skip") else "pass"
            acc["suites" if after_child else "leaves"][v] += 1
            after_child = False
        elif kind == "extra":
            errs.append(f"tap-parser: non-TAP line {ev[1].strip()[:80]!r}")
        elif kind == "complete":
            for f in ev[1].get("failures", []):
                if f.get("tapError"):
                    errs.append(f"tap-parser: {f['tapError']}: {str(f.get('data', ''))[:80]!r}")
            if ev[1].get("bailout"):
                errs.append("tap-parser: bail out")


def tap_parser(doc: list[str]) -> tuple[Totals, Totals, list[str]]:
    """tap-parser --strict's leaf and suite totals for the document."""
    cmd, why = tap_parser_cmd()
    if not cmd:
        return {}, {}, [why]
    renamed = 0
    text = []
    for x in doc:
        m = _VERSION.match(x)
        if m:
            renamed += 1
            x = m.group(1) + "TAP version 14"
        text.append(x + "\n")
    r = subprocess.run(["node", cmd, "--strict", "-j", "0"], input="".join(text),
                       capture_output=True, text=True)
    try:
        events = json.loads(r.stdout)
    except ValueError:
        return {}, {}, [f"tap-parser gave no JSON (status {r.returncode}): {r.stderr[-300:]}"]
    acc = {"leaves": {"pass": 0, "fail": 0, "skip": 0}, "suites": {"pass": 0, "fail": 0, "skip": 0}}
    errs: list[str] = []
    _tap_count(events, acc, errs)
    headers = sum(1 for x in doc if x.lstrip().startswith("# Subtest:"))
    if renamed != headers + 1:
        errs.append(f"{renamed} version lines for {headers} suites")
    return acc["leaves"], acc["suites"], errs[:8]


# ---- prove ----

# TAP::Parser (prove's parser) on the document: its counts, parse errors
# and the lines it did not know.
_PERL = r"""
use TAP::Parser;
local $/; open my $f, '<', $ARGV[0] or die "$ARGV[0]: $!"; my $tap = <$f>;
my $p = TAP::Parser->new({ tap => $tap });
my @unknown;
while (my $r = $p->next) { push @unknown, $r->as_string if $r->is_unknown }
my @bad = grep { !/^\s/ && !/^KTAP version 1$/ } @unknown;
printf "run=%d passed=%d failed=%d skipped=%d unknown=%d\n", $p->tests_run,
    scalar($p->passed), scalar($p->failed), scalar($p->skipped), scalar(@bad);
print "unknown: $_\n" for @bad[0 .. ($#bad < 4 ? $#bad : 4)];
print "error: $_\n" for $p->parse_errors;
"""


def prove(path: str) -> tuple[Totals, list[str]]:
    """prove's verdict and TAP::Parser's top-level totals for the
    document at path."""
    if not shutil.which("prove") or not shutil.which("perl"):
        return {}, ["prove or perl missing (apt-get install perl)"]
    r = subprocess.run(["prove", "--exec", "cat", path], capture_output=True, text=True)
    result = re.search(r"^Result: (\w+)", r.stdout, re.M)
    tests = re.search(r"Tests=(\d+)", r.stdout)
    problems = [] if result and tests else [f"prove printed no result: {r.stdout[-300:]}"]
    p = subprocess.run(["perl", "-e", _PERL, path], capture_output=True, text=True)
    m = re.search(r"run=(\d+) passed=(\d+) failed=(\d+) skipped=(\d+) unknown=(\d+)", p.stdout)
    if not m:
        return {}, problems + [f"TAP::Parser: {p.stderr.strip()[-300:]}"]
    run, passed, failed, skipped, unknown = map(int, m.groups())
    problems += [ln for ln in p.stdout.splitlines() if ln.startswith(("unknown:", "error:"))]
    if tests and int(tests.group(1)) != run:
        problems.append(f"prove ran {tests.group(1)} tests, TAP::Parser {run}")
    if result and (result.group(1) == "PASS") != (failed == 0):
        problems.append(f"prove says {result.group(1)} with {failed} failed")
    return {"pass": passed - skipped, "fail": failed, "skip": skipped}, problems


def check(log: str, work: str) -> tuple[list[str], list[str]]:
    """Runs the three parsers on the serial log at path log (writing the
    KTAP document beside work); returns one line of totals per parser and
    the problems ([] = every parser agrees with the host tool)."""
    lines = parselog.read(log)
    rep = ktap.parse(lines)
    if rep.root is None or not rep.complete():
        return [], [f"{log}: no complete KTAP report"]
    leaves, suites, verdicts = host_totals(rep)
    doc, end = document(lines)
    os.makedirs(os.path.dirname(work) or ".", exist_ok=True)
    with open(work, "w", encoding="utf-8") as f:
        f.write("\n".join(doc) + "\n")
    problems = [f"duplicate result names: {', '.join(rep.duplicates())}"] \
        if rep.duplicates() else []
    # Diagnostics after the last result are lost to kunit_parser (it stops
    # at the plan's last test); only the halt line, printed after the run
    # where no exit device ends it, may follow.
    after = [x for x in (ktap.clean(ln).strip() for ln in lines[end:])
             if x.startswith("#") and not parselog.HALTED.match(x)]
    trailing = [x for x in doc if x != x.rstrip()]
    if trailing:
        problems.append(f"{len(trailing)} KTAP line(s) end in white space, the first "
                        f"{trailing[0][:60]!r}")
    rows = rep.summary[1:-1]    # the heading row, one row per suite (not the totals)
    col = rows[0].find(" result") + 1 if rows else 0
    askew = [r for r in rows[1:] if r[col:].split(" ", 1)[0] not in ktap.RESULTS
             or r[col - 1] != " "]
    if askew:
        problems.append(f"summary rows not aligned with the heading: {askew[0][:40]!r}")
    if after:
        problems.append(f"{len(after)} diagnostic line(s) after the last result "
                        f"(kunit_parser drops them), the first {after[0][:60]!r}")
    k, kp = kunit(log, end, len(lines), verdicts,
                  [(m.test, m.name) for m in rep.measurements])
    tl, ts, tp = tap_parser(doc)
    pr, pp = prove(work)
    problems += kp + tp + pp
    for who, got, want in (("kunit_parser", k, leaves), ("tap-parser tests", tl, leaves),
                           ("tap-parser suites", ts, suites), ("prove suites", pr, suites)):
        if got and got != want:
            problems.append(f"{who}: {got}, the host tool's {want}")

    def fmt(t: Totals) -> str:
        return f"{t.get('pass', '?')}/{t.get('fail', '?')}/{t.get('skip', '?')}"
    report = [f"pass/fail/skip: host {fmt(leaves)} tests, {fmt(suites)} suites; "
              f"kunit_parser {fmt(k)}; tap-parser --strict {fmt(tl)} tests, {fmt(ts)} suites; "
              f"prove {fmt(pr)} suites; {len(doc)} KTAP lines"]
    return report, problems


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 -m tickhost.conformance SERIAL.log")
        return 2
    work = os.path.join(paths.BUILD, "conformance",
                        os.path.splitext(os.path.basename(argv[0]))[0] + ".tap")
    report, problems = check(argv[0], work)
    print("\n".join(report + [f"PROBLEM {p}" for p in problems] or ["no report"]))
    return 1 if problems or not report else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
