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
import itertools
import logging
import struct
import sys
import threading
from collections.abc import Callable, Sequence
from ctypes import c_bool, c_char_p, c_size_t, c_uint32, c_void_p, string_at
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
_val_clone = _proto("wasmtime_component_val_clone", None, c_void_p, c_void_p)
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

# Every read and write below goes through one view of the whole address space: slicing it
# and struct.unpack_from/pack_into on it cost tens of nanoseconds, where each
# ctypes.string_at or memmove call costs hundreds. Like those calls, it trusts the pointers
# wasmtime hands us.
_MEM = memoryview((ctypes.c_char * sys.maxsize).from_address(0)).cast("B")

_Q = struct.Struct("<Q")
_q = struct.Struct("<q")
_QQ = struct.Struct("<QQ")
_HEAD = struct.Struct("<B7xQQ")  # kind, then two 8-byte words
_KIND_WORD = struct.Struct("<B7xQ")  # kind, then one 8-byte word
_KIND_BOOL = struct.Struct("<B7x?")
_KIND_S64 = struct.Struct("<B7xq")
_ELEMENT_KEY_VALUE = struct.Struct("<8xQQ8x8xQQ8x")  # tuple<string, list<u8>> elements


class Trap(Exception):
    """Raised by host code for a guest's misuse; the guest traps with this message."""


# --- reading (lifting) -------------------------------------------------------------------------


def lift_string(addr: int) -> str:
    size, data = _QQ.unpack_from(_MEM, addr + 8)
    return str(_MEM[data : data + size], "utf-8") if size else ""


# A list<u8> arrives and leaves as one 32-byte value per byte. Converting goes through a
# per-thread image of _CHUNK values whose kind bytes are already set: a contiguous copy plus
# a bytearray extended-slice assignment is several times faster than a strided memoryview.
_CHUNK = 4096
_images = threading.local()


def _image() -> tuple[bytearray, memoryview]:
    try:
        return _images.pair  # type: ignore[no-any-return]
    except AttributeError:
        image = bytearray(bytes([K_U8]) + bytes(VAL_SIZE - 1)) * _CHUNK
        _images.pair = (image, memoryview(image))
        return _images.pair  # type: ignore[no-any-return]


def _bytes_at(data: int, count: int) -> bytes:
    """The payload byte of each of `count` u8 values starting at `data`."""
    if not count:
        return b""
    image, view = _image()
    if count <= _CHUNK:
        size = count * VAL_SIZE
        view[:size] = _MEM[data : data + size]
        return bytes(image[8:size:VAL_SIZE])
    out = bytearray(count)
    for start in range(0, count, _CHUNK):
        n = min(_CHUNK, count - start)
        at = data + start * VAL_SIZE
        view[: n * VAL_SIZE] = _MEM[at : at + n * VAL_SIZE]
        out[start : start + n] = image[8 : n * VAL_SIZE : VAL_SIZE]
    return bytes(out)


def _write_bytes(data: int, value: bytes) -> None:
    """Write `value` as u8 values starting at `data` (room for len(value) values)."""
    image, view = _image()
    count = len(value)
    for start in range(0, count, _CHUNK):
        n = min(_CHUNK, count - start)
        image[8 : 8 + n * VAL_SIZE : VAL_SIZE] = value[start : start + n] if count > n else value
        at = data + start * VAL_SIZE
        _MEM[at : at + n * VAL_SIZE] = view[: n * VAL_SIZE]


def lift_bytes(addr: int) -> bytes:
    size, data = _QQ.unpack_from(_MEM, addr + 8)
    return _bytes_at(data, size)


class Blob:
    """A ``list<u8>`` argument, read on demand: its length is known without copying it.

    Valid only during the host call that received it (wasmtime frees the arguments after).
    """

    __slots__ = ("_addr",)

    def __init__(self, addr: int) -> None:
        self._addr = addr

    def __len__(self) -> int:
        size: int = _Q.unpack_from(_MEM, self._addr + 8)[0]
        return size

    def read(self) -> bytes:
        return lift_bytes(self._addr)


def lift_u64(addr: int) -> int:
    value: int = _Q.unpack_from(_MEM, addr + 8)[0]
    return value


def lift_s64(addr: int) -> int:
    value: int = _q.unpack_from(_MEM, addr + 8)[0]
    return value


def lift_u32(addr: int) -> int:
    value: int = _Q.unpack_from(_MEM, addr + 8)[0] & 0xFFFFFFFF
    return value


def lift_bool(addr: int) -> bool:
    return _MEM[addr + 8] != 0


