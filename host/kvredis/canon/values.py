"""Lifting and lowering single values: scalars, strings, bytes, options, results, variants,
records, lists and tuples element by element, and resource handles.

Arguments belong to wasmtime and are only read. Results are written in place; everything they
point to is allocated through wasmtime's own constructors, because wasmtime frees it after the
call.
"""

from __future__ import annotations

import ctypes
import struct
import threading
from collections.abc import Sequence
from ctypes import c_void_p

from kvredis._wit import Trap
from kvredis.canon import c_api
from kvredis.canon.c_api import (
    HOST_REP_OFFSET,
    K_BOOL,
    K_CHAR,
    K_ENUM,
    K_F32,
    K_F64,
    K_FLAGS,
    K_LIST,
    K_OPTION,
    K_RECORD,
    K_RESOURCE,
    K_RESULT,
    K_S8,
    K_S16,
    K_S32,
    K_S64,
    K_STRING,
    K_TUPLE,
    K_U8,
    K_U16,
    K_U32,
    K_U64,
    K_VARIANT,
    MEM,
    NAME_SIZE,
    RECORD_ENTRY_SIZE,
    RECORD_VAL_OFFSET,
    VAL_SIZE,
    any_to_host,
    byte_vec_new,
    host_delete,
    host_new,
    host_rep,
    host_to_any,
    take_error_message,
    val_new,
    valflags_new_uninit,
    vallist_new,
    vallist_new_uninit,
    valrecord_new_uninit,
    valtuple_new_uninit,
)

# The struct layouts are bound by assignment, not imported: CPython 3.11 compiles a method call
# on an imported name (`QQ.unpack_from(...)`) as an attribute load and a plain call, taking the
# name for a module, and that costs ~30 ns more on each of these hot paths.
HEAD, KIND_BOOL, KIND_S64, KIND_WORD, KIND_F32, KIND_F64, QQ, Q, q = (
    c_api.HEAD,
    c_api.KIND_BOOL,
    c_api.KIND_S64,
    c_api.KIND_WORD,
    c_api.KIND_F32,
    c_api.KIND_F64,
    c_api.QQ,
    c_api.Q,
    c_api.q,
)
_F32, _F64 = struct.Struct("<f"), struct.Struct("<d")

# --- list<u8> ----------------------------------------------------------------------------------

# A list<u8> arrives and leaves as one 32-byte value per byte. Converting goes through a
# per-thread image of _CHUNK values whose kind bytes are already set: a contiguous copy plus
# a bytearray extended-slice assignment is several times faster than a strided memoryview.
_CHUNK = 4096
_images = threading.local()


def _image() -> tuple[bytearray, memoryview, int]:
    """This thread's image: the bytearray, a view of it, and its address."""
    try:
        return _images.image  # type: ignore[no-any-return]
    except AttributeError:
        image = bytearray(bytes([K_U8]) + bytes(VAL_SIZE - 1)) * _CHUNK
        # The ctypes array pins the buffer (a bytearray with exports cannot move) and gives
        # its address; it lives as long as the thread's image.
        pinned = (ctypes.c_char * len(image)).from_buffer(image)
        _images.pinned = pinned
        _images.image = (image, memoryview(image), ctypes.addressof(pinned))
        return _images.image  # type: ignore[no-any-return]


def bytes_at(data: int, count: int) -> bytes:
    """The payload byte of each of `count` u8 values starting at `data`."""
    if not count:
        return b""
    image, view, _ = _image()
    if count <= _CHUNK:
        size = count * VAL_SIZE
        view[:size] = MEM[data : data + size]
        return bytes(image[8:size:VAL_SIZE])
    out = bytearray(count)
    for start in range(0, count, _CHUNK):
        n = min(_CHUNK, count - start)
        at = data + start * VAL_SIZE
        view[: n * VAL_SIZE] = MEM[at : at + n * VAL_SIZE]
        out[start : start + n] = image[8 : n * VAL_SIZE : VAL_SIZE]
    return bytes(out)


def write_bytes(data: int, value: bytes) -> None:
    """Write `value` as u8 values starting at `data` (room for len(value) values)."""
    image, view, _ = _image()
    count = len(value)
    for start in range(0, count, _CHUNK):
        n = min(_CHUNK, count - start)
        image[8 : 8 + n * VAL_SIZE : VAL_SIZE] = value[start : start + n] if count > n else value
        at = data + start * VAL_SIZE
        MEM[at : at + n * VAL_SIZE] = view[: n * VAL_SIZE]


# --- reading (lifting) -------------------------------------------------------------------------


def lift_string(addr: int) -> str:
    size, data = QQ.unpack_from(MEM, addr + 8)
    return str(MEM[data : data + size], "utf-8") if size else ""


def lift_bytes(addr: int) -> bytes:
    size, data = QQ.unpack_from(MEM, addr + 8)
    return bytes_at(data, size)


class Blob:
    """A ``list<u8>`` argument, read on demand: its length is known without copying it.

    Valid only during the host call that received it (wasmtime frees the arguments after).
    """

    __slots__ = ("_addr",)

    def __init__(self, addr: int) -> None:
        self._addr = addr

    def __len__(self) -> int:
        size: int = Q.unpack_from(MEM, self._addr + 8)[0]
        return size

    def read(self) -> bytes:
        return lift_bytes(self._addr)


