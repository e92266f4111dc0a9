"""The pieces of `kvredis up` that need no server: its NAME=VALUE flags and addresses, the
router that serves several components in one server, and the seams to wasi:config, named
links and watchers (issue 12 items 1 and 2), which must refuse rather than drop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kvredis import ConfigError, Deployment
from kvredis.cli.up import bound_addresses, named_values
from kvredis.wadm.plan import Plan, PlannedComponent
from kvredis.wadm.router import PortRouter


def test_named_values_take_name_equals_value_once() -> None:
    assert named_values("--image", ["a=x.wasm", "b=c=d"]) == {"a": "x.wasm", "b": "c=d"}
    with pytest.raises(ConfigError, match=r"^--image a: expected NAME=VALUE$"):
        named_values("--image", ["a"])
    with pytest.raises(ConfigError, match=r"^--addr a: given twice$"):
        named_values("--addr", ["a=h:1", "a=h:2"])


def served(*items: tuple[str, tuple[str, ...]]) -> Plan:
    components = tuple(
        PlannedComponent(name=name, image=Path("a.wasm"), addresses=addresses)
        for name, addresses in items
    )
    return Plan("app", None, "", components)


def test_addresses_are_parsed_and_a_port_serves_one_component() -> None:
    plan = served(("a", ("127.0.0.1:8080", "[::1]:8080")), ("b", ("127.0.0.1:0",)), ("c", ()))
    assert bound_addresses(plan) == {
        "a": [("127.0.0.1", 8080), ("::1", 8080)],
        "b": [("127.0.0.1", 0)],
    }
    with pytest.raises(ConfigError, match=r"^component b: port 8080 is a's already; one port"):
        bound_addresses(served(("a", ("127.0.0.1:8080",)), ("b", ("127.0.0.2:8080",))))
    with pytest.raises(ConfigError, match=r"^component a: address 8080: expected HOST:PORT$"):
        bound_addresses(served(("a", ("8080",))))


class Recorder:
    """An ASGI application that answers with its own name."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": self.name.encode()})


def call(app: Any, scope: dict[str, Any], incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_the_router_sends_each_request_to_the_app_of_its_port() -> None:
    router = PortRouter({8001: Recorder("one"), 8002: Recorder("two")})  # type: ignore[dict-item]
    for port, body in ((8001, b"one"), (8002, b"two")):
        sent = call(router, {"type": "http", "server": ("127.0.0.1", port)}, [])
        assert sent[-1]["body"] == body
    unknown = call(router, {"type": "http", "server": ("127.0.0.1", 9)}, [])
    assert unknown[0]["status"] == 404


def test_the_router_completes_the_servers_lifespan() -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = call(PortRouter({}), {"type": "lifespan"}, incoming)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_a_malformed_watch_setting_fails_before_any_server_starts(tmp_path: Path) -> None:
    plan = Plan("app", None, "", (PlannedComponent("c", Path("a.wasm"), watch=("PUT@k",)),))
    with pytest.raises(ConfigError, match=r"^component c: watch: cannot read 'PUT@k'"):
        Deployment(plan, data_dir=tmp_path / "data").start()
    assert not (tmp_path / "data").exists()  # no embedded server was started
