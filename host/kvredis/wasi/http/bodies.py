"""`incoming-body` and `outgoing-body`: a byte pipe between the guest and the HTTP side, and
the trailers that follow it.

The host side of an incoming body writes into `body.pipe` (waiting with `wait_for_room`),
then calls `end(trailers)` or `fail(code)`. The host side of an outgoing body reads
`body.pipe` until it ends: `closed` means finished (then `body.trailers` holds the trailers,
if any); `last-operation-failed` means the body must not be taken as complete (the guest
dropped it unfinished, or its length contradicts its content-length).
"""

from __future__ import annotations

from kvredis.wasi.errors import GuestMisuse
from kvredis.wasi.http.errors import AlreadyTaken, Failed, HttpError, HttpErrorCode, Received
from kvredis.wasi.http.fields import Fields
from kvredis.wasi.http.futures import HttpFuture, Outcome
from kvredis.wasi.io.error import IoError
from kvredis.wasi.io.pipe import DEFAULT_CAPACITY, Pipe, PipeInputStream, PipeOutputStream
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.io.promise import Promise
from kvredis.wasi.io.streams import Ending, InputStream, OutputStream

FutureTrailers = HttpFuture[Fields | None]


class IncomingBody:
    """A request or response body arriving from the host: its stream is taken once, and
    `finish` trades the body for its trailers."""

    def __init__(self, waker: Waker, capacity: int = DEFAULT_CAPACITY) -> None:
        self.waker = waker
        self.pipe = Pipe(capacity)
        self.trailers: Promise[Outcome[Fields | None]] = Promise()
        self._stream_taken = False
        self._finished = False

    @classmethod
    def complete(cls, data: bytes, waker: Waker, trailers: Fields | None = None) -> IncomingBody:
        """A body that has fully arrived already."""
        body = cls(waker)
        body.pipe.write(data)
        body.end(trailers)
        return body

    # The host side.

    def end(self, trailers: Fields | None = None) -> None:
        """All bytes were written: end the stream, then hand over the (immutable) trailers."""
        self.pipe.close()
        if trailers is not None:
            trailers.freeze()
        self.trailers.resolve(Received(trailers))

    def fail(self, error: HttpErrorCode) -> None:
        """The body broke off: the stream fails with `error`, and so do the trailers."""
        self.pipe.close(IoError(f"the body broke off: {error}", error))
        self.trailers.resolve(Failed(error))

    # The guest side.

    def stream(self) -> InputStream:
        if self._stream_taken:
            raise AlreadyTaken("the body's stream was taken before")
        self._stream_taken = True
        return PipeInputStream(self.pipe, self.waker)

    def finish(self) -> FutureTrailers:
        """The guest reads no more of the body (what is left is dropped) and waits for trailers."""
        if self._finished:
            raise GuestMisuse("incoming-body.finish called twice")
        self._finished = True
        self.pipe.close_reader()
        return HttpFuture(self.trailers, self.waker)

    def close(self) -> None:
        """Dropped without `finish`: nobody reads the rest."""
        self.pipe.close_reader()


def _size_error(for_request: bool, size: int) -> HttpErrorCode:
    case = "HTTP-request-body-size" if for_request else "HTTP-response-body-size"
    return HttpErrorCode(case, size)


class OutgoingBody:
    """A request or response body the guest writes: its stream is taken once; `finish` ends
    it, with trailers or without; dropping it unfinished makes it fail."""

    def __init__(
        self,
        waker: Waker,
        *,
        for_request: bool,
        content_length: int | None = None,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        self.waker = waker
        self.for_request = for_request
        self.content_length = content_length
        self.pipe = Pipe(capacity)
        self.trailers: Fields | None = None
        self.written = 0
        self._stream_taken = False
        self._done = False

    def write(self) -> OutputStream:
        if self._stream_taken:
            raise AlreadyTaken("the body's stream was taken before")
        self._stream_taken = True
        return _BodyStream(self)

    def finish(self, trailers: Fields | None = None) -> None:
        """End the body; `HttpError` (a body-size error) when it contradicts its content-length."""
        self._end_once("finish")
        if self.content_length is not None and self.written != self.content_length:
            error = _size_error(self.for_request, self.written)
            self.pipe.close(IoError(f"the body does not match its content-length: {error}", error))
            raise HttpError(error)
        if trailers is not None:
            trailers.freeze()
            self.trailers = trailers
        self.pipe.close()

    def abandon(self) -> None:
        """Dropped without `finish`: whoever reads the body sees it fail."""
        if self._done:
            return
        self._end_once("drop")
        error = HttpErrorCode("HTTP-protocol-error")
        self.pipe.close(IoError("the guest dropped the outgoing-body without finishing it", error))

    def _end_once(self, how: str) -> None:
        if self._done:
            raise GuestMisuse(f"outgoing-body {how} after it was finished")
        self._done = True


class _BodyStream(PipeOutputStream):
    """The body's write stream: it fails rather than write past the content-length."""

    def __init__(self, body: OutgoingBody) -> None:
        super().__init__(body.pipe, body.waker)
        self._body = body
        self._overrun = Ending()

    def _put(self, data: bytes) -> None:
        body = self._body
        total = body.written + len(data)
        if body.content_length is not None and total > body.content_length:
            error = _size_error(body.for_request, total)
            self._overrun.end(
                IoError(f"the body is longer than its content-length: {error}", error)
            )
            self._overrun.check()
        super()._put(data)
        body.written = total

    def _check(self) -> None:
        self._overrun.check()
        super()._check()

    def _ended(self) -> bool:
        return self._overrun.ended or super()._ended()
