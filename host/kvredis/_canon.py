"""Component values at the C boundary: the one module that touches wasmtime's ffi and ctypes.

wasmtime-py's generic conversion re-reads a function's type on every call and converts a
``list<u8>`` one Python call per byte. The generated bindings instead register raw callbacks
through this module and read and write ``wasmtime_component_val_t`` memory directly, with each
function's shape fixed at generation time.

Every value is addressed by an integer pointer to a ``wasmtime_component_val_t`` (32 bytes on the
64-bit targets wasmtime-py ships for: a one-byte kind, then an 8-byte aligned payload). Arguments
belong to wasmtime and are only read. Results are written in place; everything they point to is
allocated through wasmtime's own constructors, because wasmtime frees it after the call.
"""

from __future__ import annotations

import ctypes
import logging
import struct
import sys
import threading
from collections.abc import Callable, Sequence
from ctypes import c_bool, c_char_p, c_size_t, c_uint32, c_void_p, memmove, string_at
from typing import Any

from wasmtime import _ffi as ffi
from wasmtime.component import LinkerInstance
from wasmtime.component import _enter as wasmtime_enter

log = logging.getLogger("kvredis")

if ctypes.sizeof(c_void_p) != 8 or sys.byteorder != "little":  # pragma: no cover
    raise ImportError("kvredis needs a 64-bit little-endian platform")

VAL_SIZE = ctypes.sizeof(ffi.wasmtime_component_val_t)
RECORD_ENTRY_SIZE = ctypes.sizeof(ffi.wasmtime_component_valrecord_entry_t)
_RECORD_VAL_OFFSET = ffi.wasmtime_component_valrecord_entry_t.val.offset
assert VAL_SIZE == 32 and RECORD_ENTRY_SIZE == 48 and _RECORD_VAL_OFFSET == 16

# Kinds of wasmtime_component_val_t.
K_BOOL = ffi.WASMTIME_COMPONENT_BOOL.value
K_U8 = ffi.WASMTIME_COMPONENT_U8.value
K_U32 = ffi.WASMTIME_COMPONENT_U32.value
K_S64 = ffi.WASMTIME_COMPONENT_S64.value
K_U64 = ffi.WASMTIME_COMPONENT_U64.value
K_STRING = ffi.WASMTIME_COMPONENT_STRING.value
K_LIST = ffi.WASMTIME_COMPONENT_LIST.value
K_RECORD = ffi.WASMTIME_COMPONENT_RECORD.value
K_TUPLE = ffi.WASMTIME_COMPONENT_TUPLE.value
K_VARIANT = ffi.WASMTIME_COMPONENT_VARIANT.value
K_OPTION = ffi.WASMTIME_COMPONENT_OPTION.value
K_RESULT = ffi.WASMTIME_COMPONENT_RESULT.value
K_RESOURCE = ffi.WASMTIME_COMPONENT_RESOURCE.value


def _proto(name: str, restype: Any, *argtypes: Any) -> Any:
    # A private function object per symbol, so these integer-pointer signatures do not
    # disturb the ones wasmtime-py declares on its own (shared) attribute lookups.
    fn = ffi.dll[name]
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_byte_vec_new = _proto("wasm_byte_vec_new", None, c_void_p, c_size_t, c_char_p)
_byte_vec_new_uninit = _proto("wasm_byte_vec_new_uninitialized", None, c_void_p, c_size_t)
_vallist_new_uninit = _proto("wasmtime_component_vallist_new_uninit", None, c_void_p, c_size_t)
_valrecord_new_uninit = _proto("wasmtime_component_valrecord_new_uninit", None, c_void_p, c_size_t)
_valtuple_new_uninit = _proto("wasmtime_component_valtuple_new_uninit", None, c_void_p, c_size_t)
_val_new = _proto("wasmtime_component_val_new", c_void_p, c_void_p)
_any_to_host = _proto(
    "wasmtime_component_resource_any_to_host", c_void_p, c_void_p, c_void_p, c_void_p
)
_host_to_any = _proto(
    "wasmtime_component_resource_host_to_any", c_void_p, c_void_p, c_void_p, c_void_p
)
_host_new = _proto("wasmtime_component_resource_host_new", c_void_p, c_bool, c_uint32, c_uint32)
_host_rep = _proto("wasmtime_component_resource_host_rep", c_uint32, c_void_p)
_host_delete = _proto("wasmtime_component_resource_host_delete", None, c_void_p)
_error_new = _proto("wasmtime_error_new", c_void_p, c_char_p)
_error_message = _proto("wasmtime_error_message", None, c_void_p, c_void_p)
_error_delete = _proto("wasmtime_error_delete", None, c_void_p)
_byte_vec_delete = _proto("wasm_byte_vec_delete", None, c_void_p)
_add_func = ffi.dll["wasmtime_component_linker_instance_add_func"]

