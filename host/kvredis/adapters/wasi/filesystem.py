"""wasi:filesystem adapters: preopens, descriptors and directory listings over the core.

The core's values and the bindings' share their WIT names (enum values, flag members), so
converting is by name.
"""

from __future__ import annotations

from enum import Flag
from typing import TypeVar

from kvredis import canon
from kvredis.adapters.wasi.clocks import datetime
from kvredis.adapters.wasi.handles import answering, ours
from kvredis.adapters.wasi.io import InputStreamAdapter, OutputStreamAdapter, io_error
from kvredis.bindings import wasi_clocks, wasi_io
from kvredis.bindings import wasi_filesystem as wit
from kvredis.wasi.clocks import Datetime
from kvredis.wasi.filesystem import types as core
from kvredis.wasi.filesystem.descriptor import Descriptor, DirectoryEntryStream
from kvredis.wasi.filesystem.preopens import Preopens

F = TypeVar("F", bound=Flag)


def convert_flags(value: Flag, to: type[F]) -> F:
    """The same flags, as members of another `Flag` class with the same member names."""
    converted = to(0)
    for member in type(value):
        if member in value and member.name is not None:
            converted |= to[member.name]
    return converted


def error_code(exc: core.FilesystemError) -> wit.ErrorCode:
    return wit.ErrorCode(exc.code.value)


_filesystem_errors = answering(core.FilesystemError, error_code)


def _optional_datetime(value: Datetime | None) -> wasi_clocks.Datetime | None:
    return None if value is None else datetime(value)


def _stat(value: core.DescriptorStat) -> wit.DescriptorStat:
    return wit.DescriptorStat(
        type_=wit.DescriptorType(value.type.value),
        link_count=value.link_count,
        size=value.size,
        data_access_timestamp=_optional_datetime(value.data_access_timestamp),
        data_modification_timestamp=_optional_datetime(value.data_modification_timestamp),
        status_change_timestamp=_optional_datetime(value.status_change_timestamp),
    )


def _hash(value: core.MetadataHashValue) -> wit.MetadataHashValue:
    return wit.MetadataHashValue(lower=value.lower, upper=value.upper)


def _path_flags(flags: wit.PathFlags) -> core.PathFlags:
    return convert_flags(flags, core.PathFlags)


