"""The conformance results as JUnit XML, the way CI systems read it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree import ElementTree

# Characters XML 1.0 cannot carry at all; a guest's note may contain any of them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SETUP_SUITE = "kvredis conformance setup"


@dataclass(frozen=True)
class CaseResult:
    version: str
    name: str
    passed: bool
    note: str
    seconds: float


def one_line(text: str) -> str:
    """A note as one printable line: one line per case is the command's contract."""
    return " ".join(_NOT_XML.sub("?", text).split())


def write_junit(
    path: str, results: Iterable[CaseResult], target: str, setup_error: str | None = None
) -> None:
    """One testsuite per keyvalue version; a setup error (the suite could not start or
    go on) is one more suite with one failed case, so a CI job still has a report."""
    every = list(results)
    by_suite: dict[str, list[CaseResult]] = {}
    for result in every:
        by_suite.setdefault(f"wasi:keyvalue@0.2.0-{result.version}", []).append(result)
    if setup_error is not None:
        setup = CaseResult("setup", "setup", False, setup_error, 0.0)
        by_suite[SETUP_SUITE] = [setup]
        every.append(setup)
    suites = ElementTree.Element("testsuites", {"name": "kvredis conformance", **_counts(every)})
    for name, cases in by_suite.items():
        suite = ElementTree.SubElement(
            suites, "testsuite", {"name": name, "skipped": "0", **_counts(cases)}
        )
        ElementTree.SubElement(
            ElementTree.SubElement(suite, "properties"), "property", name="redis", value=target
        )
        for result in cases:
            node = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"conformance.{result.version}",
                name=result.name,
                time=f"{result.seconds:.3f}",
            )
            if not result.passed:
                note = _NOT_XML.sub("?", result.note)
                ElementTree.SubElement(node, "failure", message=one_line(note)).text = note
    ElementTree.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def _counts(cases: list[CaseResult]) -> dict[str, str]:
    return {
        "tests": str(len(cases)),
        "failures": str(sum(not c.passed for c in cases)),
        "errors": "0",
        "time": f"{sum(c.seconds for c in cases):.3f}",
    }
