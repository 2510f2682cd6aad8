"""Unit tests of the JSON schema (result.schema.json) and its checker in
resultfile: every document tickscope writes conforms and carries
schema_version; each way a file can break the schema is named; diff and parse
use it. No QEMU: runs come from literal logs."""
from __future__ import annotations

import copy
import io
import json
import os
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

from tickhost import cli, parselog, report, resultfile
from tickhost.tests.test_parselog import LOG, lines


def run_doc() -> dict:
    return json.loads(json.dumps(report.to_dict(parselog.parse(lines(LOG), "log"))))


class SchemaTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp()

    def write(self, doc: object) -> str:
        path = os.path.join(self.dir, f"d{len(os.listdir(self.dir))}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        return path

    def test_schema_uses_only_what_the_checker_checks(self) -> None:
        s = resultfile.schema()
        self.assertEqual(s["properties"]["schema_version"]["const"], resultfile.SCHEMA_VERSION)
        # Every definition is checked against a document (an unknown keyword raises).
        for name, d in s["$defs"].items():
            resultfile.errors({}, d, s, name)
            resultfile.errors([], d, s, name)

    def test_every_writer_conforms(self) -> None:
        run = run_doc()
        self.assertEqual(run["schema_version"], 1)
        resultfile.check(run)
        matrix = {"schema_version": 1, "tool": "tickscope", "runs": [run, run],
                  "scenarios": [dict(run, scenario="pause", scenario_verdict="PASS")]}
        resultfile.check(matrix)
        resultfile.check({"schema_version": 1, "tool": "tickscope", "accel": "tcg",
                          "scenario": "pause", "scenario_verdict": "ERROR"})
        resultfile.check({"schema_version": 1, "tool": "tickscope", "runs": [run],
                          "soak": {"runs": 1, "entries": []}})

    def test_parse_writes_a_checked_file(self) -> None:
        log = self.write(None)
        with open(log, "w", encoding="utf-8") as f:
            f.write(LOG)
        out = os.path.join(self.dir, "parsed.json")
        with redirect_stdout(io.StringIO()):
            self.assertEqual(cli.main(["parse", log, "--json", out]), 1)
        self.assertEqual(resultfile.load(out)["schema_version"], resultfile.SCHEMA_VERSION)

    def test_each_break_is_named(self) -> None:
        good = run_doc()
        cases = [
            (lambda d: d.pop("schema_version"), "needs schema_version"),
            (lambda d: d.update(tool="other"), "tool: must be"),
            (lambda d: d["tests"][0].update(result="ok"), "tests[0].result: must be one of"),
            (lambda d: d["measurements"][0].update(value=True),
             "measurements[0].value: must be number"),
            (lambda d: d["measurements"][0].update(value="1"), "must be number"),
            (lambda d: d["tests"][1].pop("path"), "tests[1]: needs path"),
            (lambda d: d.update(config={}), "config: needs name"),
            (lambda d: d.update(verdict=None), "verdict: must be one of"),
            (lambda d: d.update(duration_s=-1), "duration_s: must be at least 0"),
            (lambda d: d.update(runs={"a": 1}), "runs: must be array"),
        ]
        for spoil, said in cases:
            d = copy.deepcopy(good)
            spoil(d)
            with self.assertRaises(resultfile.ResultError) as e:
                resultfile.check(d)
            self.assertIn(said, str(e.exception))

    def test_newer_version_is_refused_by_name(self) -> None:
        d = dict(run_doc(), schema_version=2)
        with self.assertRaisesRegex(resultfile.ResultError, "schema_version 2 is newer"):
            resultfile.check(d)

    def test_diff_uses_the_schema(self) -> None:
        good = self.write(run_doc())
        old = run_doc()
        del old["schema_version"]
        bad = self.write(old)
        err = io.StringIO()
        with redirect_stdout(io.StringIO()), redirect_stderr(err):
            self.assertEqual(cli.main(["diff", good, good]), 0)
            self.assertEqual(cli.main(["diff", good, bad]), 2)
        self.assertIn("needs schema_version", err.getvalue())


if __name__ == "__main__":
    unittest.main()
