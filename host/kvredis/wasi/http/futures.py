"""`future-trailers` and `future-incoming-response`: pollable futures whose value is taken once."""

from __future__ import annotations

from typing import Generic, TypeVar

from kvredis.wasi.http.errors import AlreadyTaken, Failed, Received
from kvredis.wasi.io.poll import Readiness, Waker
from kvredis.wasi.io.promise import Promise

T = TypeVar("T")

Outcome = Received[T] | Failed


class HttpFuture(Generic[T]):
    """`get` answers None until the host resolves the promise, then the outcome once, then
    `AlreadyTaken` (the WIT's outer `err`)."""

    def __init__(self, promise: Promise[Outcome[T]], waker: Waker) -> None:
        self._promise = promise
        self._taken = False
        promise.add_listener(waker.notify)

    def subscribe(self) -> Readiness:
        return Readiness(self._promise.done)

    def get(self) -> Outcome[T] | None:
        if self._taken:
            raise AlreadyTaken("the future's value was taken before")
        if not self._promise.done():
            return None
        self._taken = True
        return self._promise.value()
