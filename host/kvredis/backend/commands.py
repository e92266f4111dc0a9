"""The single-key commands both Redis backends send, and how their replies are read.

A standalone server and a cluster differ only in where a command goes: `KeyCommands` builds
each command and reads its reply, and asks the backend's `_execute` to deliver it (to the one
server, or to the node that owns the key's slot). Increment and compare-and-set are Lua
scripts on one key, which a cluster runs on that key's node like any other command.
"""

from __future__ import annotations

import hashlib
from typing import Any

from redis.exceptions import NoScriptError

from kvredis.backend.pool import ServerReplyError
from kvredis.backend.reply import ReplyBound

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


class Script:
    def __init__(self, source: bytes) -> None:
        self.source = source
        self.sha = hashlib.sha1(source).hexdigest().encode()


INCREMENT_NON_NEGATIVE = Script(_INCREMENT_NON_NEGATIVE)
COMPARE_AND_SET = Script(_COMPARE_AND_SET)


def scan_bound(count: int) -> ReplyBound:
    """What one SCAN page may hold: somewhat more keys than COUNT asks for, never several
    times more."""
    return ReplyBound(4 * count + 3, KEY_PAGE_BYTES)


def scan_command(cursor: int, match: bytes | None, count: int) -> list[Any]:
    args: list[Any] = [b"SCAN", cursor]
    if match is not None:
        args += [b"MATCH", match]
    return [*args, b"COUNT", count]


def many_values_bound(keys: int, max_value_bytes: int) -> ReplyBound:
    """What an MGET of `keys` keys may answer."""
    return ReplyBound(keys + 1, keys * max_value_bytes)


class KeyCommands:
    """get, set, delete, exists, increment and compare-and-set over `_execute`."""

    def _execute(
        self,
        key: bytes,
        *args: bytes | str | int,
        idempotent: bool,
        what: str,
        bound: ReplyBound | None = None,
        write: bool = False,
    ) -> Any:
        """Send one command about `key` (`args`) where it belongs; its raw reply, or
        `BackendError`. `write` marks a write (for `wait_replicas`)."""
        raise NotImplementedError

    def get(self, key: bytes) -> bytes | None:
        reply: bytes | None = self._execute(key, b"GET", key, idempotent=True, what="get")
        return reply

    def set(self, key: bytes, value: bytes) -> None:
        self._execute(key, b"SET", key, value, idempotent=True, what="set", write=True)

    def delete(self, key: bytes) -> None:
        self._execute(key, b"DEL", key, idempotent=True, what="delete", write=True)

    def exists(self, key: bytes) -> bool:
        return bool(self._execute(key, b"EXISTS", key, idempotent=True, what="exists"))

    def increment(self, key: bytes, delta: int, *, floor: int | None = None) -> int:
        if floor is None:
            reply = self._execute(
                key, b"INCRBY", key, delta, idempotent=False, what="increment", write=True
            )
            return int(reply)
        if floor != 0 or delta < 0:
            raise ValueError("only a floor of zero with a non-negative delta is supported")
        reply = self._script(INCREMENT_NON_NEGATIVE, key, [str(delta).encode()], "increment")
        return int(reply)

    def compare_and_set(
        self, key: bytes, expected: bytes | None, value: bytes
    ) -> tuple[bool, bytes | None]:
        flag = b"0" if expected is None else b"1"
        reply = self._script(COMPARE_AND_SET, key, [flag, expected or b"", value], "swap")
        if reply == 1:
            return True, value
        return False, (reply[0] if reply else None)

    def _script(self, script: Script, key: bytes, args: list[bytes], what: str) -> Any:
        try:
            return self._execute(
                key, b"EVALSHA", script.sha, 1, key, *args, idempotent=False, what=what, write=True
            )
        except ServerReplyError as exc:
            if not isinstance(exc.reply, NoScriptError):
                raise
        # The server did not know the script, so nothing ran: sending the source is safe.
        return self._execute(
            key, b"EVAL", script.source, 1, key, *args, idempotent=False, what=what, write=True
        )