class DescriptorAdapter:
    """`descriptor`: a file or directory the guest holds."""

    __slots__ = ("core",)

    def __init__(self, core: Descriptor) -> None:
        self.core = core

    @_filesystem_errors
    def read_via_stream(self, offset: int) -> wasi_io.InputStream:
        return InputStreamAdapter(self.core.read_via_stream(offset))

    @_filesystem_errors
    def write_via_stream(self, offset: int) -> wasi_io.OutputStream:
        return OutputStreamAdapter(self.core.write_via_stream(offset))

    @_filesystem_errors
    def append_via_stream(self) -> wasi_io.OutputStream:
        return OutputStreamAdapter(self.core.append_via_stream())

    @_filesystem_errors
    def advise(self, offset: int, length: int, advice: wit.Advice) -> None:
        self.core.advise(offset, length, advice)

    @_filesystem_errors
    def sync_data(self) -> None:
        self.core.sync_data()

    @_filesystem_errors
    def get_flags(self) -> wit.DescriptorFlags:
        return convert_flags(self.core.get_flags(), wit.DescriptorFlags)

    @_filesystem_errors
    def get_type(self) -> wit.DescriptorType:
        return wit.DescriptorType(self.core.get_type().value)

    @_filesystem_errors
    def set_size(self, size: int) -> None:
        self.core.set_size(size)

    @_filesystem_errors
    def set_times(
        self, data_access_timestamp: wit.NewTimestamp, data_modification_timestamp: wit.NewTimestamp
    ) -> None:
        self.core.set_times(data_access_timestamp, data_modification_timestamp)

    @_filesystem_errors
    def read(self, length: int, offset: int) -> tuple[bytes, bool]:
        return self.core.read(length, offset)

    @_filesystem_errors
    def write(self, buffer: canon.Blob, offset: int) -> int:
        return self.core.write(buffer.read(), offset)

    @_filesystem_errors
    def read_directory(self) -> wit.DirectoryEntryStream:
        return DirectoryEntryStreamAdapter(self.core.read_directory())

    @_filesystem_errors
    def sync(self) -> None:
        self.core.sync()

    @_filesystem_errors
    def create_directory_at(self, path: str) -> None:
        self.core.create_directory_at(path)

    @_filesystem_errors
    def stat(self) -> wit.DescriptorStat:
        return _stat(self.core.stat())

    @_filesystem_errors
    def stat_at(self, path_flags: wit.PathFlags, path: str) -> wit.DescriptorStat:
        return _stat(self.core.stat_at(_path_flags(path_flags), path))

    @_filesystem_errors
    def set_times_at(
        self,
        path_flags: wit.PathFlags,
        path: str,
        data_access_timestamp: wit.NewTimestamp,
        data_modification_timestamp: wit.NewTimestamp,
    ) -> None:
        self.core.set_times_at(
            _path_flags(path_flags), path, data_access_timestamp, data_modification_timestamp
        )

    @_filesystem_errors
    def link_at(
        self,
        old_path_flags: wit.PathFlags,
        old_path: str,
        new_descriptor: wit.Descriptor,
        new_path: str,
    ) -> None:
        other = ours(new_descriptor, DescriptorAdapter).core
        self.core.link_at(_path_flags(old_path_flags), old_path, other, new_path)

    @_filesystem_errors
    def open_at(
        self,
        path_flags: wit.PathFlags,
        path: str,
        open_flags: wit.OpenFlags,
        flags: wit.DescriptorFlags,
    ) -> wit.Descriptor:
        opened = self.core.open_at(
            _path_flags(path_flags),
            path,
            convert_flags(open_flags, core.OpenFlags),
            convert_flags(flags, core.DescriptorFlags),
        )
        return DescriptorAdapter(opened)

    @_filesystem_errors
    def readlink_at(self, path: str) -> str:
        return self.core.readlink_at(path)

    @_filesystem_errors
    def remove_directory_at(self, path: str) -> None:
        self.core.remove_directory_at(path)

    @_filesystem_errors
    def rename_at(self, old_path: str, new_descriptor: wit.Descriptor, new_path: str) -> None:
        self.core.rename_at(old_path, ours(new_descriptor, DescriptorAdapter).core, new_path)

    @_filesystem_errors
    def symlink_at(self, old_path: str, new_path: str) -> None:
        self.core.symlink_at(old_path, new_path)

    @_filesystem_errors
    def unlink_file_at(self, path: str) -> None:
        self.core.unlink_file_at(path)

    def is_same_object(self, other: wit.Descriptor) -> bool:
        try:
            return self.core.is_same_object(ours(other, DescriptorAdapter).core)
        except core.FilesystemError:
            return False  # one of them is closed: not the same object as anything

    @_filesystem_errors
    def metadata_hash(self) -> wit.MetadataHashValue:
        return _hash(self.core.metadata_hash())

    @_filesystem_errors
    def metadata_hash_at(self, path_flags: wit.PathFlags, path: str) -> wit.MetadataHashValue:
        return _hash(self.core.metadata_hash_at(_path_flags(path_flags), path))

    def drop(self) -> None:
        self.core.close()


class DirectoryEntryStreamAdapter:
    __slots__ = ("core",)

    def __init__(self, core: DirectoryEntryStream) -> None:
        self.core = core

    @_filesystem_errors
    def read_directory_entry(self) -> wit.DirectoryEntry | None:
        entry = self.core.read_directory_entry()
        if entry is None:
            return None
        return wit.DirectoryEntry(type_=wit.DescriptorType(entry.type.value), name=entry.name)

    def drop(self) -> None:
        """A listing is a snapshot: nothing to release."""


class FilesystemTypesHost:
    """The functions of `wasi:filesystem/types` itself."""

    def filesystem_error_code(self, err: wasi_io.Error) -> wit.ErrorCode | None:
        code = core.filesystem_error_code(io_error(err))
        return None if code is None else wit.ErrorCode(code.value)


class PreopensHost:
    def __init__(self, preopens: Preopens) -> None:
        self._preopens = preopens

    def get_directories(self) -> list[tuple[wit.Descriptor, str]]:
        return [(DescriptorAdapter(d), path) for d, path in self._preopens.get_directories()]
