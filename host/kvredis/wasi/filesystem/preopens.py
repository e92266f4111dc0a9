"""wasi:filesystem/preopens: the host directories a guest may use, under the paths it sees them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kvredis.wasi.filesystem.descriptor import Descriptor
from kvredis.wasi.io.poll import Waker


@dataclass(frozen=True, slots=True)
class Preopen:
    """A host directory shown to the guest as `guest_path`; read-only unless `writable`."""

    host_path: str
    guest_path: str
    writable: bool = True


class Preopens:
    """The open preopened directories of one instance."""

    def __init__(self, directories: Iterable[tuple[Descriptor, str]] = ()) -> None:
        self._directories = list(directories)

    @classmethod
    def open(cls, preopens: Iterable[Preopen], waker: Waker) -> Preopens:
        """Open each directory; `OSError` if one is missing or not a directory."""
        opened = cls()
        try:
            for preopen in preopens:
                descriptor = Descriptor.open_directory(
                    preopen.host_path, writable=preopen.writable, waker=waker
                )
                opened._directories.append((descriptor, preopen.guest_path))
        except BaseException:
            opened.close()
            raise
        return opened

    def get_directories(self) -> list[tuple[Descriptor, str]]:
        """New handles each call: the guest may drop them without closing the preopens."""
        return [(descriptor.duplicate(), path) for descriptor, path in self._directories]

    def close(self) -> None:
        for descriptor, _ in self._directories:
            descriptor.close()
        self._directories.clear()
