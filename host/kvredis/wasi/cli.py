"""wasi:cli: arguments and environment, exit, stdio streams, and terminals (there are none).

Stdio is shared by the whole instance: every `get-stdin` hands out a new view on one stdin
pipe (so the reading position is shared, and dropping a view closes nothing), and every
`get-stdout` / `get-stderr` a new stream onto one sink.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import NoReturn

from kvredis.wasi.io.error import IoError
from kvredis.wasi.io.memory import SinkOutputStream, write_all_to
from kvredis.wasi.io.pipe import Pipe, PipeInputStream
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.io.streams import MAX_CHUNK, InputStream, OutputStream, StreamError

Sink = Callable[[bytes], object]


class Exit(Exception):
    """The guest called `exit`: the instance ends with `status` (0 for ok, 1 for err)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the guest exited with status {status}")
        self.status = status


def exit_instance(ok: bool) -> NoReturn:
    """`exit(status: result)`."""
    raise Exit(0 if ok else 1)


class Environment:
    """`environment`: what the guest sees as its arguments, variables and working directory."""

    def __init__(
        self, arguments: Iterable[str] = (), variables: Iterable[tuple[str, str]] = ()
    ) -> None:
        self._arguments = list(arguments)
        self._variables = list(variables)

    def get_arguments(self) -> list[str]:
        return list(self._arguments)

    def get_environment(self) -> list[tuple[str, str]]:
        return list(self._variables)

    def initial_cwd(self) -> None:
        """No working directory: a guest resolves relative paths against its preopens."""
        return None


def _discard(data: bytes) -> None:
    """A sink for output nobody reads."""


class Stdio:
    """stdin, stdout and stderr of one instance, and the terminal queries (all `none`)."""

    def __init__(self, waker: Waker, stdin: Pipe, stdout: Sink, stderr: Sink) -> None:
        self.waker = waker
        self._stdin = stdin
        self._stdout = stdout
        self._stderr = stderr
        self._before_first_read: Callable[[], None] | None = None

    @classmethod
    def from_bytes(
        cls, waker: Waker, stdin: bytes = b"", stdout: Sink = _discard, stderr: Sink = _discard
    ) -> Stdio:
        """stdin with fixed contents; output to the given sinks (by default, nowhere)."""
        pipe = Pipe()
        pipe.write(stdin)
        pipe.close()
        return cls(waker, pipe, stdout, stderr)

    @classmethod
    def from_fds(cls, waker: Waker, stdin: int = 0, stdout: int = 1, stderr: int = 2) -> Stdio:
        """The host's own fds (kept open; they stay the caller's). stdin is read by a thread,
        started only when the guest first asks for stdin, so an idle guest leaves it alone."""
        stdio = cls(waker, Pipe(), write_all_to(stdout), write_all_to(stderr))
        stdio._before_first_read = lambda: _start_reading(stdin, stdio._stdin)
        return stdio

    def get_stdin(self) -> InputStream:
        start, self._before_first_read = self._before_first_read, None
        if start is not None:
            start()
        return PipeInputStream(self._stdin, self.waker)

    def get_stdout(self) -> OutputStream:
        return SinkOutputStream(self._stdout, self.waker)

    def get_stderr(self) -> OutputStream:
        return SinkOutputStream(self._stderr, self.waker)

    def get_terminal_stdin(self) -> None:
        return None

    def get_terminal_stdout(self) -> None:
        return None

    def get_terminal_stderr(self) -> None:
        return None


def _start_reading(fd: int, pipe: Pipe) -> None:
    threading.Thread(target=_pump, args=(fd, pipe), name=f"stdin-fd-{fd}", daemon=True).start()


def _pump(fd: int, pipe: Pipe) -> None:
    """Copy `fd` into `pipe` until end of file, holding back while the pipe is full.

    A thread blocked in `os.read` cannot be stopped; as a daemon it ends with the process,
    as wasmtime's own stdin worker does.
    """
    while pipe.wait_for_room() and not pipe.writer_done():
        try:
            data = os.read(fd, MAX_CHUNK)
        except OSError as exc:
            pipe.close(IoError(f"reading stdin failed: {exc.strerror or exc}"))
            return
        try:
            if not data:
                pipe.close()
                return
            pipe.write(data)
        except StreamError:
            return  # nobody reads any more
