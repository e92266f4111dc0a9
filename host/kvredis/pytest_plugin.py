"""pytest plugin (registered through the `pytest11` entry point): the `kvredis` fixture.

One server per test session: the embedded Valkey, or the server of `--kvredis-url` /
`REDIS_URL`. Every test starts with an empty database, so point `--kvredis-url` at a
database you can wipe.

    def test_counter(kvredis):
        result = kvredis.run("counter.wasm")
        assert result.stdout == "1\\n"
        assert kvredis.redis.get("counter:hits") == b"1"
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from kvredis.host import Component, Host, RunResult


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kvredis")
    group.addoption(
        "--kvredis-url",
        metavar="URL",
        default=None,
        help="Redis for the kvredis fixture (default: $REDIS_URL, else an embedded server); "
        "its database is emptied before every test",
    )


class KvredisFixture:
    """What a test gets: the server's URL, a redis-py client, and ways to run components."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.url = host.redis_url
        self.redis: redis.Redis = redis.Redis.from_url(self.url)
        self._components: dict[tuple[str, int], Component] = {}

    def load(self, path: str | os.PathLike[str]) -> Component:
        """Load a component (compiled once per session and file version)."""
        resolved = Path(path).resolve()
        key = (str(resolved), resolved.stat().st_mtime_ns if resolved.exists() else 0)
        if key not in self._components:
            self._components[key] = self.host.load(resolved)
        return self._components[key]

    def run(self, path: str | os.PathLike[str], *args: str, **options: Any) -> RunResult:
        """Run a component's wasi:cli/run with `args`; returns exit code and output."""
        return self.load(path).run(*args, **options)

    def key(self, bucket: str, key: str) -> bytes:
        """The Redis key of (bucket, key) under the default layout."""
        return self.host.key_for(bucket, key)


@pytest.fixture(scope="session")
def _kvredis_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KvredisFixture]:
    url = request.config.getoption("--kvredis-url") or os.environ.get("REDIS_URL") or None
    data_dir = None if url else tmp_path_factory.mktemp("kvredis-server")
    with Host(url, data_dir=data_dir) as host:
        fixture = KvredisFixture(host)
        yield fixture
        fixture.redis.close()


@pytest.fixture
def kvredis(_kvredis_session: KvredisFixture) -> KvredisFixture:
    """A Redis with an empty database, and a kvredis host on it."""
    _kvredis_session.redis.flushdb()
    return _kvredis_session
