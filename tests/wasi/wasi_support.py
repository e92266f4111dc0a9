"""Helpers the WASI core's unit tests share."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def later(seconds: float, action: Callable[..., object], *args: object) -> Iterator[None]:
    """Run `action(*args)` on another thread after `seconds`, so that the test's thread is
    already waiting when it happens; joined (or cancelled) when the block ends."""
    timer = threading.Timer(seconds, action, args=args)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
