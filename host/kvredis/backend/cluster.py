"""A Redis Cluster: every command routed to the node that serves its keys.

The nodes are reached through the same lean `ConnectionPool` as a standalone server (one per
node, with the seed URL's credentials and TLS settings), so the retry policy, the bounded
replies, the redaction and the operation budget are the same: one deadline per keyvalue
operation covers its redirections and topology refreshes too.

- Single-key commands (`KeyCommands`: get, set, increment, compare-and-set...) go to the
  primary of the key's slot (redis-py's `key_slot`); a `MOVED` reply updates the slot map
  and the command follows it, an `ASK` reply sends it once with `ASKING` to the node
  importing the slot, `TRYAGAIN` and `CLUSTERDOWN` wait a moment and refresh the layout.
- A node that cannot be reached (a primary killed) makes the backend read the layout again
  from another node; the command goes to the new primary if there is one. A command that
  may have run is never sent twice, as on a standalone server.
- Batches are split per slot (a multi-key command must not span slots) and pipelined per
  node, one round trip per node; answers are put back in the guest's order.
- list-keys walks the primaries in slot order, with cursors that say which primary and
  where in its SCAN (`cluster_cursor`); each page reads the layout from the node it scans,
  in the same round trip, so a listing across a failover or resharding ends with an error
  rather than missing or repeating keys silently.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from redis import exceptions as redis_errors

from kvredis.backend import cluster_cursor
from kvredis.backend.base import BackendError, pinged
from kvredis.backend.cluster_topology import Address, Topology
from kvredis.backend.commands import KeyCommands, many_values_bound, scan_bound, scan_command
from kvredis.backend.hashslots import group_by_slot, key_slot, pattern_slot
from kvredis.backend.pool import ConnectionPool, GaveUp, ServerReplyError
from kvredis.backend.reply import ReplyBound
from kvredis.backend.retry import GiveUp, RetryPolicy
from kvredis.backend.settings import ConnectionSettings
from kvredis.backend.urls import ClusterOptions, redact, with_address

log = logging.getLogger("kvredis")

# A command follows at most this many redirections; more means the cluster is reshuffling
# faster than it can be followed, and the guest gets the last one as an error.
MAX_REDIRECTS = 16
# How long to wait before trying again after TRYAGAIN (a slot mid-migration) or CLUSTERDOWN.
_RETRY_PAUSE_S = 0.05
# CLUSTER SLOTS of a fragmented layout: a range per slot at worst, a few nodes each.
_TOPOLOGY_BOUND = ReplyBound(elements=16384 * 40, data_bytes=64 * 1024 * 1024)
# Reading the layout: a node that does not answer at once is skipped for the next one.
_ONE_TRY = RetryPolicy(retries=0, max_delay_s=0.0)
_SLOTS_COMMAND = (b"CLUSTER", b"SLOTS")
DEFAULT_PORT = 6379
_ASKING = (b"ASKING",)
# Redirections and waits the cluster asks for; any other error reply is the command's answer.
_REROUTED = (redis_errors.AskError, redis_errors.TryAgainError, redis_errors.ClusterDownError)


class NotACluster(BackendError):
    """The server has no cluster support (a URL forced `?cluster=yes` on a standalone one)."""


class ClusterBackend(KeyCommands):
    """The Redis layer for a Redis Cluster, reached through the seed URL and `?addr` nodes."""

    def __init__(
        self, options: ClusterOptions, settings: ConnectionSettings, *, max_value_bytes: int
    ) -> None:
        self._base_url = options.url
        self._settings = settings
        self._max_value = max_value_bytes
        self._budget_s = settings.op_budget_ms / 1000
        self._one_value = ReplyBound(elements=2, data_bytes=max_value_bytes)
        seed = ConnectionPool(options.url, settings, max_value_bytes=max_value_bytes)
        self._seeds: list[Address] = [_seed_address(options.url), *options.seeds]
        self._pools: dict[Address, ConnectionPool] = {self._seeds[0]: seed}
        self._pools_lock = threading.Lock()
        self._topology: Topology | None = None
        self._generation = 0
        self._refresh_lock = threading.Lock()
        self.display_url = redact(options.url)
        self.closed = False

    # --- nodes and layout -------------------------------------------------------------------

    def _pool(self, node: Address) -> ConnectionPool:
        pool = self._pools.get(node)
        if pool is not None:
            return pool
        with self._pools_lock:
            if self.closed:
                raise BackendError(f"the connection to the cluster at {self.display_url} is closed")
            pool = self._pools.get(node)
            if pool is None:
                url = with_address(self._base_url, *node)
                pool = ConnectionPool(url, self._settings, max_value_bytes=self._max_value)
                self._pools[node] = pool
            return pool

    @property
    def topology(self) -> Topology:
        """The layout as last read (read on first use)."""
        topology = self._topology
        if topology is None:
            return self._refresh(time.monotonic() + self._budget_s)
        return topology

    def _refresh(self, deadline: float, avoid: Address | None = None) -> Topology:
        """Read the layout from the first node that answers (`avoid` last), unless another
        thread did so while this one waited."""
        seen = self._generation
        with self._refresh_lock:
            if self._generation != seen and self._topology is not None:
                return self._topology
            reason = "no node answered in time"
            for node in self._candidates(avoid):
                if time.monotonic() >= deadline:
                    break
                try:
                    topology = self._read_layout(node, deadline)
                except NotACluster:
                    raise
                except BackendError as exc:
                    reason = exc.reason
                    continue
                if topology.covered:
                    self._adopt(topology)
                    return topology
                reason = f"{node[0]}:{node[1]} serves no slot yet"
            raise BackendError(
                f"cannot read the layout of the cluster at {self.display_url} from any of its "
                f"nodes ({reason})",
                reason,
            )

    def _candidates(self, avoid: Address | None) -> list[Address]:
        known = self._topology.nodes() if self._topology is not None else []
        order = list(dict.fromkeys([*known, *self._seeds]))
        if avoid in order:
            order.remove(avoid)
            order.append(avoid)
        return order

    def _read_layout(self, node: Address, deadline: float) -> Topology:
        pool = self._pool(node)
        (reply,) = pool.pipeline(
            [_SLOTS_COMMAND],
            [_TOPOLOGY_BOUND],
            idempotent=True,
            what="cluster layout",
            deadline=deadline,
            policy=_ONE_TRY,
        )
        return self._layout_of(pool, node, reply)

    def _layout_of(self, pool: ConnectionPool, node: Address, reply: Any) -> Topology:
        if isinstance(reply, redis_errors.ResponseError):
            if "cluster support disabled" in str(reply):
                reason = (
                    f"it is not a cluster node ({reply}); remove ?cluster=yes and ?addr "
                    "from its URL"
                )
                raise NotACluster(f"Redis at {pool.display_url}: {reason}", reason)
            raise pool.failed("cluster layout", reply)
        try:
            return Topology.from_cluster_slots(reply, node)
        except ValueError as exc:
            raise BackendError(
                f"cluster layout: unexpected answer from {pool.display_url} ({exc})"
            ) from None

    def _adopt(self, topology: Topology) -> None:
        if self._topology is None or topology.fingerprint != self._topology.fingerprint:
            self._topology = topology
            self._generation += 1

    def _owner(self, slot: int, deadline: float, what: str) -> Address:
        node = self.topology.node_for(slot)
        if node is None:
            node = self._refresh(deadline).node_for(slot)
        if node is None:
            raise BackendError(
                f"{what}: no node of the cluster at {self.display_url} serves slot {slot}"
            )
        return node

    # --- errors the cluster answers with ----------------------------------------------------

    def _reroute(
        self, reply: redis_errors.ResponseError, slot: int, node: Address, deadline: float
    ) -> Address | None:
        """Act on a redirection or a pause the cluster asked for, from `node`; returns the
        node to ASK, or None to send the command again as the slot map routes it now."""
        if isinstance(reply, redis_errors.MovedError):
            # A node that does not know its own address redirects to ":port".
            self._adopt(self.topology.moved(slot, (reply.host or node[0], reply.port)))
            return None
        if isinstance(reply, redis_errors.AskError):
            return (reply.host or node[0], reply.port)
        # TRYAGAIN (keys of a slot mid-migration) or CLUSTERDOWN (a failover under way).
        time.sleep(max(0.0, min(_RETRY_PAUSE_S, deadline - time.monotonic())))
        if isinstance(reply, redis_errors.ClusterDownError):
            self._refresh(deadline)
        return None

    def _after_unreachable(
        self, error: GaveUp, node: Address, slots: Sequence[int], deadline: float
    ) -> None:
        """A node gave no answer: read the layout again, and carry on only if another node
        serves the slots now (a failover) and the command cannot have run."""
        if error.why in (GiveUp.MAYBE_APPLIED, GiveUp.REFUSED) or time.monotonic() >= deadline:
            raise error
        try:
            topology = self._refresh(deadline, avoid=node)
        except BackendError:
            raise error from None
        if all(topology.node_for(slot) in (node, None) for slot in slots):
            raise error

    # --- KeyCommands ------------------------------------------------------------------------

    def _execute(
        self,
        key: bytes,
        *args: bytes | str | int,
        idempotent: bool,
        what: str,
        bound: ReplyBound | None = None,
        write: bool = False,
    ) -> Any:
        deadline = time.monotonic() + self._budget_s
        slot = key_slot(key)
        ask: Address | None = None
        last: BackendError | None = None
        for _ in range(MAX_REDIRECTS):
            node = ask or self._owner(slot, deadline, what)
            pool = self._pool(node)
            try:
                if ask is None:
                    return pool.execute(
                        *args,
                        idempotent=idempotent,
                        what=what,
                        bound=bound,
                        deadline=deadline,
                        write=write,
                    )
                _, reply = pool.pipeline(
                    [_ASKING, args],
                    [pool.single_value, bound or pool.single_value],
                    idempotent=idempotent,
                    what=what,
                    deadline=deadline,
                    write=write,
                )
                if not isinstance(reply, redis_errors.ResponseError):
                    return reply
                raise pool.failed(what, reply)
            except ServerReplyError as exc:
                if not isinstance(exc.reply, _REROUTED) or time.monotonic() >= deadline:
                    raise
                last = exc
                ask = self._reroute(exc.reply, slot, node, deadline)
            except GaveUp as exc:
                self._after_unreachable(exc, node, (slot,), deadline)
                last, ask = exc, None
        assert last is not None
        raise last

    # --- the rest of the Backend protocol ---------------------------------------------------

    def ping(self) -> None:
        """Read the layout: the cluster answers, and is a cluster."""
        self._refresh(time.monotonic() + self._budget_s)

    def close(self) -> None:
        with self._pools_lock:
            self.closed = True
            pools = list(self._pools.values())
        for pool in pools:
            pool.close()

    def get_many(self, keys: list[bytes]) -> list[bytes | None]:
        values: list[bytes | None] = [None] * len(keys)

        def command(positions: list[int]) -> tuple[list[bytes], ReplyBound]:
            bound = many_values_bound(len(positions), self._max_value)
            return [b"MGET", *(keys[i] for i in positions)], bound

        def accept(positions: list[int], reply: Any, pool: ConnectionPool) -> None:
            if len(reply) != len(positions):
                raise BackendError(
                    f"get-many: unexpected answer from {pool.display_url} ({len(reply)} "
                    f"values for {len(positions)} keys)"
                )
            for position, value in zip(positions, reply, strict=True):
                values[position] = value

        self._batch(keys, command, accept, what="get-many", write=False)
        return values

    def set_many(self, items: list[tuple[bytes, bytes]]) -> None:
        def command(positions: list[int]) -> tuple[list[bytes], ReplyBound]:
            flat = [part for i in positions for part in items[i]]
            return [b"MSET", *flat], self._one_value

        self._batch([key for key, _ in items], command, _ignore, what="set-many", write=True)

    def delete_many(self, keys: list[bytes]) -> None:
        def command(positions: list[int]) -> tuple[list[bytes], ReplyBound]:
            return [b"DEL", *(keys[i] for i in positions)], self._one_value

        self._batch(keys, command, _ignore, what="delete-many", write=True)

    def _batch(
        self,
        keys: list[bytes],
        command: Callable[[list[int]], tuple[list[bytes], ReplyBound]],
        accept: Callable[[list[int], Any, ConnectionPool], None],
        *,
        what: str,
        write: bool,
    ) -> None:
        """Send `command(positions)` for the keys of each slot, pipelined per node, until
        every group of keys has its answer (`accept`); redirections are followed as for one
        key. The keys of a slot being migrated may lie on two nodes, which a multi-key
        command refuses (TRYAGAIN): they are then sent one command per key, each to where
        its key is."""
        if not keys:
            return
        deadline = time.monotonic() + self._budget_s
        pending = dict(enumerate(group_by_slot(keys).items()))  # group -> (slot, positions)
        groups = len(pending)
        asks: dict[int, Address] = {}
        last: BackendError | None = None
        for _ in range(MAX_REDIRECTS):
            by_node: dict[Address, list[int]] = {}
            for group, (slot, _) in pending.items():
                node = asks.get(group) or self._owner(slot, deadline, what)
                by_node.setdefault(node, []).append(group)
            asking, asks = asks, {}
            for node, node_groups in by_node.items():
                pool = self._pool(node)
                commands: list[Sequence[bytes | str | int]] = []
                bounds: list[ReplyBound] = []
                for group in node_groups:
                    if group in asking:
                        commands.append(_ASKING)
                        bounds.append(pool.single_value)
                    args, bound = command(pending[group][1])
                    commands.append(args)
                    bounds.append(bound)
                try:
                    replies = pool.pipeline(
                        commands, bounds, idempotent=True, what=what, deadline=deadline, write=write
                    )
                except GaveUp as exc:
                    slots = [pending[group][0] for group in node_groups]
                    self._after_unreachable(exc, node, slots, deadline)
                    last = exc
                    continue
                answers = iter(replies)
                for group in node_groups:
                    if group in asking:
                        next(answers)  # ASKING's OK
                    reply = next(answers)
                    slot, positions = pending[group]
                    if not isinstance(reply, redis_errors.ResponseError):
                        accept(positions, reply, pool)
                        del pending[group]
                        continue
                    if not isinstance(reply, _REROUTED) or time.monotonic() >= deadline:
                        raise pool.failed(what, reply)
                    last = pool.failed(what, reply)
                    if isinstance(reply, redis_errors.TryAgainError) and len(positions) > 1:
                        del pending[group]
                        for position in positions:
                            pending[groups] = (slot, [position])
                            groups += 1
                        continue
                    target = self._reroute(reply, slot, node, deadline)
                    if target is not None:
                        asks[group] = target
            if not pending:
                return
            if time.monotonic() >= deadline:
                break
        assert last is not None
        raise last

    def scan(self, cursor: int, match: bytes | None, count: int) -> tuple[int, list[bytes]]:
        """One page of keys: SCAN of one primary after the other, with the layout read from
        each primary in the same round trip (see the module docstring). The page goes on to
        the next primary while it holds fewer than `count` keys."""
        deadline = time.monotonic() + self._budget_s
        try:
            check, index, position = cluster_cursor.decode(cursor)
        except cluster_cursor.CursorError as exc:
            raise BackendError(f"list-keys: {exc}") from None
        fresh = cursor == 0  # a new listing: any layout will do
        tagged = pattern_slot(match)  # keys of one slot (a hash-tag layout): one node
        keys: list[bytes] = []
        topology = self.topology
        changes = 0
        while True:
            nodes = topology.primaries if tagged is None else [topology.node_for(tagged)]
            if index >= len(nodes) or nodes[index] is None:
                raise _stale_cursor()
            node = nodes[index]
            assert node is not None
            pool = self._pool(node)
            try:
                layout, page = pool.pipeline(
                    [_SLOTS_COMMAND, scan_command(position, match, count)],
                    [_TOPOLOGY_BOUND, scan_bound(count)],
                    idempotent=True,
                    what="list-keys",
                    deadline=deadline,
                )
            except GaveUp:
                self._refresh_quietly(deadline, node)
                raise
            seen = self._layout_of(pool, node, layout)
            self._adopt(seen)
            if not fresh and seen.check != check:
                raise _stale_cursor()
            if seen.fingerprint != topology.fingerprint:
                # This backend's map was out of date: ask the node the new one names.
                changes += 1
                if changes > MAX_REDIRECTS:
                    raise BackendError(
                        f"list-keys: the layout of the cluster at {self.display_url} keeps changing"
                    )
                topology = seen
                continue
            if isinstance(page, redis_errors.ResponseError):
                raise pool.failed("list-keys", page)
            check, fresh = seen.check, False
            next_position = int(page[0])
            keys += page[1]
            if next_position:
                return self._cursor(check, index, next_position), keys
            index, position = index + 1, 0
            if index >= len(nodes):
                return 0, keys
            if len(keys) >= count or time.monotonic() >= deadline:
                return self._cursor(check, index, 0), keys

    @staticmethod
    def _cursor(check: int, index: int, position: int) -> int:
        try:
            return cluster_cursor.encode(check, index, position)
        except cluster_cursor.CursorError as exc:
            raise BackendError(f"list-keys: {exc}") from None

    def _refresh_quietly(self, deadline: float, avoid: Address) -> None:
        with contextlib.suppress(BackendError):  # the caller reports the node's own failure
            self._refresh(deadline, avoid=avoid)


def _stale_cursor() -> BackendError:
    return BackendError(
        "list-keys: the cluster's layout changed since this listing began (a failover or "
        "resharding), so its cursor no longer applies; start the listing again"
    )


def _ignore(_positions: list[int], _reply: Any, _pool: ConnectionPool) -> None:
    return None


def _seed_address(url: str) -> Address:
    parts = urlsplit(url)
    return parts.hostname or "localhost", parts.port or DEFAULT_PORT


def connect(
    options: ClusterOptions, settings: ConnectionSettings, *, max_value_bytes: int
) -> ClusterBackend:
    """A backend for the cluster, its layout read so a wrong URL fails here, not mid-guest."""
    backend = pinged(ClusterBackend(options, settings, max_value_bytes=max_value_bytes))
    topology = backend.topology
    log.info(
        "%s is a Redis Cluster of %d primaries and %d replicas",
        backend.display_url,
        len(topology.primaries),
        len(topology.nodes()) - len(topology.primaries),
    )
    return backend
