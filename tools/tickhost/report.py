"""Writing runs' results as JSON and JUnit XML, the formats CI reads.
It only formats a finished run; it must not start QEMU or judge a run."""
from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from dataclasses import asdict
from typing import Any

from . import resultfile, screenshot
from .knownanswer import Outcome
from .qemu import RunResult


def to_dict(r: RunResult) -> dict[str, Any]:
    rep = r.report
    d = _fields(r)
    if r.config.get("screen"):
        pic = screenshot.read_ppm(r.screen_ppm) if r.screen_ppm else None
        d["screen"] = {"error": r.screen_error if not pic else "",
                       "png_base64": base64.b64encode(screenshot.png(pic)).decode()
                       if pic else ""}
    return d


def _fields(r: RunResult) -> dict[str, Any]:
    rep = r.report
    return {
        "schema_version": resultfile.SCHEMA_VERSION,
        "tool": "tickscope",
        "config": r.config,
        "accel": r.accel,
        "command": r.command,
        "verdict": r.verdict,
        "reason": r.reason,
        "qemu_status": r.qemu_status,
        "duration_s": round(r.duration_s, 3),
        "qemu_s": round(r.qemu_s, 3),
        "truth": r.truth,
        "platform": rep.platform,
        "warnings": rep.warnings,
        "bail_out": rep.bail_out,
        "exception": rep.exception,
        "tests": [{"path": n.path, "result": n.result, "reason": n.reason,
                   "diagnostics": n.diagnostics} for n in rep.leaves()],
        "measurements": [asdict(m) for m in rep.measurements],
        "summary": rep.summary,
        "events": rep.events,
        "samples": rep.samples,
    }


def scenario_dict(out: Outcome) -> dict[str, Any]:
    """A scenario's outcome as JSON: its run (to_dict; only the name and
    accelerator when it never ran) and what the scenario measured."""
    d: dict[str, Any] = to_dict(out.run) if out.run else {
        "schema_version": resultfile.SCHEMA_VERSION, "tool": "tickscope", "accel": out.accel}
    d.update(scenario=out.name, scenario_verdict=out.verdict, held_s=out.held_s,
             problems=out.problems, notes=out.notes, walltime_err_ms=out.walltime_err_ms,
             walltime_unc_ms=out.walltime_unc_ms, tsc_ppm=list(out.tsc_ppm))
    return d


def write_json(results: list[RunResult], path: str) -> None:
    data: Any = to_dict(results[0]) if len(results) == 1 else {
        "schema_version": resultfile.SCHEMA_VERSION, "tool": "tickscope",
        "runs": [to_dict(r) for r in results]}
    resultfile.dump(data, path)


def write_junit(results: list[RunResult], path: str) -> None:
    suites = ET.Element("testsuites", name="tickscope")
    for r in results:
        cfg = r.config.get("name", "run")
        groups: dict[str, list] = {}
        for n in r.report.leaves():
            groups.setdefault(n.path.rsplit(".", 1)[0] if "." in n.path else "", []).append(n)
        if r.verdict == "ERROR" and r.reason:
            groups.setdefault("harness", [])
        for suite, nodes in groups.items():
            counts = {k: sum(1 for n in nodes if n.result == k) for k in ("FAIL", "ERROR", "SKIP")}
            ts = ET.SubElement(suites, "testsuite", name=f"{cfg}.{suite}",
                               tests=str(len(nodes) + (suite == "harness")),
                               failures=str(counts["FAIL"]),
                               errors=str(counts["ERROR"] + (suite == "harness")),
                               skipped=str(counts["SKIP"]))
            ET.SubElement(ts, "properties")
            for n in nodes:
                # The full dotted path: unique in the run, also where a
                # consumer shows testcase names without their class.
                tc = ET.SubElement(ts, "testcase", classname=f"tickscope.{cfg}.{suite}",
                                   name=n.path)
                text = "\n".join(n.diagnostics)
                if n.result == "FAIL":
                    fails = [d for d in n.diagnostics if d.startswith("FAIL:")]
                    msg = fails[0] if fails else "failed"
                    ET.SubElement(tc, "failure", message=msg).text = text
                elif n.result == "ERROR":
                    ET.SubElement(tc, "error", message=n.reason).text = text
                elif n.result == "SKIP":
                    ET.SubElement(tc, "skipped", message=n.reason)
                if text and n.result in ("PASS",):
                    ET.SubElement(tc, "system-out").text = text
            if suite == "harness":
                tc = ET.SubElement(ts, "testcase", classname=f"tickscope.{cfg}", name="boot")
                ET.SubElement(tc, "error", message=r.reason).text = r.stderr[-4000:]
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