_CALLBACK = ctypes.CFUNCTYPE(
    c_size_t, c_void_p, c_void_p, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t
)
_FINALIZER = ctypes.CFUNCTYPE(None, c_void_p)
_add_func.restype = c_void_p
_add_func.argtypes = [c_void_p, c_char_p, c_size_t, _CALLBACK, c_void_p, _FINALIZER]

_Q = struct.Struct("<Q")
_q = struct.Struct("<q")
_QQ = struct.Struct("<QQ")
_PTR_PAIR = struct.Struct("<QQ")
_HEAD = struct.Struct("<B7xQQ")  # kind, then two 8-byte words
_VARIANT = struct.Struct("<B7xQQQ")
_B = struct.Struct("<B7xB")
_KIND_U8 = bytes([K_U8])


class Trap(Exception):
    """Raised by host code for a guest's misuse; the guest traps with this message."""


# --- reading (lifting) -------------------------------------------------------------------------


def lift_string(addr: int) -> str:
    size, data = _QQ.unpack(string_at(addr + 8, 16))
    return string_at(data, size).decode() if size else ""


def lift_bytes(addr: int) -> bytes:
    size, data = _QQ.unpack(string_at(addr + 8, 16))
    if not size:
        return b""
    return string_at(data, size * VAL_SIZE)[8::VAL_SIZE]


def lift_u64(addr: int) -> int:
    return _Q.unpack(string_at(addr + 8, 8))[0]  # type: ignore[no-any-return]


def lift_s64(addr: int) -> int:
    return _q.unpack(string_at(addr + 8, 8))[0]  # type: ignore[no-any-return]


def lift_u32(addr: int) -> int:
    return _Q.unpack(string_at(addr + 8, 8))[0] & 0xFFFFFFFF  # type: ignore[no-any-return]


def lift_bool(addr: int) -> bool:
    return string_at(addr + 8, 1) != b"\0"


def lift_option(addr: int) -> int | None:
    """The address of the payload of an ``option``, or None for ``none``."""
    ptr: int = _Q.unpack(string_at(addr + 8, 8))[0]
    return ptr or None


def lift_list(addr: int) -> tuple[int, int]:
    """(address of the first element, number of elements) of a ``list``."""
    size, data = _QQ.unpack(string_at(addr + 8, 16))
    return data, size


lift_tuple = lift_list


def lift_string_list(addr: int) -> list[str]:
    size, data = _QQ.unpack(string_at(addr + 8, 16))
    if not size:
        return []
    return [
        string_at(ptr, n).decode() if n else ""
        for n, ptr in _pairs(string_at(data, size * VAL_SIZE))
    ]


def _pairs(table: bytes) -> list[tuple[int, int]]:
    # The (size, data) words of each 32-byte element of a table read in one copy.
    return [_PTR_PAIR.unpack_from(table, off) for off in range(8, len(table), VAL_SIZE)]


