"""Resolving a guest's path inside a directory descriptor, so that it never leaves the preopen.

The walk is openat-style: every directory on the way is opened relative to the previous one
with `O_NOFOLLOW`, so the kernel never follows a symlink for us. A symlink is read and its
target walked by the same rules, relative to where it was found. What cannot escape:

- an absolute path, or a symlink to an absolute target (`not-permitted`);
- `..` past the descriptor's own directory (`not-permitted`), however it is spelled or
  reached through links;
- a component swapped for a symlink while we walk: `O_NOFOLLOW` refuses it.

The result is the directory that holds the final component, as an fd, and the component's
name; the operation itself then runs with `dir_fd=` and does not follow a final symlink.
"""

from __future__ import annotations

import os
from collections import deque
from types import TracebackType

from kvredis.wasi.filesystem.types import ErrorCode, FilesystemError

MAX_SYMLINK_HOPS = 40  # as Linux allows, then `loop`

_WALK_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class ResolvedPath:
    """The directory holding the final component (`dir_fd`) and its `name`; a context manager
    that closes the directory if the walk had to open one."""

    __slots__ = ("_owned", "dir_fd", "must_be_directory", "name")

    def __init__(self, dir_fd: int, name: str, owned: bool, must_be_directory: bool) -> None:
        self.dir_fd = dir_fd
        self.name = name
        self._owned = owned
        self.must_be_directory = must_be_directory

    def close(self) -> None:
        if self._owned:
            self._owned = False
            os.close(self.dir_fd)

    def __enter__(self) -> ResolvedPath:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def _symlink_target(dir_fd: int, name: str) -> str | None:
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        return None  # not a link (or not there): the operation itself reports what it finds


def resolve(base_fd: int, path: str, *, follow: bool) -> ResolvedPath:
    """Walk `path` from the directory `base_fd`; `follow` says whether a final symlink is followed.

    A path that names the directory itself (`.`, `a/..`) resolves to the name `.`.
    """
    if not path:
        raise FilesystemError(ErrorCode.NO_ENTRY)
    if "\0" in path:
        raise FilesystemError(ErrorCode.INVALID)
    if path.startswith("/"):
        raise FilesystemError(ErrorCode.NOT_PERMITTED)
    must_be_directory = path.endswith("/")
    opened: list[int] = []  # directories the walk opened, innermost last
    try:
        # POSIX: a trailing slash follows the final link.
        name = _walk(base_fd, path, opened, follow=follow or must_be_directory)
    except BaseException:
        for fd in opened:
            os.close(fd)
        raise
    for fd in opened[:-1]:
        os.close(fd)
    if opened:
        return ResolvedPath(opened[-1], name, True, must_be_directory)
    return ResolvedPath(base_fd, name, False, must_be_directory)


def _walk(base_fd: int, path: str, opened: list[int], *, follow: bool) -> str:
    """Open the directories on the way into `opened`; answer the final component's name."""
    pending = deque(_components(path))
    hops = 0
    while pending:
        here = opened[-1] if opened else base_fd
        name = pending.popleft()
        if name == "..":
            if not opened:
                raise FilesystemError(ErrorCode.NOT_PERMITTED)
            os.close(opened.pop())
            continue
        last = not pending
        if last and not follow:
            return name
        target = _symlink_target(here, name)
        if target is not None:
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                raise FilesystemError(ErrorCode.LOOP)
            if target.startswith("/"):
                raise FilesystemError(ErrorCode.NOT_PERMITTED)
            pending.extendleft(reversed(_components(target)))
            continue
        if last:
            return name
        opened.append(os.open(name, _WALK_FLAGS, dir_fd=here))
    return "."
