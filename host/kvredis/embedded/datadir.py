"""The embedded server's data directory: opened once, checked before anything in it is
believed, and used only through its descriptor. Every failure on the way is one
EmbeddedServerError line that names the path, what is wrong and what to do."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from kvredis.embedded._supervisor import URL_FILE, USERS_LOCK
from kvredis.embedded.config import AOF_DIR, CONF, LOG
from kvredis.errors import EmbeddedServerError
from kvredis.private_dirs import (
    UnsafePath,
    check_entries,
    open_private_dir,
    open_private_file,
    read_private_file,
    shown,
    write_private_file,
)

SERVER_LOCK = "server.lock"
# Everything kvredis or the server reads or writes there; a name ending in / is a directory.
LOCKS_AND_URL = (SERVER_LOCK, USERS_LOCK, URL_FILE)
DATA_ENTRIES = (*LOCKS_AND_URL, CONF, LOG, f"{AOF_DIR}/")

# File systems the kernel makes up from its own state: nothing written there is kept.
_PSEUDO_FILE_SYSTEMS = frozenset(
    {
        "autofs",
        "binfmt_misc",
        "bpf",
        "cgroup",
        "cgroup2",
        "configfs",
        "debugfs",
        "devpts",
        "efivarfs",
        "fusectl",
        "mqueue",
        "nsfs",
        "proc",
        "pstore",
        "securityfs",
        "sysfs",
        "tracefs",
    }
)
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


class DataDir:
    """An open, checked data directory (made, mode 0700, if missing); `entries` are the
    names in it that must pass the trust rule (a name ending in / is a directory)."""

    def __init__(self, path: Path, entries: tuple[str, ...] = DATA_ENTRIES) -> None:
        self.path = path
        with self._failures("use"):
            self.fd = open_private_dir(path, create=True)
        try:
            with self._failures("check"):
                check_entries(self.fd, entries, path)
        except BaseException:
            os.close(self.fd)
            raise

    def close(self) -> None:
        os.close(self.fd)

    def check(self, entries: Iterable[str]) -> None:
        """Hold more names in it to the trust rule (those a file of it says it uses)."""
        with self._failures("check"):
            check_entries(self.fd, entries, self.path)

    def exists(self, name: str) -> bool:
        try:
            os.lstat(name, dir_fd=self.fd)
        except FileNotFoundError:
            return False
        return True

    def try_lock(self, name: str, mode: int) -> int | None:
        """An fd holding `mode` (LOCK_EX or LOCK_SH) on the file `name`, or None if taken."""
        with self._failures("create", name):
            fd = open_private_file(self.fd, name, os.O_RDWR | os.O_CREAT, self.path)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            return None
        return fd

    def read(self, name: str) -> bytes | None:
        with self._failures("read", name):
            return read_private_file(self.fd, name, self.path)

    def write(self, name: str, data: bytes) -> None:
        with self._failures("write", name):
            write_private_file(self.fd, name, data)

    def create(self, name: str) -> None:
        """Make sure `name` is a file of this user's (the server opens it by name)."""
        with self._failures("create", name):
            os.close(open_private_file(self.fd, name, os.O_WRONLY | os.O_CREAT, self.path))

    def remove(self, name: str) -> None:
        with self._failures("remove", name), contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=self.fd)

    @contextlib.contextmanager
    def _failures(self, doing: str, name: str | None = None) -> Iterator[None]:
        try:
            yield
        except UnsafePath as exc:
            raise EmbeddedServerError(f"refusing the data directory: {exc}") from None
        except OSError as exc:
            what = f"{doing} the data directory" if name is None else f"{doing} {name} in"
            raise EmbeddedServerError(
                f"cannot {what} {shown(self.path)}: {exc.strerror or exc}"
                f"{_file_system_note(self.path)}"
            ) from None


def file_system_of(path: Path, mountinfo: str) -> tuple[str, str] | None:
    """(mount point, type) of the file system holding `path` (absolute, links resolved),
    from the text of /proc/self/mountinfo; None if no mount holds it."""
    found: tuple[str, str] | None = None
    for line in mountinfo.splitlines():
        before, separator, after = line.partition(" - ")
        fields = before.split()
        if not separator or len(fields) < 5 or not after.split():
            continue
        point = _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), fields[4])
        inside = path == Path(point) or Path(point) in path.parents
        # A later mount on the same point hides the earlier one.
        if inside and (found is None or len(point) >= len(found[0])):
            found = (point, after.split()[0])
    return found


def _file_system_note(path: Path) -> str:
    """Why a path on a kernel-made file system (/proc, /sys...) cannot hold data, or ""."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        with open("/proc/self/mountinfo") as mounts:
            found = file_system_of(existing.resolve(), mounts.read())
    except OSError:
        return ""
    if found is None or found[1] not in _PSEUDO_FILE_SYSTEMS:
        return ""
    point, kind = found
    return (
        f"; {shown(point)} is a {kind} file system, which keeps no data: "
        "choose another data directory"
    )
