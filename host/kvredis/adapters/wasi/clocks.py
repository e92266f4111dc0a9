"""wasi:clocks adapters: the monotonic clock's pollables and the wall clock's datetimes."""

from __future__ import annotations

from kvredis.adapters.wasi.io import PollableAdapter
from kvredis.bindings import wasi_clocks as wit
from kvredis.bindings import wasi_io
from kvredis.wasi.clocks import Datetime, MonotonicClock, WallClock
from kvredis.wasi.io.poll import Waker


class MonotonicClockHost:
    def __init__(self, clock: MonotonicClock, waker: Waker) -> None:
        self._clock = clock
        self._waker = waker

    def now(self) -> int:
        return self._clock.now()

    def resolution(self) -> int:
        return self._clock.resolution()

    def subscribe_instant(self, when: int) -> wasi_io.Pollable:
        return PollableAdapter(self._clock.subscribe_instant(when), self._waker)

    def subscribe_duration(self, when: int) -> wasi_io.Pollable:
        return PollableAdapter(self._clock.subscribe_duration(when), self._waker)


def datetime(value: Datetime) -> wit.Datetime:
    return wit.Datetime(value.seconds, value.nanoseconds)


class WallClockHost:
    def __init__(self, clock: WallClock) -> None:
        self._clock = clock

    def now(self) -> wit.Datetime:
        return datetime(self._clock.now())

    def resolution(self) -> wit.Datetime:
        return datetime(self._clock.resolution())
