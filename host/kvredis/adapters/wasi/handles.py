"""What every WASI adapter shares: recognising its own objects in arguments, and the WIT's
rule that some handles are children of another and must go first."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from kvredis._wit import Err, Trap

T = TypeVar("T")
E = TypeVar("E", bound=Exception)
P = ParamSpec("P")
R = TypeVar("R")


def answering(
    error: type[E], err_value: Callable[[E], object]
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A decorator: the core's `error` becomes the WIT's `err` case, `err_value(exc)`."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def answer(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except error as exc:
                raise Err(err_value(exc)) from None

        return answer

    return decorate


def ours(obj: object, kind: type[T]) -> T:
    """`obj` as the adapter class `kind`. The handle tables only ever hold objects the
    adapters made, so anything else is a host bug, reported as a trap."""
    if not isinstance(obj, kind):
        raise Trap(f"expected a {kind.__name__}, got {type(obj).__name__}")
    return obj


def _no_release() -> None:
    """For a handle without a parent."""


NO_PARENT: Callable[[], None] = _no_release


class Parent:
    """A handle whose children must be dropped before it is dropped or consumed.

    The WIT makes this a trap, e.g. an `input-stream` must be dropped before its
    `incoming-body` is finished, and the `headers` of a request before the request is
    dropped or sent; hosts use the rule to tell a body being read from one being left.
    """

    def __init__(self, what: str) -> None:
        self._what = what
        self._children = 0

    def adopt(self) -> Callable[[], None]:
        """Count one more child; the function returned (idempotent) lets it go."""
        self._children += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._children -= 1

        return release

    def check_childless(self, action: str) -> None:
        if self._children:
            raise Trap(f"{self._what} {action} while a child handle of it is still alive")
