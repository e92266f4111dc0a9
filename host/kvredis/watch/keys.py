"""From a Redis key that changed back to the (bucket, key) pairs a watcher asked for.

The host's `KeyLayout` decides: a key belongs to a watched bucket when it starts with that
bucket's prefix, and the rest is the key the guest sees. Keys of other buckets, of other
prefixes, and keys that are not UTF-8 (no guest could have named them) match nothing. Under
a layout that ignores the bucket (`''`, or a template without `{bucket}`), one Redis key is
the same key of every bucket, so each watched bucket whose spec matches gets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kvredis.layout import KeyLayout
from kvredis.watch.specs import Op, WatchSpec


@dataclass(frozen=True)
class Change:
    """One change a watcher is told about."""

    op: Op
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"{self.op.value} {self.bucket}/{self.key}"


class KeyMap:
    def __init__(self, layout: KeyLayout, specs: Sequence[WatchSpec]) -> None:
        self._specs = tuple(specs)
        buckets = dict.fromkeys(spec.bucket for spec in specs)
        self._prefixes = tuple((bucket, layout.prefix(bucket)) for bucket in buckets)

    @property
    def ops(self) -> frozenset[Op]:
        return frozenset(spec.op for spec in self._specs)

    def changes(self, op: Op, redis_key: bytes) -> list[Change]:
        """The watched changes that `op` on `redis_key` makes (none for an unwatched key)."""
        found = []
        for bucket, prefix in self._prefixes:
            if not redis_key.startswith(prefix):
                continue
            try:
                key = redis_key[len(prefix) :].decode()
            except UnicodeDecodeError:
                continue
            if any(spec.matches(op, bucket, key) for spec in self._specs):
                found.append(Change(op, bucket, key))
        return found
