"""A running watch (`Component.watch`): the subscribers, the dispatcher, and what the guest
was told, with ways for a test to wait for it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from kvredis.core import NoSuchStore
from kvredis.errors import ConfigError
from kvredis.watch.dispatcher import Delivery, Dispatcher, Outcome
from kvredis.watch.guest import WatcherGuest, require_watcher
from kvredis.watch.keys import Change, KeyMap
from kvredis.watch.specs import Op, WatchSpec, parse_watch_specs
from kvredis.watch.subscriber import Subscriber

if TYPE_CHECKING:
    from kvredis.host import Component

log = logging.getLogger("kvredis")
DEFAULT_WAIT_S = 10.0


class Watch:
    """Changes of the watched keys, delivered to the component until `close()` (or the end
    of a `with` block).

    `deliveries` lists what became of each change so far (`Delivery`: the change, its
    `outcome` and the value on-set received); `wait_for(n)` and `wait_for_change(...)` wait
    for them, so a test needs no sleep.
    """

    def __init__(self, specs: Sequence[WatchSpec], report: Callable[[Delivery], None]) -> None:
        self.specs = tuple(specs)
        self._report = report
        self._deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        self._parts: list[Subscriber | Dispatcher] = []  # stopped in reverse order

    # --- what happened ----------------------------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        with self._changed:
            return list(self._deliveries)

    def record(self, delivery: Delivery) -> None:
        self._report(delivery)
        with self._changed:
            self._deliveries.append(delivery)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = DEFAULT_WAIT_S) -> list[Delivery]:
        """Wait until `count` changes were handled (delivered, skipped or failed); all of
        them so far. `TimeoutError` saying what came when fewer came in time."""
        return self._wait(lambda found: len(found) >= count, f"{count} change(s)", timeout)

    def wait_for_change(
        self, op: Op | str, bucket: str, key: str, timeout: float = DEFAULT_WAIT_S
    ) -> Delivery:
        """Wait until a change of `op` (`"SET"` or `"DEL"`) on (bucket, key) was handled;
        its first delivery."""
        change = Change(Op(op) if isinstance(op, str) else op, bucket, key)
        found = self._wait(
            lambda found: any(d.change == change for d in found), f"{change}", timeout
        )
        return next(d for d in found if d.change == change)

    def _wait(
        self, done: Callable[[list[Delivery]], bool], what: str, timeout: float
    ) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(self._deliveries):
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = ", ".join(str(d) for d in self._deliveries) or "nothing"
                    raise TimeoutError(f"waited {timeout:g} s for {what}; handled: {seen}")
                self._changed.wait(left)
            return list(self._deliveries)

    # --- lifecycle ----------------------------------------------------------------------

    def add(self, part: Subscriber | Dispatcher) -> None:
        self._parts.append(part)

    def close(self) -> None:
        """Stop listening, deliver what was told already, and drop the guest's instance."""
        while self._parts:
            self._parts.pop().close()

    def __enter__(self) -> Watch:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()


def log_delivery(delivery: Delivery) -> None:
    """The default report: a line per change under -v, a warning per failure."""
    if delivery.outcome is Outcome.FAILED:
        log.warning("watch: %s", delivery)
    else:
        log.info("watch: %s", delivery)


def start_watch(
    component: Component,
    specs: Iterable[str] | str,
    *,
    configure_notifications: bool = False,
    env: Mapping[str, str] | None = None,
    dirs: Sequence[tuple[str, str]] = (),
    report: Callable[[Delivery], None] = log_delivery,
) -> Watch:
    """See `Component.watch`."""
    from kvredis.serve.factory import guest_settings  # noqa: PLC0415 - the guest's WASI setup

    parsed = parse_watch_specs(specs)
    require_watcher(component.info, component.name)
    host = component.host
    core = host.core
    if host.is_cluster:
        raise ConfigError(
            "watching keys on a Redis Cluster is not supported: keyspace notifications stay "
            "on the node that holds the key; watch a standalone server"
        )
    by_url: dict[str, list[WatchSpec]] = {}
    for spec in parsed:
        try:
            core.open(spec.bucket)
        except NoSuchStore:
            raise ConfigError(
                f"watch {spec}: bucket {spec.bucket!r} is not one of the allowed buckets"
            ) from None
        by_url.setdefault(host.bucket_url(spec.bucket), []).append(spec)
    guest = WatcherGuest(
        component.compiled_for(host.limits.engine_kind),
        component.info,
        core,
        guest_settings(component, env, dirs),
        component.name,
        host.services,
    )
    watch = Watch(parsed, report)
    dispatcher = Dispatcher(guest, core, watch.record)
    watch.add(dispatcher)
    try:
        for url, url_specs in by_url.items():
            subscriber = Subscriber(
                url,
                host.connection_settings,
                KeyMap(host.layout, url_specs),
                dispatcher.submit,
                configure=configure_notifications,
            )
            subscriber.start()
            watch.add(subscriber)
    except BaseException:
        watch.close()
        raise
    return watch
