"""Request and response bodies streamed through kvredis's wasi:io and wasi:http: an echo
guest sends back what it reads as it reads it, with trailers; a guest that breaks the WIT's
parent/child rule traps with one line; a guest stuck past its timeout is stopped."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import kvredis
import servers
from kvredis.errors import GuestTimeout, GuestTrap
from kvredis.runtime.http_handler import BodyError, GuestSettings, HttpHandler, RequestHead
from servekit import handler_for, request, web_server

MIB = 1 << 20
CHUNK = 64 * 1024


@pytest.fixture
def host(valkey_server: servers.ServerProcess) -> Iterator[kvredis.Host]:
    with kvredis.Host(valkey_server.url) as started:
        yield started


@pytest.fixture
def echo_wasm(app_guest: Callable[[str], Path]) -> Path:
    return app_guest("http-echo")


@pytest.fixture
def echo(echo_wasm: Path, host: kvredis.Host) -> Iterator[HttpHandler]:
    handler = handler_for(echo_wasm, host)
    yield handler
    handler.close()


def test_ten_mib_stream_through_the_guest_both_ways(echo: HttpHandler) -> None:
    total = 10 * MIB
    pattern = bytes(range(256)) * (CHUNK // 256)
    fed = [0]

    def body() -> Iterator[bytes]:
        while fed[0] < total:
            fed[0] += CHUNK
            yield pattern

    exchange = echo.start(RequestHead("POST", "/echo"))
    threading.Thread(target=exchange.feed, args=(body(),)).start()
    threading.Thread(target=exchange.run).start()
    head = exchange.response()
    chunks = exchange.body_chunks()
    first = next(chunks)
    fed_when_the_answer_began = fed[0]
    received, size = hashlib.sha256(first), len(first)
    for chunk in chunks:
        received.update(chunk)
        size += len(chunk)
    assert head.status == 200
    assert size == total
    assert received.hexdigest() == hashlib.sha256(pattern * (total // CHUNK)).hexdigest()
    # The answer began long before the request was all sent: neither side held the body.
    assert fed_when_the_answer_began <= 2 * MIB, fed_when_the_answer_began
    response_body = exchange.response_body()
    assert response_body is not None and response_body.trailers is not None
    assert response_body.trailers.get("x-echo-bytes") == [str(total).encode()]
    assert exchange.failure is None


@pytest.mark.parametrize("size", [0, 1, CHUNK + 1])
def test_small_and_uneven_bodies_echo_exactly(echo: HttpHandler, size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    pieces = [data[i : i + 1000] for i in range(0, size, 1000)]
    answer = request(echo, "POST", "/echo", pieces)
    assert (answer.status, answer.body) == (200, data)


def test_finishing_a_body_while_its_stream_lives_traps_with_one_line(echo: HttpHandler) -> None:
    exchange = echo.start(RequestHead("GET", "/misuse"))
    exchange.end_body()
    exchange.run()
    assert exchange.response().status == 200  # set before the misuse
    with pytest.raises(BodyError, match="broke off"):
        b"".join(exchange.body_chunks())
    assert isinstance(exchange.failure, GuestTrap)
    message = str(exchange.failure)
    assert "outgoing-body finished while a child handle of it is still alive" in message
    assert "\n" not in message
    assert echo.linker.attached == 0


def test_a_guest_waiting_past_its_timeout_is_stopped(echo_wasm: Path, host: kvredis.Host) -> None:
    handler = handler_for(echo_wasm, host, GuestSettings(timeout_s=0.5))
    try:
        with web_server() as web:
            started = time.monotonic()
            with pytest.raises(GuestTimeout, match=r"timed out after 0\.5 s"):
                request(handler, "GET", f"/fetch?url={web.base_url}/hold")
            assert time.monotonic() - started < 5
    finally:
        handler.close()