def lift_u64(addr: int) -> int:
    value: int = Q.unpack_from(MEM, addr + 8)[0]
    return value


def lift_s64(addr: int) -> int:
    value: int = q.unpack_from(MEM, addr + 8)[0]
    return value


def lift_u32(addr: int) -> int:
    value: int = Q.unpack_from(MEM, addr + 8)[0] & 0xFFFFFFFF
    return value


def lift_bool(addr: int) -> bool:
    return MEM[addr + 8] != 0


def lift_u8(addr: int) -> int:
    return MEM[addr + 8]


def lift_u16(addr: int) -> int:
    value: int = Q.unpack_from(MEM, addr + 8)[0] & 0xFFFF
    return value


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >> (bits - 1) & 1 else value


def lift_s8(addr: int) -> int:
    return _signed(MEM[addr + 8], 8)


def lift_s16(addr: int) -> int:
    return _signed(lift_u16(addr), 16)


def lift_s32(addr: int) -> int:
    return _signed(lift_u32(addr), 32)


def lift_f32(addr: int) -> float:
    value: float = _F32.unpack_from(MEM, addr + 8)[0]
    return value


def lift_f64(addr: int) -> float:
    value: float = _F64.unpack_from(MEM, addr + 8)[0]
    return value


def lift_char(addr: int) -> str:
    return chr(lift_u32(addr))


def _name_at(addr: int) -> str:
    """A `wasm_name_t` (a case or field name: always ASCII in WIT)."""
    size, data = QQ.unpack_from(MEM, addr)
    return str(MEM[data : data + size], "ascii")


def lift_enum(addr: int) -> str:
    """The case name of an ``enum``."""
    return _name_at(addr + 8)


def lift_flags(addr: int) -> list[str]:
    """The names of the flags that are set."""
    size, data = QQ.unpack_from(MEM, addr + 8)
    return [_name_at(data + i * NAME_SIZE) for i in range(size)]


def lift_variant(addr: int) -> tuple[str, int]:
    """(case name, address of its payload; 0 for a case without one) of a ``variant``."""
    payload: int = Q.unpack_from(MEM, addr + 24)[0]
    return _name_at(addr + 8), payload


def lift_result(addr: int) -> tuple[bool, int]:
    """(whether it is ``ok``, address of its payload; 0 for none) of a ``result``."""
    is_ok, payload = QQ.unpack_from(MEM, addr + 8)
    return bool(is_ok & 0xFF), payload


def lift_record(addr: int, n: int) -> list[int]:
    """The address of each of the n field values of a ``record``, in declaration order."""
    data: int = Q.unpack_from(MEM, addr + 16)[0]
    return [data + i * RECORD_ENTRY_SIZE + RECORD_VAL_OFFSET for i in range(n)]


def lift_option(addr: int) -> int | None:
    """The address of the payload of an ``option``, or None for ``none``."""
    ptr: int = Q.unpack_from(MEM, addr + 8)[0]
    return ptr or None


def lift_list(addr: int) -> tuple[int, int]:
    """(address of the first element, number of elements) of a ``list``."""
    size, data = QQ.unpack_from(MEM, addr + 8)
    return data, size


lift_tuple = lift_list

_host_out = threading.local()


def _new_out_slot() -> int:
    """The address of this thread's 8 bytes for a pointer wasmtime hands back."""
    _host_out.buffer = ctypes.create_string_buffer(8)
    _host_out.addr = ctypes.addressof(_host_out.buffer)
    return _host_out.addr  # type: ignore[no-any-return]


def _to_host_rep(ctx: int, addr: int) -> int:
    # Two calls per borrow where wasmtime's API takes three: the rep is read in place when
    # its offset was confirmed at import (c_api.HOST_REP_OFFSET).
    any_ptr: int = Q.unpack_from(MEM, addr + 8)[0]
    try:
        out: int = _host_out.addr
    except AttributeError:
        out = _new_out_slot()
    err = any_to_host(ctx, any_ptr, out)
    if err:
        raise Trap(take_error_message(err))
    host: int = Q.unpack_from(MEM, out)[0]
    try:
        if HOST_REP_OFFSET is None:
            rep: int = host_rep(host)
        else:
            rep = Q.unpack_from(MEM, host + HOST_REP_OFFSET)[0] & 0xFFFFFFFF
    finally:
        host_delete(host)
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
    box: int = val_new(source)
    return box


def lower_bool(addr: int, value: bool) -> None:
    KIND_BOOL.pack_into(MEM, addr, K_BOOL, value)


def lower_u64(addr: int, value: int) -> None:
    KIND_WORD.pack_into(MEM, addr, K_U64, value)


def lower_s64(addr: int, value: int) -> None:
    KIND_S64.pack_into(MEM, addr, K_S64, value)


def lower_u32(addr: int, value: int) -> None:
    KIND_WORD.pack_into(MEM, addr, K_U32, value)


