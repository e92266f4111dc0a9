"""Waiting for guest code run on a worker thread, within its timeout whatever it waits on."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from kvredis.errors import GuestTimeout
from kvredis.runtime.faults import start_thread

T = TypeVar("T")

# Beyond the timeout, what a worker may take to report a timeout itself: building the
# instance before its call's deadline starts, and an epoch trap unwinding.
GRACE_S = 0.5
_POLL_S = 0.1


def run_with_deadline(work: Callable[[], T], timeout_s: float | None, label: str) -> T:
    """`work()`, run on a worker thread while this thread waits; its result or its exception.

    The wait polls, so Ctrl-C on this (the main) thread always interrupts it: a guest spinning
    in WebAssembly never returns to Python, so a signal handler on its own thread would never
    run. With `timeout_s`, the wait also ends `GRACE_S` after the timeout: epoch interruption
    stops only WebAssembly code, and a guest blocked in a host call (a WASI sleep or poll)
    would otherwise outlive it. Then `GuestTimeout` is raised here and the worker, a daemon
    thread, is left to end on its own; its instance must not be used again.
    """
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(work())
        except BaseException as exc:
            errors.append(exc)

    give_up = None if timeout_s is None else time.monotonic() + timeout_s + GRACE_S
    worker = start_thread(target, "kvredis-guest")
    while worker.is_alive():
        if give_up is not None and time.monotonic() >= give_up:
            raise GuestTimeout(
                f"{label}: timed out after {timeout_s:g} s while waiting in a host call"
            )
        wait = _POLL_S if give_up is None else min(_POLL_S, give_up - time.monotonic())
        worker.join(max(0.0, wait))
    if errors:
        raise errors[0]
    return results[0]
