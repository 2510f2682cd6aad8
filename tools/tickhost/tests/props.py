"""Property-based tests of the host tool's parsers (Debian python3-hypothesis):
arbitrary input in, a result or a clear error out, never a traceback. Run by
make test with the system Python that has hypothesis; not discovered as test_*."""
from __future__ import annotations

import json
import os
import tempfile
import unittest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickhost import cli, diff, ktap, parselog, report

# Lines that look like KTAP, so that the parser's deeper paths are reached,
# mixed with arbitrary text.
_WORD = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_KTAP_LINE = st.one_of(
    st.just("KTAP version 1"), st.just("TAP version 13"),
    st.builds(lambda n: f"1..{n}", st.integers(-3, 100)),
    st.builds(lambda ok, n, w, d: f"{'ok' if ok else 'not ok'} {n} {w}{d}",
              st.booleans(), st.integers(-2, 200), _WORD,
              st.sampled_from(["", " # SKIP", " # SKIP why", " # TODO x", " #"])),
    st.builds(lambda w, v, u: f"# measure: {w} = {v} {u}", _WORD,
              st.one_of(st.integers(), st.floats(allow_nan=True), _WORD), _WORD),
    st.builds(lambda w: f"# Subtest: {w}", _WORD),
    st.builds(lambda w: f"# {w}", _WORD),
    st.builds(lambda w: f"# warning: {w}", _WORD),
    st.builds(lambda w: f"# event: {w}", _WORD),
    st.builds(lambda w: f"# sample: {w}", _WORD),
    st.builds(lambda w: f"Bail out! {w}", _WORD),
    st.text(max_size=40),
)
_LINES = st.lists(st.builds(lambda ind, l: " " * ind + l + "\n",
                            st.sampled_from([0, 0, 4, 8, 2]), _KTAP_LINE), max_size=60)
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                     | st.text(max_size=8),
                     lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                         max_size=4),
                     max_leaves=20)
_RUNLIKE = st.fixed_dictionaries({}, optional={
    "runs": st.lists(st.fixed_dictionaries({}, optional={
        "config": st.one_of(_JSON, st.fixed_dictionaries({"name": st.text(max_size=6)})),
        "tests": st.one_of(_JSON, st.lists(st.fixed_dictionaries(
            {"path": st.text(max_size=6), "result": st.sampled_from(["PASS", "FAIL", "x"])}))),
        "measurements": st.one_of(_JSON, st.lists(st.fixed_dictionaries(
            {"name": st.text(max_size=12), "value": st.one_of(st.floats(), st.text())}))),
        "verdict": _JSON}), max_size=3),
    "config": _JSON, "tests": _JSON, "measurements": _JSON})

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


class KtapProperties(unittest.TestCase):
    @SETTINGS
    @given(_LINES)
    def test_ktap_like_lines_parse(self, lines: list[str]) -> None:
        rep = ktap.parse(lines)
        for n in rep.leaves():
            self.assertIn(n.result, ("PASS", "FAIL", "SKIP", "ERROR", "TODO", ""))

    @SETTINGS
    @given(st.lists(st.text(), max_size=30))
    def test_any_text_parses(self, lines: list[str]) -> None:
        ktap.parse(lines)


class ParseLogProperties(unittest.TestCase):
    @SETTINGS
    @given(st.binary(max_size=4000))
    def test_any_bytes_give_a_verdict(self, data: bytes) -> None:
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(data)
        try:
            r = parselog.parse(parselog.read(f.name))
        finally:
            os.unlink(f.name)
        self.assertIn(r.verdict, ("PASS", "FAIL", "ERROR"))
        json.dumps(report.to_dict(r))

    @SETTINGS
    @given(_LINES)
    def test_ktap_like_logs_give_a_verdict(self, lines: list[str]) -> None:
        r = parselog.parse(lines)
        self.assertIn(r.verdict, ("PASS", "FAIL", "ERROR"))


class JsonReaderProperties(unittest.TestCase):
    def _files(self, a: bytes, b: bytes) -> tuple[str, str]:
        paths = []
        for data in (a, b):
            with tempfile.NamedTemporaryFile(delete=False, suffix=".json") as f:
                f.write(data)
            paths.append(f.name)
        self.addCleanup(lambda: [os.unlink(p) for p in paths])
        return paths[0], paths[1]

    @SETTINGS
    @given(st.binary(max_size=300), st.binary(max_size=300))
    def test_diff_of_any_bytes_is_a_clear_error(self, a: bytes, b: bytes) -> None:
        pa, pb = self._files(a, b)
        self.assertIn(cli.main(["diff", pa, pb]), (0, 1, 2))

    @SETTINGS
    @given(st.one_of(_JSON, _RUNLIKE), st.one_of(_JSON, _RUNLIKE))
    def test_diff_of_any_json(self, a: object, b: object) -> None:
        pa, pb = self._files(json.dumps(a).encode(), json.dumps(b).encode())
        self.assertIn(cli.main(["diff", pa, pb]), (0, 1, 2))

    @SETTINGS
    @given(st.one_of(_JSON, _RUNLIKE))
    def test_advise_of_any_json(self, a: object) -> None:
        pa, _ = self._files(json.dumps(a).encode(), b"")
        self.assertIn(cli.main(["advise", pa]), (0, 2))


if __name__ == "__main__":
    unittest.main()
