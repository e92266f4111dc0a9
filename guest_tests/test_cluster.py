"""Guests on a Redis Cluster: local clusters of 3 primaries with a replica each, made from the
Valkey binary and from Debian's redis-server, reached as a user reaches them (the `kvredis`
command, the Python API, the pytest plugin), with what happened checked on the cluster."""

from __future__ import annotations

import json
import os
import signal
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.cluster import RedisCluster

import servers
from clusterkit import LocalCluster, SlotMove
from faultkit import one
from kvredis import Component, ConnectionSettings, Host
from kvredis.backend.hashslots import key_slot
from kvredis.conformance import guest_path
from support import CONFORMANCE_CASES, VERSIONS, invoke_ops, run_kvredis

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module", params=servers.available())
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCluster]:
    with LocalCluster(request.param, tmp_path_factory.mktemp(f"cluster-{request.param}")) as local:
        yield local


@pytest.fixture
def clean(cluster: LocalCluster) -> LocalCluster:
    cluster.flush()
    return cluster


@pytest.fixture
def faults(app_guest: Callable[[str], Path]) -> Path:
    return app_guest("faults")


def url_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "redis-url"
    path.write_text(url + "\n")
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return path


def ops(host: Host, version: str, bucket: str, op: str, *args: str) -> Any:
    """One operation of the conformance guest of `version`, through the Python API."""
    return call_ops(host.load(guest_path(version)), bucket, op, *args)


def call_ops(guest: Component, bucket: str, op: str, *args: str) -> Any:
    return json.loads(guest.call("ops#call", bucket, op, list(args)))


# --- the conformance suites -----------------------------------------------------------------


def test_the_conformance_suites_pass_on_a_cluster_found_from_one_node(
    clean: LocalCluster, tmp_path: Path
) -> None:
    """`kvredis conformance` given one node's URL: kvredis asks it, finds a cluster, says so
    once under -v, and every case of both versions passes, leaving nothing behind."""
    done = run_kvredis(
        "conformance", "-v", "--redis-url-file", url_file(tmp_path, clean.seed_url), timeout=600
    )
    cases = len(CONFORMANCE_CASES)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"{cases} passed, 0 failed" in done.stdout
    assert done.stderr.count("is a Redis Cluster node: using the cluster backend") == 1
    assert "is a Redis Cluster of 3 primaries and 3 replicas" in done.stderr
    assert clean.password not in done.stdout + done.stderr
    assert clean.key_count() == 0


# --- batches ----------------------------------------------------------------------------------


@pytest.mark.parametrize("wait_replicas", [0, 1])
def test_batches_span_every_shard_and_keep_the_guests_order(
    clean: LocalCluster, faults: Path, wait_replicas: int
) -> None:
    keys = [f"k{i}" for i in range(300)]
    shards = set(clean.primaries_of([f"batch:{key}".encode() for key in keys]))
    assert len(shards) == 3, "the keys must span every primary"
    settings = ConnectionSettings(wait_replicas=wait_replicas)
    with Host(clean.url, connection=settings) as host:
        guest = host.load(faults)
        items = [[key, f"{i:04x}"] for i, key in enumerate(keys)]
        assert one(guest, "batch", "set-many", items) == {"ok": None}
        asked = [keys[5], "missing", keys[250], keys[5], keys[0], *keys]
        found = one(guest, "batch", "get-many", asked)["ok"]
        expected = {key: f"{i:04x}" for i, key in enumerate(keys)}
        assert found == [None if k == "missing" else [k, expected[k]] for k in asked]
        client = clean.client()
        assert client.get("batch:k250") == bytes.fromhex(expected["k250"])
        assert one(guest, "batch", "delete-many", keys[:200]) == {"ok": None}
        assert clean.key_count() == 100
        assert one(guest, "batch", "get-many", [keys[0], keys[299]])["ok"] == [
            None,
            [keys[299], expected[keys[299]]],
        ]


def test_set_many_with_duplicate_keys_on_many_shards_keeps_the_last(
    clean: LocalCluster, faults: Path
) -> None:
    with Host(clean.url) as host:
        guest = host.load(faults)
        items = [[f"d{i % 7}", f"{i:02x}"] for i in range(40)]
        assert one(guest, "dup", "set-many", items) == {"ok": None}
        found = one(guest, "dup", "get-many", [f"d{i}" for i in range(7)])["ok"]
    last = {key: value for key, value in items}
    assert found == [[f"d{i}", last[f"d{i}"]] for i in range(7)]


