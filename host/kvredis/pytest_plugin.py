"""pytest plugin (registered through the `pytest11` entry point): the `kvredis` fixture.

One server per test session: the server of `--kvredis-url` or `REDIS_URL`, else an embedded
Valkey with its data in the session's temporary directory (with `--kvredis-cluster`, the
embedded cluster there). Every test starts with an empty database (FLUSHDB, on every primary
of a Redis Cluster), so point `--kvredis-url` at a database you can wipe.

    def test_counter(kvredis):
        assert kvredis.run("counter.wasm").stdout == "1\\n"
        assert kvredis.redis.get("counter:hits") == b"1"

pytest loads this module in every session of an environment where kvredis is installed, so
it imports kvredis (wasmtime) and redis-py only when a test asks for the fixture.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx
    import redis
    from redis.cluster import RedisCluster

    from kvredis import Component, Host, RunResult, Watch


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kvredis")
    group.addoption(
        "--kvredis-url",
        metavar="URL",
        default=None,
        help="Redis for the kvredis fixture (default: $REDIS_URL, else an embedded server); "
        "its database is emptied before every test (every primary's, for a Redis Cluster)",
    )
    group.addoption(
        "--kvredis-cluster",
        action="store_true",
        default=False,
        help="run the kvredis fixture on the embedded cluster (3 primaries, one replica each) "
        "instead of the embedded server",
    )


class _Session:
    """What lives for the whole session: the host, its server and compiled components."""

    def __init__(self, host: Host) -> None:
        import redis  # noqa: PLC0415 - loaded with the fixture, not with the plugin
        from redis.cluster import RedisCluster  # noqa: PLC0415

        self.host = host
        self.url = host.redis_url
        self.redis: redis.Redis | RedisCluster
        if host.is_cluster:
            # redis-py reads the URL's own node and ignores ?addr and ?cluster: it finds the
            # other nodes itself.
            self.redis = RedisCluster.from_url(self.url)
            self.flush: Callable[[], object] = lambda: self.redis.flushdb(
                target_nodes=RedisCluster.PRIMARIES
            )
        else:
            self.redis = redis.Redis.from_url(self.url)
            self.flush = self.redis.flushdb
        self._compiled: dict[tuple[str, int], Component] = {}

    def load(self, path: str | os.PathLike[str]) -> Component:
        resolved = Path(path).resolve()
        try:
            version = resolved.stat().st_mtime_ns
        except OSError:
            version = 0  # the load below says what is wrong with the path
        key = (str(resolved), version)
        if key not in self._compiled:
            self._compiled[key] = self.host.load(resolved)
        # A fresh Component per test: guest state must not leak from one test to the next,
        # while the compiled code (the slow part) is shared.
        return self._compiled[key].clone()


class KvredisFixture:
    """What a test gets: the server's URL, a redis-py client, and ways to run components.

    `url`: the Redis URL (credentials included); `redis`: a redis-py client on it (a
    `redis.cluster.RedisCluster` when it is a Redis Cluster);
    `host`: the `kvredis.Host` components run on (default rules: every bucket, key layout
    `{bucket}:{key}`).
    """

    def __init__(self, session: _Session, request: pytest.FixtureRequest) -> None:
        self._session = session
        self._request = request
        self.host: Host = session.host
        self.url: str = session.url
        self.redis: redis.Redis | RedisCluster = session.redis

    def load(self, path: str | os.PathLike[str]) -> Component:
        """Load a component: compiled once per session, a fresh instance for each test."""
        return self._session.load(path)

    def run(
        self,
        path: str | os.PathLike[str],
        *args: str,
        env: dict[str, str] | None = None,
        dirs: list[tuple[str, str]] | None = None,
    ) -> RunResult:
        """Run a component's `wasi:cli/run` with `args`; returns exit code, stdout, stderr."""
        return self.load(path).run(*args, env=env, dirs=dirs or ())

    def http(self, path: str | os.PathLike[str], **options: Any) -> httpx.Client:
        """An `httpx.Client` sending requests to an HTTP component (one exporting
        `wasi:http/incoming-handler`) in-process, no port: `kvredis.http(wasm).get("/hits")`.
        `options` go to `Component.asgi` (`max_body_size`, `env`, `dirs`...); the client is
        closed when the test ends."""
        client = self.load(path).http_client(**options)
        self._request.addfinalizer(client.close)
        return client

    def watch(self, path: str | os.PathLike[str], specs: str | list[str], **options: Any) -> Watch:
        """Tell a component that exports `wasi:keyvalue/watcher` of changes to the keys of
        `specs` (`SET@bucket/key*`, `DEL@...`); `watch.wait_for_change("SET", bucket, key)`
        waits until it was told. `options` go to `Component.watch`
        (`configure_notifications=True` for a `--kvredis-url` server that has keyspace
        notifications off); the watch is closed when the test ends."""
        watch = self.load(path).watch(specs, **options)
        self._request.addfinalizer(watch.close)
        return watch

    def key(self, bucket: str, key: str) -> bytes:
        """The Redis key of (bucket, key) under the default layout."""
        return self.host.key_for(bucket, key)

    def new_host(self, **options: Any) -> Host:
        """A `kvredis.Host` on the same server with other rules (`buckets`, `read_only`,
        `key_prefix`, `timeout`...); it is closed when the test ends."""
        from kvredis import Host  # noqa: PLC0415 - loaded already, by the session fixture

        host = Host(self.url, **options)
        self._request.addfinalizer(host.close)
        return host.start()


@pytest.fixture(scope="session")
def _kvredis_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_Session]:
    from kvredis import Host, KvredisError  # noqa: PLC0415 - only a session that uses the fixture

    cluster = bool(request.config.getoption("--kvredis-cluster"))
    url = request.config.getoption("--kvredis-url") or os.environ.get("REDIS_URL") or None
    if cluster:
        url = None  # the flag asks for the embedded cluster, whatever REDIS_URL says
    data_dir = None if url else tmp_path_factory.mktemp("kvredis-server")
    problem: str | None = None
    try:
        host = Host(url, data_dir=data_dir, cluster=cluster).start()
    except KvredisError as exc:
        problem = str(exc)
    if problem is not None:
        # A setup problem, not a test failure: one line, no traceback into kvredis (and
        # outside the except block, so no chained exception is shown either).
        pytest.fail(f"kvredis fixture: {problem}", pytrace=False)
    try:
        session = _Session(host)
        try:
            yield session
        finally:
            session.redis.close()
    finally:
        host.close()


@pytest.fixture
def kvredis(_kvredis_session: _Session, request: pytest.FixtureRequest) -> KvredisFixture:
    """A Redis with an empty database, and a kvredis host on it."""
    _kvredis_session.flush()
    return KvredisFixture(_kvredis_session, request)
