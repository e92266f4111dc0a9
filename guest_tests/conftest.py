"""Fixtures for the guest suites: real servers, built guests, and the `kvredis` command."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import redis

import servers
from kvredis.conformance import guest_path

ROOT = Path(__file__).resolve().parent.parent
KVREDIS = Path(sys.executable).parent / "kvredis"


def _load_guest_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kvredis_guests", ROOT / "scripts/guests.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["kvredis_guests"] = module
    spec.loader.exec_module(module)
    return module


guest_builder = _load_guest_builder()


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("guests")


@pytest.fixture(scope="session")
def app_guest(build_dir: Path) -> Callable[[str], Path]:
    """Build (or take from the cache) a test guest from guest_tests/apps/NAME."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            built[name] = guest_builder.build_app(name, build_dir)
        return built[name]

    return get


@pytest.fixture(scope="session")
def conformance_guest() -> Callable[[str], Path]:
    return guest_path


@pytest.fixture(scope="session")
def counter_wasm() -> Path:
    """The counter example (examples/counter)."""
    path: Path = guest_builder.build_example("counter")
    return path


@pytest.fixture(scope="session")
def values_wasm(app_guest: Callable[[str], Path]) -> Path:
    """Exports of every value shape (records, tuples, options, results, variants, enums...)."""
    return app_guest("api-values")


@pytest.fixture(scope="session")
def cli_wasm(app_guest: Callable[[str], Path]) -> Path:
    """Prints its args, env and files; loops, traps or fails on request."""
    return app_guest("cli")


@pytest.fixture(scope="session")
def server_pool(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, servers.ServerProcess]]:
    """One server of each available kind for the whole session (tests flush what they use)."""
    started: dict[str, servers.ServerProcess] = {}
    try:
        for kind in servers.available():
            started[kind] = servers.start(kind, tmp_path_factory.mktemp(kind))
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(params=servers.available())
def server(
    request: pytest.FixtureRequest, server_pool: dict[str, servers.ServerProcess]
) -> servers.ServerProcess:
    """Each available server kind in turn, flushed before the test."""
    chosen = server_pool[request.param]
    chosen.client().flushall()
    return chosen


@pytest.fixture
def valkey_server(server_pool: dict[str, servers.ServerProcess]) -> servers.ServerProcess:
    chosen = server_pool["valkey"]
    chosen.client().flushall()
    return chosen


@pytest.fixture
def db(server: servers.ServerProcess) -> redis.Redis:
    return server.client()


def kvredis_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the tests give `kvredis`: ours, without REDIS_URL."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(extra or {})
    return env


def run_threads(work: Callable[[int], Any], count: int) -> list[Any]:
    """Run work(0)...work(count - 1) on threads released together; their results, or the
    first failure re-raised here."""
    results: list[Any] = [None] * count
    failures: list[BaseException] = []
    start = threading.Barrier(count)

    def target(i: int) -> None:
        try:
            start.wait()
            results[i] = work(i)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)
    return results


def run_kvredis(
    *args: str | Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `kvredis` command as a user would."""
    full_env = kvredis_env(env)
    return subprocess.run(
        [str(KVREDIS), *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        input=input_text,
        check=False,
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_kvredis


def invoke_ops(
    url: str, guest: Path, bucket: str, op: str, *args: str, flags: tuple[str, ...] = ()
) -> Any:
    """Call the conformance guest's `ops#call` through `kvredis run --invoke`; returns the
    decoded outcome ({"ok": ...} or {"err": ..., "message": ...})."""
    call = f"ops#call({json.dumps(bucket)}, {json.dumps(op)}, {json.dumps(list(args))})"
    done = run_kvredis("run", "--redis-url", url, *flags, "--invoke", call, guest)
    assert done.returncode == 0, done.stderr
    return json.loads(json.loads(done.stdout))