# --- list-keys --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_list_keys_over_ten_thousand_keys_in_pages(clean: LocalCluster, version: str) -> None:
    client = clean.client()
    wanted = {f"key-{i}" for i in range(10_000)}
    pipe = client.pipeline()
    for key in wanted:
        pipe.set(f"many:{key}", b"x")
    pipe.set("other:key-1", b"x")
    pipe.set("manyx:key-1", b"x")
    pipe.execute()
    owners = clean.primaries_of([f"many:{key}".encode() for key in wanted])
    assert set(owners) == set(clean.primaries())
    seen: list[str] = []
    pages = 0
    cursor: list[str] = []
    with Host(clean.url) as host:
        guest = host.load(guest_path(version))
        while True:
            page = call_ops(guest, "many", "list-page", *cursor)["ok"]
            pages += 1
            assert len(page["keys"]) <= 5 * 1000, "a page is bounded"
            seen += page["keys"]
            if page["cursor"] is None:
                break
            assert page["cursor"].isdigit() and int(page["cursor"]) < 2**64
            cursor = [page["cursor"]]
    assert len(seen) == len(set(seen)), "no key is listed twice"
    assert set(seen) == wanted
    assert pages >= 6, "ten thousand keys come in pages"


def test_a_hash_tag_layout_lists_and_batches_on_one_node(clean: LocalCluster) -> None:
    with Host(clean.url, key_prefix="{{bucket}}:") as host:
        items = [f"t{i}" for i in range(200)]
        pairs = [part for key in items for part in (key, "v")]
        assert ops(host, "draft2", "tagged", "set-many", *pairs) == {"ok": None}
        keys = clean.client().keys(target_nodes=RedisCluster.PRIMARIES)
        assert sorted(keys) == sorted(f"{{tagged}}:{k}".encode() for k in items)
        assert {key_slot(key) for key in keys} == {key_slot(b"tagged")}
        owner = clean.primary_of(b"{tagged}")
        for port in clean.primaries():
            clean.node(port).config_resetstat()
        listed = ops(host, "draft2", "tagged", "list-all")["ok"]
        assert sorted(listed["keys"]) == sorted(items)
        scanned = {
            port: "cmdstat_scan" in clean.node(port).info("commandstats")
            for port in clean.primaries()
        }
        assert scanned == {port: port == owner for port in clean.primaries()}
        found = ops(host, "draft2", "tagged", "get-many-count", "t", "200")["ok"]
        assert found == {"asked": 200, "found": 200}


def test_a_slot_half_way_through_a_migration_is_followed_key_by_key(
    clean: LocalCluster, faults: Path
) -> None:
    """ASK for a key already moved, TRYAGAIN for a batch whose keys lie on two nodes: the
    guest sees none of it."""
    keys = [f"{{t}}{i}" for i in range(20)]  # one hash tag: one slot
    with Host(clean.url) as host:
        guest = host.load(faults)
        assert one(guest, "mig", "set-many", [[k, "01"] for k in keys]) == {"ok": None}
        move = SlotMove(clean, key_slot(b"t")).begin()
        moved = move.keys(10)
        assert len(moved) == 10
        moved_key = moved[0].decode().removeprefix("mig:")
        staying = next(k for k in keys if f"mig:{k}".encode() not in moved)
        assert one(guest, "mig", "get", moved_key) == {"ok": "01"}
        assert one(guest, "mig", "get", staying) == {"ok": "01"}
        assert one(guest, "mig", "set-many", [[k, f"{i:02x}"] for i, k in enumerate(keys)]) == {
            "ok": None
        }
        found = one(guest, "mig", "get-many", [*keys, "{t}missing"])["ok"]
        assert found == [*([k, f"{i:02x}"] for i, k in enumerate(keys)), None]
        assert one(guest, "mig", "delete-many", [moved_key, staying]) == {"ok": None}
        move.end()
        found = one(guest, "mig", "get-many", keys)["ok"]
    gone = {moved_key, staying}
    assert found == [None if k in gone else [k, f"{i:02x}"] for i, k in enumerate(keys)]
    # Which keys moved first is the server's hash order, so `gone` may hold any index.
    kept = next(i for i, k in enumerate(keys) if k not in gone)
    assert clean.node(move.target_port).get(f"mig:{keys[kept]}".encode()) == bytes([kept])


# --- choosing the backend ---------------------------------------------------------------------


def test_seed_nodes_in_addr_stand_in_for_a_first_node_that_is_down(clean: LocalCluster) -> None:
    down = servers.free_port()
    live = "&".join(f"addr=127.0.0.1:{port}" for port in clean.ports[1:])
    url = f"redis://:{clean.password}@127.0.0.1:{down}?{live}"
    with Host(url) as host:
        assert host.is_cluster
        assert ops(host, "draft2", "seeds", "set", "k", "v") == {"ok": None}
    assert clean.client().get("seeds:k") == b"v"


def test_cluster_no_speaks_to_one_node_and_explains_a_redirection(
    clean: LocalCluster, tmp_path: Path
) -> None:
    guest = guest_path("draft2")
    seed_port = clean.ports[0]
    candidates = [str(i) for i in range(100)]
    owners = clean.primaries_of([f"b:{key}".encode() for key in candidates])
    key = next(k for k, owner in zip(candidates, owners, strict=True) if owner != seed_port)
    outcome = invoke_ops(f"{clean.seed_url}?cluster=no", guest, "b", "get", key)
    assert outcome["err"] == "other"
    assert "MOVED" in outcome["message"]
    assert "the key is on another node of a Redis Cluster" in outcome["message"]
    assert clean.password not in outcome["message"]


