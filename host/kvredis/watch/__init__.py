"""Watching keys: a component's `wasi:keyvalue/watcher` export called from Redis keyspace
notifications.

`specs` parses what to watch, `keys` maps a changed Redis key back to (bucket, key) through
the host's layout, `notifications` checks the server's setting, `subscriber` listens on a
connection of its own, `dispatcher` hands changes to the guest one at a time, `guest` holds
its instance, and `session` ties them together as a `Watch` (`Component.watch`).

Import from the modules: the package imports nothing itself, so that the parser of
`kvredis watch` (which needs `specs` alone) loads neither the guest's WASI nor the Redis
client.
"""
