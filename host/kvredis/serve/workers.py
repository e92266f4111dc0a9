"""Serving from several processes: one Python process runs its guests' host calls one at a
time (the GIL), so on a machine with more cores `kvredis serve --workers N` starts N worker
processes that accept connections on one shared listening socket, while this process only
supervises them.

Workers are spawned (not forked: this process already runs threads) and each builds its own
host and handler. A KeyboardInterrupt in this process (Ctrl-C, which also reaches every
process of the terminal's group, or SIGTERM, which the command line turns into one) sends
SIGTERM to each worker: it finishes its requests in flight (the server's graceful shutdown)
while this process waits for it.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

# A worker past the graceful shutdown plus this is stopped for good.
_KILL_AFTER_S = 10.0


def run_workers(
    count: int,
    target: Callable[..., None],
    args: tuple[Any, ...],
    grace_s: float | None = None,
    on_lost: Callable[[str], None] | None = None,
) -> int:
    """Run `target(number, *args)` in `count` spawned processes (numbered from 1) until one
    of them ends or this process gets a KeyboardInterrupt; then stop the others, each given
    `grace_s` (None: as long as it takes) to finish. Returns 1 when a worker failed (ended
    with a status other than 0; `on_lost` hears which), else 0."""
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=target, args=(n, *args), name=f"kvredis-worker-{n}", daemon=False)
        for n in range(1, count + 1)
    ]
    status = 0
    try:
        for worker in workers:
            worker.start()
        ended = wait([w.sentinel for w in workers])
        lost = next(w for w in workers if w.sentinel in ended)
        lost.join(_KILL_AFTER_S)  # its sentinel can fire before it is reaped: the status
        # Status 0: it was told to stop (Ctrl-C reaches the whole process group, and this
        # process may ignore SIGINT, as a background job does); the others stop with it.
        if lost.exitcode != 0:
            if on_lost is not None:
                on_lost(f"{lost.name} ended (exit status {lost.exitcode}); stopping the others")
            status = 1
    except KeyboardInterrupt:
        pass
    finally:
        _stop_all(workers, grace_s)
    return status


def _stop_all(workers: Sequence[BaseProcess], grace_s: float | None) -> None:
    """SIGTERM to each live worker, then wait; one still alive after its grace is killed."""
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    limit = None if grace_s is None else grace_s + _KILL_AFTER_S
    started = [worker for worker in workers if worker.pid is not None]
    try:
        for worker in started:
            worker.join(limit)
    except KeyboardInterrupt:
        pass  # told again: stop waiting
    for worker in started:
        if worker.is_alive():
            worker.kill()
            worker.join()
