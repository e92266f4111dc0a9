"""The hash-tag key layout (`--key-prefix '{{bucket}}:'`): a bucket's keys on one Redis
Cluster slot, with no two (bucket, key) pairs sharing a Redis key. Pure logic, no server."""

from __future__ import annotations

import pytest

from kvredis.backend.hashslots import key_slot
from kvredis.layout import KeyLayout

TAGGED = KeyLayout("{{bucket}}:")


def test_the_bucket_is_the_hash_tag() -> None:
    assert TAGGED.hash_tag and TAGGED.uses_bucket
    assert TAGGED.prefix("counter") + b"hits" == b"{counter}:hits"
    assert KeyLayout("app:{{bucket}}/").prefix("b") == b"app:{b}/"


@pytest.mark.parametrize("bucket", ["counter", "a}b", "{x}", "p:q", "50%", "g*"])
def test_every_key_of_a_bucket_has_one_slot(bucket: str) -> None:
    prefix = TAGGED.prefix(bucket)
    slots = {key_slot(prefix + key) for key in (b"", b"k", b"{other}", b"}{", b"x" * 300)}
    assert len(slots) == 1, (bucket, prefix)


def test_braces_in_a_bucket_name_are_escaped() -> None:
    assert TAGGED.prefix("a}b{c") == b"{a%7Db%7Bc}:"
