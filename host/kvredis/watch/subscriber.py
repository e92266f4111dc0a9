"""Keyspace notifications from one Redis server, on a connection of their own.

`Subscriber.start()` connects, checks (or sets) `notify-keyspace-events` and subscribes
before it returns, so a change made after it is seen; a thread then reads the messages and
hands each watched change to `deliver`, in the order the server sent them. When the
connection breaks (the server restarts, say), the thread reconnects by itself, checking the
setting again (a restarted server may have lost a `CONFIG SET`). Pub/sub is at-most-once:
what changes while there is no connection is never told.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.connection import parse_url
from redis.retry import Retry

from kvredis.backend.settings import ConnectionSettings
from kvredis.backend.urls import check_url, cluster_options, redact, redact_text
from kvredis.errors import RedisUnavailable
from kvredis.watch import notifications
from kvredis.watch.keys import Change, KeyMap

log = logging.getLogger("kvredis")

POLL_S = 0.2  # how often the reading thread looks up to see whether it should stop
RECONNECT_FIRST_S = 0.05
RECONNECT_MAX_S = 1.0  # while the server is away, it is tried again at least this often
_LOST = (redis.ConnectionError, redis.TimeoutError, OSError)


class Subscriber:
    def __init__(
        self,
        url: str,
        settings: ConnectionSettings,
        keymap: KeyMap,
        deliver: Callable[[Change], None],
        *,
        configure: bool = False,
    ) -> None:
        self.where = f"Redis at {redact(url)}"
        self._options = _client_options(url, settings)
        self._keymap = keymap
        self._deliver = deliver
        self._configure = configure
        db = int(self._options.get("db") or 0)
        self._channels = notifications.channels(db, keymap.ops)
        self._events = {
            f"__keyevent@{db}__:{event}".encode(): op for event, op in notifications.EVENTS.items()
        }
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pubsub: Any = None
        self._pool: redis.ConnectionPool | None = None

    def start(self) -> None:
        """Subscribe (raising `NotificationsOff` or `RedisUnavailable`), then read on a
        thread of its own."""
        try:
            self._pubsub = self._subscribe()
        except _LOST as exc:
            raise RedisUnavailable(
                f"cannot watch keys on {self.where}: {redact_text(str(exc))}"
            ) from None
        self._thread = threading.Thread(target=self._read, name="kvredis-watch", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._drop()

    def _subscribe(self) -> Any:
        self._pool = redis.ConnectionPool(**self._options)
        client = redis.Redis(connection_pool=self._pool)
        pubsub = client.pubsub()  # type: ignore[no-untyped-call]
        try:
            notifications.ensure(client, self._keymap.ops, self.where, configure=self._configure)
            pubsub.subscribe(*self._channels)
            self._await_confirmations(pubsub)
        except BaseException:
            self._pubsub = pubsub
            self._drop()
            raise
        return pubsub

    def _await_confirmations(self, pubsub: Any) -> None:
        """Subscribed once the server confirmed every channel; a change it sent between two
        confirmations is watched already, and told."""
        confirmed = 0
        deadline = time.monotonic() + self._options["socket_timeout"]
        while confirmed < len(self._channels):
            message = pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message is None:
                raise redis.TimeoutError("the server did not confirm the subscription")
            if message["type"] == "subscribe":
                confirmed += 1
            else:
                self._handle(message)

    def _read(self) -> None:
        delay = RECONNECT_FIRST_S
        while not self._stop.is_set():
            try:
                if self._pubsub is None:
                    self._pubsub = self._subscribe()
                    log.warning("watching keys on %s again", self.where)
                    delay = RECONNECT_FIRST_S
                message = self._pubsub.get_message(timeout=POLL_S)
                if message is not None:
                    self._handle(message)
            except _LOST + (notifications.NotificationsOff,) as exc:
                if self._pubsub is not None:
                    log.warning(
                        "lost the connection watching keys on %s (%s); changes until it "
                        "is back are not told",
                        self.where,
                        redact_text(str(exc)),
                    )
                elif isinstance(exc, notifications.NotificationsOff):
                    log.warning("%s", exc)
                self._drop()
                self._stop.wait(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)

    def _handle(self, message: dict[str, Any]) -> None:
        if message["type"] != "message":
            return
        op = self._events.get(message["channel"])
        if op is None:
            return
        for change in self._keymap.changes(op, message["data"]):
            self._deliver(change)

    def _drop(self) -> None:
        """Close the connections (the subscribed one, and the one that checked the setting)."""
        pubsub, self._pubsub = self._pubsub, None
        pool, self._pool = self._pool, None
        try:
            if pubsub is not None:
                pubsub.close()
            if pool is not None:
                pool.disconnect()
        except Exception:  # a broken connection may fail to close
            log.debug("closing the watch connections failed", exc_info=True)


def _client_options(url: str, settings: ConnectionSettings) -> dict[str, Any]:
    """redis-py's options for `url` (kvredis's own query parameters left out), with the
    host's connection timeouts, no retries of its own (reconnecting is done here) and RESP2."""
    options: dict[str, Any] = parse_url(cluster_options(check_url(url)).url)  # type: ignore[no-untyped-call]
    options.update(
        socket_connect_timeout=settings.connection_timeout_ms / 1000,
        socket_timeout=settings.response_timeout_ms / 1000,
        retry=Retry(NoBackoff(), 0),
        protocol=2,
    )
    if settings.tls_ca_cert and options.get("connection_class") is redis.SSLConnection:
        options["ssl_ca_certs"] = settings.tls_ca_cert
    return options
