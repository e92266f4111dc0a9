"""A value one thread provides once and another waits for: behind every wasi:http future."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Promise(Generic[T]):
    """Resolved once; listeners (a `Waker.notify`, an asyncio hand-off) hear about it."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._resolved = False
        self._value: T | None = None
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[], None]) -> None:
        with self._condition:
            self._listeners.append(listener)

    def resolve(self, value: T) -> None:
        """Provide the value; a second value is a host bug (`RuntimeError`)."""
        with self._condition:
            if self._resolved:
                raise RuntimeError("the promise was already resolved")
            self._value, self._resolved = value, True
            self._condition.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def done(self) -> bool:
        with self._condition:
            return self._resolved

    def value(self) -> T:
        with self._condition:
            if not self._resolved:
                raise RuntimeError("the promise is not resolved yet")
            return self._value  # type: ignore[return-value]  # T itself may include None

    def wait(self, timeout: float | None = None) -> bool:
        """For a host thread: wait until resolved; False on timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: self._resolved, timeout)
