"""Run the conformance guests' cases through the public API and report them."""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from kvredis import (
    Component,
    ComponentError,
    ConfigError,
    ConnectionSettings,
    GuestTrap,
    Host,
    Instance,
    KvredisError,
    WasiOptions,
    redact,
    redact_text,
)
from kvredis.conformance.junit import CaseResult, one_line, write_junit
from kvredis.conformance.leftovers import (
    ANY_CASE_PATTERN,
    RUN_ENV,
    is_stale,
    new_run_id,
    run_pattern,
)

VERSIONS = ("draft", "draft2")
Report = Callable[[CaseResult], None]
_log = logging.getLogger("kvredis")


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


def guest_paths(version: str = "all") -> dict[str, Path]:
    """Keyvalue version -> its packaged guest, for one version or `all`."""
    return {v: guest_path(v) for v in (VERSIONS if version == "all" else (version,))}


class SuiteGuest:
    """A conformance guest in one run: its instance knows the run's id (the cases name their
    buckets with it) and is replaced after a trap, as `Component.call` does."""

    def __init__(self, component: Component, run_id: str) -> None:
        self._component = component
        self._wasi = WasiOptions(program=component.name, env=[(RUN_ENV, run_id)])
        self._instance: Instance | None = None

    def call(self, name: str, *args: Any) -> Any:
        if self._instance is None or self._instance.broken:
            self._instance = self._component.instantiate(self._wasi)
        return self._instance.call(name, *args)


def run_suite(
    guest: SuiteGuest | Component,
    version: str,
    select: str | None = None,
    report: Report | None = None,
) -> list[CaseResult]:
    """Run every case of one conformance guest; `report` sees each result as it comes."""
    results = []
    names: list[str] = guest.call("conformance#cases")
    for name in names:
        if select and select not in name:
            continue
        started = time.perf_counter()
        try:
            note, passed = guest.call("conformance#run-case", name), True
        except ComponentError as failure:
            note, passed = str(failure.value), False
        except GuestTrap as trap:
            note, passed = f"trapped: {trap}", False
        result = CaseResult(version, name, passed, note, time.perf_counter() - started)
        results.append(result)
        if report is not None:
            report(result)
    return results


def run_suites(
    host: Host,
    guests: Mapping[str, Path],
    select: str | None = None,
    report: Report | None = None,
) -> list[CaseResult]:
    """Run the cases of each guest (keyvalue version -> path) on `host`.

    Cases delete what they write, except during an outage or when the run is killed. So
    first what cases of earlier runs left behind is removed, and last, whatever happened,
    what this run's cases left (see `leftovers`).
    """
    run_id = new_run_id()
    _remove(host, (k for k in host.scan_keys(ANY_CASE_PATTERN) if is_stale(k)), "earlier runs")
    results: list[CaseResult] = []
    try:
        for version, path in guests.items():
            guest = SuiteGuest(host.load(path), run_id)
            results += run_suite(guest, version, select, report)
    finally:
        _remove(host, host.scan_keys(run_pattern(run_id)), "this run")
    return results


def _remove(host: Host, keys: Iterable[bytes], whose: str) -> None:
    try:
        host.delete_keys(keys)
    except KvredisError as exc:
        # Only a leftover: the cases report the trouble themselves, and the next run retries.
        _log.warning(
            "could not remove what conformance cases of %s left in Redis: %s",
            whose,
            redact_text(str(exc)),
        )


def _printer(out: TextIO) -> Report:
    def report(result: CaseResult) -> None:
        if result.passed:
            out.write(f"PASS {result.version} {result.name} ({result.seconds:.2f} s)\n")
        else:
            out.write(f"FAIL {result.version} {result.name}: {one_line(result.note)}\n")
        out.flush()

    return report


def run_conformance(
    redis_url: str | None = None,
    connection: ConnectionSettings | None = None,
    data_dir: str | Path | None = None,
    version: str = "all",
    junit: str | None = None,
    select: str | None = None,
    out: TextIO | None = None,
    cluster: bool = False,
) -> int:
    """The `kvredis conformance` command; returns its exit status (1 on any failure).

    Without `redis_url` the embedded server runs (the embedded cluster with `cluster`), its
    data in `data_dir` (default: a throwaway directory). With `junit`, JUnit XML is written
    there, also when setup fails (a failed `setup` case naming the error), before the error
    is raised.
    """
    out = out or sys.stdout
    if junit and not Path(junit).resolve().parent.is_dir():
        # Found out before the suite runs, not after: the whole run would be lost.
        raise ConfigError(f"--junit {junit}: no such directory {Path(junit).parent}")
    results: list[CaseResult] = []
    printer = _printer(out)

    def report(result: CaseResult) -> None:
        results.append(result)
        printer(result)

    target = (
        redact(redis_url) if redis_url else f"the embedded {'cluster' if cluster else 'server'}"
    )
    try:
        guests = guest_paths(version)
        with contextlib.ExitStack() as stack:
            if redis_url is None and data_dir is None:
                data_dir = stack.enter_context(
                    tempfile.TemporaryDirectory(prefix="kvredis-conformance-")
                )
            host = stack.enter_context(
                Host(redis_url, connection=connection, data_dir=data_dir, cluster=cluster)
            )
            target = host.url
            out.write(f"kvredis conformance against {target}\n")
            run_suites(host, guests, select, report)
    except KvredisError as exc:
        if junit:
            _write_setup_failure(junit, results, target, redact_text(str(exc)))
        raise
    failed = sum(not r.passed for r in results)
    if not results:
        out.write(f"no case matches -k {select!r}\n" if select else "no case ran\n")
    out.write(f"{len(results) - failed} passed, {failed} failed\n")
    if junit:
        _write_report(junit, results, target)
    return 1 if failed or not results else 0


def _write_report(
    junit: str, results: list[CaseResult], target: str, setup_error: str | None = None
) -> None:
    try:
        write_junit(junit, results, target, setup_error)
    except OSError as exc:
        raise ConfigError(f"--junit {junit}: cannot write: {exc.strerror or exc}") from None


def _write_setup_failure(
    junit: str, results: list[CaseResult], target: str, setup_error: str
) -> None:
    try:
        _write_report(junit, results, target, setup_error)
    except ConfigError as exc:
        # The setup error is the one to report; this one only explains the missing file.
        _log.warning("%s", exc)
