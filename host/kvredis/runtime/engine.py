"""The shared wasmtime engines, one per kind of limit, and the ticker that lets stores time
out (compiled components are cached by `cache`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from wasmtime import Config, Engine

from kvredis.canon.allocator import keep_large_blocks
from kvredis.runtime import instance_pool, memory_creator

EPOCH_TICK_S = 0.01
NO_DEADLINE = 2**62  # epoch ticks: a store without a timeout never reaches it


@dataclass(frozen=True)
class EngineKind:
    """What an engine's stores may be limited by, and how their instances are allocated.
    `interruptible`: epoch interruption (a timeout); `memory_limited`: linear memories from
    kvredis's creator, which sees a growth the limit refuses (`memory_creator`); `pooled`:
    instances from a pool of slots that stay mapped (`instance_pool`), for stores that live
    for one request. Code compiled for a kind runs on its engine only; the memory and pool
    settings do not change the code, so they share compiled artifacts (`cache`)."""

    interruptible: bool = False
    memory_limited: bool = False
    pooled: bool = False

    @staticmethod
    def of(timeout_s: float | None, max_memory_bytes: int | None) -> EngineKind:
        """The kind a guest with these limits runs on."""
        return EngineKind(timeout_s is not None, max_memory_bytes is not None)

    def with_pool(self) -> EngineKind:
        """This kind with pooled instances. A memory-limited kind keeps kvredis's own
        memories, which the pool would bypass (a refused growth would go unreported)."""
        return self if self.memory_limited else replace(self, pooled=True)


PLAIN = EngineKind()
_engines: dict[EngineKind, Engine] = {}
_ticker: _EpochTicker | None = None
_engine_lock = threading.Lock()


def engine(kind: EngineKind = PLAIN) -> Engine:
    """The process-wide engine of one kind: epoch interruption on for guests with a timeout,
    kvredis's memory creator for guests with a memory limit, the instance pool for stores
    that live for one request (`instance_pool`), plain for the others.

    Epoch interruption compiles a check of the deadline into every function entry and loop
    of the guest, and those checks cost guests built by toolchains real time (make bench's
    componentize-js guest on the null backend: get 17.8 µs with them, 15.9 without; 36 µs
    and 31 in one export call of 20,000 gets). So only stores that can time out pay for
    them; a component is compiled (and cached) for each kind it is run with. Likewise only
    stores with a memory limit pay for memories of kvredis's own (a copy of the guest's data
    at each instantiation instead of a copy-on-write mapping).

    Creating the first engine also tunes the C allocator for large values: from here on this
    process runs components, and only such a process should pay for the change.
    """
    with _engine_lock:
        found = _engines.get(kind)
        if found is None:
            keep_large_blocks()
            config = Config()
            config.epoch_interruption = kind.interruptible
            if kind.memory_limited:
                memory_creator.install(config)
            if kind.pooled:
                instance_pool.use_pool(config)
            found = _engines[kind] = Engine(config)
        return found


def deadline_ticks(timeout_s: float | None) -> int:
    """The epoch deadline for a store; starts the ticker the first time a timeout is used."""
    global _ticker
    if timeout_s is None:
        return NO_DEADLINE
    with _engine_lock:
        if _ticker is None:
            _ticker = _EpochTicker()
            _ticker.start()
    return max(1, round(timeout_s / EPOCH_TICK_S))


class _EpochTicker(threading.Thread):
    """Advances the epoch of every interruptible engine every EPOCH_TICK_S, so store
    deadlines measure time."""

    def __init__(self) -> None:
        super().__init__(name="kvredis-epoch", daemon=True)

    def run(self) -> None:
        stop = threading.Event()
        while not stop.wait(EPOCH_TICK_S):
            for kind, eng in list(_engines.items()):
                if kind.interruptible:
                    eng.increment_epoch()
