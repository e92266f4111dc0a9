"""What a `kvredis run` on the embedded server spends in starting and stopping it."""

from __future__ import annotations

import time
from pathlib import Path

from kvredis.embedded import EmbeddedServer


def test_the_embedded_server_stops_without_waiting_for_a_slow_timer(tmp_path: Path) -> None:
    # Valkey acts on SIGTERM at its next timer tick: at its default hz 10 that was ≈100 ms
    # after a start, on every run. The fastest of three, so a busy machine does not decide.
    stops = []
    for _ in range(3):
        server = EmbeddedServer(tmp_path / "data")
        server.start()
        began = time.monotonic()
        server.stop()
        stops.append(time.monotonic() - began)
    assert min(stops) < 0.07, stops
