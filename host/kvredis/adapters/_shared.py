"""What both keyvalue versions share: store, batch and the plain bucket methods."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kvredis._wit import Err
from kvredis.core import (
    AccessDenied,
    Bucket,
    BucketOpener,
    KeyValueError,
    LazyValue,
    NoSuchStore,
)

ErrorOf = Callable[[KeyValueError], Any]


def error_mapper(bindings: Any) -> ErrorOf:
    """Map core errors to the `error` variant of one generated bindings module."""
    no_such_store = bindings.ErrorNoSuchStore
    access_denied = bindings.ErrorAccessDenied
    other = bindings.ErrorOther

    def error_of(exc: KeyValueError) -> Any:
        if isinstance(exc, NoSuchStore):
            return no_such_store()
        if isinstance(exc, AccessDenied):
            return access_denied()
        return other(str(exc))

    return error_of


class BucketAdapter:
    """The `bucket` resource; list-keys differs per version and lives in subclasses."""

    __slots__ = ("core",)
    error_of: ErrorOf

    def __init__(self, core: Bucket) -> None:
        self.core = core

    def drop(self) -> None:
        """A bucket holds no connection of its own: nothing to release."""

    def get(self, key: str) -> bytes | None:
        try:
            return self.core.get(key)
        except KeyValueError as exc:
            raise Err(self.error_of(exc)) from None

    def set(self, key: str, value: LazyValue) -> None:
        try:
            self.core.set(key, value)
        except KeyValueError as exc:
            raise Err(self.error_of(exc)) from None

    def delete(self, key: str) -> None:
        try:
            self.core.delete(key)
        except KeyValueError as exc:
            raise Err(self.error_of(exc)) from None

    def exists(self, key: str) -> bool:
        try:
            return self.core.exists(key)
        except KeyValueError as exc:
            raise Err(self.error_of(exc)) from None


def core_bucket(bucket: object) -> Bucket:
    """The core bucket behind a bucket handle the bindings hand us (always one of ours)."""
    if not isinstance(bucket, BucketAdapter):
        raise TypeError(f"not a kvredis bucket: {bucket!r}")
    return bucket.core


class StoreAdapter:
    """The `store` interface: `open`."""

    def __init__(self, core: BucketOpener, bucket_class: type[BucketAdapter]) -> None:
        self._core = core
        self._bucket_class = bucket_class

    def open(self, identifier: str) -> Any:
        try:
            return self._bucket_class(self._core.open(identifier))
        except KeyValueError as exc:
            raise Err(self._bucket_class.error_of(exc)) from None


class BatchAdapter:
    """The `batch` interface, identical in both versions."""

    def __init__(self, error_of: ErrorOf) -> None:
        self._error_of = error_of

    def get_many(self, bucket: object, keys: list[str]) -> list[tuple[str, bytes] | None]:
        try:
            values = core_bucket(bucket).get_many(keys)
        except KeyValueError as exc:
            raise Err(self._error_of(exc)) from None
        return [None if v is None else (k, v) for k, v in zip(keys, values, strict=True)]

    def set_many(self, bucket: object, key_values: list[tuple[str, bytes]]) -> None:
        try:
            core_bucket(bucket).set_many(key_values)
        except KeyValueError as exc:
            raise Err(self._error_of(exc)) from None

    def delete_many(self, bucket: object, keys: list[str]) -> None:
        try:
            core_bucket(bucket).delete_many(keys)
        except KeyValueError as exc:
            raise Err(self._error_of(exc)) from None
