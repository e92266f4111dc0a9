"""kvredis tunes glibc's allocator only when it creates its engine: importing kvredis (as
every pytest session with the plugin installed does) leaves the process's allocator alone."""

from __future__ import annotations

import ctypes
import subprocess
import sys
import textwrap

import pytest

# A block between glibc's largest dynamic mmap threshold (32 MiB) and kvredis's setting
# (64 MiB): mapped on its own by default, taken from the heap once kvredis has tuned glibc.
# glibc marks a chunk it mapped with bit 1 of the size word just before the pointer.
_PROBE = textwrap.dedent(
    """
    import ctypes, sys

    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]

    def large_blocks_mapped():
        block = libc.malloc(48 << 20)
        mapped = bool(ctypes.c_size_t.from_address(block - 8).value & 2)
        libc.free(block)
        return mapped

    import kvredis, kvredis.host, kvredis.pytest_plugin
    print(large_blocks_mapped())
    from kvredis.runtime.engine import engine
    engine()
    print(large_blocks_mapped())
    """
)


def _glibc() -> bool:
    try:
        ctypes.CDLL(None).gnu_get_libc_version  # noqa: B018 - present only in glibc
    except AttributeError:
        return False
    return True


@pytest.mark.skipif(not _glibc(), reason="the tuning applies to glibc only")
def test_import_leaves_the_allocator_alone_and_the_engine_tunes_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    after_import, after_engine = done.stdout.split()
    assert after_import == "True", "importing kvredis changed how glibc allocates"
    assert after_engine == "False", "creating the engine did not tune glibc"
