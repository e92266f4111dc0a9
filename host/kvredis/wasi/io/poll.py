"""wasi:io/poll: pollables, the per-instance `Waker`, and `poll` without a busy loop.

A component instance runs on one thread; what makes its pollables ready (a producer filling
a body, a consumer draining one, an HTTP client answering) runs on others. Every such state
change calls `Waker.notify()`. `poll` checks readiness, and when nothing is ready it sleeps on
the waker until a notification or the earliest clock deadline among its pollables.

Lost wake-ups are ruled out by a generation counter: `poll` reads the generation before it
checks readiness and sleeps only while the generation is unchanged, so a notification that
lands between the check and the sleep ends the sleep at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from kvredis.wasi.errors import GuestMisuse, Interrupted

# A deadline far in the future must not overflow threading's timeout; waking once a day
# and finding nothing ready is harmless.
_LONGEST_SLEEP_SECONDS = 86_400.0


def monotonic_now() -> int:
    """The monotonic clock every deadline is measured on, in nanoseconds."""
    return time.monotonic_ns()


class Pollable(Protocol):
    """Something a guest can wait for. `ready` never blocks and must be cheap."""

    def ready(self) -> bool: ...

    @property
    def deadline(self) -> int | None:
        """The monotonic instant (ns) at which it becomes ready by itself, if it is a timer."""
        ...


class Waker:
    """Wakes the one instance thread that may be sleeping in `poll`."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation = 0
        self._interruption: str | None = None
        self.sleeps = 0  # how many times poll went to sleep: tests prove there is no spinning

    def notify(self) -> None:
        """Some pollable of this instance may have become ready."""
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def interrupt(self, reason: str) -> None:
        """End the current and every later wait with `Interrupted(reason)`."""
        with self._condition:
            self._interruption = reason
            self._generation += 1
            self._condition.notify_all()

    @property
    def generation(self) -> int:
        with self._condition:
            self._check_interrupted()
            return self._generation

    def sleep(self, seen_generation: int, timeout: float | None) -> None:
        """Sleep until a notification newer than `seen_generation`, or `timeout` seconds."""
        with self._condition:
            self._check_interrupted()
            if self._generation != seen_generation:
                return
            self.sleeps += 1
            self._condition.wait(timeout)
            self._check_interrupted()

    def _check_interrupted(self) -> None:
        if self._interruption is not None:
            raise Interrupted(self._interruption)


class Readiness:
    """A pollable whose readiness is a predicate over some object's state."""

    __slots__ = ("_predicate",)
    deadline = None

    def __init__(self, predicate: Callable[[], bool]) -> None:
        self._predicate = predicate

    def ready(self) -> bool:
        return self._predicate()


class Deadline:
    """A pollable that becomes ready at a monotonic instant (wasi:clocks subscriptions)."""

    __slots__ = ("_deadline",)

    def __init__(self, deadline: int) -> None:
        self._deadline = deadline

    @property
    def deadline(self) -> int:
        return self._deadline

    def ready(self) -> bool:
        return monotonic_now() >= self._deadline


def poll(pollables: Sequence[Pollable], waker: Waker) -> list[int]:
    """The indices of every ready pollable, waiting until at least one is ready.

    An empty list would wait forever, which the WIT makes a trap (`GuestMisuse`).
    """
    if not pollables:
        raise GuestMisuse("poll: the list of pollables is empty")
    deadlines = [p.deadline for p in pollables if p.deadline is not None]
    earliest = min(deadlines) if deadlines else None
    while True:
        generation = waker.generation
        ready = [index for index, pollable in enumerate(pollables) if pollable.ready()]
        if ready:
            return ready
        waker.sleep(generation, _seconds_until(earliest))


def block(pollable: Pollable, waker: Waker) -> None:
    """`pollable.block`: return once it is ready."""
    poll([pollable], waker)


def _seconds_until(deadline: int | None) -> float | None:
    if deadline is None:
        return None
    remaining = (deadline - monotonic_now()) / 1e9
    return min(max(remaining, 0.0), _LONGEST_SLEEP_SECONDS)
