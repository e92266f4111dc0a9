"""The backend protocol: raw Redis keys and values in, plain Python out."""

from __future__ import annotations

from typing import Protocol, TypeVar


class BackendError(Exception):
    """The server could not do what was asked; the message is safe to show (no credentials).

    `reason` says why without naming the operation or the server, for messages that name
    them already.
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class Backend(Protocol):
    """Commands the keyvalue core needs, on raw Redis keys.

    Every method either succeeds or raises `BackendError` within the backend's time budget.
    """

    @property
    def display_url(self) -> str:
        """The server's URL with credentials redacted."""
        ...

    def ping(self) -> None: ...

    def get(self, key: bytes) -> bytes | None: ...

    def set(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...

    def exists(self, key: bytes) -> bool: ...

    def scan(self, cursor: int, match: bytes | None, count: int) -> tuple[int, list[bytes]]:
        """One SCAN page: (next cursor, 0 when done; keys)."""
        ...

    def increment(self, key: bytes, delta: int, *, floor: int | None = None) -> int:
        """INCRBY; with `floor`, refuse (without writing) a result below it."""
        ...

    def get_many(self, keys: list[bytes]) -> list[bytes | None]: ...

    def set_many(self, items: list[tuple[bytes, bytes]]) -> None: ...

    def delete_many(self, keys: list[bytes]) -> None: ...

    def compare_and_set(
        self, key: bytes, expected: bytes | None, value: bytes
    ) -> tuple[bool, bytes | None]:
        """Atomically set `key` to `value` if it still holds `expected` (None: absent).

        Returns (True, value) on success, else (False, the value the key holds now).
        """
        ...

    def close(self) -> None: ...


B = TypeVar("B", bound=Backend)


def pinged(backend: B) -> B:
    """`backend`, checked with a round trip so a wrong URL fails here, not mid-guest; closed
    when the check fails."""
    try:
        backend.ping()
    except BackendError:
        backend.close()
        raise
    return backend