def lift_option(addr: int) -> int | None:
    """The address of the payload of an ``option``, or None for ``none``."""
    ptr: int = _Q.unpack_from(_MEM, addr + 8)[0]
    return ptr or None


def lift_list(addr: int) -> tuple[int, int]:
    """(address of the first element, number of elements) of a ``list``."""
    size, data = _QQ.unpack_from(_MEM, addr + 8)
    return data, size


lift_tuple = lift_list


def lift_string_list(addr: int) -> list[str]:
    size, data = _QQ.unpack_from(_MEM, addr + 8)
    out = []
    for element in range(data, data + size * VAL_SIZE, VAL_SIZE):
        n, ptr = _QQ.unpack_from(_MEM, element + 8)
        out.append(str(_MEM[ptr : ptr + n], "utf-8") if n else "")
    return out


def lift_string_bytes_list(addr: int) -> list[tuple[str, bytes]]:
    """A ``list<tuple<string, list<u8>>>``."""
    size, data = _QQ.unpack_from(_MEM, addr + 8)
    out = []
    for element in range(data, data + size * VAL_SIZE, VAL_SIZE):
        fields: int = _Q.unpack_from(_MEM, element + 16)[0]
        key_size, key_data, value_size, value_data = _ELEMENT_KEY_VALUE.unpack_from(_MEM, fields)
        key = str(_MEM[key_data : key_data + key_size], "utf-8") if key_size else ""
        out.append((key, _bytes_at(value_data, value_size)))
    return out


_host_out = threading.local()


def _to_host_rep(ctx: int, addr: int) -> int:
    any_ptr: int = _Q.unpack_from(_MEM, addr + 8)[0]
    try:
        out = _host_out.ptr
    except AttributeError:
        out = _host_out.ptr = c_void_p()
    err = _any_to_host(ctx, any_ptr, ctypes.byref(out))
    if err:
        raise Trap(_take_error_message(err))
    host = out.value
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
    try:
        source = _scratch.val
    except AttributeError:
        # wasmtime moves the value out of `source` (leaving `false` in it), so one per thread
        source = _scratch.val = ctypes.addressof(
            _scratch.__dict__.setdefault("buf", ctypes.create_string_buffer(VAL_SIZE))
        )
    box: int = _val_new(source)
    return box


def lower_bool(addr: int, value: bool) -> None:
    _KIND_BOOL.pack_into(_MEM, addr, K_BOOL, value)


def lower_u64(addr: int, value: int) -> None:
    _KIND_WORD.pack_into(_MEM, addr, K_U64, value)


def lower_s64(addr: int, value: int) -> None:
    _KIND_S64.pack_into(_MEM, addr, K_S64, value)


def lower_u32(addr: int, value: int) -> None:
    _KIND_WORD.pack_into(_MEM, addr, K_U32, value)


def lower_string(addr: int, value: str) -> None:
    _MEM[addr] = K_STRING
    encoded = value.encode()
    # wasm_byte_vec_new copies into wasmtime's allocator, which frees it after the call
    _byte_vec_new(addr + 8, len(encoded), encoded)


def lower_bytes(addr: int, value: bytes) -> None:
    n = len(value)
    _MEM[addr] = K_LIST
    _vallist_new_uninit(addr + 8, n)
    if n:
        _write_bytes(_Q.unpack_from(_MEM, addr + 16)[0], value)


def lower_option(addr: int, payload: int | None) -> None:
    _KIND_WORD.pack_into(_MEM, addr, K_OPTION, payload or 0)


def lower_result(addr: int, ok: bool, payload: int | None) -> None:
    _HEAD.pack_into(_MEM, addr, K_RESULT, 1 if ok else 0, payload or 0)


def lower_variant(addr: int, case: bytes, payload: int | None) -> None:
    _MEM[addr] = K_VARIANT
    _byte_vec_new(addr + 8, len(case), case)
    _Q.pack_into(_MEM, addr + 24, payload or 0)


def lower_list(addr: int, n: int) -> int:
    """Start a ``list`` of n elements; returns the address of the first one to lower into."""
    _MEM[addr] = K_LIST
    _vallist_new_uninit(addr + 8, n)
    data: int = _Q.unpack_from(_MEM, addr + 16)[0] if n else 0
    return data


def lower_tuple(addr: int, n: int) -> int:
    _MEM[addr] = K_TUPLE
    _valtuple_new_uninit(addr + 8, n)
    data: int = _Q.unpack_from(_MEM, addr + 16)[0]
    return data


