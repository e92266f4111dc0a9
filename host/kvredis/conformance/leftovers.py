"""What conformance cases may leave behind in Redis, and how the runner removes it.

Each case deletes what it wrote when it ends, but it cannot during an outage, and not at all
when the run is killed. Every bucket a case opens is named `kvc-<run>-<started><nonce>-...`
(see the guest's `cases.py`): `<run>` is six hex digits the runner gives the whole run,
`<started>` the case's start in Unix seconds (ten digits), `<nonce>` four hex digits. Under
the default key layout those names begin the Redis keys, so the runner finds them by name:
at the end of a run, its own; at the start of a run, those of cases that started so long
ago that they cannot still be running (a concurrent run's keys are left alone).
"""

from __future__ import annotations

import os
import re
import time

# How the guest learns the run's id: an environment variable of its instance.
RUN_ENV = "KVREDIS_CONFORMANCE_RUN"
# A case takes seconds; even through an outage its operations end within their budgets.
STALE_AFTER_S = 600.0
ANY_CASE_PATTERN = "kvc-*"
_CASE_KEY = re.compile(rb"kvc-[0-9a-f]{6}-(\d{10})[0-9a-f]{4}-")


def new_run_id() -> str:
    return os.urandom(3).hex()


def run_pattern(run_id: str) -> str:
    """The SCAN pattern of every key the cases of run `run_id` write."""
    return f"kvc-{run_id}-*"


def is_stale(key: bytes, now: float | None = None) -> bool:
    """Is `key` a conformance case's, from a case started more than STALE_AFTER_S ago?"""
    match = _CASE_KEY.match(key)
    if match is None:
        return False
    started = int(match.group(1))
    return started < (time.time() if now is None else now) - STALE_AFTER_S
