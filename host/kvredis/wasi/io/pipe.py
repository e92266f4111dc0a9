"""A bounded byte pipe between the guest and a host thread, and the guest's streams over it.

One side writes, the other reads; either side may be the guest. The host side (an ASGI
receive loop feeding a request body, a sender draining a response body, an HTTP client)
waits with `wait_for_room` / `wait_readable`; the guest side waits through its instance's
`Waker`, which every change notifies, as does any listener the host adds (an asyncio loop
adds one that calls `call_soon_threadsafe`).

Back-pressure: the guest's write permit is the room left under `capacity`, so a consumer
that lags makes `check-write` shrink to 0 until it catches up.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator

from kvredis.wasi.io.error import IoError
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.io.streams import MAX_CHUNK, Ending, InputStream, OutputStream, StreamClosed

DEFAULT_CAPACITY = 256 * 1024

Listener = Callable[[], None]


class Pipe:
    """A bounded, thread-safe byte buffer with an ending for each side."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("a pipe needs a capacity of at least one byte")
        self.capacity = capacity
        self._condition = threading.Condition()
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._writer = Ending()  # end of data (or its failure), seen by the reader once drained
        self._reader = Ending()  # the reader is gone (or failed), seen by the writer at once
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> None:
        """Call `listener` (on whichever thread made it) after every change of state."""
        with self._condition:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._condition:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # The writing side.

    def room(self) -> int:
        """Bytes the writer may add before the pipe is full; 0 once either side has ended."""
        with self._condition:
            if self._writer_done():
                return 0
            return max(self.capacity - self._size, 0)

    def write(self, data: bytes) -> None:
        """Add bytes without waiting; the host may go past the capacity, a guest (permits) not."""
        with self._condition:
            self._check_writer()
            if not data:
                return
            self._chunks.append(bytes(data))
            self._size += len(data)
        self._changed()

    def check_writer(self) -> None:
        """Raise the stream error a write would meet: the reader gone, or the pipe closed."""
        with self._condition:
            self._check_writer()

    def writer_done(self) -> bool:
        with self._condition:
            return self._writer_done()

    def close(self, error: IoError | None = None) -> None:
        """End of data (or, with `error`, its failure); the reader sees it after the last byte."""
        with self._condition:
            self._writer.end(error)
        self._changed()

    def wait_for_room(self, timeout: float | None = None) -> bool:
        """For a host writer: wait until there is room or the pipe has ended; False on timeout."""
        with self._condition:
            return self._condition.wait_for(
                lambda: self._writer_done() or self._size < self.capacity, timeout
            )

    # The reading side.

    def read(self, length: int) -> bytes:
        """Up to `length` bytes buffered now (maybe none); `StreamError` once drained and ended."""
        with self._condition:
            if self._reader.ended:
                raise StreamClosed  # the reader itself said it wants no more
            if not self._chunks:
                self._writer.check()
                return b""
            taken = self._take(length)
        self._changed()
        return taken

    def readable(self) -> bool:
        """Whether `read` would return bytes or raise rather than return nothing."""
        with self._condition:
            return bool(self._chunks) or self._writer.ended or self._reader.ended

    def close_reader(self, error: IoError | None = None) -> None:
        """The reader wants no more: drop what is buffered; the writer's next call fails."""
        with self._condition:
            self._reader.end(error)
            self._chunks.clear()
            self._size = 0
        self._changed()

    def wait_readable(self, timeout: float | None = None) -> bool:
        """For a host reader: wait until bytes or the end are there; False on timeout."""
        with self._condition:
            return self._condition.wait_for(
                lambda: bool(self._chunks) or self._writer.ended, timeout
            )

    def chunks(self, size: int = MAX_CHUNK) -> Iterator[bytes]:
        """For a host reader: what the writer writes, as it comes, until it ends cleanly;
        `LastOperationFailed` when it ended with a failure."""
        while True:
            self.wait_readable()
            try:
                data = self.read(size)
            except StreamClosed:
                return
            if data:
                yield data

    def _take(self, length: int) -> bytes:
        parts: list[bytes] = []
        wanted = length
        while wanted and self._chunks:
            chunk = self._chunks.popleft()
            if len(chunk) > wanted:
                self._chunks.appendleft(chunk[wanted:])
                chunk = chunk[:wanted]
            parts.append(chunk)
            wanted -= len(chunk)
        taken = b"".join(parts)
        self._size -= len(taken)
        return taken

    def _writer_done(self) -> bool:
        return self._writer.ended or self._reader.ended

    def _check_writer(self) -> None:
        self._reader.check()
        if self._writer.ended:
            raise StreamClosed

    def _changed(self) -> None:
        with self._condition:
            self._condition.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


class PipeInputStream(InputStream):
    """The guest reads what a host thread writes into `pipe`."""

    def __init__(self, pipe: Pipe, waker: Waker) -> None:
        super().__init__(waker)
        self.pipe = pipe
        pipe.add_listener(waker.notify)

    def _take(self, length: int) -> bytes:
        return self.pipe.read(length)

    def _readable(self) -> bool:
        return self.pipe.readable()

    def close(self) -> None:
        # Only this view goes: whoever owns the pipe decides whether its reader is gone.
        self.pipe.remove_listener(self.waker.notify)


class PipeOutputStream(OutputStream):
    """The guest writes into `pipe`; a host thread reads it."""

    def __init__(self, pipe: Pipe, waker: Waker) -> None:
        super().__init__(waker)
        self.pipe = pipe
        pipe.add_listener(waker.notify)

    def _room(self) -> int:
        return self.pipe.room()

    def _put(self, data: bytes) -> None:
        self.pipe.write(data)

    def _check(self) -> None:
        self.pipe.check_writer()

    def _ended(self) -> bool:
        return self.pipe.writer_done()

    def close(self) -> None:
        # Only this view goes: the end of data is the owner's to say (e.g. outgoing-body.finish).
        self.pipe.remove_listener(self.waker.notify)
