"""What a served component is shown of an ASGI request, and `kvredis serve --addr`."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from kvredis import ConfigError
from kvredis.cli.serve import listen, parse_addr
from kvredis.serve.asgi import Rejected, request_head


def scope(**fields: Any) -> dict[str, Any]:
    base = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": []}
    return {**base, **fields}


def test_the_head_keeps_method_path_query_headers_and_authority() -> None:
    head = request_head(
        scope(
            method="PATCH",
            raw_path=b"/a%20b",
            query_string=b"x=1",
            headers=[(b"host", b"example.com:8000"), (b"x-one", b"1")],
            scheme="https",
        )
    )
    assert (head.method, head.path_with_query, head.scheme) == ("PATCH", "/a%20b?x=1", "https")
    assert head.authority == "example.com:8000"
    assert list(head.headers) == [("host", b"example.com:8000"), ("x-one", b"1")]


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"method": "GE T"}, 400),
        ({"method": ""}, 400),
        ({"headers": [(b"x", b"a\nb")]}, 400),
        ({"headers": [(b"x y", b"v")]}, 400),
        ({"headers": [(b"x", b"v" * 70_000)]}, 431),
        ({"raw_path": "/é".encode()}, 400),
        ({"query_string": b"a=\x00"}, 400),
    ],
)
def test_heads_no_guest_should_see_are_rejected(fields: dict[str, Any], status: int) -> None:
    with pytest.raises(Rejected) as caught:
        request_head(scope(**fields))
    assert caught.value.status == status


@pytest.mark.parametrize(
    ("text", "addr"),
    [("127.0.0.1:8000", ("127.0.0.1", 8000)), ("[::1]:0", ("::1", 0)), ("x:1", ("x", 1))],
)
def test_addr_is_host_colon_port(text: str, addr: tuple[str, int]) -> None:
    assert parse_addr(text) == addr


@pytest.mark.parametrize("text", ["8000", ":80", "host:", "host:http", "host:65536"])
def test_a_bad_addr_names_the_expected_form(text: str) -> None:
    with pytest.raises(ConfigError, match="expected HOST:PORT"):
        parse_addr(text)


def test_connections_accepted_on_the_serve_socket_send_without_nagle_delay() -> None:
    """Without TCP_NODELAY a keep-alive client waits a delayed ACK (40 ms) per response:
    asyncio sets it only on sockets that say they are TCP, as the listening one must."""
    accepted: list[int] = []

    async def accept_one() -> None:
        loop = asyncio.get_running_loop()
        connected = asyncio.Event()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                connected.set()

        with listen("127.0.0.1", 0) as sock:
            server = await loop.create_server(Probe, sock=sock)
            async with server:
                _reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
                await asyncio.wait_for(connected.wait(), 10)
                writer.close()

    asyncio.run(accept_one())
    assert accepted == [1]
