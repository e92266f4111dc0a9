"""Redis Cluster hash slots of keys and of SCAN patterns: pure logic, no server.

A key's slot is redis-py's `key_slot` (CRC16 of the key, or of its hash tag: what lies between
its first `{` and the first `}` after it, when that is not empty). A batch is sent per slot,
since a multi-key command must not span slots; a SCAN pattern whose literal start holds a
whole hash tag matches keys of one slot only, so one node holds them all.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

__all__ = ["SLOTS", "group_by_slot", "key_slot", "pattern_slot"]

SLOTS = REDIS_CLUSTER_HASH_SLOTS
_GLOB_SPECIAL = frozenset(b"*?[")
_ESCAPE = ord("\\")


def group_by_slot(keys: Sequence[bytes]) -> dict[int, list[int]]:
    """The positions of `keys`, per slot, in their order (duplicates included)."""
    groups: dict[int, list[int]] = {}
    for position, key in enumerate(keys):
        groups.setdefault(key_slot(key), []).append(position)
    return groups


def literal_start(pattern: bytes) -> bytes:
    """The part of a glob pattern every match begins with, escapes removed."""
    literal = bytearray()
    escaped = False
    for byte in pattern:
        if escaped:
            literal.append(byte)
            escaped = False
        elif byte == _ESCAPE:
            escaped = True
        elif byte in _GLOB_SPECIAL:
            break
        else:
            literal.append(byte)
    return bytes(literal)


def pattern_slot(pattern: bytes | None) -> int | None:
    """The one slot of every key that matches `pattern`, or None if keys of several slots may.

    Every match begins with the pattern's literal start; when that start holds a `{` and,
    after it, a `}` with something in between, the hash tag of every match is that text.
    """
    if pattern is None:
        return None
    literal = literal_start(pattern)
    start = literal.find(b"{")
    if start < 0:
        return None
    end = literal.find(b"}", start + 1)
    if end < 0 or end == start + 1:
        return None
    return key_slot(literal)
