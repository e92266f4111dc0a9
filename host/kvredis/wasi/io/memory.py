"""Streams over bytes the host already has, and over a synchronous sink (a callback or an fd)."""

from __future__ import annotations

import os
from collections.abc import Callable

from kvredis.wasi.io.error import IoError
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.io.streams import MAX_CHUNK, Ending, InputStream, OutputStream


class BytesInputStream(InputStream):
    """An input stream of fixed bytes; `closed` after the last one."""

    def __init__(self, data: bytes, waker: Waker) -> None:
        super().__init__(waker)
        self._data = memoryview(data)
        self._ending = Ending()

    def _take(self, length: int) -> bytes:
        if not self._data:
            self._ending.end()
            self._ending.check()
        chunk, self._data = self._data[:length], self._data[length:]
        return bytes(chunk)

    def _readable(self) -> bool:
        return True


def _write_failed(exc: OSError) -> IoError:
    return IoError(f"write failed: {exc.strerror or exc}")


class SinkOutputStream(OutputStream):
    """An output stream that hands every write to `sink` at once (stdout, a log, a buffer).

    It always has room; an `OSError` from the sink ends the stream with the failure that
    `error_of` makes of it.
    """

    def __init__(
        self,
        sink: Callable[[bytes], object],
        waker: Waker,
        error_of: Callable[[OSError], IoError] | None = None,
    ) -> None:
        super().__init__(waker)
        self._sink = sink
        self._error_of = error_of or _write_failed
        self._ending = Ending()

    def _room(self) -> int:
        return 0 if self._ending.ended else MAX_CHUNK

    def _put(self, data: bytes) -> None:
        try:
            self._sink(data)
        except OSError as exc:
            self._ending.end(self._error_of(exc))
            self._ending.check()

    def _check(self) -> None:
        self._ending.check()

    def _ended(self) -> bool:
        return self._ending.ended


class BufferOutputStream(SinkOutputStream):
    """An output stream that keeps what the guest writes, for the host to read (`getvalue`)."""

    def __init__(self, waker: Waker) -> None:
        self._buffer = bytearray()
        super().__init__(self._buffer.extend, waker)

    def getvalue(self) -> bytes:
        return bytes(self._buffer)


def write_all_to(fd: int) -> Callable[[bytes], None]:
    """A sink that writes every byte to `fd` (which the caller keeps open and owns)."""

    def write_all(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    return write_all
