"""Plain-Python support for the generated bindings: the `Err` exception and handle tables."""

from __future__ import annotations

import threading
from typing import Any, Generic, TypeVar

from kvredis._canon import Trap

T = TypeVar("T")
E = TypeVar("E")


class Err(Exception, Generic[E]):
    """Raised by a host implementation to answer a WIT ``result`` with its ``err`` case."""

    def __init__(self, value: E) -> None:
        super().__init__(value)
        self.value = value


class HandleTable(Generic[T]):
    """Host objects behind the handles of one resource type, for one component instance.

    The guest holds only the integer rep; the table maps it back to the host object. Reps are
    never reused within a table, so a stale rep cannot alias a newer object.
    """

    def __init__(self, resource: str) -> None:
        self._resource = resource
        self._objects: dict[int, T] = {}
        self._next = 1
        self._lock = threading.Lock()

    def insert(self, obj: T) -> int:
        with self._lock:
            rep = self._next
            self._next += 1
            if self._next > 0xFFFF_FFFF:  # reps are u32 in the component model
                raise Trap(f"too many {self._resource} handles created")
            self._objects[rep] = obj
        return rep

    def get(self, rep: int) -> T:
        try:
            return self._objects[rep]
        except KeyError:
            raise Trap(f"unknown {self._resource} handle {rep}") from None

    def take(self, rep: int) -> T:
        """Remove and return the object whose ownership the guest handed back."""
        with self._lock:
            try:
                return self._objects.pop(rep)
            except KeyError:
                raise Trap(f"unknown {self._resource} handle {rep}") from None

    def drop(self, _store: Any, rep: int) -> None:
        """Resource destructor: the guest dropped its handle."""
        with self._lock:
            self._objects.pop(rep, None)

    def __len__(self) -> int:
        return len(self._objects)
