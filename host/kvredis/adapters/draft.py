"""wasi:keyvalue@0.2.0-draft: u64 cursors and unsigned increments."""

from __future__ import annotations

from kvredis._wit import Err
from kvredis.adapters._shared import (
    BatchAdapter,
    BucketAdapter,
    StoreAdapter,
    core_bucket,
    error_mapper,
)
from kvredis.bindings import keyvalue_draft as wit
from kvredis.core import S64_MAX, BucketOpener, KeyValueError

PACKAGE = wit.PACKAGE
error_of = error_mapper(wit)


class DraftBucket(BucketAdapter):
    __slots__ = ()
    error_of = staticmethod(error_of)

    def list_keys(self, cursor: int | None) -> wit.KeyResponse:
        try:
            keys, next_cursor = self.core.list_keys(cursor)
        except KeyValueError as exc:
            raise Err(error_of(exc)) from None
        return wit.KeyResponse(keys, next_cursor)


class DraftAtomics:
    def increment(self, bucket: object, key: str, delta: int) -> int:
        if delta > S64_MAX:
            raise Err(wit.ErrorOther(f"delta {delta} is above the Redis counter range"))
        try:
            return core_bucket(bucket).increment(key, delta, non_negative=True)
        except KeyValueError as exc:
            raise Err(error_of(exc)) from None


class DraftScope(wit.Tables):
    """What one instance's draft imports work with: handle tables, and hosts over `core`."""

    def __init__(self, core: BucketOpener) -> None:
        super().__init__()
        self.keyvalue_store = StoreAdapter(core, DraftBucket)
        self.keyvalue_atomics = DraftAtomics()
        self.keyvalue_batch = BatchAdapter(error_of)


def new_scope(core: BucketOpener) -> wit.Scope:
    """A scope for one instance, typed as the bindings want it (so mypy checks the fit)."""
    return DraftScope(core)
