"""Host functions registered as raw C callbacks, kept alive until wasmtime lets go of them."""

from __future__ import annotations

import ctypes
import itertools
import logging
from collections.abc import Callable
from ctypes import c_char_p, c_size_t, c_void_p

from wasmtime import _ffi as ffi
from wasmtime.component import LinkerInstance
from wasmtime.component import _enter as wasmtime_enter

from kvredis._wit import Trap
from kvredis.canon.c_api import take_error_message, trap_pointer

log = logging.getLogger("kvredis")

Handler = Callable[[int, int, int], None]
"""A host function body: (store context, address of the arguments, address of the results)."""

_CALLBACK = ctypes.CFUNCTYPE(
    c_size_t, c_void_p, c_void_p, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t
)
_FINALIZER = ctypes.CFUNCTYPE(None, c_void_p)
_add_func = ffi.dll["wasmtime_component_linker_instance_add_func"]
_add_func.restype = c_void_p
_add_func.argtypes = [c_void_p, c_char_p, c_size_t, _CALLBACK, c_void_p, _FINALIZER]


class CallbackRegistry:
    """Objects kept alive under integer keys until released.

    wasmtime releases a callback through a finalizer when it drops a function definition,
    that is when a linker is freed: on whatever thread frees it, at any allocation (the garbage
    collector frees linkers caught in cycles), even from inside another release (a released
    callback's closure can hold the last reference to another linker). A lock here could be
    held by the very thread a finalizer interrupts, which would then wait on itself forever.
    So, as in wasmtime-py's slab, there is none: keys come from a counter and never repeat, and
    each step is a single `next()` or dict operation, which the GIL makes atomic.
    """

    def __init__(self) -> None:
        self._live: dict[int, object] = {}
        self._keys = itertools.count(1)  # from 1: a null `void *` reads back as 0

    def keep(self, obj: object) -> int:
        key = next(self._keys)
        self._live[key] = obj
        return key

    def release(self, key: int) -> None:
        """Let go of `key` (idempotent). The object may be freed, and run finalizers, here."""
        self._live.pop(key, None)

    def __len__(self) -> int:
        return len(self._live)


callbacks = CallbackRegistry()


def add_func(instance: LinkerInstance, name: str, handler: Handler, label: str) -> None:
    """Register `handler` as function `name` of a linker instance.

    `label` (the WIT function's full name) goes into the trap message when the handler fails,
    so a host bug is reported as a trap of the guest that names the function, never as a
    Python traceback on the user's terminal.
    """

    def callback(
        _env: int, ctx: int, _ty: int, args: int, _nargs: int, results: int, _nresults: int
    ) -> int:
        try:
            handler(ctx, args or 0, results or 0)
        except Trap as trap:
            return trap_pointer(f"{label}: {trap}")
        except Exception as exc:
            log.debug("host function %s failed", label, exc_info=True)
            return trap_pointer(f"kvredis host error in {label}: {type(exc).__name__}: {exc}")
        except BaseException as exc:
            # KeyboardInterrupt and friends: unwind the guest, then re-raise in the caller
            # (wasmtime-py raises the recorded exception once the call returns).
            wasmtime_enter.LAST_EXCEPTION = exc  # type: ignore[assignment]
            return trap_pointer(f"{label}: interrupted")
        return 0

    c_callback = _CALLBACK(callback)
    key = callbacks.keep(c_callback)
    encoded = name.encode()
    err = _add_func(instance.ptr(), encoded, len(encoded), c_callback, key, _release_callback)
    if err:
        callbacks.release(key)
        raise ValueError(f"cannot define {label}: {take_error_message(err)}")


def _release(key: int | None) -> None:
    callbacks.release(key or 0)


# wasmtime calls this when it drops a function definition: the callback may then be freed.
_release_callback = _FINALIZER(_release)
