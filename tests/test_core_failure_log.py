"""The keyvalue core logs each operation that fails in the backend (kvredis.core), at DEBUG
on the `kvredis` logger, redacted: pure logic over a stub backend, no server."""

from __future__ import annotations

import logging

import pytest

from kvredis.backend.base import BackendError
from kvredis.backend.null import NullBackend
from kvredis.core import KeyValueCore, StoreConfig, StoreFailure


class FailingBackend(NullBackend):
    """Every read and write fails, as a backend that leaks the password in its message."""

    def get(self, key: bytes) -> bytes | None:
        raise BackendError("get: Redis at redis://:hunter2@db:6379 is unavailable (refused)")

    def set_many(self, items: list[tuple[bytes, bytes]]) -> None:
        raise BackendError("set-many failed: OOM command not allowed")


def test_a_failed_operation_is_logged_with_its_bucket_and_the_guests_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bucket = KeyValueCore(StoreConfig(), FailingBackend()).open("orders")
    with caplog.at_level(logging.DEBUG, logger="kvredis"), pytest.raises(StoreFailure) as failed:
        bucket.set_many([("k", b"v")])
    assert str(failed.value) == "set-many failed: OOM command not allowed"
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            "kvredis",
            logging.DEBUG,
            "set-many in bucket 'orders' failed; the guest gets: "
            "set-many failed: OOM command not allowed",
        )
    ]


def test_the_log_line_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    bucket = KeyValueCore(StoreConfig(), FailingBackend()).open("b")
    with caplog.at_level(logging.DEBUG, logger="kvredis"), pytest.raises(StoreFailure):
        bucket.get("k")
    assert "hunter2" not in caplog.text
    assert "get in bucket 'b' failed; the guest gets: get: Redis at redis://:***@db:6379" in (
        caplog.text
    )


def test_nothing_is_logged_when_operations_succeed(caplog: pytest.LogCaptureFixture) -> None:
    bucket = KeyValueCore(StoreConfig(), NullBackend()).open("b")
    with caplog.at_level(logging.DEBUG, logger="kvredis"):
        bucket.set("k", b"v")
        assert bucket.get("k") == b""
    assert caplog.records == []
