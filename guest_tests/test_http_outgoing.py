"""Outgoing requests of a guest (`wasi:http/outgoing-handler`) through kvredis's httpx
client: to a web server on a free loopback port, with a streamed request body, its
first-byte timeout, and a refused connection, each answered with the WIT's error-code."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import kvredis
import servers
from kvredis.runtime.http_handler import HttpHandler
from servekit import handler_for, request, web_server
from servers import free_port


@pytest.fixture
def fetcher(
    app_guest: Callable[[str], Path], valkey_server: servers.ServerProcess
) -> Iterator[HttpHandler]:
    with kvredis.Host(valkey_server.url) as host:
        handler = handler_for(app_guest("http-echo"), host)
        yield handler
        handler.close()


def test_a_guest_gets_status_headers_and_body_from_a_web_server(fetcher: HttpHandler) -> None:
    with web_server() as web:
        answer = request(fetcher, "GET", f"/fetch?url={web.base_url}/some/path?q=1")
    assert answer.status == 200
    seen = json.loads(answer.body)
    assert seen["status"] == 201
    assert seen["body"] == "hello from /some/path?q=1"
    assert ["x-test", "yes"] in [[n.lower(), v] for n, v in seen["headers"]]


def test_a_request_body_streams_out_as_the_guest_reads_its_own(fetcher: HttpHandler) -> None:
    pieces = [bytes([i]) * 50_000 for i in range(1, 21)]  # 1 MB, in 20 pieces
    with web_server() as web:
        answer = request(fetcher, "POST", f"/fetch?url={web.base_url}/upload", pieces)
    seen = json.loads(answer.body)
    assert seen["status"] == 200
    assert seen["body"] == f"got 1000000 bytes ending {(bytes([20]) * 8).hex()}"


def test_the_first_byte_timeout_of_request_options_holds(fetcher: HttpHandler) -> None:
    with web_server() as web:
        started = time.monotonic()
        answer = request(fetcher, "GET", f"/fetch?url={web.base_url}/hold&timeout-ms=300")
        elapsed = time.monotonic() - started
    assert (answer.status, json.loads(answer.body)) == (502, {"error": "ConnectionReadTimeout"})
    assert 0.25 < elapsed < 5


def test_a_refused_connection_is_the_error_code_connection_refused(fetcher: HttpHandler) -> None:
    closed = free_port()  # bound once and released: nothing listens there now
    answer = request(fetcher, "GET", f"/fetch?url=http://127.0.0.1:{closed}/")
    assert (answer.status, json.loads(answer.body)) == (502, {"error": "ConnectionRefused"})
