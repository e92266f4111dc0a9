"""Where a (bucket, key) pair lives in Redis.

The prefix template (default ``{bucket}:``) is expanded once per bucket. The bucket part is
percent-encoded for ``%``, ``:`` and the separator the template puts right after it, so the
first separator after the bucket part always ends it, and two distinct (bucket, key) pairs
never map to the same Redis key: bucket ``p`` key ``q:r`` is ``p:q:r`` while bucket ``p:q``
key ``r`` is ``p%3Aq:r``. Plain names stay readable (``counter:hits``), so other Redis clients
can share the data.

A template without ``{bucket}`` puts every bucket in one namespace; the empty template is the
raw layout of wasmCloud's keyvalue-redis provider (keys as given, bucket ignored).

``{{bucket}}`` puts the bucket part in a Redis Cluster hash tag (``{counter}:hits``): every key
of a bucket then hashes to one slot, so its batches and listings go to one node, and that
node alone holds the bucket. ``{`` and ``}`` are escaped in the bucket part, so the tag is
always the whole bucket name (the empty bucket's tag is empty, which Redis ignores).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TEMPLATE = "{bucket}:"
BUCKET_FIELD = "{bucket}"
HASH_TAG_FIELD = "{{bucket}}"
_GLOB_SPECIAL = frozenset(b"*?[]\\")


class LayoutError(ValueError):
    pass


@dataclass(frozen=True)
class KeyLayout:
    template: str = DEFAULT_TEMPLATE

    def __post_init__(self) -> None:
        if self.template.count(BUCKET_FIELD) > 1:
            raise LayoutError(f"key prefix {self.template!r} names {BUCKET_FIELD} more than once")
        rest = self.template.replace(self.field, "")
        if "{" in rest or "}" in rest:
            raise LayoutError(
                f"key prefix {self.template!r}: the only placeholder is {BUCKET_FIELD} (or "
                f"{HASH_TAG_FIELD}, the bucket as a Redis Cluster hash tag)"
            )
        if self.template.endswith(BUCKET_FIELD) and not self.hash_tag:
            raise LayoutError(
                f"key prefix {self.template!r} needs a separator after {BUCKET_FIELD} "
                f"(for example '{self.template}:'), or buckets and keys could run together"
            )

    @property
    def hash_tag(self) -> bool:
        """Whether the bucket part is a hash tag (all of a bucket's keys on one slot)."""
        return HASH_TAG_FIELD in self.template

    @property
    def field(self) -> str:
        """The placeholder as the template writes it."""
        return HASH_TAG_FIELD if self.hash_tag else BUCKET_FIELD

    @property
    def uses_bucket(self) -> bool:
        return BUCKET_FIELD in self.template

    def _escaped(self) -> frozenset[str]:
        separator = self.template.split(self.field, 1)[1][:1]
        return frozenset("%:" + separator + ("{}" if self.hash_tag else ""))

    def encode_bucket(self, bucket: str) -> str:
        escaped = self._escaped()
        return "".join(f"%{ord(c):02X}" if c in escaped else c for c in bucket)

    def prefix(self, bucket: str) -> bytes:
        """The Redis key prefix of every key of `bucket`."""
        if not self.uses_bucket:
            return self.template.encode()
        encoded = self.encode_bucket(bucket)
        if self.hash_tag:
            return self.template.replace(HASH_TAG_FIELD, f"{{{encoded}}}").encode()
        return self.template.replace(BUCKET_FIELD, encoded).encode()


def glob_escape(raw: bytes) -> bytes:
    """Escape a literal for a Redis glob pattern (SCAN MATCH)."""
    return b"".join(b"\\" + bytes([c]) if c in _GLOB_SPECIAL else bytes([c]) for c in raw)
