"""What `kvredis serve` and `Component.asgi` assume unless told, kept apart from the ASGI
application so that building the command line does not import the HTTP host."""

from __future__ import annotations

import os

# Guests at once in one process: each is an instance from the engine's pool, which has slots
# for this many components at once (`runtime/instance_pool.py`, with room for guests made
# of several core instances each).
MAX_CONCURRENCY = 500


def default_concurrency() -> int:
    """Guests running at once unless told: two per core (each waits on Redis part of the time)."""
    return 2 * (os.cpu_count() or 1)
