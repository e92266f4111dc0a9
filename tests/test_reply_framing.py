"""How much a reply holds, told from its bytes (kvredis.backend.framing): pure logic, no
server. Legitimate replies pass however they are cut into chunks, values full of line ends
and `*` lines included; replies with more elements than the command can get are cut early."""

from __future__ import annotations

import pytest
from redis.exceptions import InvalidResponse

from kvredis.backend.framing import ElementBound, Framing, ReplyBound, ReplyTooLarge


def bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def array(*members: bytes) -> bytes:
    return b"*%d\r\n" % len(members) + b"".join(members)


# Values that look like framing: line ends, `*` lines announcing huge arrays, `$` lines.
TRICKY = [b"a\r\nb\r\n" * 50, b"\r\n*99999999\r\n" * 20, b"\n$-7\r\n*\r\n", b"", b"*5"]
MGET_REPLY = array(*(bulk(v) for v in TRICKY), b"$-1\r\n")
MGET_ELEMENTS = 1 + len(TRICKY) + 1


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
def test_framing_counts_the_elements_of_a_reply_however_it_is_cut(size: int) -> None:
    framing = Framing(max_elements=MGET_ELEMENTS)
    for chunk in chunks(MGET_REPLY, size):
        framing.feed(chunk)
    assert framing.elements == MGET_ELEMENTS


def test_framing_counts_nested_arrays_and_simple_lines() -> None:
    scan = array(bulk(b"17"), array(bulk(b"k1"), bulk(b"k2")))
    framing = Framing(max_elements=100)
    framing.feed(scan + b":42\r\n+OK\r\n-ERR no\r\n*-1\r\n")
    assert framing.elements == 5 + 4


def test_framing_refuses_more_elements_than_its_budget_as_soon_as_it_sees_them() -> None:
    framing = Framing(max_elements=3)
    framing.feed(array(bulk(b"a"), bulk(b"b")))
    with pytest.raises(ReplyTooLarge, match="more than 3 elements"):
        framing.feed(b":1\r\n" * 1000)
    assert framing.elements == 4


def test_framing_refuses_an_array_header_above_the_budget() -> None:
    with pytest.raises(ReplyTooLarge, match="an array of 100000000 elements"):
        Framing(max_elements=10).feed(b"*2\r\n$1\r\n0\r\n*100000000\r\n")


@pytest.mark.parametrize(
    "reply", [b"$abc\r\n", b"$-5\r\n", b"*" + b"9" * 40 + b"\r\n", b"+" + b"x" * 5000]
)
def test_framing_refuses_what_is_no_reply(reply: bytes) -> None:
    with pytest.raises(InvalidResponse):
        Framing(max_elements=10).feed(reply)


@pytest.mark.parametrize("size", [1, 5, 64, 65536])
def test_a_legitimate_array_reply_passes_the_element_bound(size: int) -> None:
    bound = ElementBound(MGET_ELEMENTS)
    for chunk in chunks(MGET_REPLY, size):
        bound.feed(chunk)


def test_values_with_many_line_ends_past_the_counting_point_still_pass() -> None:
    """Line ends inside values make the cheap count pass twice the budget: the exact walk
    that follows must still let the reply through."""
    value = b"\r\n" * (ElementBound.COUNT_FROM // 2 + 10)
    reply = array(bulk(value), bulk(value))
    bound = ElementBound(3)
    for chunk in chunks(reply, 65536):
        bound.feed(chunk)


def test_an_array_header_above_the_budget_is_cut_in_the_first_chunk() -> None:
    with pytest.raises(ReplyTooLarge, match="4294967295"):
        ElementBound(2).feed(b"*4294967295\r\n:1\r\n")


def test_a_nested_array_header_above_the_budget_is_cut_before_its_members() -> None:
    with pytest.raises(ReplyTooLarge, match="an array of 100000000 elements"):
        ElementBound(4003).feed(b"*2\r\n$1\r\n0\r\n*100000000\r\n")


@pytest.mark.parametrize("cut", range(13, 24))
def test_an_array_header_cut_by_the_end_of_a_chunk_is_still_seen(cut: int) -> None:
    reply = b"*2\r\n$1\r\n0\r\n*100000000\r\n$1\r\nx\r\n"
    bound = ElementBound(4003)
    with pytest.raises(ReplyTooLarge):
        bound.feed(reply[:cut])
        bound.feed(reply[cut:])


def test_a_flood_of_small_elements_is_cut_once_it_passes_the_counting_point() -> None:
    bound = ElementBound(4003)
    bound.feed(b"*2\r\n$1\r\n0\r\n*4000\r\n")
    flood = b"*0\r\n" * 16384
    fed = 0
    with pytest.raises(ReplyTooLarge, match="more than 4003 elements"):
        for _ in range(1000):
            bound.feed(flood)
            fed += len(flood)
    assert fed <= ElementBound.COUNT_FROM


def test_the_byte_limit_counts_data_and_framing() -> None:
    assert ReplyBound(elements=3, data_bytes=1000).byte_limit == 1000 + 3 * 32 + 24