def _checked(value: int, low: int, high: int, what: str) -> int:
    # The host's own values: out of range is a host bug, reported as a trap of the call.
    if not low <= value <= high:
        raise Trap(f"{value} is out of range for {what}")
    return value


def lower_u8(addr: int, value: int) -> None:
    KIND_WORD.pack_into(MEM, addr, K_U8, _checked(value, 0, 0xFF, "u8"))


def lower_u16(addr: int, value: int) -> None:
    KIND_WORD.pack_into(MEM, addr, K_U16, _checked(value, 0, 0xFFFF, "u16"))


def lower_s8(addr: int, value: int) -> None:
    KIND_S64.pack_into(MEM, addr, K_S8, _checked(value, -0x80, 0x7F, "s8"))


def lower_s16(addr: int, value: int) -> None:
    KIND_S64.pack_into(MEM, addr, K_S16, _checked(value, -0x8000, 0x7FFF, "s16"))


def lower_s32(addr: int, value: int) -> None:
    KIND_S64.pack_into(MEM, addr, K_S32, _checked(value, -0x8000_0000, 0x7FFF_FFFF, "s32"))


def lower_f32(addr: int, value: float) -> None:
    KIND_F32.pack_into(MEM, addr, K_F32, value)


def lower_f64(addr: int, value: float) -> None:
    KIND_F64.pack_into(MEM, addr, K_F64, value)


def lower_char(addr: int, value: str) -> None:
    KIND_WORD.pack_into(MEM, addr, K_CHAR, ord(value))


def lower_enum(addr: int, case: str) -> None:
    MEM[addr] = K_ENUM
    name = case.encode()
    byte_vec_new(addr + 8, len(name), name)


def lower_flags(addr: int, names: Sequence[bytes]) -> None:
    """A ``flags`` value with the named flags set."""
    MEM[addr] = K_FLAGS
    valflags_new_uninit(addr + 8, len(names))
    if names:
        data: int = Q.unpack_from(MEM, addr + 16)[0]
        for i, name in enumerate(names):
            byte_vec_new(data + i * NAME_SIZE, len(name), name)


def lower_string(addr: int, value: str) -> None:
    MEM[addr] = K_STRING
    encoded = value.encode()
    # wasm_byte_vec_new copies into wasmtime's allocator, which frees it after the call
    byte_vec_new(addr + 8, len(encoded), encoded)


def lower_bytes(addr: int, value: bytes) -> None:
    n = len(value)
    MEM[addr] = K_LIST
    if n <= _CHUNK:
        # One call: wasmtime copies the values from this thread's image, whose payload bytes
        # are set first (half the time of an uninitialised list written in place).
        image, _, image_addr = _image()
        if n:  # an empty extended slice counts as a resize, which the pinned image refuses
            image[8 : 8 + n * VAL_SIZE : VAL_SIZE] = value
        vallist_new(addr + 8, n, image_addr)
        return
    vallist_new_uninit(addr + 8, n)
    write_bytes(Q.unpack_from(MEM, addr + 16)[0], value)


def lower_option(addr: int, payload: int | None) -> None:
    KIND_WORD.pack_into(MEM, addr, K_OPTION, payload or 0)


def lower_result(addr: int, ok: bool, payload: int | None) -> None:
    HEAD.pack_into(MEM, addr, K_RESULT, 1 if ok else 0, payload or 0)


def lower_variant(addr: int, case: bytes, payload: int | None) -> None:
    MEM[addr] = K_VARIANT
    byte_vec_new(addr + 8, len(case), case)
    Q.pack_into(MEM, addr + 24, payload or 0)


def lower_list(addr: int, n: int) -> int:
    """Start a ``list`` of n elements; returns the address of the first one to lower into."""
    MEM[addr] = K_LIST
    vallist_new_uninit(addr + 8, n)
    data: int = Q.unpack_from(MEM, addr + 16)[0] if n else 0
    return data


def lower_tuple(addr: int, n: int) -> int:
    MEM[addr] = K_TUPLE
    valtuple_new_uninit(addr + 8, n)
    data: int = Q.unpack_from(MEM, addr + 16)[0]
    return data


def lower_record(addr: int, names: Sequence[bytes]) -> list[int]:
    """Start a ``record``; returns the address of each field's value, in order."""
    MEM[addr] = K_RECORD
    valrecord_new_uninit(addr + 8, len(names))
    data: int = Q.unpack_from(MEM, addr + 16)[0]
    fields = []
    for i, name in enumerate(names):
        entry = data + i * RECORD_ENTRY_SIZE
        byte_vec_new(entry, len(name), name)
        fields.append(entry + RECORD_VAL_OFFSET)
    return fields


def lower_own(ctx: int, addr: int, rep: int, type_id: int) -> None:
    """An owned handle of host resource `rep`: the guest that receives it may drop it."""
    host = host_new(True, rep, type_id)
    any_ptr = c_void_p()
    try:
        err = host_to_any(ctx, host, ctypes.byref(any_ptr))
    finally:
        host_delete(host)
    if err:
        raise Trap(take_error_message(err))
    KIND_WORD.pack_into(MEM, addr, K_RESOURCE, any_ptr.value or 0)
