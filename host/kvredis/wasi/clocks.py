"""wasi:clocks: the monotonic clock (pollables for instants and durations) and the wall clock."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from kvredis.wasi.io.poll import Deadline, monotonic_now

_NANOS_PER_SECOND = 1_000_000_000


def _resolution_ns(clock: Literal["monotonic", "time"]) -> int:
    return max(1, round(time.get_clock_info(clock).resolution * _NANOS_PER_SECOND))


class MonotonicClock:
    """`monotonic-clock`: nanoseconds that only go forward; subscriptions are `Deadline`s."""

    def now(self) -> int:
        return monotonic_now()

    def resolution(self) -> int:
        return _resolution_ns("monotonic")

    def subscribe_instant(self, when: int) -> Deadline:
        """Ready once `now()` has reached `when`."""
        return Deadline(when)

    def subscribe_duration(self, duration: int) -> Deadline:
        """Ready `duration` nanoseconds from now."""
        return Deadline(monotonic_now() + duration)


@dataclass(frozen=True, slots=True)
class Datetime:
    """`datetime`: seconds and nanoseconds since the Unix epoch."""

    seconds: int
    nanoseconds: int

    @classmethod
    def from_ns(cls, nanoseconds: int) -> Datetime:
        seconds, rest = divmod(nanoseconds, _NANOS_PER_SECOND)
        return cls(seconds, rest)


class WallClock:
    """`wall-clock`: the time of day; it may jump, so never use it to measure durations."""

    def now(self) -> Datetime:
        return Datetime.from_ns(time.time_ns())

    def resolution(self) -> Datetime:
        return Datetime.from_ns(_resolution_ns("time"))
