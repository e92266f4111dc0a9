"""Handing changes to the watcher guest: one at a time, in the order they were told.

Changes wait in a queue and one thread delivers them, so a key's changes reach the guest in
the server's order and the guest's instance never runs two calls at once. For a SET the
value is read when its turn comes: the guest gets the key's value at delivery time (a later
SET's value, if the key changed again meanwhile), and a key deleted before its turn is
skipped (its DEL follows). A delivery that fails (the guest traps or times out, or the
value cannot be read) is reported, and the next change is still delivered.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from kvredis.backend.urls import redact_text
from kvredis.core import KeyValueCore, KeyValueError
from kvredis.errors import KvredisError
from kvredis.watch.guest import WatcherGuest
from kvredis.watch.keys import Change
from kvredis.watch.specs import Op

log = logging.getLogger("kvredis")


class Outcome(Enum):
    DELIVERED = "delivered"
    SKIPPED = "skipped"  # a SET whose key was gone when its turn came
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    """What became of one change: `value` is what on-set received; `error` says why a
    failed delivery failed."""

    change: Change
    outcome: Outcome
    value: bytes | None = None
    error: str | None = None

    def __str__(self) -> str:
        if self.outcome is Outcome.FAILED:
            return f"{self.change}: failed: {self.error}"
        if self.outcome is Outcome.SKIPPED:
            return f"{self.change}: skipped, the key was deleted before its turn"
        size = "" if self.value is None else f" ({len(self.value)} bytes)"
        return f"{self.change}{size}"


class Dispatcher:
    def __init__(
        self, guest: WatcherGuest, core: KeyValueCore, report: Callable[[Delivery], None]
    ) -> None:
        self._guest = guest
        self._core = core
        self._report = report
        self._queue: queue.SimpleQueue[Change | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="kvredis-watcher", daemon=True)
        self._thread.start()

    def submit(self, change: Change) -> None:
        self._queue.put(change)

    def close(self) -> None:
        """Deliver what is queued already, then stop and drop the instance."""
        self._queue.put(None)
        self._thread.join()
        self._guest.shutdown()

    def _run(self) -> None:
        while (change := self._queue.get()) is not None:
            self._report(self._deliver(change))

    def _deliver(self, change: Change) -> Delivery:
        value = None
        try:
            if change.op is Op.SET:
                value = self._core.open(change.bucket).get(change.key)
                if value is None:
                    return Delivery(change, Outcome.SKIPPED)
            self._guest.deliver(change, value)
        except (KvredisError, KeyValueError) as exc:
            return Delivery(change, Outcome.FAILED, value, redact_text(str(exc)))
        except Exception as exc:  # a host bug must not stop later deliveries
            log.debug("delivering %s failed", change, exc_info=True)
            error = f"internal error: {type(exc).__name__}: {redact_text(str(exc))}"
            return Delivery(change, Outcome.FAILED, value, error)
        return Delivery(change, Outcome.DELIVERED, value)
