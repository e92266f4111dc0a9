"""wasi:keyvalue@0.2.0-draft2: string cursors, signed increments and compare-and-swap."""

from __future__ import annotations

from kvredis._wit import Err
from kvredis.adapters._shared import (
    BatchAdapter,
    BucketAdapter,
    StoreAdapter,
    core_bucket,
    error_mapper,
)
from kvredis.bindings import keyvalue_draft2 as wit
from kvredis.core import BucketOpener, CasConflict, CasHandle, KeyValueError, LazyValue

PACKAGE = wit.PACKAGE
error_of = error_mapper(wit)
_MAX_CURSOR = 2**64 - 1


def parse_cursor(cursor: str | None) -> int | None:
    """Cursors are the decimal SCAN cursor; anything else is a guest error (`other`)."""
    if cursor is None:
        return None
    # A u64 has at most 20 digits; the length check also keeps int() off huge strings.
    if (
        not cursor.isascii()
        or not cursor.isdigit()
        or len(cursor) > 20
        or int(cursor) > _MAX_CURSOR
    ):
        raise Err(wit.ErrorOther(f"malformed list-keys cursor {cursor[:64]!r}"))
    return int(cursor)


class Draft2Bucket(BucketAdapter):
    __slots__ = ()
    error_of = staticmethod(error_of)

    def list_keys(self, cursor: str | None) -> wit.KeyResponse:
        try:
            keys, next_cursor = self.core.list_keys(parse_cursor(cursor))
        except KeyValueError as exc:
            raise Err(error_of(exc)) from None
        return wit.KeyResponse(keys, None if next_cursor is None else str(next_cursor))


class Draft2Cas:
    """The `cas` resource: a snapshot, no connection."""

    __slots__ = ("handle",)

    def __init__(self, handle: CasHandle) -> None:
        self.handle = handle

    def current(self) -> bytes | None:
        return self.handle.current()

    def drop(self) -> None:
        """A snapshot pins nothing on the server: nothing to release."""


class Draft2Atomics:
    def increment(self, bucket: object, key: str, delta: int) -> int:
        try:
            return core_bucket(bucket).increment(key, delta)
        except KeyValueError as exc:
            raise Err(error_of(exc)) from None

    def cas_new(self, bucket: object, key: str) -> Draft2Cas:
        try:
            return Draft2Cas(core_bucket(bucket).cas(key))
        except KeyValueError as exc:
            raise Err(error_of(exc)) from None

    def swap(self, cas: object, value: LazyValue) -> None:
        if not isinstance(cas, Draft2Cas):
            raise TypeError(f"not a kvredis cas handle: {cas!r}")
        handle = cas.handle
        try:
            handle.bucket.swap(handle, value)
        except CasConflict as conflict:
            raise Err(wit.CasErrorCasFailed(Draft2Cas(conflict.latest))) from None
        except KeyValueError as exc:
            raise Err(wit.CasErrorStoreError(error_of(exc))) from None


class Draft2Scope(wit.Tables):
    """What one instance's draft2 imports work with: handle tables, and hosts over `core`."""

    def __init__(self, core: BucketOpener) -> None:
        super().__init__()
        self.keyvalue_store = StoreAdapter(core, Draft2Bucket)
        self.keyvalue_atomics = Draft2Atomics()
        self.keyvalue_batch = BatchAdapter(error_of)


def new_scope(core: BucketOpener) -> wit.Scope:
    """A scope for one instance, typed as the bindings want it (so mypy checks the fit)."""
    return Draft2Scope(core)
