"""wasi:filesystem/types values: error codes (and the errno map), flags, and records."""

from __future__ import annotations

import errno
import stat
from dataclasses import dataclass
from enum import Flag, StrEnum, auto

from kvredis.wasi.clocks import Datetime
from kvredis.wasi.errors import CodedError
from kvredis.wasi.io.error import IoError


class ErrorCode(StrEnum):
    """`error-code`; each value is the WIT case name."""

    ACCESS = "access"
    WOULD_BLOCK = "would-block"
    ALREADY = "already"
    BAD_DESCRIPTOR = "bad-descriptor"
    BUSY = "busy"
    DEADLOCK = "deadlock"
    QUOTA = "quota"
    EXIST = "exist"
    FILE_TOO_LARGE = "file-too-large"
    ILLEGAL_BYTE_SEQUENCE = "illegal-byte-sequence"
    IN_PROGRESS = "in-progress"
    INTERRUPTED = "interrupted"
    INVALID = "invalid"
    IO = "io"
    IS_DIRECTORY = "is-directory"
    LOOP = "loop"
    TOO_MANY_LINKS = "too-many-links"
    MESSAGE_SIZE = "message-size"
    NAME_TOO_LONG = "name-too-long"
    NO_DEVICE = "no-device"
    NO_ENTRY = "no-entry"
    NO_LOCK = "no-lock"
    INSUFFICIENT_MEMORY = "insufficient-memory"
    INSUFFICIENT_SPACE = "insufficient-space"
    NOT_DIRECTORY = "not-directory"
    NOT_EMPTY = "not-empty"
    NOT_RECOVERABLE = "not-recoverable"
    UNSUPPORTED = "unsupported"
    NO_TTY = "no-tty"
    NO_SUCH_DEVICE = "no-such-device"
    OVERFLOW = "overflow"
    NOT_PERMITTED = "not-permitted"
    PIPE = "pipe"
    READ_ONLY = "read-only"
    INVALID_SEEK = "invalid-seek"
    TEXT_FILE_BUSY = "text-file-busy"
    CROSS_DEVICE = "cross-device"


class FilesystemError(CodedError[ErrorCode]):
    """A filesystem call answered with `err(code)`."""


_ERRNO_CODES = {
    errno.EACCES: ErrorCode.ACCESS,
    errno.EAGAIN: ErrorCode.WOULD_BLOCK,
    errno.EALREADY: ErrorCode.ALREADY,
    errno.EBADF: ErrorCode.BAD_DESCRIPTOR,
    errno.EBUSY: ErrorCode.BUSY,
    errno.EDEADLK: ErrorCode.DEADLOCK,
    errno.EDQUOT: ErrorCode.QUOTA,
    errno.EEXIST: ErrorCode.EXIST,
    errno.EFBIG: ErrorCode.FILE_TOO_LARGE,
    errno.EILSEQ: ErrorCode.ILLEGAL_BYTE_SEQUENCE,
    errno.EINPROGRESS: ErrorCode.IN_PROGRESS,
    errno.EINTR: ErrorCode.INTERRUPTED,
    errno.EINVAL: ErrorCode.INVALID,
    errno.EIO: ErrorCode.IO,
    errno.EISDIR: ErrorCode.IS_DIRECTORY,
    errno.ELOOP: ErrorCode.LOOP,
    errno.EMLINK: ErrorCode.TOO_MANY_LINKS,
    errno.EMSGSIZE: ErrorCode.MESSAGE_SIZE,
    errno.ENAMETOOLONG: ErrorCode.NAME_TOO_LONG,
    errno.ENODEV: ErrorCode.NO_DEVICE,
    errno.ENOENT: ErrorCode.NO_ENTRY,
    errno.ENOLCK: ErrorCode.NO_LOCK,
    errno.ENOMEM: ErrorCode.INSUFFICIENT_MEMORY,
    errno.ENOSPC: ErrorCode.INSUFFICIENT_SPACE,
    errno.ENOTDIR: ErrorCode.NOT_DIRECTORY,
    errno.ENOTEMPTY: ErrorCode.NOT_EMPTY,
    errno.ENOTRECOVERABLE: ErrorCode.NOT_RECOVERABLE,
    errno.ENOTSUP: ErrorCode.UNSUPPORTED,
    errno.EOPNOTSUPP: ErrorCode.UNSUPPORTED,
    errno.ENOSYS: ErrorCode.UNSUPPORTED,
    errno.ENOTTY: ErrorCode.NO_TTY,
    errno.ENXIO: ErrorCode.NO_SUCH_DEVICE,
    errno.EOVERFLOW: ErrorCode.OVERFLOW,
    errno.EPERM: ErrorCode.NOT_PERMITTED,
    errno.EPIPE: ErrorCode.PIPE,
    errno.EROFS: ErrorCode.READ_ONLY,
    errno.ESPIPE: ErrorCode.INVALID_SEEK,
    errno.ETXTBSY: ErrorCode.TEXT_FILE_BUSY,
    errno.EXDEV: ErrorCode.CROSS_DEVICE,
}


