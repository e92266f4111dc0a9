"""Components compiled once per machine: a cache of wasmtime artifacts, keyed by content.

Loading a cached artifact runs its native code, so the trust rule is the one ssh applies to
~/.ssh: the cache directory is used only if it belongs to the user and neither group nor
others can write to it (kvredis makes it with mode 0700); otherwise components are compiled
every time and kvredis says why, once. Artifacts are opened without following links and must
be the user's own files, are written to a temporary name and renamed into place (mode 0600),
and end with a trailer naming the key they were stored under, so an artifact copied under
another component's key is refused and that component compiled again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
import threading
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from wasmtime import Engine, WasmtimeError
from wasmtime.component import Component

from kvredis.errors import ComponentLoadError
from kvredis.private_dirs import UnsafePath, open_private_dir, shown, write_private_file
from kvredis.runtime.engine import PLAIN, EngineKind, engine
from kvredis.runtime.faults import host_resource_error

_log = logging.getLogger("kvredis")

_WASM_MAGIC = b"\0asm"
_CORE_MODULE_LAYER = b"\x01\x00\x00\x00"
# Part of every cache key: artifacts are only valid for this wasmtime and this engine setup.
_ENGINE_TAGS = {
    True: f"wasmtime-{version('wasmtime')}/epoch-interruption/v1",
    False: f"wasmtime-{version('wasmtime')}/plain/v1",
}
# wasmtime reads its artifact from the start of the file and ignores what follows, so the
# key can ride at the end without costing the zero-copy load of the file.
_TRAILER_MAGIC = b"kvredis-key-v1:"
_TRAILER_SIZE = len(_TRAILER_MAGIC) + 32

_warned: set[Path] = set()
_warned_lock = threading.Lock()


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
    shown_path = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ComponentLoadError(f"{shown_path}: no such file") from None
    except IsADirectoryError:
        raise ComponentLoadError(f"{shown_path}: is a directory, not a component") from None
    except OSError as exc:
        raise ComponentLoadError(f"{shown_path}: cannot read: {exc.strerror or exc}") from None
    if data[:4] != _WASM_MAGIC:
        raise ComponentLoadError(f"{shown_path}: not a WebAssembly file")
    if data[4:8] == _CORE_MODULE_LAYER:
        raise ComponentLoadError(
            f"{shown_path}: is a core WebAssembly module, not a component; build a component "
            "(for example with componentize-py, cargo component, or "
            "`wasm-tools component new`)"
        )
    return data


def cache_key(component_bytes: bytes, kind: EngineKind = PLAIN) -> bytes:
    """The key an artifact of these component bytes, compiled for the engine of that kind
    (`engine(kind)`), is stored under (32 bytes). The memory creator does not change the
    code, so memory-limited kinds share their artifacts with the others."""
    tag = _ENGINE_TAGS[kind.interruptible]
    return hashlib.sha256(tag.encode() + b"\0" + component_bytes).digest()


def trailer(key: bytes) -> bytes:
    """What follows an artifact in the cache: the key it was stored under."""
    return _TRAILER_MAGIC + key


def artifact_name(key: bytes) -> str:
    return f"{key.hex()}.cwasm"


def load_component(
    path: str | os.PathLike[str],
    on_compile: Callable[[], None] | None = None,
    *,
    kind: EngineKind = PLAIN,
) -> Component:
    """Compile (or fetch from the cache) the component at `path`, for `engine(kind)`.

    `on_compile` is called before a cache miss is compiled, so a CLI can say why it waits.
    """
    data = read_component_bytes(path)
    eng = engine(kind)
    key = cache_key(data, kind)
    cache = _open_cache()
    try:
        if cache is not None:
            found = _lookup(eng, cache, key, path)
            if found is not None:
                return found
        if on_compile is not None:
            on_compile()
        try:
            component = Component(eng, data)
        except WasmtimeError as exc:
            _raise_if_host_ran_short(exc, path, "compiling it")
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid component"
            raise ComponentLoadError(f"{os.fspath(path)}: cannot compile: {first}") from None
        if cache is not None:
            _store(cache, key, component)
        return component
    finally:
        if cache is not None:
            os.close(cache)


def _raise_if_host_ran_short(exc: WasmtimeError, path: str | os.PathLike[str], during: str) -> None:
    error = host_resource_error(str(exc), os.fspath(path), during)
    if error is not None:
        raise error from None


def _open_cache() -> int | None:
    """A descriptor of the cache directory, or None when it must not or cannot be used."""
    path = cache_dir()
    try:
        return open_private_dir(path, create=True)
    except UnsafePath as exc:
        _say_once(path, logging.WARNING, f"not using the compiled-code cache: {exc}")
    except OSError as exc:
        # A cache that cannot be made only costs time.
        reason = exc.strerror or str(exc)
        _say_once(path, logging.DEBUG, f"no compiled-code cache in {shown(path)}: {reason}")
    return None


def _say_once(path: Path, level: int, message: str) -> None:
    with _warned_lock:
        if path in _warned:
            return
        _warned.add(path)
    _log.log(level, "%s", message)


def _lookup(eng: Engine, cache: int, key: bytes, path: str | os.PathLike[str]) -> Component | None:
    """The cached component of `key`, or None (a missing, foreign or damaged artifact is
    removed, so that a fresh one replaces it)."""
    name = artifact_name(key)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=cache)
    except FileNotFoundError:
        return None
    except OSError:  # a link (ELOOP) or worse: not ours to load
        _discard(cache, name, "it cannot be opened as a file of its own")
        return None
    try:
        problem = _artifact_problem(fd, key)
        if problem is not None:
            _discard(cache, name, problem)
            return None
        try:
            return _deserialize(eng, fd)
        except WasmtimeError as exc:
            # A host short of memory says nothing about the artifact: keep it.
            _raise_if_host_ran_short(exc, path, "loading it from the cache")
            _discard(cache, name, "wasmtime cannot load it")
            return None
    finally:
        os.close(fd)


def _artifact_problem(fd: int, key: bytes) -> str | None:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
        return "it is not a file of yours"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "others can write to it"
    if st.st_size <= _TRAILER_SIZE:
        return "it is too short"
    if os.pread(fd, _TRAILER_SIZE, st.st_size - _TRAILER_SIZE) != trailer(key):
        return "it was stored under another key"
    return None


def _deserialize(eng: Engine, fd: int) -> Component:
    """The component in the open, checked artifact: what was checked is what gets loaded."""
    by_descriptor = f"/dev/fd/{fd}"
    if os.path.exists(by_descriptor):
        return Component.deserialize_file(eng, by_descriptor)  # mapped, not copied
    with os.fdopen(os.dup(fd), "rb") as file:
        return Component.deserialize(eng, file.read())


def _discard(cache: int, name: str, why: str) -> None:
    _log.debug("compiled-code cache: not using %s: %s", name, why)
    with contextlib.suppress(OSError):
        os.unlink(name, dir_fd=cache)


def _store(cache: int, key: bytes, component: Component) -> None:
    artifact = component.serialize()
    artifact += trailer(key)
    try:
        write_private_file(cache, artifact_name(key), artifact)
    except OSError as exc:
        _log.debug("compiled-code cache: cannot store an artifact: %s", exc.strerror or exc)
