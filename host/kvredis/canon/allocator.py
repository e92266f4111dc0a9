"""glibc tuning for large values, applied when the engine is created (never on import).

A 1 MiB ``list<u8>`` crosses the C API as tens of MiB of per-byte values, allocated and freed on
every call. With glibc's defaults each such block is a fresh mmap whose pages fault in again;
keeping freed blocks in the heap halves the cost of large values. The setting is process-wide,
which is why only creating an engine (a sign that this process runs components) applies it.
"""

from __future__ import annotations

import ctypes

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks up to this size come from the heap and are reused; the heap keeps up to
# _TRIM_ABOVE of free memory before returning it to the system.
_HEAP_BLOCKS_UP_TO = 64 << 20
_TRIM_ABOVE = 256 << 20

_applied = False


def keep_large_blocks() -> bool:
    """Let glibc reuse freed blocks of up to 64 MiB instead of unmapping them.

    Applied once per process; False where the C library is not glibc (nothing to tune).
    """
    global _applied
    if _applied:
        return True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, _HEAP_BLOCKS_UP_TO)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_ABOVE)
    _applied = True
    return True
