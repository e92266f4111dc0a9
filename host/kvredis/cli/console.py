"""What the command says on stderr besides the guest's own output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


def say(message: str) -> None:
    print(f"kvredis: {message}", file=sys.stderr, flush=True)


def compiling_note(path: str) -> Callable[[], None] | None:
    """On a terminal, why the first start of a component waits; elsewhere nothing."""
    if not sys.stderr.isatty():
        return None
    return lambda: say(f"compiling {Path(path).name} (cached for next time)...")
