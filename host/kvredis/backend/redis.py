"""A standalone Redis (or Valkey) server: one round trip per operation and per batch."""

from __future__ import annotations

import hashlib
from typing import Any

from redis.exceptions import NoScriptError

from kvredis.backend.base import BackendError
from kvredis.backend.pool import ConnectionPool, ServerReplyError
from kvredis.backend.reply import ReplyBound
from kvredis.backend.settings import ConnectionSettings

# Draft increments must never go below zero. The check and the write happen in one script so a
# refused increment writes nothing; the result is read back with GET because Lua numbers are
# doubles and would round counters above 2^53.
_INCREMENT_NON_NEGATIVE = b"""
local delta = ARGV[1]
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, 1) == '-' then
  local magnitude = string.sub(current, 2)
  if #magnitude > #delta or (#magnitude == #delta and magnitude > delta) then
    return redis.error_reply('RANGE the counter would go below zero')
  end
end
redis.call('INCRBY', KEYS[1], delta)
return redis.call('GET', KEYS[1])
"""

# Compare-and-set: write only if the key still holds the snapshot (absent counts as a value).
# On a mismatch, answer with the current value so the caller's next handle needs no GET.
_COMPARE_AND_SET = b"""
local current = redis.call('GET', KEYS[1])
local matches
if ARGV[1] == '0' then matches = (current == false) else matches = (current == ARGV[2]) end
if matches then
  redis.call('SET', KEYS[1], ARGV[3])
  return 1
end
if current then return {current} end
return {}
"""


# The most a page of keys may hold, whatever the value limit: keys are no values, and a
# page of them is never near this.
KEY_PAGE_BYTES = 64 * 1024 * 1024


class _Script:
    def __init__(self, source: bytes) -> None:
        self.source = source
        self.sha = hashlib.sha1(source).hexdigest().encode()


INCREMENT_NON_NEGATIVE = _Script(_INCREMENT_NON_NEGATIVE)
COMPARE_AND_SET = _Script(_COMPARE_AND_SET)


class RedisBackend:
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

    def ping(self) -> None:
        self._run(b"PING", idempotent=True, what="PING")

    def get(self, key: bytes) -> bytes | None:
        reply: bytes | None = self._run(b"GET", key, idempotent=True, what="get")
        return reply

    def set(self, key: bytes, value: bytes) -> None:
        self._run(b"SET", key, value, idempotent=True, what="set")

    def delete(self, key: bytes) -> None:
        self._run(b"DEL", key, idempotent=True, what="delete")

    def exists(self, key: bytes) -> bool:
        return bool(self._run(b"EXISTS", key, idempotent=True, what="exists"))

    def scan(self, cursor: int, match: bytes | None, count: int) -> tuple[int, list[bytes]]:
        args: list[Any] = [b"SCAN", cursor]
        if match is not None:
            args += [b"MATCH", match]
        args += [b"COUNT", count]
        # SCAN may give somewhat more keys than COUNT asks for; never several times more.
        bound = ReplyBound(4 * count + 3, KEY_PAGE_BYTES)
        next_cursor, keys = self._run(*args, idempotent=True, what="list-keys", bound=bound)
        return int(next_cursor), list(keys)

    def increment(self, key: bytes, delta: int, *, floor: int | None = None) -> int:
        if floor is None:
            return int(self._run(b"INCRBY", key, delta, idempotent=False, what="increment"))
        if floor != 0 or delta < 0:
            raise ValueError("only a floor of zero with a non-negative delta is supported")
        reply = self._script(INCREMENT_NON_NEGATIVE, [key], [str(delta).encode()], "increment")
        return int(reply)

    def get_many(self, keys: list[bytes]) -> list[bytes | None]:
        if not keys:
            return []
        bound = ReplyBound(len(keys) + 1, len(keys) * self._pool.max_value_bytes)
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
        self._run(b"MSET", *flat, idempotent=True, what="set-many")

    def delete_many(self, keys: list[bytes]) -> None:
        if keys:
            self._run(b"DEL", *keys, idempotent=True, what="delete-many")

    def compare_and_set(
        self, key: bytes, expected: bytes | None, value: bytes
    ) -> tuple[bool, bytes | None]:
        flag = b"0" if expected is None else b"1"
        reply = self._script(COMPARE_AND_SET, [key], [flag, expected or b"", value], "swap")
        if reply == 1:
            return True, value
        return False, (reply[0] if reply else None)

    def _script(self, script: _Script, keys: list[bytes], args: list[bytes], what: str) -> Any:
        try:
            return self._run(
                b"EVALSHA", script.sha, len(keys), *keys, *args, idempotent=False, what=what
            )
        except ServerReplyError as exc:
            if not isinstance(exc.reply, NoScriptError):
                raise
        # The server did not know the script, so nothing ran: sending the source is safe.
        return self._run(
            b"EVAL", script.source, len(keys), *keys, *args, idempotent=False, what=what
        )


def connect(
    url: str,
    settings: ConnectionSettings | None = None,
    *,
    max_value_bytes: int,
) -> RedisBackend:
    """A backend for `url`, checked with a PING so a wrong URL fails here, not mid-guest."""
    backend = RedisBackend(url, settings, max_value_bytes=max_value_bytes)
    try:
        backend.ping()
    except BackendError:
        backend.close()
        raise
    return backend
