"""Making a Redis Cluster of running nodes, and waiting until it serves: what `redis-cli
--cluster create` does, done with plain commands so any Valkey or Redis 7 binary works.

The first `primaries` nodes get the slots, split in equal ranges; node `primaries + i`
becomes the replica of node `i`. A cluster that ran before (its nodes found their
`nodes-N.conf`) forms again on its own; only waiting is left.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence

import redis

from kvredis.backend.hashslots import SLOTS
from kvredis.errors import EmbeddedServerError

_POLL_S = 0.05


class Node:
    """One node, reached over TCP with the cluster's password, for setting it up."""

    def __init__(self, port: int, bus_port: int, password: str) -> None:
        self.port = port
        self.bus_port = bus_port
        self.client = redis.Redis(
            host="127.0.0.1",
            port=port,
            password=password,
            socket_timeout=5,
            socket_connect_timeout=1,
            decode_responses=True,
        )

    def command(self, *args: str | int) -> object:
        return self.client.execute_command(*args)

    def answers(self) -> bool:
        with contextlib.suppress(redis.RedisError, OSError):
            return bool(self.client.ping())
        return False

    def info(self, section: str) -> dict[str, object]:
        found: dict[str, object] = self.client.info(section)
        return found

    def close(self) -> None:
        self.client.close()


def slot_ranges(primaries: int) -> list[tuple[int, int]]:
    """16384 slots in `primaries` ranges as equal as they can be."""
    bounds = [SLOTS * i // primaries for i in range(primaries + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(primaries)]


def wait_until(check: Callable[[], bool], deadline: float, what: str) -> None:
    while not check():
        if time.monotonic() > deadline:
            raise EmbeddedServerError(f"the embedded cluster did not {what} in time")
        time.sleep(_POLL_S)


def form(nodes: Sequence[Node], primaries: int, deadline: float) -> None:
    """Make a new cluster of empty nodes (a replica's old data is dropped: it copies its
    primary's), and wait until it serves with every replica in sync."""
    leader = nodes[0]
    for epoch, node in enumerate(nodes[:primaries], start=1):
        # Distinct epochs up front spare the cluster resolving their collision itself.
        node.command("CLUSTER", "SET-CONFIG-EPOCH", epoch)
    for node in nodes[1:]:
        node.command("CLUSTER", "MEET", "127.0.0.1", leader.port, leader.bus_port)
    for node, (first, last) in zip(nodes, slot_ranges(primaries), strict=False):
        node.command("CLUSTER", "ADDSLOTSRANGE", first, last)
    ids = [str(node.command("CLUSTER", "MYID")) for node in nodes]
    for index, replica in enumerate(nodes[primaries:]):
        primary_id = ids[index % primaries]
        wait_until(_knows(replica, primary_id), deadline, "learn its nodes")
        replica.command("FLUSHALL")
        replica.command("CLUSTER", "REPLICATE", primary_id)
    wait_serving(nodes, primaries, deadline, replicas=True)


def _knows(node: Node, node_id: str) -> Callable[[], bool]:
    return lambda: node_id in str(node.command("CLUSTER", "NODES"))


def wait_serving(nodes: Sequence[Node], primaries: int, deadline: float, *, replicas: bool) -> None:
    """Wait until every node says the cluster is ok and serves every slot; with `replicas`,
    also until every primary has its replica in sync."""

    def serving() -> bool:
        try:
            return all_serving()
        except redis.RedisError:
            return False  # a node still loading its data, or restarting

    def all_serving() -> bool:
        for node in nodes:
            if "cluster_state:ok" not in str(node.command("CLUSTER", "INFO")):
                return False
            layout = node.command("CLUSTER", "SLOTS")
            assert isinstance(layout, list)
            if sum(int(entry[1]) - int(entry[0]) + 1 for entry in layout) != SLOTS:
                return False
            if replicas and any(len(entry) < 4 for entry in layout):
                return False
        if replicas:
            for node in nodes[primaries:]:
                if node.info("replication").get("master_link_status") != "up":
                    return False
        return True

    wait_until(serving, deadline, "come up")
