"""The callback registry of kvredis.canon: wasmtime's finalizers may release callbacks from
any thread, at any moment, even from inside another release; none of that may block."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable

from wasmtime.component import Linker

from kvredis.canon import registry
from kvredis.canon.registry import CallbackRegistry
from kvredis.runtime.engine import engine


def _linker_with(handler: registry.Handler) -> Linker:
    linker = Linker(engine())
    with linker.root() as root, root.add_instance("kvredis:test/registry") as instance:
        registry.add_func(instance, "f", handler, "kvredis:test/registry#f")
    return linker


def _finishes(work: Callable[[], None], within_s: float = 10) -> bool:
    thread = threading.Thread(target=work, daemon=True)  # daemon: a deadlock must not hang pytest
    thread.start()
    thread.join(within_s)
    return not thread.is_alive()


def test_keys_never_repeat_and_release_is_idempotent() -> None:
    callbacks = CallbackRegistry()
    first = callbacks.keep("a")
    callbacks.release(first)
    callbacks.release(first)
    callbacks.release(12345)  # never handed out
    second = callbacks.keep("b")
    assert first >= 1 and second > first
    assert len(callbacks) == 1


def test_a_release_that_frees_objects_releasing_others_completes() -> None:
    callbacks = CallbackRegistry()
    inner = callbacks.keep("inner")

    class ReleasesInner:
        def __del__(self) -> None:
            callbacks.release(inner)

    outer = callbacks.keep(ReleasesInner())
    assert _finishes(lambda: callbacks.release(outer))
    assert len(callbacks) == 0


def test_dropping_a_linker_releases_its_callbacks() -> None:
    gc.collect()
    before = len(registry.callbacks)
    linker = _linker_with(lambda ctx, args, results: None)
    assert len(registry.callbacks) == before + 1
    del linker
    gc.collect()
    assert len(registry.callbacks) == before


def test_wasmtime_releasing_a_callback_whose_closure_drops_another_linker_completes() -> None:
    # Linker a's callback holds the last reference to linker b (through an object that drops
    # it): freeing a makes wasmtime release a's callback, which frees b, whose finalizer
    # releases b's callback, all inside the first release. A lock around the registry would
    # be held by this very thread at that point, and it would wait on itself forever.
    gc.collect()
    before = len(registry.callbacks)
    held = {"b": _linker_with(lambda ctx, args, results: None)}

    class DropsB:
        def __del__(self) -> None:
            held.pop("b")

    def handler(ctx: int, args: int, results: int, _keep: object = DropsB()) -> None:
        pass

    linkers = {"a": _linker_with(handler)}
    del handler
    assert len(registry.callbacks) == before + 2
    assert _finishes(linkers.clear)
    assert "b" not in held
    assert len(registry.callbacks) == before
