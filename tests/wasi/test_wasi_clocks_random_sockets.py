"""wasi:clocks, wasi:random and wasi:sockets alone."""

from __future__ import annotations

import time

import pytest

from kvredis.wasi import GuestMisuse
from kvredis.wasi.clocks import Datetime, MonotonicClock, WallClock
from kvredis.wasi.io.poll import Waker, poll
from kvredis.wasi.random import MAX_RANDOM_BYTES, Random
from kvredis.wasi.sockets import IpAddressFamily, NoNetwork, SocketError, SocketErrorCode

MS = 1_000_000


def test_the_monotonic_clock_moves_forward_in_nanoseconds() -> None:
    clock = MonotonicClock()
    first = clock.now()
    time.sleep(0.01)
    assert clock.now() - first >= 10 * MS
    assert 1 <= clock.resolution() <= MS


def test_subscriptions_become_ready_at_their_instant() -> None:
    clock, waker = MonotonicClock(), Waker()
    started = clock.now()
    soon, later = clock.subscribe_duration(30 * MS), clock.subscribe_instant(started + 10_000 * MS)
    assert not soon.ready()
    assert poll([later, soon], waker) == [1]
    assert clock.now() - started >= 30 * MS
    assert not later.ready()
    assert clock.subscribe_instant(started).ready()  # an instant in the past is ready at once


def test_the_wall_clock_is_the_unix_time() -> None:
    now = WallClock().now()
    assert abs(now.seconds - time.time()) < 5
    assert 0 <= now.nanoseconds < 1_000_000_000
    assert WallClock().resolution().seconds == 0
    assert Datetime.from_ns(1_500_000_000) == Datetime(1, 500_000_000)


def test_random_bytes_have_the_length_asked() -> None:
    source = Random()
    assert len(source.get_random_bytes(32)) == 32
    assert source.get_random_bytes(32) != source.get_random_bytes(32)
    assert len(source.get_insecure_random_bytes(0)) == 0
    assert len(source.get_insecure_random_bytes(MAX_RANDOM_BYTES)) == MAX_RANDOM_BYTES
    assert 0 <= source.get_random_u64() < 2**64
    assert 0 <= source.get_insecure_random_u64() < 2**64


def test_too_many_random_bytes_at_once_is_misuse() -> None:
    with pytest.raises(GuestMisuse, match="at most"):
        Random().get_random_bytes(2**64 - 1)
    with pytest.raises(GuestMisuse):
        Random().get_insecure_random_bytes(MAX_RANDOM_BYTES + 1)


def test_the_insecure_seed_is_fixed_per_instance() -> None:
    one, other = Random(), Random()
    assert one.insecure_seed() == one.insecure_seed()
    assert one.insecure_seed() != other.insecure_seed()
    assert all(0 <= part < 2**64 for part in one.insecure_seed())


@pytest.mark.parametrize("family", list(IpAddressFamily))
def test_sockets_are_denied(family: IpAddressFamily) -> None:
    sockets = NoNetwork()
    for create in (sockets.create_tcp_socket, sockets.create_udp_socket):
        with pytest.raises(SocketError) as denied:
            create(family)
        assert denied.value.code is SocketErrorCode.ACCESS_DENIED


def test_name_lookups_fail_permanently() -> None:
    sockets = NoNetwork()
    with pytest.raises(SocketError) as failed:
        sockets.resolve_addresses(sockets.instance_network(), "example.com")
    assert failed.value.code is SocketErrorCode.PERMANENT_RESOLVER_FAILURE
