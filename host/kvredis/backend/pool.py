"""Connections to one Redis server: a lean pool, one round trip per command, bounded retries.

redis-py's client object costs more per command than the round trip it wraps (pool checkout
bookkeeping, observability hooks). This pool keeps redis-py's `Connection` classes (TLS, unix
sockets, AUTH, the hiredis parser) but checks them out of a plain deque, sends pre-packed
commands and reads raw replies.

Retry rules: a command is re-sent after a connection failure only when it is idempotent, or
when it provably never left this process (the connection could not be made). Everything
happens within one deadline per operation, so a guest gets an answer in bounded time.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from typing import Any

from redis import exceptions as redis_errors
from redis.backoff import NoBackoff
from redis.connection import AbstractConnection, Connection, SSLConnection, parse_url
from redis.retry import Retry

from kvredis.backend.base import BackendError
from kvredis.backend.settings import ConnectionSettings
from kvredis.backend.urls import check_url, redact, redact_text

_FIRST_BACKOFF_S = 0.05
_TRANSIENT = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


class ServerReplyError(BackendError):
    """The server answered the command with an error reply (the connection is fine)."""

    def __init__(self, message: str, reply: redis_errors.ResponseError) -> None:
        super().__init__(message)
        self.reply = reply


class ConnectionPool:
    """Connections to one server, shared by every thread of the host."""

    def __init__(self, url: str, settings: ConnectionSettings) -> None:
        self.url = check_url(url)
        self.display_url = redact(url)
        self.settings = settings
        options: dict[str, Any] = parse_url(url)
        self._password = str(options.get("password") or "")
        connection_class = options.pop("connection_class", Connection)
        options.update(
            socket_timeout=settings.response_timeout_ms / 1000,
            socket_connect_timeout=settings.connection_timeout_ms / 1000,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        if issubclass(connection_class, SSLConnection) and settings.tls_ca_cert:
            options["ssl_ca_certs"] = settings.tls_ca_cert
        self._connection_class = connection_class
        self._options = options
        self._idle: deque[AbstractConnection] = deque()
        self.closed = False

    # --- connections ----------------------------------------------------------------------

    def _checkout(self, verify_idle: bool) -> tuple[AbstractConnection, bool]:
        """A connection, and whether it was reused from the idle pool."""
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return self._connection_class(**self._options), False
            if not verify_idle or not _looks_closed(conn):
                return conn, True
            _discard(conn)

    def _checkin(self, conn: AbstractConnection) -> None:
        if self.closed:
            _discard(conn)
        else:
            self._idle.append(conn)

    def _flush_idle(self) -> None:
        # One broken connection usually means the server went away (or restarted): every idle
        # connection shares its fate, so drop them rather than fail on each in turn.
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return
            _discard(conn)

    def close(self) -> None:
        self.closed = True
        self._flush_idle()

    # --- commands -------------------------------------------------------------------------

    def execute(self, *args: bytes | str | int, idempotent: bool, what: str) -> Any:
        """Send one command and return its raw reply, within the operation budget.

        `what` names the operation in error messages ("GET", "swap"...).
        """
        settings = self.settings
        deadline = time.monotonic() + settings.op_budget_ms / 1000
        attempt = 0
        backoff = _FIRST_BACKOFF_S
        while True:
            sent = False
            conn, reused = self._checkout(verify_idle=not idempotent)
            try:
                shortened = _bound_timeouts(conn, deadline, settings)
                packed = conn.pack_command(*args)
                conn.send_packed_command(packed, check_health=False)
                sent = True
                reply = conn.read_response(disable_decoding=True)
            except redis_errors.ResponseError as exc:
                self._checkin(conn)
                message = redact_text(str(exc), self._password)
                raise ServerReplyError(f"{what} failed: {message}", exc) from None
            except _TRANSIENT as exc:
                _discard(conn)
                self._flush_idle()
                reason = self._describe(exc)
                if sent and not idempotent:
                    raise BackendError(
                        f"{what}: lost the connection to {self.display_url} after sending "
                        f"({reason}); the command may or may not have been applied"
                    ) from None
                attempt += 1
                remaining = deadline - time.monotonic()
                delay = min(backoff, settings.reconnect_max_delay_ms / 1000)
                # A reused connection that broke costs no retry: it was stale, not the server.
                if reused and not sent:
                    attempt -= 1
                if attempt > settings.reconnect_retries or remaining <= delay:
                    raise BackendError(
                        f"{what}: Redis at {self.display_url} is unavailable ({reason})"
                    ) from None
                time.sleep(delay)
                backoff *= 2
                continue
            except BaseException:
                _discard(conn)
                raise
            if shortened:
                _restore_timeouts(conn, settings)
            self._checkin(conn)
            return reply

    def _describe(self, exc: BaseException) -> str:
        text = str(exc) or type(exc).__name__
        return redact_text(text, self._password)


def _bound_timeouts(
    conn: AbstractConnection, deadline: float, settings: ConnectionSettings
) -> bool:
    """Never let one attempt outlive the operation's deadline; True if timeouts were cut."""
    remaining = deadline - time.monotonic()
    connect = settings.connection_timeout_ms / 1000
    response = settings.response_timeout_ms / 1000
    if remaining >= connect and remaining >= response:
        return False  # the common case: leave the socket alone (settimeout is a syscall)
    remaining = max(remaining, 0.001)
    _set_timeouts(conn, min(connect, remaining), min(response, remaining))
    return True


def _restore_timeouts(conn: AbstractConnection, settings: ConnectionSettings) -> None:
    _set_timeouts(conn, settings.connection_timeout_ms / 1000, settings.response_timeout_ms / 1000)


def _set_timeouts(conn: AbstractConnection, connect: float, response: float) -> None:
    conn.socket_connect_timeout = connect
    conn.socket_timeout = response
    sock = getattr(conn, "_sock", None)
    if sock is not None:
        sock.settimeout(response)


def _looks_closed(conn: AbstractConnection) -> bool:
    """True when an idle connection has data or EOF pending: the server closed it."""
    if getattr(conn, "_sock", None) is None:
        return False
    try:
        return bool(conn.can_read(timeout=0))
    except _TRANSIENT:
        return True


def _discard(conn: AbstractConnection) -> None:
    with contextlib.suppress(Exception):
        conn.disconnect()
