"""The conformance suite leaves nothing behind in a shared Redis, even when a case cannot
delete what it wrote (an outage during its cleanup, a killed run): the runner removes such
leftovers at the end of its run, and those of earlier runs when a run starts."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any

import kvredis
import servers
from kvredis.backend.base import BackendError
from kvredis.backend.redis import connect
from kvredis.conformance import CaseResult, guest_paths, run_suites
from kvredis.core import DEFAULT_MAX_VALUE_BYTES
from test_conformance_command import Report

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_a_run_removes_what_cases_of_earlier_runs_left(
    valkey_server: servers.ServerProcess, cli: Cli
) -> None:
    db = valkey_server.client()
    now = int(time.time())
    # What cases of a killed run left: started an hour and twelve minutes ago.
    earlier = [f"kvc-0a0b0c-{now - 3600:010d}beef-b:k", f"kvc-0a0b0c-{now - 720:010d}f00d-p%3Aq:r"]
    kept = [
        f"kvc-0d0e0f-{now - 5:010d}beef-b:k",  # a case of a run going on right now
        "kvc-a1b2c3d4-b:k",  # not this suite's naming
        "kvc-notes",
        "counter:hits",
    ]
    for key in earlier + kept:
        db.set(key, "x")
    report = Report(cli("conformance", "--redis-url", valkey_server.url, "-k", "binary-values"))
    assert report.code == 0, report.stdout
    assert sorted(key.decode() for key in db.scan_iter()) == sorted(kept)


class DeletesFailInAnOutage:
    """A Redis backend whose deletes fail while `outage` is set: an outage that begins after
    a case wrote its keys and ends before the run does."""

    def __init__(self, url: str) -> None:
        self.inner = connect(url, max_value_bytes=DEFAULT_MAX_VALUE_BYTES)
        self.outage = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def delete(self, key: bytes) -> None:
        self._refuse_in_an_outage()
        self.inner.delete(key)

    def delete_many(self, keys: list[bytes]) -> None:
        self._refuse_in_an_outage()
        self.inner.delete_many(keys)

    def _refuse_in_an_outage(self) -> None:
        if self.outage:
            raise BackendError("Redis is unavailable (the test's outage)")


def test_what_a_case_could_not_delete_is_removed_when_the_run_ends(
    valkey_server: servers.ServerProcess,
) -> None:
    db = valkey_server.client()
    backend = DeletesFailInAnOutage(valkey_server.url)
    left_by_the_case: list[bytes] = []

    def after_each_case(result: CaseResult) -> None:
        left_by_the_case.extend(db.keys("*"))
        backend.outage = False

    backend.outage = True
    try:
        with kvredis.Host(backend=backend) as host:  # type: ignore[arg-type]
            results = run_suites(host, guest_paths("draft2"), "binary-values", after_each_case)
    finally:
        backend.inner.close()
    assert [(r.name, r.passed) for r in results] == [("binary-values", True)]
    assert left_by_the_case and all(key.startswith(b"kvc-") for key in left_by_the_case)
    assert db.keys() == []
