"""Run the conformance guests' cases through the public API and report them."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree

from kvredis.backend.settings import ConnectionSettings
from kvredis.errors import ComponentError, ConfigError, GuestTrap
from kvredis.host import Component, Host

VERSIONS = ("draft", "draft2")


@dataclass(frozen=True)
class CaseResult:
    version: str
    name: str
    passed: bool
    note: str
    seconds: float


def guest_path(version: str) -> Path:
    """The packaged conformance guest for a keyvalue version."""
    if version not in VERSIONS:
        raise ConfigError(f"unknown keyvalue version {version!r}; use one of {VERSIONS}")
    path = Path(
        str(resources.files("kvredis.conformance") / "guests" / f"conformance-{version}.wasm")
    )
    if not path.exists():
        raise ConfigError(
            f"the conformance guest {path.name} is missing from this installation; reinstall "
            "kvredis (from a source checkout: `make guests`)"
        )
    return path


def run_suite(
    component: Component,
    version: str,
    select: str | None = None,
    report: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Run every case of one conformance guest; `report` sees each result as it comes."""
    results = []
    names: list[str] = component.call("conformance#cases")
    for name in names:
        if select and select not in name:
            continue
        started = time.perf_counter()
        try:
            note, passed = component.call("conformance#run-case", name), True
        except ComponentError as failure:
            note, passed = str(failure.value), False
        except GuestTrap as trap:
            note, passed = f"trapped: {trap}", False
        result = CaseResult(version, name, passed, note, time.perf_counter() - started)
        results.append(result)
        if report is not None:
            report(result)
    return results


# Characters XML 1.0 cannot carry at all; a guest's note may contain any of them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def one_line(text: str) -> str:
    """A note as one printable line: one line per case is the command's contract."""
    return " ".join(_NOT_XML.sub("?", text).split())


def _print_result(out: TextIO) -> Callable[[CaseResult], None]:
    def report(result: CaseResult) -> None:
        if result.passed:
            out.write(f"PASS {result.version} {result.name} ({result.seconds:.2f} s)\n")
        else:
            out.write(f"FAIL {result.version} {result.name}: {one_line(result.note)}\n")
        out.flush()

    return report


def write_junit(path: str, results: Iterable[CaseResult], target: str) -> None:
    """JUnit XML, as CI systems read it: one testsuite per keyvalue version."""
    every = list(results)
    suites = ElementTree.Element(
        "testsuites",
        name="kvredis conformance",
        tests=str(len(every)),
        failures=str(sum(not c.passed for c in every)),
        errors="0",
        time=f"{sum(c.seconds for c in every):.3f}",
    )
    by_version: dict[str, list[CaseResult]] = {}
    for result in every:
        by_version.setdefault(result.version, []).append(result)
    for version, cases in by_version.items():
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=f"wasi:keyvalue@0.2.0-{version}",
            tests=str(len(cases)),
            failures=str(sum(not c.passed for c in cases)),
            errors="0",
            skipped="0",
            time=f"{sum(c.seconds for c in cases):.3f}",
        )
        ElementTree.SubElement(
            ElementTree.SubElement(suite, "properties"), "property", name="redis", value=target
        )
        for result in cases:
            node = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"conformance.{version}",
                name=result.name,
                time=f"{result.seconds:.3f}",
            )
            if not result.passed:
                note = _NOT_XML.sub("?", result.note)
                ElementTree.SubElement(node, "failure", message=one_line(note)).text = note
    ElementTree.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def run_conformance(
    redis_url: str | None = None,
    connection: ConnectionSettings | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    version: str = "all",
    junit: str | None = None,
    select: str | None = None,
    out: TextIO | None = None,
) -> int:
    """The `kvredis conformance` command; returns its exit status (1 on any failure)."""
    out = out or sys.stdout
    versions = VERSIONS if version == "all" else (version,)
    paths = {v: guest_path(v) for v in versions}
    if junit and not Path(junit).resolve().parent.is_dir():
        # Found out before the suite runs, not after: the whole run would be lost.
        raise ConfigError(f"--junit {junit}: no such directory {Path(junit).parent}")
    with tempfile.TemporaryDirectory(prefix="kvredis-conformance-") as scratch:
        # Without a URL the embedded server runs on a throwaway data directory.
        host = Host(redis_url, connection=connection, data_dir=data_dir if redis_url else scratch)
        with host:
            out.write(f"kvredis conformance against {host.url}\n")
            results: list[CaseResult] = []
            for ver in versions:
                component = host.load(paths[ver])
                results += run_suite(component, ver, select, _print_result(out))
            target = host.url
    failed = sum(not r.passed for r in results)
    if not results:
        out.write(f"no case matches -k {select!r}\n" if select else "no case ran\n")
    out.write(f"{len(results) - failed} passed, {failed} failed\n")
    if junit:
        try:
            write_junit(junit, results, target)
        except OSError as exc:
            raise ConfigError(f"--junit {junit}: cannot write: {exc.strerror or exc}") from None
    return 1 if failed or not results else 0
