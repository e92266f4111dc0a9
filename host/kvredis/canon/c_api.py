"""wasmtime's C API as kvredis reads and writes it: function prototypes, the value layout, errors.

Every value is addressed by an integer pointer to a ``wasmtime_component_val_t`` (32 bytes on the
64-bit targets wasmtime-py ships for: a one-byte kind, then an 8-byte aligned payload).
"""

from __future__ import annotations

import ctypes
import struct
import sys
from ctypes import c_bool, c_char_p, c_size_t, c_uint32, c_void_p, string_at
from typing import Any

from wasmtime import _ffi as ffi

if ctypes.sizeof(c_void_p) != 8 or sys.byteorder != "little":  # pragma: no cover
    raise ImportError("kvredis needs a 64-bit little-endian platform")

VAL_SIZE = ctypes.sizeof(ffi.wasmtime_component_val_t)
RECORD_ENTRY_SIZE = ctypes.sizeof(ffi.wasmtime_component_valrecord_entry_t)
RECORD_VAL_OFFSET = ffi.wasmtime_component_valrecord_entry_t.val.offset
assert VAL_SIZE == 32 and RECORD_ENTRY_SIZE == 48 and RECORD_VAL_OFFSET == 16

# Kinds of wasmtime_component_val_t.
K_BOOL = ffi.WASMTIME_COMPONENT_BOOL.value
K_S8 = ffi.WASMTIME_COMPONENT_S8.value
K_U8 = ffi.WASMTIME_COMPONENT_U8.value
K_S16 = ffi.WASMTIME_COMPONENT_S16.value
K_U16 = ffi.WASMTIME_COMPONENT_U16.value
K_S32 = ffi.WASMTIME_COMPONENT_S32.value
K_U32 = ffi.WASMTIME_COMPONENT_U32.value
K_S64 = ffi.WASMTIME_COMPONENT_S64.value
K_U64 = ffi.WASMTIME_COMPONENT_U64.value
K_F32 = ffi.WASMTIME_COMPONENT_F32.value
K_F64 = ffi.WASMTIME_COMPONENT_F64.value
K_CHAR = ffi.WASMTIME_COMPONENT_CHAR.value
K_STRING = ffi.WASMTIME_COMPONENT_STRING.value
K_LIST = ffi.WASMTIME_COMPONENT_LIST.value
K_RECORD = ffi.WASMTIME_COMPONENT_RECORD.value
K_TUPLE = ffi.WASMTIME_COMPONENT_TUPLE.value
K_VARIANT = ffi.WASMTIME_COMPONENT_VARIANT.value
K_ENUM = ffi.WASMTIME_COMPONENT_ENUM.value
K_FLAGS = ffi.WASMTIME_COMPONENT_FLAGS.value
K_OPTION = ffi.WASMTIME_COMPONENT_OPTION.value
K_RESULT = ffi.WASMTIME_COMPONENT_RESULT.value
K_RESOURCE = ffi.WASMTIME_COMPONENT_RESOURCE.value


# The same library, loaded so that calls keep the GIL: ctypes otherwise releases and takes it
# back around every call, which costs a host function's handful of calls 0.1-0.4 µs in all
# (measured on make bench's guests). Only calls that take constant time use it: nothing runs
# Python or waits for another thread inside them, and their work is bounded, so holding the
# GIL neither deadlocks nor keeps other threads (a timeout's watcher) waiting for long.
_GIL_HELD = ctypes.PyDLL(ffi.dll._name)


def _proto(name: str, restype: Any, *argtypes: Any, quick: bool = False) -> Any:
    # A private function object per symbol, so these integer-pointer signatures do not
    # disturb the ones wasmtime-py declares on its own (shared) attribute lookups. `quick`:
    # constant-time, called keeping the GIL.
    fn = (_GIL_HELD if quick else ffi.dll)[name]
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


