"""Streams over an open file: read-via-stream, write-via-stream and append-via-stream.

Each stream owns a duplicate of the descriptor's fd, so dropping the descriptor first does
not pull the file from under it (nor hand its fd number to something else). Reads and
writes are positional (`pread`/`pwrite`) and never move a shared file offset.
"""

from __future__ import annotations

import errno
import os
import weakref

from kvredis.wasi.filesystem.types import stream_error_of
from kvredis.wasi.io.memory import SinkOutputStream
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.io.streams import Ending, InputStream


class OwnedFd:
    """An fd closed by `close()`, or at the latest when nothing refers to it any more.

    Once closed it answers `EBADF` rather than its old number, which the OS may have given
    to another file since.
    """

    __slots__ = ("__weakref__", "_fd", "_finalizer")

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._finalizer = weakref.finalize(self, os.close, fd)

    @property
    def fd(self) -> int:
        if not self._finalizer.alive:
            raise OSError(errno.EBADF, "the descriptor was closed")
        return self._fd

    def duplicate(self) -> OwnedFd:
        return OwnedFd(os.dup(self.fd))

    def close(self) -> None:
        self._finalizer()


class FileInputStream(InputStream):
    """Reads a file from `offset` on; `closed` at the end of the file. Files are always ready."""

    def __init__(self, fd: OwnedFd, offset: int, waker: Waker) -> None:
        super().__init__(waker)
        self._fd = fd
        self._offset = offset
        self._ending = Ending()

    def _take(self, length: int) -> bytes:
        self._ending.check()
        try:
            data = os.pread(self._fd.fd, length, self._offset)
        except OSError as exc:
            self._ending.end(stream_error_of(exc))
            self._ending.check()
        if not data and length:
            self._ending.end()
            self._ending.check()
        self._offset += len(data)
        return data

    def _readable(self) -> bool:
        return True

    def close(self) -> None:
        self._fd.close()


class _PositionalWriter:
    """Writes each chunk at the position after the last one, or at the end of the file."""

    __slots__ = ("_fd", "_offset")

    def __init__(self, fd: OwnedFd, offset: int | None) -> None:
        self._fd = fd
        self._offset = offset  # None: append

    def __call__(self, data: bytes) -> None:
        fd = self._fd.fd
        offset = os.fstat(fd).st_size if self._offset is None else self._offset
        view = memoryview(data)
        while view:
            written = os.pwrite(fd, view, offset)
            view = view[written:]
            offset += written
        if self._offset is not None:
            self._offset = offset


class FileOutputStream(SinkOutputStream):
    """Writes a file from `offset` on, or appends when `offset` is None."""

    def __init__(self, fd: OwnedFd, offset: int | None, waker: Waker) -> None:
        super().__init__(_PositionalWriter(fd, offset), waker, error_of=stream_error_of)
        self._fd = fd

    def close(self) -> None:
        self._fd.close()
