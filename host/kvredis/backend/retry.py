"""When a failed command is sent again: a pure policy, with no sockets and no clock of its own.

The connection pool describes each failed attempt as a `Failure` (facts it observed) and asks
the operation's `Attempts` what to do, passing the current time. The rules, stricter than
redis-py's:

- a refused password or an untrusted TLS certificate is final: another attempt cannot cure it;
- a command that is not idempotent (an increment, a swap) is never sent twice once it may
  have reached the server, unless the server answered it with an error reply that means it
  did not run (LOADING after a restart, max clients);
- a connection taken from the idle pool that broke before the command left was stale (the
  server restarted or closed it), which says nothing about the server now: trying a fresh
  one at once costs no retry and no wait;
- every other failure uses one of `retries`, waits a backoff that doubles from
  `first_delay_s` and is capped by `max_delay_s`, and is not retried when what is left of the
  operation's budget could not cover that wait.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

FIRST_DELAY_S = 0.05


class GiveUp(enum.Enum):
    """Why an operation ends with an error instead of another attempt."""

    REFUSED = "refused"
    MAYBE_APPLIED = "maybe applied"
    RETRIES_USED = "retries used"
    OUT_OF_TIME = "out of time"


@dataclass(frozen=True, slots=True)
class Failure:
    """What the pool saw of one failed attempt."""

    sent: bool = False  # the whole command was written: the server may have run it
    answered: bool = False  # an error reply that means the command did not run
    reused: bool = False  # the connection came from the idle pool
    refused: bool = False  # credentials refused, or the TLS certificate is not trusted


@dataclass(frozen=True, slots=True)
class Decision:
    """Wait `delay` seconds and try again, or (when `give_up` is set) stop."""

    delay: float = 0.0
    give_up: GiveUp | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """The retry rules of one server's connections (see the module docstring)."""

    retries: int
    max_delay_s: float
    first_delay_s: float = FIRST_DELAY_S

    def begin(self, deadline: float) -> Attempts:
        """The retry state of one operation that must be over by `deadline`."""
        return Attempts(self, deadline)


class Attempts:
    """The retry state of one operation: retries used so far and the next backoff."""

    __slots__ = ("_backoff", "deadline", "policy", "retries_used")

    def __init__(self, policy: RetryPolicy, deadline: float) -> None:
        self.policy = policy
        self.deadline = deadline
        self.retries_used = 0
        self._backoff = policy.first_delay_s

    def after(self, failure: Failure, *, idempotent: bool, now: float) -> Decision:
        """What to do after `failure`, at time `now` (on the deadline's clock)."""
        if failure.refused:
            return Decision(give_up=GiveUp.REFUSED)
        if failure.sent and not idempotent and not failure.answered:
            return Decision(give_up=GiveUp.MAYBE_APPLIED)
        remaining = self.deadline - now
        if failure.reused and not failure.sent:
            return Decision() if remaining > 0 else Decision(give_up=GiveUp.OUT_OF_TIME)
        self.retries_used += 1
        if self.retries_used > self.policy.retries:
            return Decision(give_up=GiveUp.RETRIES_USED)
        delay = min(self._backoff, self.policy.max_delay_s)
        if remaining <= delay:
            return Decision(give_up=GiveUp.OUT_OF_TIME)
        self._backoff *= 2
        return Decision(delay)
