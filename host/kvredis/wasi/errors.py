"""The two exceptions that become traps rather than WIT error values."""

from __future__ import annotations


class GuestMisuse(Exception):
    """The guest broke a rule for which the WIT prescribes a trap; the message says which."""


class Interrupted(Exception):
    """The host ended a blocking wait (a timeout or a shutdown); the call must trap."""
