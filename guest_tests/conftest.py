"""Fixtures for the guest suites: real servers, built guests, and the `kvredis` command."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

import guests
import servers
from kvredis.conformance import guest_path
from support import run_kvredis


def pytest_configure(config: pytest.Config) -> None:
    """A suite started as a shell's background job (`make test &`) inherits SIGINT ignored,
    and so would every kvredis it starts: the tests of Ctrl-C need what a terminal gives."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("guests")


EXAMPLE_APPS = frozenset({"http-counter"})


@pytest.fixture(scope="session")
def app_guest(build_dir: Path) -> Callable[[str], Path]:
    """Build (or take from the cache) a test guest from guest_tests/apps/NAME, or an example
    from examples/NAME."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            # The HTTP counter is the example users read (examples/http-counter), tested as is.
            if name in EXAMPLE_APPS:
                built[name] = guests.build_example(name)
            else:
                built[name] = guests.build_app(name, build_dir)
        return built[name]

    return get


@pytest.fixture(scope="session")
def conformance_guest() -> Callable[[str], Path]:
    return guest_path


@pytest.fixture(scope="session")
def counter_wasm() -> Path:
    """The counter example (examples/counter)."""
    path: Path = guests.build_example("counter")
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
    with servers.one_of_each(tmp_path_factory.mktemp) as started:
        yield started


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


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_kvredis
