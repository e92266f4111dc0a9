"""Watching keys (`Component.watch`, `kvredis watch`): a componentize-py watcher guest
(apps/watcher, which keeps a journal of its calls in bucket "journal") told of changes from
keyspace notifications of Valkey and Redis 7."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis

import kvredis
import servers
from clikit import LineReader, error_line, finish, server_processes, start_kvredis, stop
from kvredis.watch.dispatcher import Delivery, Outcome
from support import run_kvredis

pytest_plugins = ["pytester"]

NOTIFICATIONS = ["notify-keyspace-events E$g"]
# pytester points HOME elsewhere; its runs keep the real cache of compiled components.
CACHE_HOME = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
BUCKET = "w"


@pytest.fixture(scope="module")
def notifying_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, servers.ServerProcess]]:
    """One server of each kind with the notifications watching needs."""
    with servers.one_of_each(tmp_path_factory.mktemp, config=NOTIFICATIONS) as started:
        yield started


@pytest.fixture(params=servers.available())
def notifying(
    request: pytest.FixtureRequest, notifying_servers: dict[str, servers.ServerProcess]
) -> servers.ServerProcess:
    chosen = notifying_servers[request.param]
    chosen.client().flushall()
    return chosen


@pytest.fixture(params=servers.available())
def kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def watcher_wasm(app_guest: Callable[[str], Path]) -> Path:
    return app_guest("watcher")


@pytest.fixture
def host(notifying: servers.ServerProcess) -> Iterator[kvredis.Host]:
    with kvredis.Host(notifying.url) as started:
        yield started


def journal(host: kvredis.Host, db: redis.Redis) -> list[str]:
    """The watcher guest's calls, in order: "<version> SET <key> <value> #<n>"..."""
    raw = db.get(host.key_for("journal", "log")) or b""
    return raw.decode().splitlines()


def summary(deliveries: list[Delivery]) -> list[str]:
    return [f"{d.change} {d.outcome.value}" for d in deliveries]


def settle(watch: kvredis.Watch, host: kvredis.Host, db: redis.Redis, key: str) -> list[Delivery]:
    """Every delivery up to a last SET of `key` (watched), which comes after all earlier
    changes: what was not delivered by then never will be."""
    db.set(host.key_for(BUCKET, key), b"end")
    watch.wait_for_change("SET", BUCKET, key)
    return watch.deliveries


def test_exactly_the_watched_sets_and_dels_reach_the_guest_in_order(
    host: kvredis.Host, notifying: servers.ServerProcess, watcher_wasm: Path
) -> None:
    db = notifying.client()
    component = host.load(watcher_wasm)
    key = host.key_for
    # What is deleted existed before: a SET whose key is gone by its turn would be skipped.
    db.set(key(BUCKET, "k9"), b"old")
    with component.watch(["SET@w/k*", "DEL@w/k*"]) as watch:
        db.set(key(BUCKET, "k1"), b"one")
        db.set(key("other", "k1"), b"other bucket")
        db.set(b"k1", b"no bucket at all")
        db.set(key(BUCKET, "x1"), b"not matched")
        db.set(key(BUCKET, "k2"), b"two")
        db.delete(key(BUCKET, "k9"), key("other", "k1"), key(BUCKET, "x1"))
        db.incrby(key(BUCKET, "k3"), 5)
        deliveries = settle(watch, host, db, "kend")
    assert summary(deliveries) == [
        "SET w/k1 delivered",
        "SET w/k2 delivered",
        "DEL w/k9 delivered",
        "SET w/k3 delivered",
        "SET w/kend delivered",
    ]
    assert [d.value for d in deliveries] == [b"one", b"two", None, b"5", b"end"]
    assert journal(host, db) == [
        "draft2 SET k1 one #1",
        "draft2 SET k2 two #2",
        "draft2 DEL k9 #3",
        "draft2 SET k3 5 #4",
        "draft2 SET kend end #5",
    ]
    # The bucket the guest was handed is a working handle on the watched bucket.
    assert db.get(key(BUCKET, "seen:k1")) == b"draft2 set one"
    assert db.get(key(BUCKET, "seen:k9")) == b"draft2 delete"