def code_of(exc: OSError) -> ErrorCode:
    """The WIT error code for an OS error; `io` for an errno the WIT has no name for."""
    return _ERRNO_CODES.get(exc.errno or 0, ErrorCode.IO)


def stream_error_of(exc: OSError) -> IoError:
    """The `error` a file stream fails with: its debug string, and the code it downcasts to."""
    code = code_of(exc)
    return IoError(f"{code.value}: {exc.strerror or exc}", code)


def filesystem_error_code(error: IoError) -> ErrorCode | None:
    """`filesystem-error-code`: the code behind a stream's error, when a file stream failed."""
    return error.code if isinstance(error.code, ErrorCode) else None


class DescriptorType(StrEnum):
    UNKNOWN = "unknown"
    BLOCK_DEVICE = "block-device"
    CHARACTER_DEVICE = "character-device"
    DIRECTORY = "directory"
    FIFO = "fifo"
    SYMBOLIC_LINK = "symbolic-link"
    REGULAR_FILE = "regular-file"
    SOCKET = "socket"


def type_of_mode(mode: int) -> DescriptorType:
    """The descriptor type of an `st_mode`."""
    for test, kind in (
        (stat.S_ISREG, DescriptorType.REGULAR_FILE),
        (stat.S_ISDIR, DescriptorType.DIRECTORY),
        (stat.S_ISLNK, DescriptorType.SYMBOLIC_LINK),
        (stat.S_ISCHR, DescriptorType.CHARACTER_DEVICE),
        (stat.S_ISBLK, DescriptorType.BLOCK_DEVICE),
        (stat.S_ISFIFO, DescriptorType.FIFO),
        (stat.S_ISSOCK, DescriptorType.SOCKET),
    ):
        if test(mode):
            return kind
    return DescriptorType.UNKNOWN


class DescriptorFlags(Flag):
    READ = auto()
    WRITE = auto()
    FILE_INTEGRITY_SYNC = auto()
    DATA_INTEGRITY_SYNC = auto()
    REQUESTED_WRITE_SYNC = auto()
    MUTATE_DIRECTORY = auto()


SYNC_FLAGS = (
    DescriptorFlags.FILE_INTEGRITY_SYNC
    | DescriptorFlags.DATA_INTEGRITY_SYNC
    | DescriptorFlags.REQUESTED_WRITE_SYNC
)


class PathFlags(Flag):
    SYMLINK_FOLLOW = auto()


class OpenFlags(Flag):
    CREATE = auto()
    DIRECTORY = auto()
    EXCLUSIVE = auto()
    TRUNCATE = auto()


@dataclass(frozen=True, slots=True)
class DescriptorStat:
    type: DescriptorType
    link_count: int
    size: int
    data_access_timestamp: Datetime | None
    data_modification_timestamp: Datetime | None
    status_change_timestamp: Datetime | None


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    type: DescriptorType
    name: str


@dataclass(frozen=True, slots=True)
class MetadataHashValue:
    lower: int
    upper: int
