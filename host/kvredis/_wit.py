"""Plain-Python support for the generated bindings: results, traps, handle tables and the
per-store scopes host functions look their state up in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")
E = TypeVar("E")
S = TypeVar("S")


class Trap(Exception):
    """Raised by host code for a guest's misuse; the guest traps with this message."""


class Err(Exception, Generic[E]):
    """Raised by a host implementation to answer a WIT ``result`` with its ``err`` case.

    Inside another value (a ``result`` nested in an option, a ``result`` parameter) the
    ``err`` case is an `Err` instance, and the ``ok`` case an `Ok`.
    """

    def __init__(self, value: E) -> None:
        super().__init__(value)
        self.value = value


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    """The ``ok`` case of a ``result`` that is a value rather than a function's answer."""

    value: T


class Resource(Protocol):
    """What every host resource offers the handle tables."""

    def drop(self) -> None:
        """The guest dropped its handle to this object."""
        ...


R = TypeVar("R", bound=Resource)


class HandleTable(Generic[R]):
    """Host objects behind the handles of one resource type, for one component instance.

    The guest holds only the integer rep; the table maps it back to the host object. Reps are
    never reused within a table, so a stale rep cannot alias a newer object. A table belongs
    to one instance, which one thread at a time runs, so it needs no lock.
    """

    def __init__(self, resource: str) -> None:
        self._resource = resource
        self._objects: dict[int, R] = {}
        self._next = 1

    def insert(self, obj: R) -> int:
        rep = self._next
        if rep > 0xFFFF_FFFF:  # reps are u32 in the component model
            raise Trap(f"too many {self._resource} handles created")
        self._next = rep + 1
        self._objects[rep] = obj
        return rep

    def get(self, rep: int) -> R:
        try:
            return self._objects[rep]
        except KeyError:
            raise Trap(f"unknown {self._resource} handle {rep}") from None

    def take(self, rep: int) -> R:
        """Remove and return the object whose ownership the guest handed back."""
        try:
            return self._objects.pop(rep)
        except KeyError:
            raise Trap(f"unknown {self._resource} handle {rep}") from None

    def drop(self, rep: int) -> None:
        """Resource destructor: the guest dropped its handle; the object hears of it."""
        obj = self._objects.pop(rep, None)
        if obj is not None:
            obj.drop()

    def take_all(self) -> list[R]:
        """Empty the table (the instance is gone); the objects it held, oldest first."""
        objects = list(self._objects.values())
        self._objects.clear()
        return objects

    def __len__(self) -> int:
        return len(self._objects)


Scopes = Mapping[int, S]
"""Where host functions find the state of the instance that called them: by the store
context (`canon.store_key`) every host function and destructor receives."""


class OneScope(dict[int, S]):
    """The scopes of a linker whose instances all share one scope (a linker per instance,
    as `kvredis run` builds): any store finds `scope`, at the cost of a dict lookup."""

    def __init__(self, scope: S) -> None:
        super().__init__()
        self.scope = scope

    def __missing__(self, key: int) -> S:
        self[key] = self.scope
        return self.scope
