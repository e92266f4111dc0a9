"""Reading wasmtime's error messages: one-line summaries, and telling a host that ran out of
memory or address space from a guest that trapped; threads the host cannot start, likewise.

wasmtime reports both the same way, as a `WasmtimeError`; only its words tell them apart.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from kvredis.errors import HostResourceError

# Words of the operating system or of wasmtime's allocator, never of a guest, and the
# resource each means. A guest's own traps read "wasm trap: ..." with a wasm backtrace.
# (Memory is the one seen failing this way, under `ulimit -v`: ENOMEM from mmap while
# loading or instantiating, or cranelift's allocator while compiling.)
_RESOURCE_SIGNS = (
    (re.compile(r"\(os error 12\)|mmap failed|failed to allocate \d+ bytes"), "memory"),
)
# How wasmtime says it could not reserve a linear memory's address space (4 GiB and guard
# pages each, on 64-bit hosts); under `ulimit -v` that is the first thing to fail.
_RESERVATION = re.compile(r"mmap failed to reserve 0x[0-9a-f]+ bytes")


def summarize(message: str) -> str:
    """One line from a wasmtime error: the causes, without the wasm backtrace."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if "Caused by:" in lines:
        causes = lines[lines.index("Caused by:") + 1 :]
        causes = [_without_cause_number(c) for c in causes]
        return "; ".join(causes) if causes else lines[0]
    return lines[0] if lines else "unknown error"


def size_text(size: int) -> str:
    """64 MiB rather than 67108864 bytes."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def host_resource(message: str) -> tuple[str, str] | None:
    """(the resource the host ran out of, the lines that say so), or None when `message` is
    not about the host's resources."""
    lines = [line.strip() for line in message.strip().splitlines()]
    for sign, resource in _RESOURCE_SIGNS:
        evidence = [_without_cause_number(line) for line in lines if sign.search(line)]
        if evidence:
            return resource, "; ".join(evidence)
    return None


def host_resource_error(message: str, subject: str, during: str) -> HostResourceError | None:
    """The error to raise when wasmtime failed `during` ("instantiating", "loading" ...)
    `subject` because the host ran out of a resource; None when it failed for another reason."""
    found = host_resource(message)
    if found is None:
        return None
    resource, evidence = found
    shown = "memory or address space" if resource == "memory" else resource
    hint = ""
    if _RESERVATION.search(message):
        hint = (
            "; each WebAssembly memory reserves about 4 GiB of address space, so a limit such "
            "as `ulimit -v` must leave room for it"
        )
    return HostResourceError(
        f"{subject}: the host ran out of {shown} while {during} ({evidence}){hint}", resource
    )


def _without_cause_number(line: str) -> str:
    """'2: mmap failed ...' -> 'mmap failed ...' (wasmtime numbers the causes it lists)."""
    number, sep, rest = line.partition(": ")
    return rest if sep and number.isdigit() else line


def start_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """A daemon thread running `target`, started; HostResourceError if the host has none to
    spare (no address space for its stack under `ulimit -v`, or too many threads)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    try:
        thread.start()
    except RuntimeError as exc:  # "can't start new thread"
        raise HostResourceError(
            f"the host cannot start another thread ({exc}); it is short of memory, address "
            "space or threads",
            "threads",
        ) from None
    return thread
