"""What a served component is shown of an ASGI request, and `kvredis serve --addr`."""

from __future__ import annotations

from typing import Any

import pytest

from kvredis import ConfigError
from kvredis.cli.serve import parse_addr
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
