"""Keyspace notifications: which ones watching needs, and checking (or setting) a server's
`notify-keyspace-events` so that it sends them.

Watching listens on keyevent channels (`__keyevent@DB__:set`...), one message per change
naming the key, so it needs `E`, plus `$` (string commands) to see SETs and `g` (generic
commands) to see DELs. `A` stands for every class, `$` and `g` included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import redis

from kvredis.errors import ConfigError
from kvredis.watch.specs import Op

log = logging.getLogger("kvredis")

SETTING = "notify-keyspace-events"
# The events that change a key's value (SET, MSET, a CAS swap, an increment...) and the
# one that removes it (DEL, UNLINK). Expiry and eviction are not deletes a guest made.
EVENTS: dict[str, Op] = {
    "set": Op.SET,
    "incrby": Op.SET,
    "incrbyfloat": Op.SET,
    "append": Op.SET,
    "setrange": Op.SET,
    "del": Op.DEL,
}
_CLASS_OF = {Op.SET: "$", Op.DEL: "g"}
_ALL_CLASSES = "A"


class NotificationsOff(ConfigError):
    """The server does not send the notifications watching needs."""


def needed_flags(ops: Iterable[Op]) -> str:
    """The flags `ops` need, in the order Redis documents them: `E$g`, `E$` or `Eg`."""
    wanted = set(ops)
    return "E" + "".join(_CLASS_OF[op] for op in (Op.SET, Op.DEL) if op in wanted)


def missing_flags(current: str, ops: Iterable[Op]) -> str:
    """The flags of `needed_flags(ops)` that `current` (the setting's value) lacks."""
    has_all = _ALL_CLASSES in current
    return "".join(
        flag for flag in needed_flags(ops) if flag not in current and not (has_all and flag in "$g")
    )


def channels(db: int, ops: Iterable[Op]) -> list[str]:
    wanted = set(ops)
    return [f"__keyevent@{db}__:{event}" for event, op in EVENTS.items() if op in wanted]


def ensure(client: redis.Redis, ops: Iterable[Op], where: str, *, configure: bool) -> None:
    """Check the server's setting; with `configure`, add what it lacks. Raises
    `NotificationsOff` saying what to set; a server that will not show its configuration
    (CONFIG renamed, as managed services do) is trusted, with a warning."""
    ops = frozenset(ops)
    try:
        reply: Any = client.config_get(SETTING)
    except redis.ResponseError as exc:
        log.warning(
            "cannot check %s on %s (%s); watching needs it to include %s",
            SETTING,
            where,
            exc,
            needed_flags(ops),
        )
        return
    current = str(reply.get(SETTING) or "")  # redis-py gives CONFIG GET as text
    missing = missing_flags(current, ops)
    if not missing:
        return
    if not configure:
        raise NotificationsOff(
            f"{where} does not send the keyspace notifications watching needs: "
            f"{SETTING} is {current!r} and must include {needed_flags(ops)} "
            f"(CONFIG SET {SETTING} {current + missing}); or pass --configure-notifications "
            "(configure_notifications=True) to let kvredis set it"
        )
    try:
        client.config_set(SETTING, current + missing)
    except redis.ResponseError as exc:
        raise NotificationsOff(
            f"{where}: cannot set {SETTING} to {current + missing!r}: {exc}"
        ) from None
    log.info("set %s to %r on %s", SETTING, current + missing, where)
