"""Plain-Python support for the generated bindings: `Err`, `Trap` and handle tables."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

T = TypeVar("T")
E = TypeVar("E")


class Trap(Exception):
    """Raised by host code for a guest's misuse; the guest traps with this message."""


class Err(Exception, Generic[E]):
    """Raised by a host implementation to answer a WIT ``result`` with its ``err`` case."""

    def __init__(self, value: E) -> None:
        super().__init__(value)
        self.value = value


class HandleTable(Generic[T]):
    """Host objects behind the handles of one resource type, for one component instance.

    The guest holds only the integer rep; the table maps it back to the host object. Reps are
    never reused within a table, so a stale rep cannot alias a newer object. A table belongs
    to one instance, which one thread at a time runs, so it needs no lock.
    """

    def __init__(self, resource: str) -> None:
        self._resource = resource
        self._objects: dict[int, T] = {}
        self._next = 1

    def insert(self, obj: T) -> int:
        rep = self._next
        if rep > 0xFFFF_FFFF:  # reps are u32 in the component model
            raise Trap(f"too many {self._resource} handles created")
        self._next = rep + 1
        self._objects[rep] = obj
        return rep

    def get(self, rep: int) -> T:
        try:
            return self._objects[rep]
        except KeyError:
            raise Trap(f"unknown {self._resource} handle {rep}") from None

    def take(self, rep: int) -> T:
        """Remove and return the object whose ownership the guest handed back."""
        try:
            return self._objects.pop(rep)
        except KeyError:
            raise Trap(f"unknown {self._resource} handle {rep}") from None

    def drop(self, _store: Any, rep: int) -> None:
        """Resource destructor: the guest dropped its handle."""
        self._objects.pop(rep, None)

    def __len__(self) -> int:
        return len(self._objects)
