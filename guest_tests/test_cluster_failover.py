"""Failovers and resharding under a running guest, on clusters of Valkey and of Debian's
redis-server: a primary killed with SIGKILL, a manual CLUSTER FAILOVER, a slot moved between
primaries mid-listing. The host keeps answering, each failing operation ends within its
budget, and the counts say what was kept: nothing acknowledged is lost after a manual
failover, or after a kill -9 when writes wait for a replica (`--wait-replicas 1`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import servers
from clusterkit import LocalCluster, SlotMove
from kvredis import ConnectionSettings, Host
from kvredis.backend.cluster_topology import Topology
from kvredis.backend.hashslots import key_slot
from kvredis.conformance import guest_path
from servers import wait_until

KEY = b"loop:n"
BUDGET_S = 2.0
SLACK_S = 0.5  # scheduling on a busy two-core machine; the bound itself is the budget


@pytest.fixture(params=servers.available())
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalCluster]:
    # Durable nodes: one killed comes back (the supervisor restarts it) with its own data.
    with LocalCluster(request.param, tmp_path / "cluster", persist=True) as local:
        yield local


@pytest.fixture
def faults(app_guest: Callable[[str], Path]) -> Path:
    return app_guest("faults")


class IncrementLoop(threading.Thread):
    """The faults guest incrementing `KEY` in short rounds until told to stop, on a host of
    its own; sums up what the guest saw."""

    def __init__(self, url: str, guest: Path, settings: ConnectionSettings) -> None:
        super().__init__(daemon=True)
        self.host = Host(url, connection=settings)
        self.component = self.host.load(guest)
        self.stopping = threading.Event()
        self.rounds: list[dict[str, Any]] = []
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                answer = self.component.call("incr-for", "loop", "n", 1_000_000_000, 200)
                self.rounds.append(json.loads(answer))
        except BaseException as exc:
            self.failure = exc

    def finish(self) -> dict[str, Any]:
        self.stopping.set()
        self.join(60)
        self.host.close()
        assert self.failure is None, self.failure
        return {
            "acknowledged": sum(r["acknowledged"] for r in self.rounds),
            "errors": sum(r["errors"] for r in self.rounds),
            "messages": sorted({m for r in self.rounds for m in r["messages"]}),
            "slowest_error_s": max(r["slowest_error_s"] for r in self.rounds),
            "last_round": self.rounds[-1],
        }

    def acknowledged(self) -> int:
        return sum(r["acknowledged"] for r in list(self.rounds))


def layout_check(cluster: LocalCluster) -> int:
    """The 8-bit layout check list-keys cursors carry, of the cluster's layout now."""
    reply = cluster.node(cluster.primaries()[0]).execute_command("CLUSTER", "SLOTS")
    return Topology.from_cluster_slots(reply, ("127.0.0.1", 0)).check


def stored(cluster: LocalCluster) -> int:
    return int(cluster.node(cluster.primary_of(KEY)).get(KEY) or 0)


def test_kill9_of_a_primary_with_wait_replicas_loses_no_acknowledged_increment(
    cluster: LocalCluster, faults: Path
) -> None:
    primary = cluster.primary_of(KEY)
    replica = cluster.replica_of(primary)
    loop = IncrementLoop(cluster.url, faults, ConnectionSettings(wait_replicas=1))
    loop.start()
    try:
        wait_until(lambda: loop.acknowledged() > 100, 60, "the guest's loop to start")
        cluster.kill9(primary)
        cluster.wait_primary(replica)
        # The killed node comes back as the new primary's replica, and acknowledged
        # increments resume once it has caught up.
        resumed_from = loop.acknowledged()
        wait_until(lambda: loop.acknowledged() > resumed_from + 100, 60, "increments to resume")
    finally:
        report = loop.finish()
    count = stored(cluster)
    acknowledged, errors = report["acknowledged"], report["errors"]
    assert acknowledged <= count <= acknowledged + errors, (count, report)
    assert errors > 0, "the outage went unnoticed"
    assert report["last_round"]["errors"] == 0 and report["last_round"]["acknowledged"] > 0
    assert report["slowest_error_s"] <= BUDGET_S + SLACK_S, report
    for message in report["messages"]:
        assert cluster.password not in message
        assert any(
            reason in message
            for reason in ("unavailable", "may or may not have been applied", "confirmed it")
        ), message


def test_a_manual_failover_under_a_running_guest_loses_nothing(
    cluster: LocalCluster, faults: Path
) -> None:
    primary = cluster.primary_of(KEY)
    replica = cluster.replica_of(primary)
    loop = IncrementLoop(cluster.url, faults, ConnectionSettings())
    loop.start()
    try:
        wait_until(lambda: loop.acknowledged() > 100, 60, "the guest's loop to start")
        cluster.node(replica).execute_command("CLUSTER", "FAILOVER")
        cluster.wait_primary(replica)
        resumed_from = loop.acknowledged()
        wait_until(lambda: loop.acknowledged() > resumed_from + 100, 60, "increments to go on")
    finally:
        report = loop.finish()
    assert cluster.primary_of(KEY) == replica
    assert stored(cluster) == report["acknowledged"], report
    assert report["errors"] == 0, report


def test_a_listing_across_a_resharding_says_so_and_a_new_one_sees_every_key(
    cluster: LocalCluster,
) -> None:
    client = cluster.client()
    keys = {f"k{i}" for i in range(3000)}
    pipe = client.pipeline()
    for key in keys:
        pipe.set(f"r:{key}", b"x")
    pipe.execute()
    with Host(cluster.url) as host:
        guest = host.load(guest_path("draft2"))

        def call(op: str, *args: str) -> Any:
            return json.loads(guest.call("ops#call", "r", op, list(args)))

        first = call("list-page")["ok"]
        assert first["cursor"] is not None
        began_on = layout_check(cluster)
        slots = iter(sorted({key_slot(f"r:{key}".encode()) for key in keys}))
        while True:
            SlotMove(cluster, next(slots)).begin().end()
            # A cursor has 8 bits to tell layouts apart: move slots until this one is told.
            if layout_check(cluster) != began_on:
                break
        stale = call("list-page", first["cursor"])
        assert stale.get("err") == "other", (first, stale)
        assert "layout changed since this listing began" in stale["message"]
        listed = call("list-all")["ok"]["keys"]
    assert sorted(listed) == sorted(keys)