def lift_string_bytes_list(addr: int) -> list[tuple[str, bytes]]:
    """A ``list<tuple<string, list<u8>>>``."""
    size, data = _QQ.unpack(string_at(addr + 8, 16))
    out: list[tuple[str, bytes]] = []
    for _, elements in _pairs(string_at(data, size * VAL_SIZE)) if size else ():
        key_size, key_data, value_size, value_data = struct.unpack_from(
            "<8xQQ8x8xQQ8x", string_at(elements, 2 * VAL_SIZE)
        )
        key = string_at(key_data, key_size).decode() if key_size else ""
        value = string_at(value_data, value_size * VAL_SIZE)[8::VAL_SIZE] if value_size else b""
        out.append((key, value))
    return out


def _to_host_rep(ctx: int, addr: int) -> int:
    any_ptr: int = _Q.unpack(string_at(addr + 8, 8))[0]
    host = c_void_p()
    err = _any_to_host(ctx, any_ptr, ctypes.byref(host))
    if err:
        raise Trap(_take_error_message(err))
    try:
        rep: int = _host_rep(host)
    finally:
        _host_delete(host)
    return rep


def lift_borrow(ctx: int, addr: int) -> int:
    """The rep of a borrowed host resource (which also ends the borrow within this call)."""
    return _to_host_rep(ctx, addr)


def lift_own(ctx: int, addr: int) -> int:
    """The rep of a host resource whose ownership the guest hands back to the host."""
    return _to_host_rep(ctx, addr)


# --- writing (lowering) ------------------------------------------------------------------------


_scratch = threading.local()


def new_box() -> int:
    """A fresh heap value for an option, result or variant payload; lower into it next."""
    buf = getattr(_scratch, "buf", None)
    if buf is None:
        buf = _scratch.buf = ctypes.create_string_buffer(VAL_SIZE)
    box: int = _val_new(buf)
    return box


def lower_bool(addr: int, value: bool) -> None:
    memmove(addr, _B.pack(K_BOOL, bool(value)), 9)


def lower_u64(addr: int, value: int) -> None:
    memmove(addr, struct.pack("<B7xQ", K_U64, value), 16)


def lower_s64(addr: int, value: int) -> None:
    memmove(addr, struct.pack("<B7xq", K_S64, value), 16)


def lower_u32(addr: int, value: int) -> None:
    memmove(addr, struct.pack("<B7xQ", K_U32, value), 16)


def _byte_vec(addr: int, data: bytes) -> None:
    # wasm_byte_vec_new copies `data` into wasmtime's allocator.
    _byte_vec_new(addr, len(data), data)


def lower_string(addr: int, value: str) -> None:
    memmove(addr, bytes([K_STRING]), 1)
    _byte_vec(addr + 8, value.encode())


def lower_bytes(addr: int, value: bytes) -> None:
    n = len(value)
    memmove(addr, bytes([K_LIST]), 1)
    _vallist_new_uninit(addr + 8, n)
    if n:
        data: int = _Q.unpack(string_at(addr + 16, 8))[0]
        image = bytearray(n * VAL_SIZE)
        image[0::VAL_SIZE] = _KIND_U8 * n
        image[8::VAL_SIZE] = value
        memmove(data, bytes(image), n * VAL_SIZE)


def lower_option(addr: int, payload: int | None) -> None:
    memmove(addr, _HEAD.pack(K_OPTION, payload or 0, 0)[:16], 16)


def lower_result(addr: int, ok: bool, payload: int | None) -> None:
    memmove(addr, _HEAD.pack(K_RESULT, 1 if ok else 0, payload or 0), 24)


def lower_variant(addr: int, case: bytes, payload: int | None) -> None:
    memmove(addr, bytes([K_VARIANT]), 1)
    _byte_vec(addr + 8, case)
    memmove(addr + 24, _Q.pack(payload or 0), 8)


def lower_list(addr: int, n: int) -> int:
    """Start a ``list`` of n elements; returns the address of the first one to lower into."""
    memmove(addr, bytes([K_LIST]), 1)
    _vallist_new_uninit(addr + 8, n)
    data: int = _Q.unpack(string_at(addr + 16, 8))[0] if n else 0
    return data


