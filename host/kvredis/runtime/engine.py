"""The shared wasmtime engines, and the ticker that lets stores time out (compiled components
are cached by `cache`)."""

from __future__ import annotations

import threading

from wasmtime import Config, Engine

from kvredis.canon.allocator import keep_large_blocks

EPOCH_TICK_S = 0.01
NO_DEADLINE = 2**62  # epoch ticks: a store without a timeout never reaches it

_engines: dict[bool, Engine] = {}
_ticker: _EpochTicker | None = None
_engine_lock = threading.Lock()


def engine(interruptible: bool = False) -> Engine:
    """The process-wide engine of one kind: `interruptible` (epoch interruption on) for guests
    with a timeout, plain for the others.

    Epoch interruption compiles a check of the deadline into every function entry and loop
    of the guest, and those checks cost guests built by toolchains real time (make bench's
    componentize-js guest on the null backend: get 17.8 µs with them, 15.9 without; 36 µs
    and 31 in one export call of 20,000 gets). So only stores that can time out pay for
    them; a component is compiled (and cached) for each kind it is run with.

    Creating the first engine also tunes the C allocator for large values: from here on this
    process runs components, and only such a process should pay for the change.
    """
    with _engine_lock:
        found = _engines.get(interruptible)
        if found is None:
            keep_large_blocks()
            config = Config()
            config.epoch_interruption = interruptible
            found = _engines[interruptible] = Engine(config)
        return found


def deadline_ticks(timeout_s: float | None) -> int:
    """The epoch deadline for a store; starts the ticker the first time a timeout is used."""
    global _ticker
    if timeout_s is None:
        return NO_DEADLINE
    eng = engine(interruptible=True)
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
