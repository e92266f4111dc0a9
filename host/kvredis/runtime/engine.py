"""The shared wasmtime engine, and the ticker that lets stores time out (compiled components
are cached by `cache`)."""

from __future__ import annotations

import threading

from wasmtime import Config, Engine

from kvredis.canon.allocator import keep_large_blocks

EPOCH_TICK_S = 0.01
NO_DEADLINE = 2**62  # epoch ticks: a store without a timeout never reaches it

_engine: Engine | None = None
_ticker: _EpochTicker | None = None
_engine_lock = threading.Lock()


def engine() -> Engine:
    """The process-wide engine (epoch interruption on, so guests can be timed out).

    Creating it also tunes the C allocator for large values: from here on this process runs
    components, and only such a process should pay for the change.
    """
    global _engine
    with _engine_lock:
        if _engine is None:
            keep_large_blocks()
            config = Config()
            config.epoch_interruption = True
            _engine = Engine(config)
        return _engine


def deadline_ticks(timeout_s: float | None) -> int:
    """The epoch deadline for a store; starts the ticker the first time a timeout is used."""
    global _ticker
    if timeout_s is None:
        return NO_DEADLINE
    eng = engine()
    with _engine_lock:
        if _ticker is None:
            _ticker = _EpochTicker(eng)
            _ticker.start()
    return max(1, round(timeout_s / EPOCH_TICK_S))


class _EpochTicker(threading.Thread):
    """Advances the engine's epoch every EPOCH_TICK_S, so store deadlines measure time."""

    def __init__(self, target: Engine) -> None:
        super().__init__(name="kvredis-epoch", daemon=True)
        self._engine = target

    def run(self) -> None:
        stop = threading.Event()
        while not stop.wait(EPOCH_TICK_S):
            self._engine.increment_epoch()
