"""Helpers for the tests of the `kvredis` command: starting it in the background, reading its
output with deadlines, checking its error lines, and finding the embedded server's processes."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from servers import embedded_processes
from support import KVREDIS, kvredis_env

CompletedRun = subprocess.CompletedProcess[str]


def start_kvredis(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """`kvredis ARGS` in the background, with pipes for stdin, stdout and stderr."""
    return subprocess.Popen(
        [str(KVREDIS), *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=kvredis_env(env),
    )


class LineReader:
    """Lines of a pipe, read by a thread, so a test can wait for one with a deadline."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []

        def pump() -> None:
            for line in stream:
                self._lines.put(line.rstrip("\n"))
            self._lines.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def next(self, timeout: float = 60.0) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout} s; so far: {self.seen}") from None
        if line is None:
            raise AssertionError(f"the stream ended; it said: {self.seen}")
        self.seen.append(line)
        return line

    def rest(self, timeout: float = 30.0) -> list[str]:
        """The lines not read yet, up to the end of the stream (its process is ending)."""
        lines: list[str] = []
        while (line := self._lines.get(timeout=timeout)) is not None:
            self.seen.append(line)
            lines.append(line)
        self._lines.put(None)  # the end stays visible to later reads
        return lines

    def until(self, match: Callable[[str], bool], timeout: float = 60.0) -> str:
        """The next line that `match` accepts (the lines before it are in `seen`)."""
        deadline = time.monotonic() + timeout
        while not match(line := self.next(max(0.0, deadline - time.monotonic()))):
            pass
        return line


def stop(process: subprocess.Popen[str], log: LineReader, timeout: float = 30.0) -> list[str]:
    """SIGTERM to a background kvredis whose stderr `log` reads; the lines it printed after
    those already read. (`finish` would read stderr too, racing `log` for the last lines.)"""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"kvredis did not exit within {timeout} s: {log.seen}") from None
    return log.rest()


def finish(process: subprocess.Popen[str], timeout: float = 30.0) -> tuple[str, str]:
    """Wait for a background kvredis; its remaining stdout and stderr."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"kvredis did not exit within {timeout} s: {out}\n{err}") from None
    return out, err


def error_line(done: CompletedRun, status: int = 2) -> str:
    """The one line a failing kvredis printed; checks the status and that no traceback leaked."""
    assert done.returncode == status, f"status {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{done.stderr}"
    return lines[0]


def server_processes(data_dir: Path) -> list[str]:
    """The embedded server's processes for `data_dir`, as "pid: command" lines."""
    return [f"{pid}: {command[:120]}" for pid, command in embedded_processes(data_dir).items()]
