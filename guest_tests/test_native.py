"""A guest from a second toolchain: hand-written WebAssembly text made a component by
wasm-tools (no componentize-py, no WASI). It lays out canonical-ABI values itself, so it
checks the host against the ABI rather than against one binding generator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

import guests
import servers
from kvredis import GuestTrap, Host
from kvredis.runtime.instance import Instance


@pytest.fixture(scope="session")
def native_guest(build_dir: Path) -> Path:
    built: Path = guests.build_native(build_dir / "native.wasm")
    return built


@pytest.fixture
def native(server: servers.ServerProcess, native_guest: Path) -> Iterator[Instance]:
    with Host(server.url) as host:
        instance = host.load(native_guest).instantiate()
        assert instance.call("open-bucket", "nat") is True
        yield instance


def test_values_round_trip_byte_exact(native: Instance, db: redis.Redis) -> None:
    for size in (0, 1, 4095, 4096, 4097, 70_000):
        value = bytes(i % 251 for i in range(size))
        native.call("set-loop", "k", value, 1)
        assert db.get(b"nat:k") == value
        assert native.call("get-loop", "k", 3) == 3 * size


def test_exists_delete_and_missing_keys(native: Instance, db: redis.Redis) -> None:
    assert native.call("exists-loop", "gone", 5) == 0
    assert native.call("get-loop", "gone", 5) == 0
    native.call("set-loop", "here", b"", 1)
    assert native.call("exists-loop", "here", 5) == 5
    assert db.get(b"nat:here") == b""
    native.call("delete-loop", "here", 2)
    assert db.exists(b"nat:here") == 0


def test_increments_are_decimal_and_exact(native: Instance, db: redis.Redis) -> None:
    assert native.call("increment-loop", "n", 250) == 250
    assert db.get(b"nat:n") == b"250"


def test_cas_increment_loop_counts_exactly(native: Instance, db: redis.Redis) -> None:
    assert native.call("cas-increment-loop", "c", 120) == 0
    assert db.get(b"nat:c") == b"120"


def test_batches_and_listing(native: Instance, db: redis.Redis) -> None:
    keys = [f"key-{i}" for i in range(2500)]
    native.call("set-many-loop", [(k, k.encode()) for k in keys], 1)
    assert db.get(b"nat:key-2499") == b"key-2499"
    assert native.call("get-many-loop", [*keys[:10], "missing"], 2) == 10
    db.set(b"other:key", b"x")  # outside the bucket: never listed
    assert native.call("list-all") == 2500


def test_dropped_handle_traps_the_guest_not_the_host(
    server: servers.ServerProcess, native_guest: Path, db: redis.Redis
) -> None:
    with Host(server.url) as host:
        component = host.load(native_guest)
        first = component.instantiate()
        with pytest.raises(GuestTrap, match="unknown handle"):
            first.call("stale-handle")
        # The host carries on: a new instance works, and so does the server.
        second = component.instantiate()
        assert second.call("open-bucket", "after") is True
        second.call("set-loop", "k", b"fine", 1)
    assert db.get(b"after:k") == b"fine"
