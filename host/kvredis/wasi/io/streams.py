"""wasi:io/streams: `InputStream` and `OutputStream` with the WIT's rules, over any source or sink.

The base classes own the rules (non-blocking `read` that may return nothing, `check-write`
permits, writes above the permit trap, `blocking-*` calls that wait on the instance's waker,
`splice`, a failure reported once as `last-operation-failed` and `closed` ever after); each
concrete stream only says what is available now and how to move bytes.

No single call moves more than `MAX_CHUNK` bytes: wasmtime-py copies every `list<u8>` of a
call, and keeping each copy small keeps the guest's memory and the call's latency small.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable

from kvredis.wasi.errors import GuestMisuse
from kvredis.wasi.io.error import IoError
from kvredis.wasi.io.poll import Readiness, Waker, block

MAX_CHUNK = 64 * 1024  # the largest read and the largest write permit
BLOCKING_WRITE_LIMIT = 4096  # the WIT's bound for blocking-write-and-flush and its zeroes twin


class StreamError(Exception):
    """A WIT `stream-error`."""


class StreamClosed(StreamError):
    """`stream-error::closed`: no more bytes will come (input) or be accepted (output)."""

    def __init__(self) -> None:
        super().__init__("closed")


class LastOperationFailed(StreamError):
    """`stream-error::last-operation-failed`; the stream is closed from now on."""

    def __init__(self, error: IoError) -> None:
        super().__init__(error.message)
        self.error = error


class Ending:
    """How one direction of a stream ended: not yet, cleanly, or by a failure reported once.

    Not thread-safe by itself: whoever shares one between threads holds a lock around it.
    """

    __slots__ = ("_ended", "_error")

    def __init__(self) -> None:
        self._ended = False
        self._error: IoError | None = None

    @property
    def ended(self) -> bool:
        return self._ended

    def end(self, error: IoError | None = None) -> None:
        """End it; the first ending wins, a later one changes nothing."""
        if not self._ended:
            self._ended = True
            self._error = error

    def check(self) -> None:
        """Raise the stream error it ended with: the failure the first time, then `closed`."""
        if not self._ended:
            return
        error, self._error = self._error, None
        if error is not None:
            raise LastOperationFailed(error)
        raise StreamClosed


def _bounded(length: int) -> int:
    if length < 0:
        raise GuestMisuse(f"a stream length must not be negative, got {length}")
    return min(length, MAX_CHUNK)


def _check_blocking_write(call: str, length: int) -> None:
    if length > BLOCKING_WRITE_LIMIT:
        raise GuestMisuse(f"{call} takes at most {BLOCKING_WRITE_LIMIT} bytes, got {length}")


class InputStream(ABC):
    """`input-stream`. Subclasses provide `_take`, `_readable` and, when useful, `_discard`."""

    def __init__(self, waker: Waker) -> None:
        self.waker = waker

    @abstractmethod
    def _take(self, length: int) -> bytes:
        """Up to `length` bytes available now (maybe none); `StreamError` once drained and ended."""

    @abstractmethod
    def _readable(self) -> bool:
        """Whether `_take` would return bytes or raise, rather than return nothing."""

    def _discard(self, length: int) -> int:
        return len(self._take(length))

    def read(self, length: int) -> bytes:
        return self._take(_bounded(length))

    def blocking_read(self, length: int) -> bytes:
        block(self.subscribe(), self.waker)
        return self.read(length)

    def skip(self, length: int) -> int:
        return self._discard(_bounded(length))

    def blocking_skip(self, length: int) -> int:
        block(self.subscribe(), self.waker)
        return self.skip(length)

    def subscribe(self) -> Readiness:
        """Ready when bytes are available or the stream has ended."""
        return Readiness(self._readable)

    def close(self) -> None:  # noqa: B027 (most streams hold nothing to release)
        """The guest dropped its handle; release what this stream holds."""


class OutputStream(ABC):
    """`output-stream`. Subclasses provide `_room`, `_put`, `_check` and `_ended`."""

    def __init__(self, waker: Waker) -> None:
        self.waker = waker

    @abstractmethod
    def _room(self) -> int:
        """How many bytes the destination takes now without waiting."""

    @abstractmethod
    def _put(self, data: bytes) -> None:
        """Move `data` (never more than the room) to the destination, or raise a `StreamError`."""

    @abstractmethod
    def _check(self) -> None:
        """Raise the `StreamError` the destination ended with (see `Ending.check`)."""

    @abstractmethod
    def _ended(self) -> bool:
        """Whether the destination has ended (closed or failed); never raises."""

    def _permit(self) -> int:
        return min(self._room(), MAX_CHUNK)

    def _require_permit(self, length: int) -> None:
        if length > self._permit():
            raise GuestMisuse(
                f"write of {length} bytes exceeds the {self._permit()} bytes check-write permits"
            )

    def check_write(self) -> int:
        self._check()
        return self._permit()

    def write(self, data: bytes) -> None:
        self._check()
        self._require_permit(len(data))
        if data:
            self._put(data)

    def write_zeroes(self, length: int) -> None:
        self._check()
        self._require_permit(length)
        if length:
            self._put(bytes(length))

    def flush(self) -> None:
        # Every destination here takes bytes on at once (a pipe's reader sees them as soon as
        # they are written), so a flush completes as soon as it is asked for.
        self._check()

    def blocking_flush(self) -> None:
        self.flush()
        block(self.subscribe(), self.waker)
        self._check()

    def blocking_write_and_flush(self, data: bytes) -> None:
        _check_blocking_write("blocking-write-and-flush", len(data))
        view = memoryview(data)
        while view:
            block(self.subscribe(), self.waker)
            permit = self.check_write()
            self._put(bytes(view[:permit]))
            view = view[permit:]
        # The WIT: a stream that closed once everything was written still succeeded.
        with contextlib.suppress(StreamClosed):
            self.blocking_flush()

    def blocking_write_zeroes_and_flush(self, length: int) -> None:
        _check_blocking_write("blocking-write-zeroes-and-flush", length)
        self.blocking_write_and_flush(bytes(length))

    def splice(self, source: InputStream, length: int) -> int:
        """check-write, then read at most that much from `source`, then write it."""
        return self._splice(length, source.read)

    def blocking_splice(self, source: InputStream, length: int) -> int:
        """`splice` after waiting for room here and for bytes in `source`."""
        block(self.subscribe(), self.waker)
        return self._splice(length, source.blocking_read)

    def _splice(self, length: int, read: Callable[[int], bytes]) -> int:
        wanted = min(_bounded(length), self.check_write())
        if wanted == 0:
            return 0
        data = read(wanted)
        if data:
            self._put(data)
        return len(data)

    def subscribe(self) -> Readiness:
        """Ready when check-write would permit at least one byte, or report an error."""
        return Readiness(lambda: self._ended() or self._room() > 0)

    def close(self) -> None:  # noqa: B027 (most streams hold nothing to release)
        """The guest dropped its handle; release what this stream holds."""
