"""A backend that does nothing: the baseline for measuring the host's own cost per call.

Reads answer as if every key held `value` (None: as if no key existed); writes vanish.
"""

from __future__ import annotations


class NullBackend:
    def __init__(self, value: bytes | None = b"") -> None:
        self._value = value

    @property
    def display_url(self) -> str:
        return "null://"

    def ping(self) -> None:
        return None

    def get(self, key: bytes) -> bytes | None:
        return self._value

    def set(self, key: bytes, value: bytes) -> None:
        return None

    def delete(self, key: bytes) -> None:
        return None

    def exists(self, key: bytes) -> bool:
        return self._value is not None

    def scan(self, cursor: int, match: bytes | None, count: int) -> tuple[int, list[bytes]]:
        return 0, []

    def increment(self, key: bytes, delta: int, *, floor: int | None = None) -> int:
        return delta

    def get_many(self, keys: list[bytes]) -> list[bytes | None]:
        return [self._value] * len(keys)

    def set_many(self, items: list[tuple[bytes, bytes]]) -> None:
        return None

    def delete_many(self, keys: list[bytes]) -> None:
        return None

    def compare_and_set(
        self, key: bytes, expected: bytes | None, value: bytes
    ) -> tuple[bool, bytes | None]:
        return True, value

    def close(self) -> None:
        return None
