"""Linear memories that kvredis allocates itself (wasmtime's host memory creator), so that a
guest stopped by its memory limit can be told apart from one that failed for other reasons.

wasmtime's own store limits answer a refused `memory.grow` with -1 and tell the host nothing;
a guest whose allocator then gives up may trap or exit with no word of why (StarlingMonkey
exits with status 1). Here the memory itself refuses a growth past the store's budget and
records it, so the host can say "memory limit reached".

Only the engines of stores with a memory limit use this creator (`runtime.engine`): a memory
made here cannot take a copy-on-write image of the guest's data, so it costs a copy at each
instantiation; calls pay nothing (wasmtime asks the memory for its size and base only when it
is made and when it grows).
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import mmap
import threading
from collections.abc import Iterator
from ctypes import c_int, c_size_t, c_void_p
from typing import Any

from wasmtime import Config
from wasmtime import _ffi as ffi

from kvredis.errors import GuestOutOfMemory
from kvredis.runtime.faults import size_text

_libc = ctypes.CDLL(None, use_errno=True)
_mmap = _libc.mmap
_mmap.restype = c_void_p
_mmap.argtypes = [c_void_p, c_size_t, c_int, c_int, c_int, ctypes.c_long]
_mprotect = _libc.mprotect
_mprotect.restype = c_int
_mprotect.argtypes = [c_void_p, c_size_t, c_int]
_munmap = _libc.munmap
_munmap.restype = c_int
_munmap.argtypes = [c_void_p, c_size_t]
_MAP_FAILED = c_void_p(-1).value
_NO_ACCESS = 0  # PROT_NONE, which the mmap module does not name
_READ_WRITE = mmap.PROT_READ | mmap.PROT_WRITE
# Reserved address space is never backed by swap until it is touched.
_RESERVE_FLAGS = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_NORESERVE", 0)


class MemoryBudget:
    """The most bytes each linear memory of one store may hold, and the first growth (or
    initial size) that asked for more, in bytes, once one was refused."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.refused: int | None = None


_UNLIMITED = MemoryBudget(2**64)
_current = threading.local()


def stopped_by_limit(
    label: str, budget: MemoryBudget | None, during: str
) -> GuestOutOfMemory | None:
    """The error of a guest that stopped (trapped or exited) after its budget refused it
    memory; None when it was never refused."""
    if budget is None or budget.refused is None:
        return None
    return GuestOutOfMemory(
        f"{label}: stopped: memory limit {size_text(budget.limit)} reached (in {during}: "
        f"it asked for {size_text(budget.refused)})"
    )


@contextlib.contextmanager
def charged_to(budget: MemoryBudget | None) -> Iterator[None]:
    """Memories that this thread creates meanwhile (an instantiation) answer to `budget`
    (None: to no limit)."""
    _current.budget = budget
    try:
        yield
    finally:
        _current.budget = None


def _round_up(size: int) -> int:
    return -(-size // mmap.PAGESIZE) * mmap.PAGESIZE


class _Memory:
    """One linear memory: `reserved` bytes of address space (wasmtime's bounds-check-free
    reservation, never moved), of which the first `size` are readable and writable, then
    `guard` bytes that stay inaccessible."""

    def __init__(self, budget: MemoryBudget, size: int, reserved: int, guard: int) -> None:
        self.budget, self.size, self.reserved = budget, 0, reserved
        self.mapped = reserved + guard
        base = _mmap(None, self.mapped, _NO_ACCESS, _RESERVE_FLAGS, -1, 0)
        if base is None or base == _MAP_FAILED:
            raise OSError(ctypes.get_errno(), f"mmap failed to reserve {self.mapped:#x} bytes")
        self.base: int = base
        self.grow_to(size)

    def grow_to(self, size: int) -> None:
        if size > self.budget.limit:
            if self.budget.refused is None:
                self.budget.refused = size
            raise MemoryError(f"the store's memory limit of {self.budget.limit} bytes")
        if size > self.reserved:
            raise MemoryError(f"beyond the {self.reserved:#x} bytes reserved for it")
        if size > self.size and _mprotect(self.base, _round_up(size), _READ_WRITE) != 0:
            raise OSError(ctypes.get_errno(), "mprotect failed")
        self.size = size

    def release(self) -> None:
        _munmap(self.base, self.mapped)


_memories: dict[int, _Memory] = {}
_ids = itertools.count(1)


def _error(message: str) -> int:
    """A new wasmtime_error_t* (owned by wasmtime once returned) as an address."""
    pointer = ffi.wasmtime_error_new(message.encode())
    return ctypes.cast(pointer, c_void_p).value or 0


def _get(env: int, byte_size: Any, capacity: Any) -> int:
    memory = _memories[env]
    byte_size[0] = memory.size
    capacity[0] = memory.reserved
    return memory.base


def _grow(env: int, new_size: int) -> int:
    try:
        _memories[env].grow_to(new_size)
    except (MemoryError, OSError) as refused:
        return _error(f"memory growth to {new_size} bytes refused: {refused}")
    return 0


def _free(env: int) -> None:
    memory = _memories.pop(env, None)
    if memory is not None:
        memory.release()


def _new(
    env: int,
    ty: Any,
    minimum: int,
    maximum: int,
    reserved: int,
    guard: int,
    memory_ret: Any,
) -> int:
    budget = getattr(_current, "budget", None) or _UNLIMITED
    try:
        # wasmtime reserves address space for every memory on 64-bit hosts (4 GiB by default)
        # and passes 0 only for memories allowed to move, which kvredis's engines never make.
        memory = _Memory(budget, minimum, reserved or minimum, guard)
    except (MemoryError, OSError) as refused:
        return _error(f"a memory of {minimum} bytes cannot be created: {refused}")
    key = next(_ids)
    _memories[key] = memory
    out = memory_ret[0]
    out.env = key
    out.get_memory = _GET
    out.grow_memory = _GROW
    out.finalizer = _FREE
    return 0


# Kept for the life of the process: wasmtime calls them for as long as any memory lives.
_GET = ffi.wasmtime_memory_get_callback_t(_get)
_GROW = ffi.wasmtime_memory_grow_callback_t(_grow)
_FREE = ffi.wasmtime_linear_memory_t._fields_[3][1](_free)
_NEW = ffi.wasmtime_new_memory_callback_t(_new)


def install(config: Config) -> None:
    """Make `config`'s engine create its linear memories here."""
    # A copy-on-write image needs a memory wasmtime mapped itself (it panics otherwise).
    ffi.wasmtime_config_memory_init_cow_set(config.ptr(), False)
    creator = ffi.wasmtime_memory_creator_t(env=None, new_memory=_NEW)
    ffi.wasmtime_config_host_memory_creator_set(config.ptr(), ctypes.byref(creator))


def live_memories() -> int:
    """How many memories made here are alive (for tests: none may leak)."""
    return len(_memories)
