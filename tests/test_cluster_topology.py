"""The slot map of a Redis Cluster (kvredis.backend.cluster_topology), read from raw CLUSTER
SLOTS replies: canonical, so two readings of one layout agree, and changed by any failover
or resharding. Pure logic, no server."""

from __future__ import annotations

import pytest

from kvredis.backend.cluster_topology import Topology

A, B, C = ("10.0.0.1", 7000), ("10.0.0.2", 7001), ("10.0.0.3", 7002)
R = ("10.0.0.9", 7009)


def node(address: tuple[str, int], node_id: bytes = b"id") -> list[object]:
    return [address[0].encode(), address[1], node_id]


THREE = [
    [0, 5460, node(A), node(R)],
    [5461, 10922, node(B)],
    [10923, 16383, node(C)],
]


def test_a_reply_gives_primaries_in_slot_order_and_their_replicas() -> None:
    topology = Topology.from_cluster_slots(list(reversed(THREE)), A)
    assert topology.primaries == (A, B, C)
    assert topology.node_for(0) == A and topology.node_for(5461) == B
    assert topology.node_for(16383) == C
    assert topology.replicas[A] == (R,)
    assert topology.nodes() == [A, B, C, R]
    assert topology.covered == 16384


def test_the_same_layout_described_otherwise_has_the_same_fingerprint() -> None:
    split = [
        [0, 100, node(A)],
        [101, 5460, node(A)],
        [5461, 10922, node(B)],
        [10923, 16383, node(C)],
    ]
    one = Topology.from_cluster_slots(THREE, A)
    other = Topology.from_cluster_slots(split, B)
    assert one.fingerprint == other.fingerprint and one.check == other.check


def test_a_failover_or_a_moved_slot_changes_the_fingerprint() -> None:
    before = Topology.from_cluster_slots(THREE, A)
    failed_over = Topology.from_cluster_slots([[0, 5460, node(R)], *THREE[1:]], B)
    resharded = before.moved(42, B)
    assert failed_over.fingerprint != before.fingerprint
    assert resharded.fingerprint != before.fingerprint
    assert resharded.node_for(42) == B and resharded.node_for(41) == A
    assert resharded.primaries == (A, B, C)
    assert resharded.replicas == before.replicas


def test_a_slot_moved_to_a_new_node_adds_a_primary() -> None:
    moved = Topology.from_cluster_slots(THREE, A).moved(16383, R)
    assert moved.primaries == (A, B, C, R)
    assert moved.node_for(16383) == R


def test_an_empty_host_is_the_node_asked_and_an_unknown_endpoint_is_skipped() -> None:
    reply = [[0, 8191, [b"", 7000, b"x"]], [8192, 16383, [b"?", 7001, b"y"]]]
    topology = Topology.from_cluster_slots(reply, ("127.0.0.1", 7000))
    assert topology.primaries == (("127.0.0.1", 7000),)
    assert topology.node_for(9000) is None
    assert topology.covered == 8192


@pytest.mark.parametrize(
    "reply",
    [
        [[0, 16384, node(A)]],
        [[5, 4, node(A)]],
        [[0, 10, node(A)], [10, 20, node(B)]],
        [[0, 10]],
        [b"not a range"],
        b"garbage",
    ],
)
def test_what_is_no_layout_is_refused(reply: object) -> None:
    with pytest.raises(ValueError):
        Topology.from_cluster_slots(reply, A)  # type: ignore[arg-type]