byte_vec_new = _proto("wasm_byte_vec_new", None, c_void_p, c_size_t, c_char_p)
vallist_new_uninit = _proto("wasmtime_component_vallist_new_uninit", None, c_void_p, c_size_t)
# Copies (clones) `size` values from `ptr` into a new list that wasmtime owns; kvredis copies
# at most canon.values._CHUNK (4096) values this way.
vallist_new = _proto(
    "wasmtime_component_vallist_new", None, c_void_p, c_size_t, c_void_p, quick=True
)
valrecord_new_uninit = _proto("wasmtime_component_valrecord_new_uninit", None, c_void_p, c_size_t)
valtuple_new_uninit = _proto("wasmtime_component_valtuple_new_uninit", None, c_void_p, c_size_t)
valflags_new_uninit = _proto("wasmtime_component_valflags_new_uninit", None, c_void_p, c_size_t)
val_new = _proto("wasmtime_component_val_new", c_void_p, c_void_p, quick=True)
val_clone = _proto("wasmtime_component_val_clone", None, c_void_p, c_void_p)
val_delete = _proto("wasmtime_component_val_delete", None, c_void_p)
any_to_host = _proto(
    "wasmtime_component_resource_any_to_host", c_void_p, c_void_p, c_void_p, c_void_p, quick=True
)
host_to_any = _proto(
    "wasmtime_component_resource_host_to_any", c_void_p, c_void_p, c_void_p, c_void_p, quick=True
)
host_new = _proto(
    "wasmtime_component_resource_host_new", c_void_p, c_bool, c_uint32, c_uint32, quick=True
)
host_rep = _proto("wasmtime_component_resource_host_rep", c_uint32, c_void_p, quick=True)
host_delete = _proto("wasmtime_component_resource_host_delete", None, c_void_p, quick=True)
_error_new = _proto("wasmtime_error_new", c_void_p, c_char_p)
_error_message = _proto("wasmtime_error_message", None, c_void_p, c_void_p)
_error_delete = _proto("wasmtime_error_delete", None, c_void_p)
_byte_vec_delete = _proto("wasm_byte_vec_delete", None, c_void_p)

# Every read and write of values goes through one view of the whole address space: slicing it
# and struct.unpack_from/pack_into on it cost tens of nanoseconds, where each
# ctypes.string_at or memmove call costs hundreds. Like those calls, it trusts the pointers
# wasmtime hands us.
MEM = memoryview((ctypes.c_char * sys.maxsize).from_address(0)).cast("B")

Q = struct.Struct("<Q")
q = struct.Struct("<q")
QQ = struct.Struct("<QQ")
HEAD = struct.Struct("<B7xQQ")  # kind, then two 8-byte words
KIND_WORD = struct.Struct("<B7xQ")  # kind, then one 8-byte word
KIND_BOOL = struct.Struct("<B7x?")
KIND_S64 = struct.Struct("<B7xq")
KIND_F32 = struct.Struct("<B7xf")
KIND_F64 = struct.Struct("<B7xd")
NAME_SIZE = 16  # a wasm_name_t: size, then data pointer


def _host_rep_offset() -> int | None:
    """Where a ``wasmtime_component_resource_host_t`` keeps its rep, if wasmtime 50's layout
    (a 4-byte field and the ownership state, then the rep and the type's id) holds: checked
    here against `host_rep` for owned and borrowed handles, so reading the rep takes no call.
    None: the layout is not that one, and reps are read with `host_rep`."""
    for owned, rep, type_id in ((True, 0x5EC0_2D01, 0x4B56_00F1), (False, 0x0A0B_0C0D, 7)):
        host = host_new(owned, rep, type_id)
        try:
            if host_rep(host) != rep or Q.unpack_from(MEM, host + 8)[0] != rep | type_id << 32:
                return None
        finally:
            host_delete(host)
    return 8


HOST_REP_OFFSET = _host_rep_offset()


def take_error_message(err: int) -> str:
    """The message of a ``wasmtime_error_t``, which this frees."""
    vec = ffi.wasm_byte_vec_t()
    _error_message(err, ctypes.byref(vec))
    try:
        return string_at(vec.data, vec.size).decode(errors="replace") if vec.size else ""
    finally:
        _byte_vec_delete(ctypes.byref(vec))
        _error_delete(err)


def trap_pointer(message: str) -> int:
    """A new ``wasmtime_error_t``: returned from a host function, it traps the guest."""
    ptr: int = _error_new(message.encode(errors="replace"))
    return ptr