def test_a_watcher_of_0_2_0_draft_alone_is_told_through_that_version(
    host: kvredis.Host,
    notifying: servers.ServerProcess,
    app_guest: Callable[[str], Path],
) -> None:
    # wasmCloud's keyvalue-redis provider calls 0.2.0-draft; the guest exports nothing else.
    db = notifying.client()
    component = host.load(app_guest("watcher-draft"))
    key = host.key_for
    db.set(key(BUCKET, "k2"), b"old")
    with component.watch(["SET@w/k*", "DEL@w/k*"]) as watch:
        db.set(key(BUCKET, "k1"), b"one")
        db.delete(key(BUCKET, "k2"))
        deliveries = settle(watch, host, db, "kend")
    assert summary(deliveries) == [
        "SET w/k1 delivered",
        "DEL w/k2 delivered",
        "SET w/kend delivered",
    ]
    assert journal(host, db) == ["SET k1 one", "DEL k2", "SET kend end"]


def test_glob_patterns_and_only_the_watched_operation(
    host: kvredis.Host, notifying: servers.ServerProcess, watcher_wasm: Path
) -> None:
    db = notifying.client()
    for name in ("abc", "abbc", "a*c"):
        db.set(host.key_for(BUCKET, name), b"deleted while watched")
    with host.load(watcher_wasm).watch("SET@w/user:[0-9]*,DEL@w/a?c,SET@w/kend") as watch:
        for name in ("user:1", "user:x", "abc"):
            db.set(host.key_for(BUCKET, name), b"v")
        for name in ("abc", "abbc", "a*c"):
            db.delete(host.key_for(BUCKET, name))
        deliveries = settle(watch, host, db, "kend")
    assert summary(deliveries) == [
        "SET w/user:1 delivered",
        "DEL w/abc delivered",
        "DEL w/a*c delivered",
        "SET w/kend delivered",
    ]


def test_a_watcher_that_traps_is_reported_and_the_next_change_gets_a_fresh_instance(
    host: kvredis.Host, notifying: servers.ServerProcess, watcher_wasm: Path
) -> None:
    db = notifying.client()
    reported: list[Delivery] = []
    # Not SET@w/*: the guest's own writes (seen:KEY) would be told, and so on forever.
    with host.load(watcher_wasm).watch("SET@w/[kt]*", report=reported.append) as watch:
        db.set(host.key_for(BUCKET, "k1"), b"a")
        db.set(host.key_for(BUCKET, "trap1"), b"b")
        db.set(host.key_for(BUCKET, "k2"), b"c")
        deliveries = settle(watch, host, db, "kend")
    assert [d.outcome for d in deliveries] == [
        Outcome.DELIVERED,
        Outcome.FAILED,
        Outcome.DELIVERED,
        Outcome.DELIVERED,
    ]
    assert "trapped in on-set" in (deliveries[1].error or "")
    assert reported == deliveries
    # A fresh instance (its call count starts again) took the change after the trap.
    assert journal(host, db) == [
        "draft2 SET k1 a #1",
        "draft2 SET trap1 b #2",
        "draft2 SET k2 c #1",
        "draft2 SET kend end #2",
    ]


def test_delivery_resumes_by_itself_after_a_restart(
    tmp_path: Path, kind: str, watcher_wasm: Path
) -> None:
    server = servers.start(kind, tmp_path, config=NOTIFICATIONS, tcp=True)
    try:
        with kvredis.Host(server.url) as host:
            db = server.client()
            with host.load(watcher_wasm).watch("SET@w/k*") as watch:
                db.set(host.key_for(BUCKET, "k1"), b"before")
                watch.wait_for_change("SET", BUCKET, "k1")
                server.stop()
                server.start()
                db = server.client()

                def told_again() -> bool:
                    # Changes made before the watcher is back are lost: write until one
                    # is told.
                    db.set(host.key_for(BUCKET, "k2"), b"after")
                    return any(d.change.key == "k2" for d in watch.deliveries)

                servers.wait_until(told_again, 20, "a change after the restart is told")
            after = [d for d in watch.deliveries if d.change.key == "k2"]
            assert after[0].outcome is Outcome.DELIVERED and after[0].value == b"after"
    finally:
        server.stop()


