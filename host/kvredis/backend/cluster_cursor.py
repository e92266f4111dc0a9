"""list-keys cursors of a Redis Cluster: which primary, where in its SCAN, and of which
topology, in one u64 (draft's cursor; draft2's string cursor is its decimal). Pure logic.

    bits 63-56  a check of the topology the listing began on (8 bits of its fingerprint)
    bits 55-48  the primary's index among the cluster's primaries (in slot order)
    bits 47-0   that primary's own SCAN cursor

A listing walks the primaries one after the other. A cursor whose check no longer matches the
cluster (a failover or resharding since) is refused rather than resumed on another node,
where its SCAN position means nothing; 8 bits catch such a change 255 times in 256.
"""

from __future__ import annotations

CHECK_BITS = 8
NODE_BITS = 8
POSITION_BITS = 48
MAX_NODES = 1 << NODE_BITS
MAX_POSITION = (1 << POSITION_BITS) - 1
_NODE_SHIFT = POSITION_BITS
_CHECK_SHIFT = POSITION_BITS + NODE_BITS
_MAX_CURSOR = (1 << (CHECK_BITS + NODE_BITS + POSITION_BITS)) - 1


class CursorError(ValueError):
    """A cursor that cannot be encoded or decoded; the message says why."""


def encode(check: int, node: int, position: int) -> int:
    """The cursor of `position` in the SCAN of primary `node`, under topology `check`."""
    if not 0 <= node < MAX_NODES:
        raise CursorError(
            f"a cluster of more than {MAX_NODES} primaries cannot be listed "
            f"(list-keys cursors address {MAX_NODES})"
        )
    if not 0 <= position <= MAX_POSITION:
        raise CursorError(f"a SCAN cursor of {position} is above what list-keys cursors carry")
    return (check & 0xFF) << _CHECK_SHIFT | node << _NODE_SHIFT | position


def decode(cursor: int) -> tuple[int, int, int]:
    """(check, node, position) of a cursor `encode` made."""
    if not 0 <= cursor <= _MAX_CURSOR:
        raise CursorError(f"malformed list-keys cursor {cursor}")
    return cursor >> _CHECK_SHIFT, (cursor >> _NODE_SHIFT) & (MAX_NODES - 1), cursor & MAX_POSITION
