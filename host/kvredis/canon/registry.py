"""Host functions and resource destructors registered as raw C callbacks, kept alive until
wasmtime lets go of them."""

from __future__ import annotations

import ctypes
import itertools
import logging
from collections.abc import Callable
from ctypes import c_char_p, c_size_t, c_uint32, c_void_p

from wasmtime import Store
from wasmtime import _ffi as ffi
from wasmtime.component import LinkerInstance, ResourceType
from wasmtime.component import _enter as wasmtime_enter

from kvredis._wit import Trap
from kvredis.canon.c_api import take_error_message, trap_pointer

log = logging.getLogger("kvredis")

Handler = Callable[[int, int, int], None]
"""A host function body: (store context, address of the arguments, address of the results)."""

Destructor = Callable[[int, int], None]
"""A resource destructor: (store context, rep of the handle the guest dropped)."""

_CALLBACK = ctypes.CFUNCTYPE(
    c_size_t, c_void_p, c_void_p, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t
)
_DESTRUCTOR = ctypes.CFUNCTYPE(c_size_t, c_void_p, c_void_p, c_uint32)
_FINALIZER = ctypes.CFUNCTYPE(None, c_void_p)
_add_func = ffi.dll["wasmtime_component_linker_instance_add_func"]
_add_func.restype = c_void_p
_add_func.argtypes = [c_void_p, c_char_p, c_size_t, _CALLBACK, c_void_p, _FINALIZER]
_add_resource = ffi.dll["wasmtime_component_linker_instance_add_resource"]
_add_resource.restype = c_void_p
_add_resource.argtypes = [c_void_p, c_char_p, c_size_t, c_void_p, _DESTRUCTOR, c_void_p, _FINALIZER]

# Exceptions that mean "trap the guest with this message" besides `Trap`: host code that knows
# nothing of wasmtime (the WASI core) has its own, which its adapters register here.
_trap_types: tuple[type[BaseException], ...] = (Trap,)


def trap_on(*types: type[Exception]) -> None:
    """Make host functions that raise one of `types` trap the guest with its message."""
    global _trap_types
    _trap_types = tuple(dict.fromkeys(_trap_types + types))


def store_key(store: Store) -> int:
    """The integer every host function of `store` receives as its store context: the key
    under which per-store state is found (it may be reused once the store is freed)."""
    key: int = ctypes.cast(store._context(), c_void_p).value or 0
    return key


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
        except BaseException as exc:
            return _trap_for(exc, label)
        return 0

    c_callback = _CALLBACK(callback)
    encoded = name.encode()
    _define(
        c_callback,
        label,
        lambda key: _add_func(
            instance.ptr(), encoded, len(encoded), c_callback, key, _release_callback
        ),
    )


def add_resource(
    instance: LinkerInstance, name: str, type_id: int, destructor: Destructor, label: str
) -> None:
    """Define host resource type `type_id` as `name` in a linker instance; `destructor` runs
    when a guest drops a handle of it (a failure traps the guest that dropped it)."""

    def callback(_env: int, ctx: int, rep: int) -> int:
        try:
            destructor(ctx or 0, rep)
        except BaseException as exc:
            return _trap_for(exc, label)
        return 0

    c_callback = _DESTRUCTOR(callback)
    encoded = name.encode()
    resource_type = ResourceType.host(type_id)
    _define(
        c_callback,
        label,
        lambda key: _add_resource(
            instance.ptr(),
            encoded,
            len(encoded),
            ctypes.cast(resource_type.ptr(), c_void_p),
            c_callback,
            key,
            _release_callback,
        ),
    )


def _define(c_callback: object, label: str, define: Callable[[int], int | None]) -> None:
    """Keep `c_callback` alive under a key and `define` it with that key (its C call's
    error pointer back); wasmtime releases the key when it drops the definition."""
    key = callbacks.keep(c_callback)
    err = define(key)
    if err:
        callbacks.release(key)
        raise ValueError(f"cannot define {label}: {take_error_message(err)}")


def _trap_for(exc: BaseException, label: str) -> int:
    """The trap a failed host callback returns to wasmtime."""
    if isinstance(exc, _trap_types):
        return trap_pointer(f"{label}: {exc}")
    if isinstance(exc, Exception):
        log.debug("host function %s failed", label, exc_info=True)
        return trap_pointer(f"kvredis host error in {label}: {type(exc).__name__}: {exc}")
    # KeyboardInterrupt and friends: unwind the guest, then re-raise in the caller
    # (wasmtime-py raises the recorded exception once the call returns).
    wasmtime_enter.LAST_EXCEPTION = exc  # type: ignore[assignment]
    return trap_pointer(f"{label}: interrupted")


def _release(key: int | None) -> None:
    callbacks.release(key or 0)


# wasmtime calls this when it drops a function definition: the callback may then be freed.
_release_callback = _FINALIZER(_release)
