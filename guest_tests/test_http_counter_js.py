"""A componentize-js (StarlingMonkey) HTTP counter served by kvredis's own WASI: the JS twin of
examples/http-counter (guest_tests/apps/http-counter-js), which imports WASI at 0.2.10 and
0.2.12, in-process and through `kvredis serve`, against real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

import jsguests
import kvredis
import servers
from test_serve import concurrent_gets, serving


@pytest.fixture(scope="module")
def js_counter(build_dir: Path) -> Path:
    return jsguests.build_app("http-counter-js", build_dir)


@pytest.fixture
def client(js_counter: Path, server: servers.ServerProcess) -> Iterator[httpx.Client]:
    with kvredis.Host(server.url) as host, host.load(js_counter).http_client() as started:
        yield started


def test_the_js_guest_imports_later_wasi_versions(js_counter: Path) -> None:
    versions = {
        name.rpartition("@")[2]
        for name in kvredis.Host.inspect(js_counter).imports
        if name.startswith("wasi:") and not name.startswith("wasi:keyvalue")
    }
    assert {"0.2.10", "0.2.12"} <= versions, versions


def test_get_name_counts_name_in_redis(client: httpx.Client, db: redis.Redis) -> None:
    answers = [client.get("/hits") for _ in range(3)]
    assert [(a.status_code, a.text) for a in answers] == [(200, "1\n"), (200, "2\n"), (200, "3\n")]
    assert answers[0].headers["content-type"] == "text/plain"
    assert db.get("counter:hits") == b"3"


def test_the_count_starts_from_what_redis_holds_and_the_bucket_from_the_query(
    client: httpx.Client, db: redis.Redis
) -> None:
    db.set("counter:visits", "41")
    assert client.get("/visits").text == "42\n"
    assert client.get("/visits?bucket=site").text == "1\n"
    assert db.get("site:visits") == b"1"


def test_only_get_on_a_name_counts(client: httpx.Client, db: redis.Redis) -> None:
    assert client.post("/hits", content=b"ignored").status_code == 405
    root = client.get("/")
    assert (root.status_code, root.text) == (404, "GET /NAME counts NAME\n")
    assert db.dbsize() == 0


def test_a_keyvalue_error_reaches_the_guest_as_a_500(client: httpx.Client, db: redis.Redis) -> None:
    db.set("counter:word", "not a number")
    answer = client.get("/word")
    assert answer.status_code == 500
    assert answer.text.startswith("keyvalue: ")


def test_200_concurrent_requests_through_kvredis_serve_count_exactly(
    js_counter: Path, server: servers.ServerProcess, db: redis.Redis, tmp_path: Path
) -> None:
    with serving("--redis-url", server.url, js_counter, cwd=tmp_path) as (url, log):
        answers = concurrent_gets(url, "/crowd", 200)
        assert httpx.get(f"{url}/").status_code == 404
    assert sorted(int(a.text) for a in answers) == list(range(1, 201))
    assert db.get(b"counter:crowd") == b"200"
    assert log.next().startswith("kvredis: serving http-counter-js.wasm")
