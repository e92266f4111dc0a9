"""Two engines: epoch interruption (whose checks in every guest function and loop cost guests
built by toolchains real time) only for guests with a timeout. In process, no server."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime
from wasmtime.component import Linker

from kvredis import GuestTimeout, Host
from kvredis.backend.null import NullBackend
from kvredis.runtime.cache import artifact_name, cache_key
from kvredis.runtime.engine import EngineKind, engine
from kvredis.runtime.instance import Limits

# `seven` returns 7; `spin` never returns.
WAT = """(component
  (core module $m
    (func (export "seven") (result i32) (i32.const 7))
    (func (export "spin") (loop $again (br $again))))
  (core instance $i (instantiate $m))
  (func (export "seven") (result u32) (canon lift (core func $i "seven")))
  (func (export "spin") (canon lift (core func $i "spin"))))"""


@pytest.fixture
def component(tmp_path: Path) -> Path:
    path = tmp_path / "spin.wasm"
    path.write_bytes(wasmtime.wat2wasm(WAT))
    return path


def _seven(interruptible: bool) -> int:
    """Call `seven` in a fresh store of that engine, whose epoch deadline was never set."""
    eng = engine(EngineKind(interruptible=interruptible))
    store = wasmtime.Store(eng)
    instance = Linker(eng).instantiate(store, wasmtime.component.Component(eng, WAT))
    func = instance.get_func(store, "seven")
    assert func is not None
    result: int = func(store)
    return result


def test_only_the_interruptible_engine_checks_epochs() -> None:
    assert _seven(interruptible=False) == 7  # no checks compiled in
    with pytest.raises(wasmtime.WasmtimeError):
        _seven(interruptible=True)  # a deadline of 0 has passed at the first check


def test_a_host_without_a_timeout_compiles_for_the_plain_engine_only(
    cache: Path, component: Path
) -> None:
    data = component.read_bytes()
    with Host(backend=NullBackend()) as host:
        loaded = host.load(component)
        assert loaded.call("seven") == 7
        assert sorted(p.name for p in cache.iterdir()) == [artifact_name(cache_key(data))]
        # The same component given a timeout is compiled for the interruptible engine too.
        with pytest.raises(GuestTimeout):
            loaded.instantiate(limits=Limits(timeout_s=0.3)).call("spin")
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        artifact_name(cache_key(data, EngineKind(interruptible))) for interruptible in (False, True)
    )


def test_a_host_with_a_timeout_runs_its_guests_on_the_interruptible_engine(
    cache: Path, component: Path
) -> None:
    with Host(backend=NullBackend(), timeout=0.3) as host, pytest.raises(GuestTimeout):
        host.load(component).call("spin")
    assert [p.name for p in cache.iterdir()] == [
        artifact_name(cache_key(component.read_bytes(), EngineKind(interruptible=True)))
    ]


def test_a_pooled_engine_runs_what_the_plain_engine_compiled() -> None:
    """The pool does not change compiled code, so pooled engines share the compiled-code
    cache with the others (`cache_key` ignores `pooled`)."""
    plain, pooled = EngineKind(), EngineKind().with_pool()
    assert pooled.pooled and cache_key(b"x", plain) == cache_key(b"x", pooled)
    artifact = wasmtime.component.Component(engine(plain), WAT).serialize()
    eng = engine(pooled)
    store = wasmtime.Store(eng)
    loaded = wasmtime.component.Component.deserialize(eng, artifact)
    func = Linker(eng).instantiate(store, loaded).get_func(store, "seven")
    assert func is not None and func(store) == 7


def test_memory_limited_kinds_are_never_pooled() -> None:
    limited = EngineKind(memory_limited=True)
    assert limited.with_pool() == limited
