"""The Python twin of wasmCloud's http-keyvalue-counter, served by kvredis's own WASI: a
componentize-py guest of `wasi:http/proxy` that counts in wasi:keyvalue, one fresh instance
per request, against real servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

import kvredis
import servers
from kvredis.runtime.http_handler import HttpHandler
from kvredis.runtime.linking import wants_kvredis_wasi
from servekit import handler_for, request


@pytest.fixture
def host(server: servers.ServerProcess) -> Iterator[kvredis.Host]:
    with kvredis.Host(server.url) as started:
        yield started


@pytest.fixture
def counter(app_guest: Callable[[str], Path], host: kvredis.Host) -> Iterator[HttpHandler]:
    handler = handler_for(app_guest("http-counter"), host)
    yield handler
    handler.close()


def test_get_name_counts_name_in_redis(
    counter: HttpHandler, host: kvredis.Host, db: redis.Redis
) -> None:
    answers = [request(counter, "GET", "/hits") for _ in range(3)]
    assert [(a.status, a.body) for a in answers] == [(200, b"1\n"), (200, b"2\n"), (200, b"3\n")]
    assert answers[0].header("content-type") == b"text/plain"
    assert db.get(host.key_for("counter", "hits")) == b"3"


def test_the_bucket_comes_from_the_query_and_only_get_counts(
    counter: HttpHandler, host: kvredis.Host, db: redis.Redis
) -> None:
    assert request(counter, "GET", "/visits?bucket=site").body == b"1\n"
    assert db.get(host.key_for("site", "visits")) == b"1"
    assert request(counter, "POST", "/visits", [b"ignored"]).status == 405
    assert request(counter, "GET", "/").status == 404
    assert db.get(host.key_for("counter", "visits")) is None


def test_each_request_has_a_fresh_instance_that_leaves_nothing_behind(
    counter: HttpHandler,
) -> None:
    for _ in range(5):
        assert request(counter, "GET", "/n").status == 200
    # The count lives in Redis, not in the guest: five instances, five increments.
    assert request(counter, "GET", "/n").body == b"6\n"
    # Each instance's state leaves the shared linker when its guest thread ends.
    servers.wait_until(lambda: counter.linker.attached == 0, 10, "store states detached")


def test_a_guest_importing_a_later_wasi_0_2_gets_kvredis_wasi_from_0_2_0(
    counter: HttpHandler,
) -> None:
    """componentize-py imports WASI at its own 0.2.x; the 0.2.0 definitions satisfy it."""
    versions = {
        name.rpartition("@")[2] for name in counter.info.imports if name.startswith("wasi:")
    }
    assert versions and "0.2.0" not in versions, versions
    assert all(v.startswith("0.2.") for v in versions)
    assert wants_kvredis_wasi(counter.info.imports)
    assert counter.linker.kvredis_wasi


def test_handlers_of_the_same_kind_share_one_linker(
    app_guest: Callable[[str], Path], counter: HttpHandler, host: kvredis.Host
) -> None:
    other = handler_for(app_guest("http-echo"), host)
    try:
        assert other.linker is counter.linker
    finally:
        other.close()