def test_cluster_yes_on_a_standalone_server_is_a_setup_error(tmp_path: Path) -> None:
    standalone = servers.start("valkey", tmp_path / "standalone", tcp=True, password="pw")
    try:
        done = run_kvredis(
            "run", "--redis-url", f"{standalone.url}?cluster=yes",
            "--invoke", 'ops#call("b", "get", ["k"])', guest_path("draft2"),
        )  # fmt: skip
    finally:
        standalone.stop()
    assert done.returncode == 2, done.stderr
    assert "is not a cluster node" in done.stderr and "remove ?cluster=yes" in done.stderr
    assert "Traceback" not in done.stderr and ":pw@" not in done.stderr


def test_buckets_may_mix_a_cluster_and_a_standalone_server(
    clean: LocalCluster, valkey_server: servers.ServerProcess
) -> None:
    routes = {"on-cluster": clean.url, "standalone": None}
    with Host(valkey_server.url, buckets=routes) as host:
        assert ops(host, "draft2", "on-cluster", "set", "k", "c") == {"ok": None}
        assert ops(host, "draft2", "standalone", "set", "k", "s") == {"ok": None}
        assert not host.is_cluster
    assert clean.client().get("on-cluster:k") == b"c"
    assert valkey_server.client().get("standalone:k") == b"s"
    assert valkey_server.client().get("on-cluster:k") is None


# --- WAIT -------------------------------------------------------------------------------------


def test_a_write_no_replica_confirms_in_time_tells_the_guest_and_stays_written(
    clean: LocalCluster, faults: Path
) -> None:
    primary = clean.primary_of(b"w:k")
    replica_pid = clean.pid(clean.replica_of(primary))
    settings = ConnectionSettings(wait_replicas=1, op_budget_ms=500)
    with Host(clean.url, connection=settings) as host:
        guest = host.load(faults)
        assert one(guest, "w", "set", "k", "01") == {"ok": None}
        os.kill(replica_pid, signal.SIGSTOP)
        try:
            outcome = one(guest, "w", "set", "k", "02")
        finally:
            os.kill(replica_pid, signal.SIGCONT)
        assert outcome["err"] == "other"
        assert "but only 0 of 1 replicas confirmed it in time" in outcome["message"]
        assert "it stays written there" in outcome["message"]
        assert clean.node(primary).get("w:k") == b"\x02"
        assert one(guest, "w", "set", "k", "03") == {"ok": None}


def test_wait_replicas_on_a_standalone_server_without_replicas_answers_each_write(
    valkey_server: servers.ServerProcess, faults: Path
) -> None:
    """--wait-replicas is not only for clusters: a server with fewer replicas than asked
    for makes every write an error, within the budget, with the write kept."""
    settings = ConnectionSettings(wait_replicas=1, op_budget_ms=1000)
    with Host(valkey_server.url, connection=settings) as host:
        guest = host.load(faults)
        outcome = one(guest, "w", "increment", "n", 5)
        assert outcome["err"] == "other"
        assert "increment: written on unix://" in outcome["message"]
        assert "only 0 of 1 replicas confirmed it in time" in outcome["message"]
        assert one(guest, "w", "get", "n") == {"ok": b"5".hex()}
        assert one(guest, "w", "exists", "n") == {"ok": True}  # reads wait for nothing
    assert valkey_server.client().get("w:n") == b"5"


# --- the pytest plugin ------------------------------------------------------------------------

PLUGIN_TESTS = """
from redis.cluster import RedisCluster

def test_writes_on_every_shard(kvredis):
    assert kvredis.host.is_cluster
    assert isinstance(kvredis.redis, RedisCluster)
    for i in range(100):
        kvredis.redis.set(f"b:{i}", i)

def test_then_every_primary_is_empty(kvredis):
    assert kvredis.redis.keys(target_nodes=RedisCluster.PRIMARIES) == []
"""


@pytest.fixture
def user(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv(
        "XDG_CACHE_HOME", os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    )
    return pytester


def test_the_plugin_flushes_every_primary_of_a_cluster_url(
    clean: LocalCluster, user: pytest.Pytester
) -> None:
    user.makepyfile(test_on_cluster=PLUGIN_TESTS)
    result = user.runpytest_subprocess(
        "-p", "no:cacheprovider", "-q", f"--kvredis-url={clean.url}", timeout=300
    )
    result.assert_outcomes(passed=2)


def test_the_plugin_runs_on_the_embedded_cluster_when_asked(
    user: pytest.Pytester, counter_wasm: Path
) -> None:
    user.makepyfile(
        test_embedded_cluster=PLUGIN_TESTS
        + f"""
def test_a_component_counts_on_the_cluster(kvredis):
    assert kvredis.run({str(counter_wasm)!r}).stdout == "1\\n"
    assert kvredis.redis.get("counter:hits") == b"1"
"""
    )
    result = user.runpytest_subprocess(
        "-p", "no:cacheprovider", "-q", "--kvredis-cluster", timeout=300
    )
    result.assert_outcomes(passed=3)
