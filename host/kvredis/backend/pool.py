"""Connections to one Redis server: a lean pool, one round trip per command, bounded retries.

redis-py's client object costs more per command than the round trip it wraps (pool checkout
bookkeeping, observability hooks). This pool keeps redis-py's `Connection` classes (TLS, unix
sockets, AUTH) but checks them out of a plain deque, sends pre-packed commands and reads raw
replies through `BoundedReplyParser` (hiredis, with a deadline and a size bound per reply).

Whether a failed command is sent again is `RetryPolicy`'s decision (backend/retry.py): the
pool only reports what it saw. Everything happens within one deadline per operation, so a
guest gets an answer in bounded time.
"""

from __future__ import annotations

import contextlib
import functools
import select
import ssl
import time
from collections import deque
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from redis import exceptions as redis_errors
from redis.backoff import NoBackoff
from redis.connection import AbstractConnection, Connection, SSLConnection, parse_url
from redis.retry import Retry

from kvredis.backend.base import BackendError
from kvredis.backend.reply import BoundedReplyParser, ReplyBound, ReplyTooLarge
from kvredis.backend.retry import Attempts, Failure, GiveUp, RetryPolicy
from kvredis.backend.settings import ConnectionSettings
from kvredis.backend.urls import check_url, redact, redact_text

# The connection (or the server) failed; whether to try again is the retry policy's call.
_CONNECTION_FAILURES = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)
# Failures that another attempt cannot cure: retrying only spends the guest's budget.
_REFUSED = (redis_errors.AuthenticationError, redis_errors.AuthorizationError)
_POLL_INPUT = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP
# What a WAIT leaves of the budget for its answer to arrive (the larger of the two): a WAIT
# answered after the deadline would say nothing of a write that has happened.
_WAIT_MARGIN_SHARE = 0.2
_WAIT_MARGIN_S = 0.1


class ServerReplyError(BackendError):
    """The server answered the command with an error reply (the connection is fine)."""

    def __init__(self, message: str, reply: redis_errors.ResponseError) -> None:
        super().__init__(message)
        self.reply = reply


class GaveUp(BackendError):
    """No attempt succeeded; `why` says whether the command may have run (MAYBE_APPLIED)."""

    def __init__(self, message: str, why: GiveUp, reason: str | None = None) -> None:
        super().__init__(message, reason)
        self.why = why


class ReplicasNotConfirmed(BackendError):
    """A write ran, but fewer replicas than `wait_replicas` confirmed it before WAIT ended."""


