"""Watching keys: a component's `wasi:keyvalue/watcher` export called from Redis keyspace
notifications.

`specs` parses what to watch, `keys` maps a changed Redis key back to (bucket, key) through
the host's layout, `notifications` checks the server's setting, `subscriber` listens on a
connection of its own, `dispatcher` hands changes to the guest one at a time, `guest` holds
its instance, and `session` ties them together as a `Watch` (`Component.watch`).
"""

from kvredis.watch.dispatcher import Delivery, Outcome
from kvredis.watch.keys import Change
from kvredis.watch.notifications import NotificationsOff
from kvredis.watch.session import Watch, start_watch
from kvredis.watch.specs import Op, WatchSpec, parse_watch_specs

__all__ = [
    "Change",
    "Delivery",
    "NotificationsOff",
    "Op",
    "Outcome",
    "Watch",
    "WatchSpec",
    "parse_watch_specs",
    "start_watch",
]