def test_notifications_off_get_one_clear_line_and_configure_notifications_fixes_it(
    tmp_path: Path, kind: str, watcher_wasm: Path
) -> None:
    server = servers.start(kind, tmp_path)
    try:
        with kvredis.Host(server.url) as host:
            component = host.load(watcher_wasm)
            with pytest.raises(kvredis.ConfigError) as refused:
                component.watch("SET@w/k1,DEL@w/k1")
            message = str(refused.value)
            assert "notify-keyspace-events is '' and must include E$g" in message
            assert "CONFIG SET notify-keyspace-events E$g" in message
            assert "--configure-notifications" in message
            db = server.client()
            with component.watch("SET@w/k1,DEL@w/k1", configure_notifications=True) as watch:
                db.set(host.key_for(BUCKET, "k1"), b"v")
                assert watch.wait_for_change("SET", BUCKET, "k1").value == b"v"
            flags = db.config_get("notify-keyspace-events")["notify-keyspace-events"]
            assert set(flags) >= set("E$g")
    finally:
        server.stop()


def test_a_component_without_the_watcher_export_and_a_bucket_not_allowed_are_refused(
    host: kvredis.Host, cli_wasm: Path, watcher_wasm: Path
) -> None:
    with pytest.raises(kvredis.ComponentLoadError, match="exports no wasi:keyvalue/watcher"):
        host.load(cli_wasm).watch("SET@w/k")
    narrow = kvredis.Host(host.redis_url, buckets=["w"])
    with (
        narrow,
        pytest.raises(kvredis.ConfigError, match="bucket 'other' is not one of the allowed"),
    ):
        narrow.load(watcher_wasm).watch("SET@other/k")


def test_kvredis_watch_end_to_end_on_the_embedded_server(
    watcher_wasm: Path, tmp_path: Path
) -> None:
    process = start_kvredis(
        "watch", "--watch", "SET@w/k*", "--watch", "DEL@w/k*", watcher_wasm, cwd=tmp_path
    )
    assert process.stderr is not None
    log = LineReader(process.stderr)
    try:
        assert log.next() == "kvredis: watching SET@w/k*, DEL@w/k*"
        assert log.next().startswith("kvredis: watcher.wasm; keyvalue on ")
        # Another host on the same data directory shares the running embedded server.
        with kvredis.Host(data_dir=tmp_path / ".kvredis") as other:
            db = redis.Redis.from_url(other.redis_url)
            db.set(b"w:k1", b"hello")
            db.set(b"w:x", b"not watched")
            # Deleted only once told: a SET whose key is gone when its turn comes is skipped.
            assert log.next() == "kvredis: watch: SET w/k1 (5 bytes)"
            db.delete(b"w:k1")
            assert log.next() == "kvredis: watch: DEL w/k1"
            assert db.get(b"journal:log") == b"draft2 SET k1 hello #1\ndraft2 DEL k1 #2\n"
            db.close()
    finally:
        after = stop(process, log)
    assert after == ["kvredis: stopped"]
    assert process.returncode == 0, log.seen
    assert server_processes(tmp_path / ".kvredis") == []


def test_kvredis_watch_refuses_bad_specs_and_servers_without_notifications(
    tmp_path: Path, watcher_wasm: Path, valkey_server: servers.ServerProcess
) -> None:
    line = error_line(run_kvredis("watch", "--watch", "PUT@k", str(watcher_wasm), cwd=tmp_path))
    assert line == (
        "kvredis: watch: cannot read 'PUT@k'; expected OP@[BUCKET/]KEY with OP SET or DEL, "
        "e.g. SET@counter/hits or DEL@session:*"
    )
    off = run_kvredis(
        "watch", "--redis-url", valkey_server.url, "--watch", "SET@k", str(watcher_wasm),
        cwd=tmp_path,
    )  # fmt: skip
    assert "notify-keyspace-events is '' and must include E$" in error_line(off)