def lower_record(addr: int, names: Sequence[bytes]) -> list[int]:
    """Start a ``record``; returns the address of each field's value, in order."""
    _MEM[addr] = K_RECORD
    _valrecord_new_uninit(addr + 8, len(names))
    data: int = _Q.unpack_from(_MEM, addr + 16)[0]
    fields = []
    for i, name in enumerate(names):
        entry = data + i * RECORD_ENTRY_SIZE
        _byte_vec_new(entry, len(name), name)
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
    _KIND_WORD.pack_into(_MEM, addr, K_RESOURCE, any_ptr.value or 0)


class _Arena:
    """A value tree laid out in Python-owned memory, then deep-copied by wasmtime at once.

    Lowering a list element by element costs several C calls per element (one allocation
    per string, list and box). For the lists the keyvalue functions return in bulk, the whole
    tree is written into one buffer with pointers into itself, and a single
    `wasmtime_component_val_clone` copies it into wasmtime's allocator. wasmtime never holds
    on to the arena.
    """

    def __init__(self, size: int) -> None:
        self.buffer = bytearray(size)
        self.base = ctypes.addressof(ctypes.c_char.from_buffer(self.buffer))

    def copy_to(self, addr: int) -> None:
        _val_clone(self.base, addr)


def _aligned(n: int) -> int:
    return (n + 7) & ~7


def lower_string_list(addr: int, values: Sequence[str]) -> None:
    """A ``list<string>`` (the keys of a list-keys page)."""
    n = len(values)
    blob = "".join(values).encode()
    if len(blob) == sum(map(len, values)):
        sizes = list(map(len, values))  # all ASCII: characters are bytes
    else:
        sizes = [len(v.encode()) for v in values]
    arena = _Arena(VAL_SIZE + n * VAL_SIZE + len(blob))
    buffer, base = arena.buffer, arena.base
    text = VAL_SIZE + n * VAL_SIZE
    _HEAD.pack_into(buffer, 0, K_LIST, n, base + VAL_SIZE)
    buffer[text:] = blob
    pointers = itertools.accumulate(sizes, initial=base + text)
    struct.pack_into(
        "<" + "B7xQQ8x" * n,
        buffer,
        VAL_SIZE,
        *itertools.chain.from_iterable(zip(itertools.repeat(K_STRING), sizes, pointers)),
    )
    arena.copy_to(addr)


def lower_string_bytes_option_list(addr: int, values: Sequence[tuple[str, bytes] | None]) -> None:
    """A ``list<option<tuple<string, list<u8>>>>`` (the answer of get-many)."""
    n = len(values)
    keys = [None if item is None else item[0].encode() for item in values]
    # per present item: the tuple value, its two fields, the key text, the value's u8 values
    size = VAL_SIZE + n * VAL_SIZE
    for item, key in zip(values, keys, strict=True):
        if item is not None and key is not None:
            size += 3 * VAL_SIZE + _aligned(len(key)) + len(item[1]) * VAL_SIZE
    arena = _Arena(size)
    buffer, base = arena.buffer, arena.base
    _HEAD.pack_into(buffer, 0, K_LIST, n, base + VAL_SIZE)
    offset = VAL_SIZE + n * VAL_SIZE
    element = VAL_SIZE
    for item, key in zip(values, keys, strict=True):
        if item is None or key is None:
            _KIND_WORD.pack_into(buffer, element, K_OPTION, 0)
        else:
            value = item[1]
            pair, fields, text = offset, offset + VAL_SIZE, offset + 3 * VAL_SIZE
            data = text + _aligned(len(key))
            _KIND_WORD.pack_into(buffer, element, K_OPTION, base + pair)
            _HEAD.pack_into(buffer, pair, K_TUPLE, 2, base + fields)
            _HEAD.pack_into(buffer, fields, K_STRING, len(key), base + text)
            _HEAD.pack_into(buffer, fields + VAL_SIZE, K_LIST, len(value), base + data)
            buffer[text : text + len(key)] = key
            _write_bytes(base + data, value)
            offset = data + len(value) * VAL_SIZE
        element += VAL_SIZE
    arena.copy_to(addr)


# --- allocator tuning ----------------------------------------------------------------------

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def _keep_large_blocks() -> None:
    """Let glibc reuse freed blocks of up to 64 MiB instead of unmapping them.

    A 1 MiB list<u8> crosses the C API as tens of MiB of per-byte values, allocated and freed
    on every call. With glibc's defaults each such block is a fresh mmap whose pages fault in
    again; keeping them in the heap halves the cost of large values. Memory above 256 MiB of
    free heap is still returned to the system.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc: nothing to tune
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt(_M_MMAP_THRESHOLD, 64 << 20)
    mallopt(_M_TRIM_THRESHOLD, 256 << 20)


_keep_large_blocks()


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
