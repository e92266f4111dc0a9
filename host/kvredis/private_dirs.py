"""Directories and files only this user can change, checked the way ssh checks ~/.ssh.

What kvredis finds in its data directory or its compiled-code cache decides which server it
talks to and which native code it runs, so it trusts such a place only if it belongs to the
user and nobody else can write to it. A directory is opened once, without following a
symbolic link, and checked through its descriptor; every file in it is then reached relative
to that descriptor, never following a link either, so swapping a path after the check
changes nothing. Files are written to a fresh temporary name and renamed into place: a link
planted under the final name is replaced, never written through.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # NONBLOCK: a planted FIFO won't hang


class UnsafePath(Exception):
    """A path kvredis will not trust; `str()` says what is wrong and how to fix it."""

    def __init__(self, path: Path, problem: str, fix: str) -> None:
        super().__init__(f"{shown(path)} {problem}; {fix}")
        self.path = path


def shown(path: Path | str) -> str:
    """A path as one printable line (a newline in a directory name would split a message)."""
    text = os.fspath(path)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _problem(st: os.stat_result, path: Path, *, directory: bool) -> tuple[str, str] | None:
    """What is wrong with a file of this kind and mode, and how to fix it (None: nothing)."""
    kind = "directory" if directory else "regular file"
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link", (
            "use the directory it points to" if directory else "remove the link"
        )
    if stat.S_ISDIR(st.st_mode) != directory or not (directory or stat.S_ISREG(st.st_mode)):
        return f"is not a {kind}", "remove it or choose another path"
    me = os.geteuid()
    if st.st_uid != me:
        fix = "use a directory of your own" if directory else "remove it"
        return f"belongs to uid {st.st_uid}, not to you (uid {me})", fix
    mode = stat.S_IMODE(st.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"is writable by group or others (mode {mode:04o})", f"run chmod go-w {shown(path)}"
    return None


def check(st: os.stat_result, path: Path, *, directory: bool) -> None:
    """Raise UnsafePath unless `st` (from lstat or fstat) is a real directory or regular file
    of this user that neither group nor others may write."""
    found = _problem(st, path, directory=directory)
    if found is not None:
        raise UnsafePath(path, *found)


def open_private_dir(path: Path, *, create: bool) -> int:
    """A descriptor of the directory `path`, checked (and made, mode 0700, if `create`).

    Raises UnsafePath for a directory not to trust, OSError when it cannot be made or opened.
    """
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
    try:
        fd = os.open(path, _DIR_FLAGS)
    except OSError:
        check(os.lstat(path), path, directory=True)  # says "symbolic link" or "not a directory"
        raise
    try:
        check(os.fstat(fd), path, directory=True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_entries(dir_fd: int, names: Iterable[str], dir_path: Path) -> None:
    """Check each of `names` in the directory that exist: regular files of this user, or
    directories when the name ends in `/` (their entries are checked too)."""
    for entry in names:
        directory = entry.endswith("/")
        name = entry.rstrip("/")
        try:
            st = os.lstat(name, dir_fd=dir_fd)
        except FileNotFoundError:
            continue
        check(st, dir_path / name, directory=directory)
        if directory:
            inner = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
            try:
                check(os.fstat(inner), dir_path / name, directory=True)
                check_entries(inner, os.listdir(inner), dir_path / name)
            finally:
                os.close(inner)


def open_private_file(dir_fd: int, name: str, flags: int, dir_path: Path) -> int:
    """Open `name` in the directory (created 0600 if `flags` has O_CREAT), never through a
    link, and check it is this user's own regular file."""
    path = dir_path / name
    try:
        fd = os.open(name, flags | _FILE_FLAGS, 0o600, dir_fd=dir_fd)
    except OSError:
        # ELOOP is a symbolic link; say so instead of "too many levels of symbolic links".
        try:
            st = os.lstat(name, dir_fd=dir_fd)
        except OSError:
            st = None
        if st is not None:
            check(st, path, directory=False)
        raise
    try:
        check(os.fstat(fd), path, directory=False)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_private_file(dir_fd: int, name: str, dir_path: Path) -> bytes | None:
    """The contents of `name` (checked as open_private_file does), or None if it is missing."""
    try:
        fd = open_private_file(dir_fd, name, os.O_RDONLY, dir_path)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as file:
        return file.read()


def write_private_file(dir_fd: int, name: str, data: bytes | bytearray) -> None:
    """Replace `name` in the directory with `data`, atomically, as a mode-0600 file."""
    temporary = f".{name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _FILE_FLAGS, 0o600, dir_fd=dir_fd
    )
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=dir_fd)
        raise


def check_private_dir(directory: Path) -> None:
    """Raise UnsafePath unless `directory` is this user's and only they can enter it (0700)."""
    st = os.lstat(directory)
    found = _problem(st, directory, directory=True)
    if found is None and stat.S_IMODE(st.st_mode) != 0o700:
        found = f"can be entered by others (mode {stat.S_IMODE(st.st_mode):04o}, not 0700)", ""
    if found is not None:
        raise UnsafePath(directory, found[0], "a server listening there may be anyone's")


def check_private_socket(socket_path: Path) -> None:
    """Raise UnsafePath unless the socket is this user's, in a private directory of theirs:
    whoever listens there is then this user."""
    check_private_dir(socket_path.parent)
    st = os.lstat(socket_path)
    if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.geteuid():
        raise UnsafePath(
            socket_path, "is not a socket of yours", "a server listening there may be anyone's"
        )
