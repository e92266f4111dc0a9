"""wasi:io adapters: errors, pollables and streams of the core, as the bindings' resources."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kvredis import canon
from kvredis.adapters.wasi.handles import NO_PARENT, answering, ours
from kvredis.bindings import wasi_io as wit
from kvredis.wasi.io import poll as core_poll
from kvredis.wasi.io.error import IoError
from kvredis.wasi.io.poll import Pollable, Waker
from kvredis.wasi.io.streams import InputStream, LastOperationFailed, OutputStream, StreamError


class ErrorAdapter:
    """`error`: what went wrong with a stream, for `to-debug-string` and the downcasts."""

    __slots__ = ("core",)

    def __init__(self, core: IoError) -> None:
        self.core = core

    def to_debug_string(self) -> str:
        return self.core.to_debug_string()

    def drop(self) -> None:
        """Nothing to release."""


def stream_error(exc: StreamError) -> wit.StreamError:
    if isinstance(exc, LastOperationFailed):
        return wit.StreamErrorLastOperationFailed(ErrorAdapter(exc.error))
    return wit.StreamErrorClosed()


def io_error(error: object) -> IoError:
    """The core error behind an `error` handle the guest lends."""
    return ours(error, ErrorAdapter).core


_stream_errors = answering(StreamError, stream_error)


class PollableAdapter:
    """`pollable`: a core pollable and the waker of the instance that waits on it."""

    __slots__ = ("core", "waker")

    def __init__(self, core: Pollable, waker: Waker) -> None:
        self.core = core
        self.waker = waker

    def ready(self) -> bool:
        return self.core.ready()

    def block(self) -> None:
        core_poll.block(self.core, self.waker)

    def drop(self) -> None:
        """Nothing to release: a pollable only looks at its source."""


class PollHost:
    """`wasi:io/poll`: wait for any of several pollables, sleeping on the instance's waker."""

    def __init__(self, waker: Waker) -> None:
        self._waker = waker

    def poll(self, in_: Sequence[wit.Pollable]) -> list[int]:
        pollables = [ours(p, PollableAdapter).core for p in in_]
        return core_poll.poll(pollables, self._waker)


class _StreamAdapter:
    """What both directions share: a core stream, its pollable, and a parent (a body) to
    tell when the guest drops it."""

    __slots__ = ("core", "release")
    core: InputStream | OutputStream

    def __init__(self, release: Callable[[], None]) -> None:
        self.release = release

    def subscribe(self) -> wit.Pollable:
        return PollableAdapter(self.core.subscribe(), self.core.waker)

    def drop(self) -> None:
        self.core.close()
        self.release()


class InputStreamAdapter(_StreamAdapter):
    """`input-stream` over a core stream."""

    __slots__ = ()
    core: InputStream

    def __init__(self, core: InputStream, release: Callable[[], None] = NO_PARENT) -> None:
        super().__init__(release)
        self.core = core

    @_stream_errors
    def read(self, len: int) -> bytes:
        return self.core.read(len)

    @_stream_errors
    def blocking_read(self, len: int) -> bytes:
        return self.core.blocking_read(len)

    @_stream_errors
    def skip(self, len: int) -> int:
        return self.core.skip(len)

    @_stream_errors
    def blocking_skip(self, len: int) -> int:
        return self.core.blocking_skip(len)


class OutputStreamAdapter(_StreamAdapter):
    """`output-stream` over a core stream."""

    __slots__ = ()
    core: OutputStream

    def __init__(self, core: OutputStream, release: Callable[[], None] = NO_PARENT) -> None:
        super().__init__(release)
        self.core = core

    @_stream_errors
    def check_write(self) -> int:
        return self.core.check_write()

    @_stream_errors
    def write(self, contents: canon.Blob) -> None:
        self.core.write(contents.read())

    @_stream_errors
    def blocking_write_and_flush(self, contents: canon.Blob) -> None:
        self.core.blocking_write_and_flush(contents.read())

    @_stream_errors
    def flush(self) -> None:
        self.core.flush()

    @_stream_errors
    def blocking_flush(self) -> None:
        self.core.blocking_flush()

    @_stream_errors
    def write_zeroes(self, len: int) -> None:
        self.core.write_zeroes(len)

    @_stream_errors
    def blocking_write_zeroes_and_flush(self, len: int) -> None:
        self.core.blocking_write_zeroes_and_flush(len)

    @_stream_errors
    def splice(self, src: wit.InputStream, len: int) -> int:
        return self.core.splice(ours(src, InputStreamAdapter).core, len)

    @_stream_errors
    def blocking_splice(self, src: wit.InputStream, len: int) -> int:
        return self.core.blocking_splice(ours(src, InputStreamAdapter).core, len)
