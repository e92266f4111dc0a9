"""Hash slots of keys and SCAN patterns (kvredis.backend.hashslots): how batches are split
and when a listing needs one node only. Pure logic, no server."""

from __future__ import annotations

import pytest

from kvredis.backend.hashslots import group_by_slot, key_slot, literal_start, pattern_slot
from kvredis.layout import KeyLayout, glob_escape


def test_slots_are_redis_cluster_slots() -> None:
    # Values from the Redis Cluster specification's CRC16 (XMODEM) of the key.
    assert key_slot(b"foo") == 12182
    assert key_slot(b"{user1000}.following") == key_slot(b"{user1000}.followers")
    # The spec's examples: an empty first tag means no tag; the tag ends at the first }.
    assert key_slot(b"foo{}{bar}") != key_slot(b"foo{}{bar}x")
    assert key_slot(b"foo{{bar}}zap") == key_slot(b"{bar")


def test_a_batch_is_grouped_per_slot_keeping_order_and_duplicates() -> None:
    keys = [b"{a}1", b"b", b"{a}2", b"b", b"{a}1"]
    groups = group_by_slot(keys)
    assert groups[key_slot(b"a")] == [0, 2, 4]
    assert groups[key_slot(b"b")] == [1, 3]
    assert sorted(p for positions in groups.values() for p in positions) == list(range(5))


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [(b"abc*", b"abc"), (b"a\\*b?c", b"a*b"), (b"x[yz]", b"x"), (b"plain", b"plain")],
)
def test_the_literal_start_of_a_pattern(pattern: bytes, literal: bytes) -> None:
    assert literal_start(pattern) == literal


@pytest.mark.parametrize(
    "pattern",
    [None, b"counter:*", b"{}:*", b"{b*}:x", b"a{b", b"*{tag}:", b"x?{tag}:"],
)
def test_patterns_of_several_slots_have_no_slot(pattern: bytes | None) -> None:
    assert pattern_slot(pattern) is None


def test_a_hash_tag_layout_lists_one_slot() -> None:
    layout = KeyLayout("{{bucket}}:")
    for bucket in ("counter", "g*", "[x]", "a:b", "a}b"):
        prefix = layout.prefix(bucket)
        slot = pattern_slot(glob_escape(prefix) + b"*")
        assert slot is not None, bucket
        assert all(key_slot(prefix + key) == slot for key in (b"", b"k", b"{other}", b"}"))
