"""Everything kvredis's WASI gives one component instance, built in one place."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kvredis.wasi.cli import Environment, Stdio
from kvredis.wasi.clocks import MonotonicClock, WallClock
from kvredis.wasi.filesystem.preopens import Preopen, Preopens
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.random import Random
from kvredis.wasi.sockets import NoNetwork


@dataclass
class WasiContext:
    """The state behind one instance's WASI imports. `waker` is the one every pollable of the
    instance notifies; `interrupt` ends whatever the instance is waiting for."""

    waker: Waker
    environment: Environment
    stdio: Stdio
    preopens: Preopens
    random: Random = field(default_factory=Random)
    monotonic_clock: MonotonicClock = field(default_factory=MonotonicClock)
    wall_clock: WallClock = field(default_factory=WallClock)
    network: NoNetwork = field(default_factory=NoNetwork)

    @classmethod
    def create(
        cls,
        *,
        arguments: Iterable[str] = (),
        variables: Iterable[tuple[str, str]] = (),
        preopens: Iterable[Preopen] = (),
        stdio: Stdio | None = None,
        waker: Waker | None = None,
    ) -> WasiContext:
        """A context; `OSError` if a preopen cannot be opened. Without `stdio`, stdin is
        empty and output goes nowhere. Pass the `waker` that `stdio` was built with."""
        waker = waker or (stdio.waker if stdio else Waker())
        return cls(
            waker=waker,
            environment=Environment(arguments, variables),
            stdio=stdio or Stdio.from_bytes(waker),
            preopens=Preopens.open(preopens, waker),
        )

    def interrupt(self, reason: str) -> None:
        """End every current and later wait of the instance with `Interrupted(reason)`."""
        self.waker.interrupt(reason)

    def close(self) -> None:
        """The instance is gone: release the preopened directories."""
        self.preopens.close()