def test_kvredis_serve_watch_serves_and_watches(
    notifying: servers.ServerProcess, app_guest: Callable[[str], Path], tmp_path: Path
) -> None:
    db = notifying.client()
    process = start_kvredis(
        "serve", "--addr", "127.0.0.1:0", "--redis-url", notifying.url,
        "--watch", "SET@w/k*,DEL@w/k*", app_guest("http-watcher"), cwd=tmp_path,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    log = LineReader(process.stderr)
    try:
        url = LineReader(process.stdout).next().split(": ", 1)[1]
        assert log.next() == "kvredis: watching SET@w/k*, DEL@w/k*"
        assert log.next().startswith("kvredis: serving http-watcher.wasm; keyvalue on ")
        db.set(b"w:k1", b"hello")
        assert log.next() == "kvredis: watch: SET w/k1 (5 bytes)"
        db.delete(b"w:k1")
        assert log.next() == "kvredis: watch: DEL w/k1"
        answer = httpx.get(f"{url}journal", timeout=30)
        assert (answer.status_code, answer.text) == (200, "SET k1 hello\nDEL k1\n")
    finally:
        process.send_signal(signal.SIGTERM)
        finish(process)
    assert process.returncode == 0, log.seen


def test_a_redis_cluster_is_refused_with_one_line(watcher_wasm: Path, tmp_path: Path) -> None:
    host = kvredis.Host(cluster=1, data_dir=tmp_path)
    with host, pytest.raises(kvredis.ConfigError) as refused:
        host.load(watcher_wasm).watch("SET@w/k")
    assert str(refused.value) == (
        "watching keys on a Redis Cluster is not supported: keyspace notifications stay on "
        "the node that holds the key; watch a standalone server"
    )


def test_the_fixture_watches_on_the_embedded_server(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, watcher_wasm: Path
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", CACHE_HOME)
    pytester.makepyfile(
        test_watching=f"""
        WATCHER = {str(watcher_wasm)!r}

        def test_watch(kvredis):
            watch = kvredis.watch(WATCHER, "SET@w/k*")
            kvredis.redis.set(kvredis.key("w", "k1"), b"v")
            assert watch.wait_for_change("SET", "w", "k1").value == b"v"
            assert kvredis.redis.get(kvredis.key("journal", "log")) == b"draft2 SET k1 v #1\\n"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=300)
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=1)


def test_a_bucket_on_another_server_is_watched_there(
    host: kvredis.Host, notifying: servers.ServerProcess, watcher_wasm: Path, tmp_path: Path
) -> None:
    far = servers.start("valkey", tmp_path, config=NOTIFICATIONS)
    try:
        buckets = {BUCKET: None, "journal": None, "far": far.url}
        routed = kvredis.Host(notifying.url, buckets=buckets)
        with routed, routed.load(watcher_wasm).watch("SET@w/k*,SET@far/k*") as watch:
            near_db, far_db = notifying.client(), far.client()
            far_db.set(routed.key_for(BUCKET, "k0"), b"w lives on the other server")
            near_db.set(routed.key_for("far", "k0"), b"far lives on the other server")
            far_db.set(routed.key_for("far", "k1"), b"far")
            # Each server's changes come in order, but the two servers' are not ordered
            # with each other: settle each with a last change of its own.
            far_db.set(routed.key_for("far", "kend"), b"end")
            watch.wait_for_change("SET", "far", "kend")
            deliveries = settle(watch, routed, near_db, "kend")
        assert sorted(summary(deliveries)) == [
            "SET far/k1 delivered",
            "SET far/kend delivered",
            "SET w/kend delivered",
        ]
    finally:
        far.stop()


def test_inspect_says_which_command_tells_a_watcher_of_changes(
    watcher_wasm: Path, app_guest: Callable[[str], Path], tmp_path: Path
) -> None:
    watcher = run_kvredis("inspect", str(watcher_wasm), cwd=tmp_path)
    assert watcher.returncode == 0, watcher.stderr
    assert watcher.stdout.splitlines()[-1] == (
        "kvredis watch: can tell it of key changes (it exports wasi:keyvalue/watcher)"
    )
    both = run_kvredis("inspect", str(app_guest("http-watcher")), cwd=tmp_path)
    assert both.stdout.splitlines()[-2:] == [
        "kvredis serve: can serve it (it exports wasi:http/incoming-handler)",
        "kvredis serve --watch: can tell it of key changes (it exports wasi:keyvalue/watcher)",
    ]
