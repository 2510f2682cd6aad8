"""Reads a tickscope JSON result (run, parse, matrix, scenario, advise or soak
--json) as untrusted input: checks it against the documented schema
(result.schema.json beside this file) and says what is wrong, so that a wrong
file gives one clear error, never a traceback. It must not judge a run.

The checker is a small one for the subset of JSON Schema the schema file
uses (type, const, enum, required, properties, items, $ref, if/then/else,
minimum); an unknown keyword in the schema is an error, so the file cannot
use more than is checked."""
from __future__ import annotations

import json
import os
from typing import Any

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "result.schema.json")
SCHEMA_VERSION = 1
# Keywords that only document; every other keyword the checker knows.
_NOTES = ("$schema", "$id", "$defs", "title", "description")
_TYPES: dict[str, Any] = {"object": dict, "array": list, "string": str, "boolean": bool,
                          "null": type(None), "integer": int, "number": (int, float)}


class ResultError(ValueError):
    """A file that is not a tickscope result, and why."""


def schema() -> dict[str, Any]:
    """The schema file, parsed."""
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        return json.load(f)


def _is(x: Any, t: str) -> bool:
    if isinstance(x, bool) and t not in ("boolean",):
        return False
    return isinstance(x, _TYPES[t])


def errors(doc: Any, sch: dict[str, Any], root: dict[str, Any] | None = None,
           where: str = "") -> list[str]:
    """What in doc breaks sch (a schema of the subset above; root holds its
    $defs), each as "where: what"; [] when it conforms."""
    root = root if root is not None else sch
    at = where or "(top)"
    out: list[str] = []
    for key, want in sch.items():
        if key in _NOTES or key in ("then", "else"):
            continue
        if key == "$ref":
            if not want.startswith("#/$defs/"):
                raise ValueError(f"schema: only local $defs references are supported: {want}")
            out += errors(doc, root["$defs"][want[len("#/$defs/"):]], root, where)
        elif key == "type":
            if not _is(doc, want):
                return [f"{at}: must be {want}, not {_name(doc)}"]
        elif key == "const":
            if doc != want or isinstance(doc, bool) != isinstance(want, bool):
                out.append(f"{at}: must be {json.dumps(want)}, not {_short(doc)}")
        elif key == "enum":
            if not any(doc == w and type(doc) is type(w) for w in want):
                out.append(f"{at}: must be one of {', '.join(map(str, want))}, not {_short(doc)}")
        elif key == "minimum":
            if _is(doc, "number") and doc < want:
                out.append(f"{at}: must be at least {want}, not {doc}")
        elif key == "required":
            if isinstance(doc, dict):
                out += [f"{at}: needs {k}" for k in want if k not in doc]
        elif key == "properties":
            if isinstance(doc, dict):
                for k, s in want.items():
                    if k in doc:
                        out += errors(doc[k], s, root, f"{where}.{k}" if where else k)
        elif key == "items":
            if isinstance(doc, list):
                for i, x in enumerate(doc):
                    out += errors(x, want, root, f"{where}[{i}]")
                    if len(out) > 20:
                        break
        elif key == "if":
            branch = "then" if not errors(doc, want, root, where) else "else"
            if branch in sch:
                out += errors(doc, sch[branch], root, where)
        else:
            raise ValueError(f"schema: keyword {key} is not supported by this checker")
    return out


def _name(x: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(x), "a number")


def _short(x: Any) -> str:
    s = json.dumps(x)
    return s if len(s) <= 40 else s[:37] + "..."


def check(doc: Any, where: str = "result") -> None:
    """Raises ResultError naming the first few things in doc that break the
    schema; a file from a newer tickscope says so first."""
    if isinstance(doc, dict) and isinstance(doc.get("schema_version"), int) \
            and not isinstance(doc["schema_version"], bool) \
            and doc["schema_version"] > SCHEMA_VERSION:
        raise ResultError(f"{where}: schema_version {doc['schema_version']} is newer than this "
                          f"tickscope reads ({SCHEMA_VERSION})")
    errs = errors(doc, schema())
    if errs:
        more = f" (and {len(errs) - 3} more)" if len(errs) > 3 else ""
        raise ResultError(f"{where}: not a tickscope result (schema {SCHEMA_VERSION}): "
                          + "; ".join(errs[:3]) + more)


def load(path: str) -> dict[str, Any]:
    """The document at path, checked against the schema. Raises
    ResultError saying what is wrong."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ResultError(f"{path}: {e.strerror or e}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ResultError(f"{path}: not JSON ({e})") from None
    check(data, path)
    return data


def dump(doc: dict[str, Any], path: str) -> None:
    """Writes doc to path as indented JSON after checking it against the
    schema: a writer that breaks its own schema is a bug, said at once."""
    check(doc, f"{path} (being written)")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
