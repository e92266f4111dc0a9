"""The shared wasmtime engine and a compiled-artifact cache keyed by content hash."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from wasmtime import Config, Engine, WasmtimeError
from wasmtime.component import Component

from kvredis.errors import ComponentLoadError
from kvredis.runtime.faults import host_resource_error

_WASM_MAGIC = b"\0asm"
_CORE_MODULE_LAYER = b"\x01\x00\x00\x00"
EPOCH_TICK_S = 0.01
# Part of every cache key: artifacts are only valid for this wasmtime and this engine setup.
_ENGINE_TAG = f"wasmtime-{version('wasmtime')}/epoch-interruption/v1"

NO_DEADLINE = 2**62  # epoch ticks: a store without a timeout never reaches it

_engine: Engine | None = None
_ticker: _EpochTicker | None = None
_engine_lock = threading.Lock()


def engine() -> Engine:
    """The process-wide engine (epoch interruption on, so guests can be timed out)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            config = Config()
            config.epoch_interruption = True
            _engine = Engine(config)
        return _engine


def deadline_ticks(timeout_s: float | None) -> int:
    """The epoch deadline for a store; starts the ticker the first time a timeout is used."""
    global _ticker
    if timeout_s is None:
        return NO_DEADLINE
    eng = engine()
    with _engine_lock:
        if _ticker is None:
            _ticker = _EpochTicker(eng)
            _ticker.start()
    return max(1, round(timeout_s / EPOCH_TICK_S))


class _EpochTicker(threading.Thread):
    """Advances the engine's epoch every EPOCH_TICK_S, so store deadlines measure time."""

    def __init__(self, target: Engine) -> None:
        super().__init__(name="kvredis-epoch", daemon=True)
        self._engine = target

    def run(self) -> None:
        stop = threading.Event()
        while not stop.wait(EPOCH_TICK_S):
            self._engine.increment_epoch()


def cache_dir() -> Path:
    """Where compiled components are kept: $KVREDIS_CACHE_DIR/compiled (the guest builder
    keeps its builds beside them, in guests/), by default under ~/.cache/kvredis."""
    configured = os.environ.get("KVREDIS_CACHE_DIR")
    if configured:
        return Path(configured) / "compiled"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kvredis" / "compiled"


def read_component_bytes(path: str | os.PathLike[str]) -> bytes:
    """The file's bytes, checked to be a component (with a clear error for anything else)."""
    shown = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ComponentLoadError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise ComponentLoadError(f"{shown}: is a directory, not a component") from None
    except OSError as exc:
        raise ComponentLoadError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if data[:4] != _WASM_MAGIC:
        raise ComponentLoadError(f"{shown}: not a WebAssembly file")
    if data[4:8] == _CORE_MODULE_LAYER:
        raise ComponentLoadError(
            f"{shown}: is a core WebAssembly module, not a component; build a component "
            "(for example with componentize-py, cargo component, or "
            "`wasm-tools component new`)"
        )
    return data


def load_component(
    path: str | os.PathLike[str], on_compile: Callable[[], None] | None = None
) -> Component:
    """Compile (or fetch from the cache) the component at `path`.

    `on_compile` is called before a cache miss is compiled, so a CLI can say why it waits.
    """
    data = read_component_bytes(path)
    eng = engine()
    key = hashlib.sha256(_ENGINE_TAG.encode() + b"\0" + data).hexdigest()
    cached = cache_dir() / f"{key}.cwasm"
    if cached.exists():
        try:
            return Component.deserialize_file(eng, str(cached))
        except WasmtimeError as exc:
            # A host short of memory says nothing about the artifact: keep it.
            _raise_if_host_ran_short(exc, path, "loading it from the cache")
            cached.unlink(missing_ok=True)  # stale or damaged: compile again
    if on_compile is not None:
        on_compile()
    try:
        component = Component(eng, data)
    except WasmtimeError as exc:
        _raise_if_host_ran_short(exc, path, "compiling it")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid component"
        raise ComponentLoadError(f"{os.fspath(path)}: cannot compile: {first}") from None
    _store_artifact(cached, component)
    return component


def _raise_if_host_ran_short(exc: WasmtimeError, path: str | os.PathLike[str], during: str) -> None:
    error = host_resource_error(str(exc), os.fspath(path), during)
    if error is not None:
        raise error from None


def _store_artifact(target: Path, component: Component) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".cwasm")
        with os.fdopen(fd, "wb") as out:
            out.write(component.serialize())
        os.replace(tmp, target)
    except OSError:
        pass  # a cache that cannot be written only costs time
