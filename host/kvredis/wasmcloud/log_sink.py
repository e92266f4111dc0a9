"""`wasi:logging`: one line per call, `LEVEL context: message`, at or above a threshold."""

from __future__ import annotations

import os
from collections.abc import Callable

from kvredis.errors import ConfigError

# The WIT enum's cases, least severe first: a threshold lets through its level and those after.
LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "critical")
DEFAULT_LOG_LEVEL = "info"

Write = Callable[[bytes], object]


def write_to_stderr(data: bytes) -> None:
    """Where log lines go when the guest's own stderr is the host's."""
    view = memoryview(data)
    while view:
        view = view[os.write(2, view) :]


def check_log_level(level: object) -> str:
    if not isinstance(level, str) or level.lower() not in LOG_LEVELS:
        raise ConfigError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    return level.lower()


def log_line(level: str, context: str, message: str) -> str:
    """`INFO context: message`, or `INFO message` when the context is empty (wasmCloud's
    components often pass ""). One line per call: a trailing newline of the message is
    dropped, so a guest that ends its messages with one gets no blank lines."""
    text = message.removesuffix("\n")
    head = level.upper()
    return f"{head} {context}: {text}\n" if context else f"{head} {text}\n"


class LogSink:
    """Where one instance's log calls go: `write` gets each line that passes the threshold,
    as UTF-8 bytes."""

    def __init__(self, threshold: str, write: Write) -> None:
        self._lowest = LOG_LEVELS.index(check_log_level(threshold))
        self._write = write

    def log(self, level: str, context: str, message: str) -> None:
        if LOG_LEVELS.index(level) >= self._lowest:
            self._write(log_line(level, context, message).encode("utf-8", "replace"))