class ConnectionPool:
    """Connections to one server, shared by every thread of the host."""

    def __init__(self, url: str, settings: ConnectionSettings, *, max_value_bytes: int) -> None:
        """`max_value_bytes`, the largest value a guest may read, bounds every reply."""
        self.url = check_url(url)
        self.display_url = redact(url)
        self.settings = settings
        try:
            options: dict[str, Any] = parse_url(url)
        except ValueError as exc:
            raise BackendError(
                f"cannot use the Redis URL {self.display_url}: {redact_text(str(exc))}"
            ) from None
        password = str(options.get("password") or "")
        # The password may appear decoded or percent-encoded in a message: hide both.
        self._secrets = tuple(
            sorted({password, quote(password, safe="")} - {""}, key=len, reverse=True)
        )
        connection_class = options.pop("connection_class", Connection)
        budget = settings.op_budget_ms
        # No single wait may outlast the whole operation; shorter budgets cut these only once,
        # here, rather than with a settimeout syscall per command.
        self._connect_s = min(settings.connection_timeout_ms, budget) / 1000
        self._response_s = min(settings.response_timeout_ms, budget) / 1000
        self._budget_s = budget / 1000
        self.max_value_bytes = max_value_bytes
        # A reply with one value at most, and perhaps an array around it (a CAS answer).
        self.single_value = ReplyBound(elements=2, data_bytes=max_value_bytes)
        self._policy = RetryPolicy(
            retries=settings.reconnect_retries, max_delay_s=settings.reconnect_max_delay_ms / 1000
        )
        self.wait_replicas = settings.wait_replicas
        options.update(
            parser_class=functools.partial(BoundedReplyParser, max_value_bytes=max_value_bytes),
            socket_timeout=self._response_s,
            socket_connect_timeout=self._connect_s,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
            # Nothing but AUTH and SELECT on connect: no CLIENT SETINFO, and RESP2 (no HELLO,
            # no maintenance-notification handshake, no push messages). Every round trip of a
            # handshake is one more wait a hung server could stretch within the budget.
            driver_info=None,
            protocol=2,
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

    def execute(
        self,
        *args: bytes | str | int,
        idempotent: bool,
        what: str,
        bound: ReplyBound | None = None,
        deadline: float | None = None,
        write: bool = False,
    ) -> Any:
        """Send one command and return its raw reply, within the operation budget.

        `what` names the operation in error messages ("GET", "swap"...). `bound` is what the
        reply may hold (default: one value, `single_value`); a bigger reply is cut unread. A
        command that is not idempotent is never sent twice once it may have reached the
        server: when its reply is lost, the caller gets an error saying so. `deadline`
        (time.monotonic()) replaces the budget for a caller that spends one budget on
        several commands; `write` marks a write that `wait_replicas` waits for.
        """
        replies = self._exchange(
            (args,), (bound or self.single_value,), idempotent, what, deadline, write
        )
        reply = replies[0]
        if isinstance(reply, redis_errors.ResponseError):
            raise self.failed(what, reply)
        return reply

    def failed(self, what: str, reply: redis_errors.ResponseError) -> ServerReplyError:
        """The error for a command the server answered with an error reply."""
        text = self._redact(str(reply))
        if isinstance(reply, redis_errors.AskError):  # MOVED too; redis-py drops the word
            kind = "MOVED" if isinstance(reply, redis_errors.MovedError) else "ASK"
            text = (
                f"{kind} {text} (from {self.display_url}: the key is on another node of a "
                "Redis Cluster)"
            )
        return ServerReplyError(f"{what} failed: {text}", reply)

    def pipeline(
        self,
        commands: Sequence[Sequence[bytes | str | int]],
        bounds: Sequence[ReplyBound],
        *,
        idempotent: bool,
        what: str,
        deadline: float | None = None,
        write: bool = False,
        policy: RetryPolicy | None = None,
    ) -> list[Any]:
        """Send several commands in one round trip; their replies in order, an error reply
        as its `ResponseError` (not raised). The rest as for `execute`; `policy` replaces
        the retry policy (a caller with other places to try may want no retry at all)."""
        return self._exchange(commands, bounds, idempotent, what, deadline, write, policy)

    def _exchange(
        self,
        commands: Sequence[Sequence[bytes | str | int]],
        bounds: Sequence[ReplyBound],
        idempotent: bool,
        what: str,
        deadline: float | None,
        write: bool,
        policy: RetryPolicy | None = None,
    ) -> list[Any]:
        if deadline is None:
            deadline = time.monotonic() + self._budget_s
        waiting = write and self.wait_replicas > 0
        if waiting:
            commands, bounds = self._waiting_for_replicas(commands, bounds, deadline)
        if len(bounds) > 1:
            # One recv may hold the start of the next replies too, and the parser checks what
            # it received against the bound of the reply it reads: each reply of a pipeline
            # is held to what the whole pipeline may answer.
            bounds = [_sum_of(bounds)] * len(bounds)
        attempts: Attempts | None = None
        while True:
            conn, reused = self._checkout(verify_idle=not idempotent)
            sent = shortened = False
            try:
                if attempts is not None:
                    # Later attempts share what is left of the budget.
                    shortened = self._bound_timeouts(conn, deadline)
                parser = conn._parser
                parser.deadline = deadline
                if len(commands) == 1:
                    packed = conn.pack_command(*commands[0])
                else:
                    packed = conn.pack_commands(commands)
                conn.send_packed_command(packed, check_health=False)
                sent = True
                if waiting:
                    # WAIT answers when its own timeout ends, which may be later than one
                    # response timeout: its reply may take what is left of the budget.
                    left = max(deadline - time.monotonic(), 0.001)
                    _set_timeouts(conn, self._connect_s, left)
                    shortened = True
                replies = []
                for bound in bounds:
                    parser.bound = bound
                    try:
                        replies.append(conn.read_response(disable_decoding=True))
                    except redis_errors.ResponseError as exc:
                        replies.append(exc)
            except _CONNECTION_FAILURES as exc:
                _discard(conn)
                self._flush_idle()
                if attempts is None:
                    attempts = (policy or self._policy).begin(deadline)
                failure = failure_of(exc, sent=sent, reused=reused)
                decision = attempts.after(failure, idempotent=idempotent, now=time.monotonic())
                if decision.give_up is not None:
                    raise self._give_up(exc, decision.give_up, what) from None
                if decision.delay > 0:
                    time.sleep(decision.delay)
                continue
            except (ReplyTooLarge, redis_errors.RedisError) as exc:
                _discard(conn)
                raise self._unusable(exc, what) from None
            except BaseException:
                _discard(conn)
                raise
            self._settle(conn, shortened)
            if waiting:
                self._check_replicas(replies.pop(), replies, what)
            return replies

    def _waiting_for_replicas(
        self,
        commands: Sequence[Sequence[bytes | str | int]],
        bounds: Sequence[ReplyBound],
        deadline: float,
    ) -> tuple[list[Sequence[bytes | str | int]], list[ReplyBound]]:
        """The commands followed by a WAIT that ends before the operation's deadline: WAIT
        answers how many replicas had the writes when it returns."""
        left = deadline - time.monotonic()
        wait_ms = max(1, int((left - max(left * _WAIT_MARGIN_SHARE, _WAIT_MARGIN_S)) * 1000))
        return (
            [*commands, (b"WAIT", self.wait_replicas, wait_ms)],
            [*bounds, self.single_value],
        )

    def _check_replicas(self, confirmed: Any, replies: list[Any], what: str) -> None:
        if all(isinstance(reply, redis_errors.ResponseError) for reply in replies):
            return  # nothing was written; the caller reports the error
        if isinstance(confirmed, redis_errors.ResponseError):
            raise self.failed(f"{what}: WAIT", confirmed)
        if int(confirmed) < self.wait_replicas:
            raise ReplicasNotConfirmed(
                f"{what}: written on {self.display_url}, but only {int(confirmed)} of "
                f"{self.wait_replicas} replicas confirmed it in time; it stays written there, "
                "and is lost if that server fails before its replicas have it"
            )

    def _settle(self, conn: AbstractConnection, shortened: bool) -> None:
        """Return a connection that is still in step with the server to the idle pool."""
        if shortened:
            self._restore_timeouts(conn)
        self._checkin(conn)

    def _unusable(self, exc: BaseException, what: str) -> BackendError:
        """The error for a reply that left the connection unusable; no retry would help."""
        if isinstance(exc, ReplyTooLarge):
            return BackendError(f"{what}: {exc} (from {self.display_url}); the rest was not read")
        # A reply the client could not make sense of.
        return BackendError(
            f"{what}: unexpected answer from {self.display_url} ({self._describe(exc)})"
        )

    def _give_up(self, exc: BaseException, why: GiveUp, what: str) -> GaveUp:
        reason = self._describe(exc)
        url = self.display_url
        if why is GiveUp.REFUSED and isinstance(exc, _REFUSED):
            reason = f"refused the credentials ({reason})"
            return GaveUp(f"{what}: Redis at {url} {reason}", why, reason)
        if why is GiveUp.REFUSED:
            reason = (
                f"its TLS certificate is not trusted ({reason}); give the CA that signed it "
                "with --tls-ca-cert (tls_ca_cert in ConnectionSettings)"
            )
            return GaveUp(f"{what}: Redis at {url}: {reason}", why, reason)
        if why is GiveUp.MAYBE_APPLIED:
            return GaveUp(
                f"{what}: lost the connection to {url} after sending ({reason}); the command "
                "may or may not have been applied, so it was not sent again",
                why,
            )
        return GaveUp(f"{what}: Redis at {url} is unavailable ({reason})", why, reason)

    def _bound_timeouts(self, conn: AbstractConnection, deadline: float) -> bool:
        """Cut this attempt's timeouts to what is left of the budget; True if they were cut."""
        remaining = deadline - time.monotonic()
        if remaining >= self._connect_s and remaining >= self._response_s:
            return False
        remaining = max(remaining, 0.001)
        _set_timeouts(conn, min(self._connect_s, remaining), min(self._response_s, remaining))
        return True

    def _restore_timeouts(self, conn: AbstractConnection) -> None:
        _set_timeouts(conn, self._connect_s, self._response_s)

    def _redact(self, text: str) -> str:
        return redact_text(text, *self._secrets)

    def _describe(self, exc: BaseException) -> str:
        return self._redact(str(exc) or type(exc).__name__)


def _sum_of(bounds: Sequence[ReplyBound]) -> ReplyBound:
    return ReplyBound(
        sum(bound.elements for bound in bounds), sum(bound.data_bytes for bound in bounds)
    )


def failure_of(exc: BaseException, *, sent: bool, reused: bool) -> Failure:
    """The facts of a failed attempt, as the retry policy takes them."""
    return Failure(
        sent=sent,
        # An error reply (LOADING, max clients...) means the command did not run.
        answered=getattr(exc, "status_code", None) is not None,
        reused=reused,
        refused=isinstance(exc, _REFUSED) or _untrusted_certificate(exc),
    )


def _untrusted_certificate(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):  # redis-py wraps the ssl error once or twice; never loop forever
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _set_timeouts(conn: AbstractConnection, connect: float, response: float) -> None:
    conn.socket_connect_timeout = connect
    conn.socket_timeout = response
    sock = getattr(conn, "_sock", None)
    if sock is not None:
        sock.settimeout(response)


def _looks_closed(conn: AbstractConnection) -> bool:
    """True when an idle connection has data or EOF pending: the server closed it.

    One poll(2) with no timeout; redis-py's can_read would toggle the socket's blocking mode
    around a recv, three syscalls.
    """
    sock = getattr(conn, "_sock", None)
    if sock is None:
        return False
    try:
        poller = select.poll()
        poller.register(sock, _POLL_INPUT)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _discard(conn: AbstractConnection) -> None:
    with contextlib.suppress(Exception):
        conn.disconnect()
