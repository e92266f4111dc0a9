"""The `descriptor` and `directory-entry-stream` resources, over host fds.

Every method answers either its value or `FilesystemError(code)`: OS errors map to the
WIT's codes (`code_of`), and the operations kvredis does not offer (advise, set-times,
link-at, symlink-at) answer `unsupported`. Paths go through `resolve`, so none leaves
its preopen. A preopen given read-only refuses every change with `not-permitted`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import stat
import struct
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from kvredis.wasi.clocks import Datetime
from kvredis.wasi.filesystem.paths import resolve
from kvredis.wasi.filesystem.streams import FileInputStream, FileOutputStream, OwnedFd
from kvredis.wasi.filesystem.types import (
    SYNC_FLAGS,
    DescriptorFlags,
    DescriptorStat,
    DescriptorType,
    DirectoryEntry,
    ErrorCode,
    FilesystemError,
    MetadataHashValue,
    OpenFlags,
    PathFlags,
    code_of,
    type_of_mode,
)
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.io.streams import InputStream, OutputStream

P = ParamSpec("P")
R = TypeVar("R")

MAX_READ = 64 * 1024  # `read` returns at most this much per call, as streams do
_MAX_OFFSET = 2**63 - 1
_NEW_FILE_MODE = 0o666
_NEW_DIRECTORY_MODE = 0o777
# A key per process: the hash says "same or changed", and nothing about the inode behind it.
_HASH_KEY = secrets.token_bytes(16)


def answers_error_codes(method: Callable[P, R]) -> Callable[P, R]:
    """Turn what the OS raises into `FilesystemError`, so a guest only ever sees error codes."""

    @functools.wraps(method)
    def answering(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except OSError as exc:
            raise FilesystemError(code_of(exc)) from None
        except OverflowError:
            raise FilesystemError(ErrorCode.INVALID) from None

    return answering


def _unsupported() -> FilesystemError:
    return FilesystemError(ErrorCode.UNSUPPORTED)


def _checked_offset(offset: int) -> int:
    if not 0 <= offset <= _MAX_OFFSET:
        raise FilesystemError(ErrorCode.INVALID)
    return offset


def _timestamp(nanoseconds: int) -> Datetime | None:
    return Datetime.from_ns(nanoseconds) if nanoseconds >= 0 else None


def _stat_record(info: os.stat_result) -> DescriptorStat:
    return DescriptorStat(
        type=type_of_mode(info.st_mode),
        link_count=info.st_nlink,
        size=info.st_size,
        data_access_timestamp=_timestamp(info.st_atime_ns),
        data_modification_timestamp=_timestamp(info.st_mtime_ns),
        status_change_timestamp=_timestamp(info.st_ctime_ns),
    )


def _metadata_hash(info: os.stat_result) -> MetadataHashValue:
    fields = struct.pack("<QQQq", info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    digest = hashlib.blake2b(fields, key=_HASH_KEY, digest_size=16).digest()
    return MetadataHashValue(
        lower=int.from_bytes(digest[:8], "little"), upper=int.from_bytes(digest[8:], "little")
    )


class Descriptor:
    """A file or directory the guest holds. `writable` is the preopen's permission, inherited
    by everything opened beneath it; `flags` are what this descriptor was opened for."""

    def __init__(
        self,
        fd: OwnedFd,
        *,
        is_directory: bool,
        flags: DescriptorFlags,
        writable: bool,
        waker: Waker,
    ) -> None:
        self._fd = fd
        self.is_directory = is_directory
        self.flags = flags
        self.writable = writable
        self.waker = waker

    @classmethod
    def open_directory(cls, host_path: str, *, writable: bool, waker: Waker) -> Descriptor:
        """A preopen. Raises `OSError` when `host_path` is missing or not a directory."""
        fd = os.open(host_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        return cls(
            OwnedFd(fd),
            is_directory=True,
            flags=_directory_flags(writable),
            writable=writable,
            waker=waker,
        )

    def duplicate(self) -> Descriptor:
        """Another handle on the same file, closed independently."""
        return Descriptor(
            self._fd.duplicate(),
            is_directory=self.is_directory,
            flags=self.flags,
            writable=self.writable,
            waker=self.waker,
        )

    def close(self) -> None:
        """The guest dropped its handle."""
        self._fd.close()

    # Files.

    def _file(self, *, needs: DescriptorFlags, on_directory: ErrorCode) -> int:
        if self.is_directory:
            raise FilesystemError(on_directory)
        if needs & DescriptorFlags.WRITE and not self.writable:
            raise FilesystemError(ErrorCode.NOT_PERMITTED)
        if needs not in self.flags:
            raise FilesystemError(ErrorCode.BAD_DESCRIPTOR)
        return self._fd.fd

    def read_via_stream(self, offset: int) -> InputStream:
        self._file(needs=DescriptorFlags.READ, on_directory=ErrorCode.IS_DIRECTORY)
        return FileInputStream(self._stream_fd(), _checked_offset(offset), self.waker)

    def write_via_stream(self, offset: int) -> OutputStream:
        self._file(needs=DescriptorFlags.WRITE, on_directory=ErrorCode.BAD_DESCRIPTOR)
        return FileOutputStream(self._stream_fd(), _checked_offset(offset), self.waker)

    def append_via_stream(self) -> OutputStream:
        self._file(needs=DescriptorFlags.WRITE, on_directory=ErrorCode.BAD_DESCRIPTOR)
        return FileOutputStream(self._stream_fd(), None, self.waker)

    @answers_error_codes
    def _stream_fd(self) -> OwnedFd:
        return self._fd.duplicate()

    @answers_error_codes
    def read(self, length: int, offset: int) -> tuple[bytes, bool]:
        """At most `MAX_READ` bytes at `offset`, and whether the end of the file was reached."""
        fd = self._file(needs=DescriptorFlags.READ, on_directory=ErrorCode.IS_DIRECTORY)
        wanted = min(length, MAX_READ)
        data = os.pread(fd, wanted, _checked_offset(offset))
        return data, len(data) < wanted

    @answers_error_codes
    def write(self, buffer: bytes, offset: int) -> int:
        fd = self._file(needs=DescriptorFlags.WRITE, on_directory=ErrorCode.BAD_DESCRIPTOR)
        return os.pwrite(fd, buffer, _checked_offset(offset))

    @answers_error_codes
    def set_size(self, size: int) -> None:
        fd = self._file(needs=DescriptorFlags.WRITE, on_directory=ErrorCode.BAD_DESCRIPTOR)
        os.ftruncate(fd, _checked_offset(size))

    def advise(self, offset: int, length: int, advice: object) -> None:
        raise _unsupported()

    # Either kind.

    @answers_error_codes
    def sync_data(self) -> None:
        os.fdatasync(self._fd.fd)

    @answers_error_codes
    def sync(self) -> None:
        os.fsync(self._fd.fd)

    def get_flags(self) -> DescriptorFlags:
        return self.flags

    @answers_error_codes
    def get_type(self) -> DescriptorType:
        if self.is_directory:
            return DescriptorType.DIRECTORY
        return type_of_mode(os.fstat(self._fd.fd).st_mode)

    @answers_error_codes
    def stat(self) -> DescriptorStat:
        return _stat_record(os.fstat(self._fd.fd))

    @answers_error_codes
    def is_same_object(self, other: Descriptor) -> bool:
        mine, theirs = os.fstat(self._fd.fd), os.fstat(other._fd.fd)
        return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)

    @answers_error_codes
    def metadata_hash(self) -> MetadataHashValue:
        return _metadata_hash(os.fstat(self._fd.fd))

    def set_times(self, data_access_timestamp: object, data_modification_timestamp: object) -> None:
        raise _unsupported()

    # Directories.

    def _directory(self, *, changes: bool = False) -> int:
        if not self.is_directory:
            raise FilesystemError(ErrorCode.NOT_DIRECTORY)
        if changes and not self.writable:
            raise FilesystemError(ErrorCode.NOT_PERMITTED)
        return self._fd.fd

    @answers_error_codes
    def open_at(
        self, path_flags: PathFlags, path: str, open_flags: OpenFlags, flags: DescriptorFlags
    ) -> Descriptor:
        base = self._directory()
        if flags & SYNC_FLAGS:
            raise _unsupported()
        if OpenFlags.DIRECTORY in open_flags and open_flags & (
            OpenFlags.CREATE | OpenFlags.EXCLUSIVE | OpenFlags.TRUNCATE
        ):
            raise FilesystemError(ErrorCode.INVALID)
        # Creating or truncating writes, as wasmtime has it; without write access, open to read.
        writes = bool(
            DescriptorFlags.WRITE in flags or open_flags & (OpenFlags.CREATE | OpenFlags.TRUNCATE)
        )
        reads = DescriptorFlags.READ in flags or not writes
        if not self.writable and (writes or DescriptorFlags.MUTATE_DIRECTORY in flags):
            raise FilesystemError(ErrorCode.NOT_PERMITTED)
        os_flags = _os_open_flags(reads, writes, open_flags)
        with resolve(base, path, follow=PathFlags.SYMLINK_FOLLOW in path_flags) as at:
            if at.must_be_directory:
                os_flags |= os.O_DIRECTORY
            fd = OwnedFd(os.open(at.name, os_flags, _NEW_FILE_MODE, dir_fd=at.dir_fd))
        try:
            os.set_blocking(fd.fd, True)
            is_directory = stat.S_ISDIR(os.fstat(fd.fd).st_mode)
        except BaseException:
            fd.close()
            raise
        if is_directory:
            opened_flags = _directory_flags(self.writable)
        else:
            opened_flags = DescriptorFlags(0)
            if reads:
                opened_flags |= DescriptorFlags.READ
            if writes:
                opened_flags |= DescriptorFlags.WRITE
        return Descriptor(
            fd,
            is_directory=is_directory,
            flags=opened_flags,
            writable=self.writable,
            waker=self.waker,
        )

    @answers_error_codes
    def stat_at(self, path_flags: PathFlags, path: str) -> DescriptorStat:
        return _stat_record(self._stat_at(path_flags, path))

    @answers_error_codes
    def metadata_hash_at(self, path_flags: PathFlags, path: str) -> MetadataHashValue:
        return _metadata_hash(self._stat_at(path_flags, path))

    def _stat_at(self, path_flags: PathFlags, path: str) -> os.stat_result:
        base = self._directory()
        with resolve(base, path, follow=PathFlags.SYMLINK_FOLLOW in path_flags) as at:
            return os.stat(at.name, dir_fd=at.dir_fd, follow_symlinks=False)

    @answers_error_codes
    def readlink_at(self, path: str) -> str:
        with resolve(self._directory(), path, follow=False) as at:
            return os.readlink(at.name, dir_fd=at.dir_fd)

    @answers_error_codes
    def read_directory(self) -> DirectoryEntryStream:
        return DirectoryEntryStream(_list_directory(self._directory()))

    @answers_error_codes
    def create_directory_at(self, path: str) -> None:
        with resolve(self._directory(changes=True), path, follow=False) as at:
            os.mkdir(at.name, _NEW_DIRECTORY_MODE, dir_fd=at.dir_fd)

    @answers_error_codes
    def remove_directory_at(self, path: str) -> None:
        with resolve(self._directory(changes=True), path, follow=False) as at:
            os.rmdir(at.name, dir_fd=at.dir_fd)

    @answers_error_codes
    def unlink_file_at(self, path: str) -> None:
        with resolve(self._directory(changes=True), path, follow=False) as at:
            if at.must_be_directory:
                raise FilesystemError(ErrorCode.NOT_DIRECTORY)
            os.unlink(at.name, dir_fd=at.dir_fd)

    @answers_error_codes
    def rename_at(self, old_path: str, new_descriptor: Descriptor, new_path: str) -> None:
        source_base = self._directory(changes=True)
        target_base = new_descriptor._directory(changes=True)
        with (
            resolve(source_base, old_path, follow=False) as source,
            resolve(target_base, new_path, follow=False) as target,
        ):
            os.rename(source.name, target.name, src_dir_fd=source.dir_fd, dst_dir_fd=target.dir_fd)

    def set_times_at(
        self,
        path_flags: PathFlags,
        path: str,
        data_access_timestamp: object,
        data_modification_timestamp: object,
    ) -> None:
        raise _unsupported()

    def link_at(
        self, old_path_flags: PathFlags, old_path: str, new_descriptor: Descriptor, new_path: str
    ) -> None:
        raise _unsupported()

    def symlink_at(self, old_path: str, new_path: str) -> None:
        raise _unsupported()


def _directory_flags(writable: bool) -> DescriptorFlags:
    if writable:
        return DescriptorFlags.READ | DescriptorFlags.MUTATE_DIRECTORY
    return DescriptorFlags.READ


def _os_open_flags(reads: bool, writes: bool, open_flags: OpenFlags) -> int:
    # O_NONBLOCK only for the open itself: opening a FIFO must not hang the instance.
    flags = os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
    if reads and writes:
        flags |= os.O_RDWR
    elif writes:
        flags |= os.O_WRONLY
    else:
        flags |= os.O_RDONLY
    if OpenFlags.CREATE in open_flags:
        flags |= os.O_CREAT
        if OpenFlags.EXCLUSIVE in open_flags:
            flags |= os.O_EXCL
    if OpenFlags.TRUNCATE in open_flags:
        flags |= os.O_TRUNC
    if OpenFlags.DIRECTORY in open_flags:
        flags |= os.O_DIRECTORY
    return flags


class DirectoryEntryStream:
    """`directory-entry-stream`: the entries (without `.` and `..`) as they were when opened."""

    def __init__(self, entries: list[DirectoryEntry | FilesystemError]) -> None:
        self._entries = entries
        self._next = 0

    def read_directory_entry(self) -> DirectoryEntry | None:
        if self._next >= len(self._entries):
            return None
        entry = self._entries[self._next]
        self._next += 1
        if isinstance(entry, FilesystemError):
            raise entry
        return entry


def _list_directory(dir_fd: int) -> list[DirectoryEntry | FilesystemError]:
    # A fresh fd: scandir reads from the fd's position, which an earlier listing moved.
    listing_fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        with os.scandir(listing_fd) as entries:
            return [_entry(entry) for entry in entries]
    finally:
        os.close(listing_fd)


def _entry(entry: os.DirEntry[str]) -> DirectoryEntry | FilesystemError:
    try:
        entry.name.encode("utf-8")
    except UnicodeEncodeError:
        return FilesystemError(ErrorCode.ILLEGAL_BYTE_SEQUENCE)  # WIT strings are UTF-8
    if entry.is_symlink():
        kind = DescriptorType.SYMBOLIC_LINK
    elif entry.is_dir(follow_symlinks=False):
        kind = DescriptorType.DIRECTORY
    elif entry.is_file(follow_symlinks=False):
        kind = DescriptorType.REGULAR_FILE
    else:
        try:
            kind = type_of_mode(entry.stat(follow_symlinks=False).st_mode)
        except OSError:
            kind = DescriptorType.UNKNOWN  # gone since the listing
    return DirectoryEntry(kind, entry.name)
