"""Whole lists in one pass: the lists the keyvalue functions take and return in bulk.

Reading walks the elements with one unpack each. Writing lays the whole value tree out in one
Python-owned buffer (an arena) and has wasmtime deep-copy it with a single call, instead of
several C calls (an allocation per string, list and box) per element.
"""

from __future__ import annotations

import ctypes
import itertools
import struct
from collections.abc import Sequence

from kvredis.canon import c_api
from kvredis.canon.c_api import (
    K_LIST,
    K_OPTION,
    K_STRING,
    K_TUPLE,
    MEM,
    VAL_SIZE,
    val_clone,
)
from kvredis.canon.values import bytes_at, write_bytes

# Bound by assignment, not imported, for speed: see the same lines in values.py.
HEAD, KIND_WORD, QQ, Q = c_api.HEAD, c_api.KIND_WORD, c_api.QQ, c_api.Q

_ELEMENT_KEY_VALUE = struct.Struct("<8xQQ8x8xQQ8x")  # tuple<string, list<u8>> elements


# --- reading (lifting) -------------------------------------------------------------------------


def lift_string_list(addr: int) -> list[str]:
    size, data = QQ.unpack_from(MEM, addr + 8)
    out = []
    for element in range(data, data + size * VAL_SIZE, VAL_SIZE):
        n, ptr = QQ.unpack_from(MEM, element + 8)
        out.append(str(MEM[ptr : ptr + n], "utf-8") if n else "")
    return out


def lift_string_bytes_list(addr: int) -> list[tuple[str, bytes]]:
    """A ``list<tuple<string, list<u8>>>``."""
    size, data = QQ.unpack_from(MEM, addr + 8)
    out = []
    for element in range(data, data + size * VAL_SIZE, VAL_SIZE):
        fields: int = Q.unpack_from(MEM, element + 16)[0]
        key_size, key_data, value_size, value_data = _ELEMENT_KEY_VALUE.unpack_from(MEM, fields)
        key = str(MEM[key_data : key_data + key_size], "utf-8") if key_size else ""
        out.append((key, bytes_at(value_data, value_size)))
    return out


# --- writing (lowering) ------------------------------------------------------------------------


class _Arena:
    """A value tree laid out in Python-owned memory, then deep-copied by wasmtime at once.

    wasmtime never holds on to the arena: after `copy_to` it may be freed.
    """

    def __init__(self, size: int) -> None:
        self.buffer = bytearray(size)
        self.base = ctypes.addressof(ctypes.c_char.from_buffer(self.buffer))

    def copy_to(self, addr: int) -> None:
        val_clone(self.base, addr)


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
    HEAD.pack_into(buffer, 0, K_LIST, n, base + VAL_SIZE)
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
    HEAD.pack_into(buffer, 0, K_LIST, n, base + VAL_SIZE)
    offset = VAL_SIZE + n * VAL_SIZE
    element = VAL_SIZE
    for item, key in zip(values, keys, strict=True):
        if item is None or key is None:
            KIND_WORD.pack_into(buffer, element, K_OPTION, 0)
        else:
            value = item[1]
            pair, fields, text = offset, offset + VAL_SIZE, offset + 3 * VAL_SIZE
            data = text + _aligned(len(key))
            KIND_WORD.pack_into(buffer, element, K_OPTION, base + pair)
            HEAD.pack_into(buffer, pair, K_TUPLE, 2, base + fields)
            HEAD.pack_into(buffer, fields, K_STRING, len(key), base + text)
            HEAD.pack_into(buffer, fields + VAL_SIZE, K_LIST, len(value), base + data)
            buffer[text : text + len(key)] = key
            write_bytes(base + data, value)
            offset = data + len(value) * VAL_SIZE
        element += VAL_SIZE
    arena.copy_to(addr)
