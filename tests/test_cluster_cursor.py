"""list-keys cursors of a Redis Cluster (kvredis.backend.cluster_cursor): which primary, where
in its SCAN, and a check of the layout, in one u64. Pure logic, no server."""

from __future__ import annotations

import pytest

from kvredis.backend.cluster_cursor import (
    MAX_NODES,
    MAX_POSITION,
    CursorError,
    decode,
    encode,
)


@pytest.mark.parametrize(
    ("check", "node", "position"),
    [(0, 1, 0), (0xAB, 0, 1), (0xFF, MAX_NODES - 1, MAX_POSITION), (7, 2, 15834)],
)
def test_a_cursor_carries_its_check_node_and_position(check: int, node: int, position: int) -> None:
    cursor = encode(check, node, position)
    assert decode(cursor) == (check, node, position)
    assert 0 <= cursor < 2**64  # fits draft's u64, and draft2's decimal string of one


def test_the_start_of_a_later_node_is_never_the_end_of_the_listing() -> None:
    # 0 means "done"; the first page of node 1 onwards must not look like it.
    assert encode(0, 1, 0) != 0
    assert decode(0) == (0, 0, 0)


def test_only_eight_bits_of_the_check_are_kept() -> None:
    assert decode(encode(0x1AB, 3, 5))[0] == 0xAB


@pytest.mark.parametrize(
    ("node", "position", "says"),
    [
        (MAX_NODES, 0, f"more than {MAX_NODES} primaries"),
        (-1, 0, "primaries"),
        (0, MAX_POSITION + 1, "above what list-keys cursors carry"),
    ],
)
def test_what_a_cursor_cannot_carry_is_refused(node: int, position: int, says: str) -> None:
    with pytest.raises(CursorError, match=says):
        encode(0, node, position)


@pytest.mark.parametrize("cursor", [-1, 2**64])
def test_a_cursor_outside_u64_is_malformed(cursor: int) -> None:
    with pytest.raises(CursorError, match="malformed"):
        decode(cursor)
