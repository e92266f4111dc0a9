"""wasi:io/poll alone: readiness, waiting without spinning, wake-ups from other threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from wasi_support import later

from kvredis.wasi import GuestMisuse, Interrupted
from kvredis.wasi.io.poll import Deadline, Readiness, Waker, block, monotonic_now, poll

MS = 1_000_000  # nanoseconds


class Flag:
    """A pollable a test thread raises; it counts how often poll looked at it."""

    deadline = None

    def __init__(self) -> None:
        self.raised = False
        self.looks = 0

    def ready(self) -> bool:
        self.looks += 1
        return self.raised


def raise_flag(flag: Flag, waker: Waker) -> Callable[[], None]:
    def act() -> None:
        flag.raised = True
        waker.notify()

    return act


def test_an_empty_list_is_misuse() -> None:
    with pytest.raises(GuestMisuse, match="empty"):
        poll([], Waker())


def test_every_ready_index_comes_back_in_order() -> None:
    ready, not_ready = Readiness(lambda: True), Readiness(lambda: False)
    assert poll([not_ready, ready, not_ready, ready], Waker()) == [1, 3]


def test_a_notification_from_another_thread_ends_the_wait() -> None:
    waker, flag = Waker(), Flag()
    started = time.monotonic()
    with later(0.05, raise_flag(flag, waker)):
        assert poll([flag], waker) == [0]
    assert time.monotonic() - started >= 0.04


def test_a_duration_pollable_becomes_ready_by_itself() -> None:
    started = monotonic_now()
    assert poll([Deadline(started + 50 * MS)], Waker()) == [0]
    assert monotonic_now() - started >= 50 * MS


def test_waiting_does_not_spin() -> None:
    """0.2 s of waiting costs a handful of readiness checks and almost no CPU."""
    waker, flag = Waker(), Flag()
    cpu_before, wall_before = time.thread_time(), time.monotonic()
    assert poll([flag, Deadline(monotonic_now() + 200 * MS)], waker) == [1]
    assert time.monotonic() - wall_before >= 0.19
    assert flag.looks <= 3
    assert waker.sleeps <= 2
    assert time.thread_time() - cpu_before < 0.05


def test_the_earlier_of_a_timer_and_a_producer_wins() -> None:
    waker, flag = Waker(), Flag()
    with later(0.02, raise_flag(flag, waker)):
        assert poll([Deadline(monotonic_now() + 5_000 * MS), flag], waker) == [1]


def test_a_deadline_beyond_any_timeout_does_not_overflow() -> None:
    waker, flag = Waker(), Flag()
    with later(0.02, raise_flag(flag, waker)):
        assert poll([Deadline(2**64 - 1), flag], waker) == [1]


def test_no_wake_up_is_lost_between_the_check_and_the_sleep() -> None:
    """A producer racing the poller: every round must end promptly, not at a timeout."""
    waker = Waker()
    for _ in range(300):
        flag = Flag()
        producer = threading.Thread(target=raise_flag(flag, waker))
        producer.start()
        started = time.monotonic()
        assert poll([flag], waker) == [0]
        producer.join()
        assert time.monotonic() - started < 1.0


def test_interrupt_ends_a_wait_and_every_later_one() -> None:
    waker = Waker()
    never = Readiness(lambda: False)
    with (
        later(0.02, lambda: waker.interrupt("request timed out")),
        pytest.raises(Interrupted, match="request timed out"),
    ):
        poll([never], waker)
    with pytest.raises(Interrupted):
        poll([Readiness(lambda: True)], waker)


def test_block_returns_once_ready() -> None:
    waker, flag = Waker(), Flag()
    with later(0.02, raise_flag(flag, waker)):
        block(flag, waker)
    assert flag.raised
