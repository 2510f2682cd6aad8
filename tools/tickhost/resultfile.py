"""Reads a tickscope JSON result (run, matrix or scenario --json) as untrusted
input: checks the shape the readers rely on and says what is wrong, so that a
wrong file gives one clear error, never a traceback. It must not judge a run."""
from __future__ import annotations

import json
from typing import Any


class ResultError(ValueError):
    """A file that is not a tickscope result, and why."""


def _check_run(r: Any, where: str) -> None:
    """A boot run: {"config": {"name": str}, "tests": [{"path", "result"}],
    "measurements": [{"name": str, "value": number}], ...}."""
    if not isinstance(r, dict):
        raise ResultError(f"{where}: a run must be an object, not {type(r).__name__}")
    cfg = r.get("config")
    if not isinstance(cfg, dict) or not isinstance(cfg.get("name"), str):
        raise ResultError(f"{where}: a run needs config.name (a string)")
    for key, fields in (("tests", (("path", str), ("result", str))),
                        ("measurements", (("name", str), ("value", (int, float))))):
        items = r.get(key, [])
        if not isinstance(items, list):
            raise ResultError(f"{where}: {key} must be a list")
        for i, x in enumerate(items):
            if not isinstance(x, dict) or not all(
                    isinstance(x.get(k), t) and not isinstance(x.get(k), bool)
                    for k, t in fields):
                want = ", ".join(f"{k} ({t.__name__ if isinstance(t, type) else 'number'})"
                                 for k, t in fields)
                raise ResultError(f"{where}: {key}[{i}] needs {want}")


def load(path: str) -> dict[str, Any]:
    """The document at path, its runs checked (a single run, or {"runs":
    [...], "scenarios": [...]}). Raises ResultError saying what is wrong."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ResultError(f"{path}: {e.strerror or e}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ResultError(f"{path}: not JSON ({e})") from None
    if not isinstance(data, dict):
        raise ResultError(f"{path}: not a tickscope result (a JSON {type(data).__name__}, "
                          "expected an object)")
    runs = data.get("runs")
    if runs is None and "scenario" not in data:
        _check_run(data, path)
    elif runs is not None:
        if not isinstance(runs, list):
            raise ResultError(f"{path}: runs must be a list")
        for i, r in enumerate(runs):
            if isinstance(r, dict) and "scenario" in r:
                continue
            _check_run(r, f"{path}: runs[{i}]")
    scen = data.get("scenarios", [])
    if not isinstance(scen, list) or not all(isinstance(s, dict) for s in scen):
        raise ResultError(f"{path}: scenarios must be a list of objects")
    return data
