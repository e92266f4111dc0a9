"""Typed callers of a component's exports, generated from the WIT like the host bindings: the
host calls a watcher guest's on-set and on-delete (both keyvalue versions) through
`WatcherExports`, handing it an owned bucket, and the guest writes what it was told into that
bucket through wasi:keyvalue, where the test reads it back from Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from wasmtime import Store, WasiConfig
from wasmtime.component import Linker

import kvredis
import servers
from kvredis.adapters import LINKERS
from kvredis.adapters.draft import DraftBucket
from kvredis.adapters.draft2 import Draft2Bucket
from kvredis.bindings import keyvalue_draft, keyvalue_draft2
from kvredis.core import KeyValueCore
from kvredis.runtime.cache import load_component
from kvredis.runtime.engine import deadline_ticks, engine

# Per keyvalue version: its bindings, and the host's bucket type that is handed to the guest.
WATCHERS: dict[str, tuple[Any, type[DraftBucket | Draft2Bucket]]] = {
    "draft": (keyvalue_draft, DraftBucket),
    "draft2": (keyvalue_draft2, Draft2Bucket),
}
BUCKET = "watched"


@dataclass
class Watcher:
    """One version's caller of the guest's watcher export, and what it needs around it."""

    version: str
    caller: Any  # keyvalue_draft.WatcherExports or keyvalue_draft2.WatcherExports
    tables: Any  # the same version's handle tables of the instance
    new_bucket: Callable[[], DraftBucket | Draft2Bucket]


def instantiate(path: Path, core: KeyValueCore, version: str) -> Watcher:
    """What runtime.instance.Instance does, keeping the handle tables the callers need."""
    bindings, bucket_class = WATCHERS[version]
    eng = engine()
    store = Store(eng)
    store.set_wasi(WasiConfig())
    store.set_epoch_deadline(deadline_ticks(None))
    linker = Linker(eng)
    linker.add_wasip2()
    with linker.root() as root:
        tables = {package: add_to_linker(root, core) for package, add_to_linker in LINKERS.items()}
    instance = linker.instantiate(store, load_component(path))
    version_tables = tables[bindings.PACKAGE]
    return Watcher(
        version,
        bindings.WatcherExports(instance, store, version_tables),
        version_tables,
        lambda: bucket_class(core.open(BUCKET)),
    )


@pytest.fixture
def watcher_host(server: servers.ServerProcess) -> Iterator[kvredis.Host]:
    with kvredis.Host(server.url) as host:
        yield host


@pytest.fixture(params=list(WATCHERS))
def watcher(
    request: pytest.FixtureRequest, app_guest: Callable[[str], Path], watcher_host: kvredis.Host
) -> Watcher:
    return instantiate(app_guest("watcher"), watcher_host.core, request.param)


def test_on_set_and_on_delete_reach_the_guest_with_an_owned_bucket(
    watcher: Watcher, watcher_host: kvredis.Host, db: redis.Redis
) -> None:
    version = watcher.version
    seen = watcher_host.key_for(BUCKET, "seen:k")
    watcher.caller.on_set(watcher.new_bucket(), "k", b"v1")
    assert db.get(seen) == f"{version} set v1".encode()
    watcher.caller.on_set(watcher.new_bucket(), "k", b"")
    assert db.get(seen) == f"{version} set ".encode()
    watcher.caller.on_delete(watcher.new_bucket(), "k")
    assert db.get(seen) == f"{version} delete".encode()
    # The guest dropped every bucket it was handed: none is left in the handle table.
    assert len(watcher.tables.bucket) == 0


def test_on_set_carries_a_large_value_byte_exact(
    watcher: Watcher, watcher_host: kvredis.Host, db: redis.Redis
) -> None:
    value = bytes(range(256)) * 4096  # 1 MiB, every byte value
    watcher.caller.on_set(watcher.new_bucket(), "big", value)
    stored = db.get(watcher_host.key_for(BUCKET, "seen:big"))
    assert stored is not None and stored.endswith(b" set " + value)


def test_a_component_without_the_export_gets_no_caller(
    cli_wasm: Path, watcher_host: kvredis.Host
) -> None:
    with pytest.raises(LookupError, match=r"does not export wasi:keyvalue/watcher@0\.2\.0-draft"):
        instantiate(cli_wasm, watcher_host.core, "draft2")
