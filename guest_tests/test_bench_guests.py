"""The benchmark guests of `make bench`'s three-guest table (scripts/bench_guests.py): each
toolchain's build runs every operation on kvredis against a real server and does what it says,
so the table times real work."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

import bench_guests
import servers
from bench_guests import BenchGuest
from kvredis import Host

KEY = "bench-real"
REDIS_KEY = b":" + KEY.encode()  # bucket "", the only one Wasmtime's own host opens
VALUE = b"v" * 64


def _built(toolchain: str, world: str, build_dir: Path) -> Path:
    return bench_guests.build(BenchGuest(toolchain, world), build_dir / "bench")


def _measure(host: Host, path: Path, op: str, n: int) -> int:
    elapsed: int = host.load(path).instantiate().call("measure", op, "", KEY, len(VALUE), n)
    assert elapsed > 0
    return elapsed


@pytest.mark.parametrize("toolchain", bench_guests.TOOLCHAINS)
def test_each_operation_does_what_it_says(
    toolchain: str, build_dir: Path, valkey_server: servers.ServerProcess
) -> None:
    draft = _built(toolchain, "draft", build_dir)
    cas = _built(toolchain, "cas", build_dir)
    db: redis.Redis = valkey_server.client()
    with Host(valkey_server.url) as host:
        _measure(host, draft, "set", 2)
        assert db.get(REDIS_KEY) == VALUE
        _measure(host, draft, "get", 3)
        _measure(host, draft, "exists", 1)
        _measure(host, draft, "delete", 1)
        assert db.exists(REDIS_KEY) == 0
        _measure(host, draft, "increment", 3)
        assert db.get(REDIS_KEY) == b"3"
        db.set(REDIS_KEY, b"old")
        _measure(host, cas, "cas", 2)
        assert db.get(REDIS_KEY) == VALUE
