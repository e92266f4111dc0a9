"""Telling a host that ran out of memory from a guest that trapped, by wasmtime's words (the
messages below are wasmtime 50's, seen under `ulimit -v`)."""

from __future__ import annotations

import pytest

from kvredis.errors import HostResourceError
from kvredis.runtime.faults import host_resource_error, summarize

RESERVE = (
    "mmap failed to reserve 0x104000000 bytes\n\nCaused by:\n"
    "    Cannot allocate memory (os error 12)\n"
)
MAP_ARTIFACT = (
    "failed to load code for: /home/u/.cache/kvredis/compiled/04a5.cwasm\n\nCaused by:\n"
    "    0: Failed to create file mapping\n"
    '    1: failed to create mmap for file File { fd: 3, path: "/home/u/.cache/kvredis/'
    'compiled/04a5.cwasm", read: true, write: false }\n'
    "    2: mmap failed to allocate 0x21a8288 bytes\n"
    "    3: Cannot allocate memory (os error 12)\n"
)
COMPILE = "out of memory (failed to allocate 4500 bytes)"

GUEST_TRAP = (
    "error while executing at wasm backtrace:\n"
    "    0: 0x1a2b3c - libcomponentize_py_runtime.so!alloc::alloc::handle_alloc_error\n"
    "    1: 0x1a2b40 - <unknown>!__rust_start_panic\n\nCaused by:\n"
    "    wasm trap: wasm `unreachable` instruction executed\n"
)
NOT_THE_HOST = [
    GUEST_TRAP,
    "error while executing at wasm backtrace:\n    0: 0x10 - <unknown>!spin\n\n"
    "Caused by:\n    wasm trap: interrupt\n",
    "memory minimum size of 1100 pages exceeds memory limits",
    "unknown handle index 2",
    "component imports instance `wasi:keyvalue/store@0.2.0-draft2`, but a matching "
    "implementation was not found in the linker\n\nCaused by:\n"
    "    0: instance export `bucket` has the wrong type\n"
    "    1: resource implementation is missing\n",
]


def error(message: str) -> HostResourceError:
    found = host_resource_error(message, "app.wasm", "instantiating")
    assert found is not None
    return found


def test_reserving_a_linear_memory_under_an_address_space_limit() -> None:
    found = error(RESERVE)
    assert found.resource == "memory"
    text = str(found)
    assert text.startswith(
        "app.wasm: the host ran out of memory or address space while instantiating "
        "(mmap failed to reserve 0x104000000 bytes; Cannot allocate memory (os error 12))"
    )
    assert "ulimit -v" in text and "\n" not in text


def test_mapping_a_cached_artifact_names_the_causes_not_the_file() -> None:
    text = str(error(MAP_ARTIFACT))
    assert "(mmap failed to allocate 0x21a8288 bytes; Cannot allocate memory (os error 12))" in text
    assert "cwasm" not in text and "ulimit" not in text


def test_the_compiler_s_allocator() -> None:
    assert "(out of memory (failed to allocate 4500 bytes))" in str(error(COMPILE))


@pytest.mark.parametrize("message", NOT_THE_HOST)
def test_guest_traps_and_limits_are_not_the_host_s(message: str) -> None:
    assert host_resource_error(message, "app.wasm", "run") is None


def test_summaries_keep_the_causes_without_their_numbers() -> None:
    assert summarize(MAP_ARTIFACT).endswith(
        "; mmap failed to allocate 0x21a8288 bytes; Cannot allocate memory (os error 12)"
    )
    assert summarize(GUEST_TRAP) == "wasm trap: wasm `unreachable` instruction executed"