def lower_tuple(addr: int, n: int) -> int:
    memmove(addr, bytes([K_TUPLE]), 1)
    _valtuple_new_uninit(addr + 8, n)
    return _Q.unpack(string_at(addr + 16, 8))[0]  # type: ignore[no-any-return]


def lower_record(addr: int, names: Sequence[bytes]) -> list[int]:
    """Start a ``record``; returns the address of each field's value, in order."""
    memmove(addr, bytes([K_RECORD]), 1)
    _valrecord_new_uninit(addr + 8, len(names))
    data: int = _Q.unpack(string_at(addr + 16, 8))[0]
    fields = []
    for i, name in enumerate(names):
        entry = data + i * RECORD_ENTRY_SIZE
        _byte_vec(entry, name)
        fields.append(entry + _RECORD_VAL_OFFSET)
    return fields


def lower_own(ctx: int, addr: int, rep: int, type_id: int) -> None:
    host = _host_new(True, rep, type_id)
    any_ptr = c_void_p()
    try:
        err = _host_to_any(ctx, host, ctypes.byref(any_ptr))
    finally:
        _host_delete(host)
    if err:
        raise Trap(_take_error_message(err))
    memmove(addr, _HEAD.pack(K_RESOURCE, any_ptr.value or 0, 0)[:16], 16)


def lower_string_list(addr: int, values: Sequence[str]) -> None:
    elements = lower_list(addr, len(values))
    for i, value in enumerate(values):
        lower_string(elements + i * VAL_SIZE, value)


def lower_string_bytes_option_list(addr: int, values: Sequence[tuple[str, bytes] | None]) -> None:
    """A ``list<option<tuple<string, list<u8>>>>`` (the answer of get-many)."""
    elements = lower_list(addr, len(values))
    for i, item in enumerate(values):
        if item is None:
            lower_option(elements + i * VAL_SIZE, None)
            continue
        box = new_box()
        pair = lower_tuple(box, 2)
        lower_string(pair, item[0])
        lower_bytes(pair + VAL_SIZE, item[1])
        lower_option(elements + i * VAL_SIZE, box)


# --- registration and traps --------------------------------------------------------------------

Handler = Callable[[int, int, int], None]
"""A host function body: (store context, address of the arguments, address of the results)."""

_live_callbacks: dict[int, Any] = {}
_next_callback_key = iter(range(1, sys.maxsize))
_callbacks_lock = threading.Lock()


def _take_error_message(err: int) -> str:
    vec = ffi.wasm_byte_vec_t()
    _error_message(err, ctypes.byref(vec))
    try:
        return string_at(vec.data, vec.size).decode(errors="replace") if vec.size else ""
    finally:
        _byte_vec_delete(ctypes.byref(vec))
        _error_delete(err)


def _trap_pointer(message: str) -> int:
    ptr: int = _error_new(message.encode(errors="replace"))
    return ptr


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
            return _trap_pointer(f"{label}: {trap}")
        except Exception as exc:
            log.debug("host function %s failed", label, exc_info=True)
            return _trap_pointer(f"kvredis host error in {label}: {type(exc).__name__}: {exc}")
        except BaseException as exc:
            # KeyboardInterrupt and friends: unwind the guest, then re-raise in the caller
            # (wasmtime-py raises the recorded exception once the call returns).
            wasmtime_enter.LAST_EXCEPTION = exc  # type: ignore[assignment]
            return _trap_pointer(f"{label}: interrupted")
        return 0

    c_callback = _CALLBACK(callback)
    with _callbacks_lock:
        key = next(_next_callback_key)
        _live_callbacks[key] = c_callback
    encoded = name.encode()
    err = _add_func(instance.ptr(), encoded, len(encoded), c_callback, key, _release_callback)
    if err:
        with _callbacks_lock:
            _live_callbacks.pop(key, None)
        raise ValueError(f"cannot define {label}: {_take_error_message(err)}")


def _release(key: int | None) -> None:
    with _callbacks_lock:
        _live_callbacks.pop(key or 0, None)


# wasmtime calls this when it drops a function definition: the callback may then be freed.
_release_callback = _FINALIZER(_release)
