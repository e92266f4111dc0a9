"""A standalone Redis (or Valkey) server: one round trip per operation and per batch."""

from __future__ import annotations

from typing import Any

from kvredis.backend.base import BackendError, pinged
from kvredis.backend.commands import (
    KeyCommands,
    many_values_bound,
    scan_bound,
    scan_command,
)
from kvredis.backend.pool import ConnectionPool
from kvredis.backend.settings import ConnectionSettings


class RedisBackend(KeyCommands):
    """The Redis layer for one standalone server (or one database of it).

    `max_value_bytes` is the largest value a guest may read: a reply holding a bigger one is
    cut without being read to its end.
    """

    def __init__(
        self,
        url: str,
        settings: ConnectionSettings | None = None,
        *,
        max_value_bytes: int,
    ) -> None:
        self._pool = ConnectionPool(
            url, settings or ConnectionSettings(), max_value_bytes=max_value_bytes
        )
        self._run = self._pool.execute

    @property
    def display_url(self) -> str:
        return self._pool.display_url

    def close(self) -> None:
        self._pool.close()

    def _execute(self, key: bytes, *args: bytes | str | int, **options: Any) -> Any:
        return self._run(*args, **options)  # one server holds every key

    def ping(self) -> None:
        self._run(b"PING", idempotent=True, what="PING")

    def info(self, section: bytes) -> bytes:
        """One section of INFO, as the server wrote it."""
        reply: bytes = self._run(b"INFO", section, idempotent=True, what="INFO")
        return reply

    def scan(self, cursor: int, match: bytes | None, count: int) -> tuple[int, list[bytes]]:
        command = scan_command(cursor, match, count)
        bound = scan_bound(count)
        next_cursor, keys = self._run(*command, idempotent=True, what="list-keys", bound=bound)
        return int(next_cursor), list(keys)

    def get_many(self, keys: list[bytes]) -> list[bytes | None]:
        if not keys:
            return []
        bound = many_values_bound(len(keys), self._pool.max_value_bytes)
        values = self._run(b"MGET", *keys, idempotent=True, what="get-many", bound=bound)
        if len(values) != len(keys):
            raise BackendError(
                f"get-many: unexpected answer from {self.display_url} ({len(values)} values "
                f"for {len(keys)} keys)"
            )
        return list(values)

    def set_many(self, items: list[tuple[bytes, bytes]]) -> None:
        if not items:
            return
        flat: list[bytes] = [part for item in items for part in item]
        self._run(b"MSET", *flat, idempotent=True, what="set-many", write=True)

    def delete_many(self, keys: list[bytes]) -> None:
        if keys:
            self._run(b"DEL", *keys, idempotent=True, what="delete-many", write=True)


def connect(
    url: str,
    settings: ConnectionSettings | None = None,
    *,
    max_value_bytes: int,
) -> RedisBackend:
    """A backend for `url`, checked with a PING so a wrong URL fails here, not mid-guest."""
    return pinged(RedisBackend(url, settings, max_value_bytes=max_value_bytes))
