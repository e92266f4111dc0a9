"""The exceptions of the WASI core: a WIT `err(code)`, and the two that become traps."""

from __future__ import annotations

from typing import Generic, TypeVar

C = TypeVar("C")


class CodedError(Exception, Generic[C]):
    """A call answered with `err(code)`; `code` is a value of the interface's error-code type."""

    def __init__(self, code: C) -> None:
        super().__init__(str(code))
        self.code = code


class GuestMisuse(Exception):
    """The guest broke a rule for which the WIT prescribes a trap; the message says which."""


class Interrupted(Exception):
    """The host ended a blocking wait (a timeout or a shutdown); the call must trap."""
