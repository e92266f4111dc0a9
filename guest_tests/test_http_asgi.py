"""A component as an ASGI application (`Component.asgi`), driven in-process through
`Component.http_client` (an httpx client, no port), against real servers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

import kvredis
import servers


@pytest.fixture
def host(server: servers.ServerProcess) -> Iterator[kvredis.Host]:
    with kvredis.Host(server.url, timeout=2) as started:
        yield started


@pytest.fixture
def counter(app_guest: Callable[[str], Path], host: kvredis.Host) -> Iterator[httpx.Client]:
    with host.load(app_guest("http-counter")).http_client() as client:
        yield client


@pytest.fixture
def faults(app_guest: Callable[[str], Path], host: kvredis.Host) -> Iterator[httpx.Client]:
    with host.load(app_guest("http-faults")).http_client() as client:
        yield client


def test_the_counter_counts_in_redis(
    counter: httpx.Client, host: kvredis.Host, db: redis.Redis
) -> None:
    answers = [counter.get("/hits") for _ in range(3)]
    assert [(a.status_code, a.text) for a in answers] == [(200, "1\n"), (200, "2\n"), (200, "3\n")]
    assert answers[0].headers["content-type"] == "text/plain"
    assert db.get(host.key_for("counter", "hits")) == b"3"


def test_200_concurrent_requests_on_one_counter_count_exactly(
    counter: httpx.Client, host: kvredis.Host, db: redis.Redis
) -> None:
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: counter.get("/crowd"), range(200)))
    assert {a.status_code for a in answers} == {200}
    assert sorted(int(a.text) for a in answers) == list(range(1, 201))
    assert db.get(host.key_for("counter", "crowd")) == b"200"


def test_a_10_mib_body_is_echoed_whole(
    app_guest: Callable[[str], Path], host: kvredis.Host
) -> None:
    data = bytes(range(256)) * (10 * 4096)
    pieces = (data[i : i + 300_000] for i in range(0, len(data), 300_000))
    with host.load(app_guest("http-echo")).http_client() as echo:
        answer = echo.post("/echo", content=pieces)
    assert answer.status_code == 200
    assert answer.content == data


def test_traps_timeouts_and_missing_responses_answer_500_or_504_and_serving_goes_on(
    faults: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "kvredis.serve"):
        assert faults.get("/trap").status_code == 500
        assert faults.get("/spin").status_code == 504
        assert faults.get("/silent").status_code == 500
    assert faults.get("/fine").text == "ok\n"
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 3, messages
    assert "trapped" in messages[0]
    assert "timed out after 2 s" in messages[1]
    assert "without a response" in messages[2]
    assert all("Traceback" not in m for m in messages)


def test_pooled_instances_each_start_from_the_components_own_memory(
    faults: httpx.Client,
) -> None:
    """Served instances come from a pool whose memory slots are reused between requests;
    every request still sees the module state the component was built with, after a trap
    and with requests at once too."""
    assert [faults.get("/seen").text for _ in range(5)] == ["1\n"] * 5
    assert faults.get("/seen?trap=1").status_code == 500
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: faults.get("/seen").text, range(40)))
    assert answers == ["1\n"] * 40


def test_concurrency_beyond_the_instance_pool_is_refused(
    app_guest: Callable[[str], Path], host: kvredis.Host
) -> None:
    component = host.load(app_guest("http-faults"))
    with pytest.raises(kvredis.ConfigError, match=f"from 1 to {kvredis.MAX_CONCURRENCY}"):
        component.asgi(concurrency=kvredis.MAX_CONCURRENCY + 1)
    app = component.asgi(concurrency=kvredis.MAX_CONCURRENCY)
    app.close()


def test_a_body_over_the_limit_gets_413(
    app_guest: Callable[[str], Path], host: kvredis.Host
) -> None:
    component = host.load(app_guest("http-faults"))
    with component.http_client(max_body_size=1000) as sizer:
        declared = sizer.post("/size", content=b"x" * 1001)
        streamed = sizer.post("/size", content=iter([b"x" * 600, b"y" * 600]))
        fits = sizer.post("/size", content=iter([b"z" * 600, b"z" * 400]))
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert (fits.status_code, fits.text) == (200, "1000\n")


def _messages(
    app: kvredis.AsgiApp, scope: dict[str, Any], body: bytes = b""
) -> list[dict[str, Any]]:
    """Send one raw ASGI request (what a client library would refuse to build); returns
    every message the application sent."""
    sent: list[dict[str, Any]] = []
    received = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        if received > 1:  # the body is over: the next message is the client leaving
            await asyncio.Event().wait()
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    base = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": []}
    asyncio.run(app({**base, **scope}, receive, send))
    return sent


def _call(app: kvredis.AsgiApp, scope: dict[str, Any]) -> tuple[int, bytes]:
    sent = _messages(app, scope)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


def test_trailers_go_to_servers_that_take_them_and_no_others(
    app_guest: Callable[[str], Path], host: kvredis.Host
) -> None:
    app = host.load(app_guest("http-echo")).asgi()
    echo = {"method": "POST", "path": "/echo", "raw_path": b"/echo"}
    try:
        taking = _messages(app, {**echo, "extensions": {"http.response.trailers": {}}}, b"abc")
        plain = _messages(app, echo, b"abc")
    finally:
        app.close()
    assert taking[0]["type"] == "http.response.start"
    assert taking[0]["trailers"] is True
    assert taking[-1] == {
        "type": "http.response.trailers",
        "headers": [(b"x-echo-bytes", b"3")],
        "more_trailers": False,
    }
    assert "trailers" not in plain[0]
    assert {m["type"] for m in plain} == {"http.response.start", "http.response.body"}


def test_the_in_process_client_keeps_the_trailers(
    app_guest: Callable[[str], Path], host: kvredis.Host
) -> None:
    with host.load(app_guest("http-echo")).http_client() as echo:
        answer = echo.post("/echo", content=b"x" * 5000)
        no_body = echo.get("/nothing")
    assert answer.content == b"x" * 5000
    assert answer.extensions["trailers"] == httpx.Headers({"x-echo-bytes": "5000"})
    assert not no_body.extensions["trailers"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("scope", "status"),
    [
        ({"method": "GE T"}, 400),
        ({"headers": [(b"x-bad", b"a\r\nb")]}, 400),
        ({"headers": [(b"bad name", b"v")]}, 400),
        ({"headers": [(b"x-big", b"v" * 70_000)]}, 431),
        ({"path": "/caf\u00e9", "raw_path": "/caf\u00e9".encode()}, 400),
        ({"headers": [(b"content-length", b"lots")]}, 400),
    ],
)
def test_hostile_requests_get_a_clear_4xx(
    app_guest: Callable[[str], Path], host: kvredis.Host, scope: dict[str, Any], status: int
) -> None:
    app = host.load(app_guest("http-faults")).asgi()
    try:
        answered, body = _call(app, scope)
        assert answered == status, body
        assert b"Traceback" not in body
        assert _call(app, {"path": "/fine", "raw_path": b"/fine"}) == (200, b"ok\n")
    finally:
        app.close()


def test_lifespan_events_are_answered(app_guest: Callable[[str], Path], host: kvredis.Host) -> None:
    app = host.load(app_guest("http-counter")).asgi()
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
