"""Helpers for the fault, limit, hostile-input, concurrency, property and security suites.

Everything here works on real processes: servers started in a test's own directory, the
`faults` guest driven through the Python API, and the process table read from /proc.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import servers
from servers import wait_until

DURABLE = ["appendonly yes", "appendfsync always"]


def kinds() -> list[str]:
    """Server kinds to run the fault suites on: every one available."""
    return servers.available()


def start_server(kind: str, workdir: Path, **options: Any) -> servers.ServerProcess:
    return servers.start(kind, workdir, **options)


def restart(server: servers.ServerProcess, deadline_s: float = 20.0) -> float:
    """Start a killed server again; returns the wall-clock time when it answered a PING."""
    server.start()
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            if server.client(socket_timeout=1).ping():
                return time.time()
        except Exception:
            pass
        time.sleep(0.02)
    raise AssertionError(f"{server.name} did not come back")


def run_script(target: Any, bucket: str, ops: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Run operations in the faults guest (a Component or an Instance); their outcomes."""
    text = json.dumps([list(op) for op in ops])
    answer = target.call("script", bucket, text)
    outcomes: list[dict[str, Any]] = json.loads(answer)
    return outcomes


def one(target: Any, bucket: str, *op: Any) -> dict[str, Any]:
    """Run a single operation in the faults guest; its outcome."""
    return run_script(target, bucket, [op])[0]


def timed(target: Any, bucket: str, *op: Any) -> tuple[dict[str, Any], float]:
    began = time.monotonic()
    outcome = one(target, bucket, *op)
    return outcome, time.monotonic() - began


# --- processes and sockets ------------------------------------------------------------------


def embedded_pids(data_dir: Path) -> list[int]:
    """Pids of the embedded server of `data_dir` and of its supervisor."""
    return list(servers.embedded_processes(data_dir))


def embedded_server(data_dir: Path) -> int:
    """The pid of the (one) embedded server process of `data_dir`."""
    pids = [
        pid
        for pid in embedded_pids(data_dir)
        if Path(f"/proc/{pid}/comm").read_text().strip() == "valkey-server"
    ]
    assert len(pids) == 1, f"expected one embedded server for {data_dir}, found {pids}"
    return pids[0]


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        match = re.fullmatch(r"socket:\[(\d+)\]", target)
        if match:
            inodes.add(int(match.group(1)))
    return inodes


def tcp_listeners() -> dict[int, str]:
    """Inode -> local address of every listening TCP socket (IPv4 and IPv6)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                found[int(fields[9])] = fields[1]
    return found


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- MONITOR --------------------------------------------------------------------------------

_ARG = re.compile(rb'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"a": b"\a", b"b": b"\b"}


def _unescape(text: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i : i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt == b"x":
            out.append(int(text[i + 2 : i + 4], 16))
            i += 4
        else:
            out += _ESCAPES.get(nxt, nxt)
            i += 2
    return bytes(out)


@dataclass
class Monitor:
    """Every command a server runs, as argument lists, read from MONITOR on a unix socket."""

    socket_path: str
    password: str | None = None
    commands: list[list[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(self.socket_path)
        if self.password:
            self._sock.sendall(f"AUTH {self.password}\r\n".encode())
        self._sock.sendall(b"MONITOR\r\n")
        self._buffer = b""
        self._lines: list[bytes] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        wait_until(self._ok_seen, 10, "MONITOR to start")

    def _ok_seen(self) -> bool:
        return any(line == b"+OK" for line in self._lines[:2])

    def _read(self) -> None:
        self._sock.settimeout(0.1)
        while not self._done.is_set():
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            self._buffer += data
            *lines, self._buffer = self._buffer.split(b"\r\n")
            self._lines += lines

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        # MONITOR lines arrive after the command ran; give the last ones a moment.
        time.sleep(0.2)
        self._done.set()
        self._thread.join(5)
        self._sock.close()
        for line in self._lines:
            if line.startswith(b"+") and b"] " in line:
                args = line.split(b"] ", 1)[1]
                self.commands.append([_unescape(m.group(1)) for m in _ARG.finditer(args)])

    def __iter__(self) -> Iterator[list[bytes]]:
        return iter(self.commands)


def host_crashed(stderr: str) -> bool:
    """Signs of a host failure in a run's stderr: a Python traceback through kvredis or
    wasmtime-py, or a Rust panic on one of wasmtime's threads. (A guest prints its own
    tracebacks and panics, from paths like /0/app.py; those are fine.)"""
    signs = ("kvredis/", "site-packages/", "tokio-rt-worker", "non-unwinding panic", "aborting")
    return any(sign in stderr for sign in signs)
