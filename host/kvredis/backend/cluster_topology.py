"""Which node of a Redis Cluster serves which slot, read from CLUSTER SLOTS: pure logic.

A `Topology` is immutable: a refresh or a redirection makes a new one, which threads pick up
by reference. Its primaries are ordered by the first slot each serves, so two readings of
the same layout number them alike, and its `fingerprint` (of the slot ranges and the address
of each range's primary) changes with any failover or resharding.
"""

from __future__ import annotations

import hashlib
import itertools
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kvredis.backend.hashslots import SLOTS

Address = tuple[str, int]
_NO_OWNER = 0xFFFF  # a slot no primary serves (array 'H' holds no None)


@dataclass(frozen=True)
class Topology:
    """Slot ranges and their nodes. Build one with `from_cluster_slots` or `from_ranges`."""

    ranges: tuple[tuple[int, int, Address], ...]  # (first slot, last slot, primary), in order
    replicas: dict[Address, tuple[Address, ...]] = field(default_factory=dict)
    primaries: tuple[Address, ...] = field(init=False)
    fingerprint: bytes = field(init=False)
    _owner: array[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        primaries: list[Address] = []
        index: dict[Address, int] = {}
        owner = array("H", [_NO_OWNER]) * SLOTS
        for first, last, node in self.ranges:
            if node not in index:
                index[node] = len(primaries)
                primaries.append(node)
            owner[first : last + 1] = array("H", [index[node]]) * (last - first + 1)
        digest = hashlib.blake2b(repr(self.ranges).encode(), digest_size=16).digest()
        object.__setattr__(self, "primaries", tuple(primaries))
        object.__setattr__(self, "fingerprint", digest)
        object.__setattr__(self, "_owner", owner)

    @classmethod
    def from_ranges(
        cls,
        ranges: Iterable[tuple[int, int, Address]],
        replicas: dict[Address, tuple[Address, ...]] | None = None,
    ) -> Topology:
        """The canonical topology of these ranges: sorted, and adjacent ranges of the same
        primary merged, so a layout has one form however it was described."""
        merged: list[tuple[int, int, Address]] = []
        for first, last, node in sorted(ranges):
            if merged and merged[-1][2] == node and merged[-1][1] + 1 == first:
                merged[-1] = (merged[-1][0], last, node)
            else:
                merged.append((first, last, node))
        return cls(tuple(merged), dict(replicas or {}))

    @classmethod
    def from_cluster_slots(cls, reply: Sequence[Any], asked: Address) -> Topology:
        """Read a raw RESP2 CLUSTER SLOTS reply from the node at `asked` (a node that does
        not know its own address announces it as an empty host). ValueError if the reply
        is not one."""
        ranges = []
        replicas: dict[Address, tuple[Address, ...]] = {}
        try:
            for entry in reply:
                first, last = int(entry[0]), int(entry[1])
                if not 0 <= first <= last < SLOTS:
                    raise ValueError(f"slot range {first}-{last}")
                nodes = [_address(node, asked[0]) for node in entry[2:]]
                if nodes[0] is None:
                    continue  # a primary whose endpoint is unknown ('?'): nobody to ask
                ranges.append((first, last, nodes[0]))
                known = tuple(node for node in nodes[1:] if node is not None)
                replicas[nodes[0]] = tuple(dict.fromkeys(replicas.get(nodes[0], ()) + known))
        except (TypeError, IndexError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a CLUSTER SLOTS reply ({exc})") from None
        _check_disjoint(ranges)
        return cls.from_ranges(ranges, replicas)

    @property
    def check(self) -> int:
        """Eight bits of the fingerprint, for cursors that have no room for more."""
        return self.fingerprint[0]

    @property
    def covered(self) -> int:
        """How many slots some primary serves."""
        return sum(last - first + 1 for first, last, _ in self.ranges)

    def node_for(self, slot: int) -> Address | None:
        """The primary that serves `slot`, or None if none does."""
        index = self._owner[slot]
        return None if index == _NO_OWNER else self.primaries[index]

    def moved(self, slot: int, node: Address) -> Topology:
        """This topology after a MOVED: `slot` is served by `node` now."""
        owner = [self.node_for(s) for s in range(SLOTS)]
        owner[slot] = node
        ranges = []
        first = 0
        for served_by, run in itertools.groupby(owner):
            size = len(list(run))
            if served_by is not None:
                ranges.append((first, first + size - 1, served_by))
            first += size
        return Topology.from_ranges(ranges, self.replicas)

    def nodes(self) -> list[Address]:
        """Every node it names: primaries first, then replicas."""
        found = dict.fromkeys(self.primaries)
        for replicas in self.replicas.values():
            found.update(dict.fromkeys(replicas))
        return list(found)


def _address(node: Sequence[Any], asked_host: str) -> Address | None:
    host = node[0].decode() if isinstance(node[0], bytes) else str(node[0])
    if host == "?":
        return None
    return (host or asked_host, int(node[1]))


def _check_disjoint(ranges: list[tuple[int, int, Address]]) -> None:
    ranges = sorted(ranges)
    for (_, last, node), (first, _, other) in itertools.pairwise(ranges):
        if first <= last:
            raise ValueError(f"slot {first} is served by both {node} and {other}")
