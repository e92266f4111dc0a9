"""The public Python API (`kvredis.Host`, `Component`) against real servers, with the
conformance guests' `ops#call` and the `api-values` guest (every WIT value shape)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import wasmtime

import kvredis
import servers
from kvredis.embedded import EmbeddedServer
from kvredis.runtime.values import parse_invoke, to_json
from support import VERSIONS, run_threads


def ops(component: kvredis.Component, bucket: str, op: str, *args: str) -> Any:
    """The decoded outcome of the conformance guest's `ops#call`."""
    return json.loads(component.call("ops#call", bucket, op, list(args)))


def one_line(error: BaseException) -> str:
    text = str(error)
    assert text and "\n" not in text, f"not a one-line message: {text!r}"
    return text


@pytest.fixture
def values_host(valkey_server: servers.ServerProcess) -> Iterator[kvredis.Host]:
    with kvredis.Host(valkey_server.url) as host:
        yield host


@pytest.fixture
def values(values_host: kvredis.Host, values_wasm: Path) -> kvredis.Component:
    return values_host.load(values_wasm)


# --- Host: servers and lifecycle -------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_host_on_a_url_as_context_manager(
    server: servers.ServerProcess,
    db: redis.Redis,
    conformance_guest: Callable[[str], Path],
    version: str,
) -> None:
    with kvredis.Host(server.url) as host:
        assert host.redis_url == server.url
        component = host.load(conformance_guest(version))
        assert ops(component, "counter", "set", "hits", "x") == {"ok": None}
        assert db.get(b"counter:hits") == b"x"
        db.set(b"counter:other", b"from redis-py")
        assert ops(component, "counter", "get", "other") == {"ok": "from redis-py"}
        assert ops(component, "counter", "increment", "n", "41") == {"ok": 41}
        assert db.get(b"counter:n") == b"41"
    # The host closed its connections; the server it did not start keeps running.
    assert db.ping()


def test_host_with_a_password_redacts_it(
    tmp_path: Path, conformance_guest: Callable[[str], Path]
) -> None:
    secured = servers.start("valkey", tmp_path / "pw", password="s3cret-pw")
    try:
        with kvredis.Host(secured.url) as host:
            assert "s3cret-pw" in host.redis_url
            assert "s3cret-pw" not in host.url
            component = host.load(conformance_guest("draft2"))
            assert ops(component, "b", "set", "k", "v") == {"ok": None}
        assert secured.client().get(b"b:k") == b"v"
        with pytest.raises(kvredis.RedisUnavailable) as caught:
            kvredis.Host(secured.url.replace("s3cret-pw", "wrong-pw")).start()
        assert "wrong-pw" not in one_line(caught.value)
    finally:
        secured.stop()


def test_embedded_host_keeps_data_in_its_data_dir(
    tmp_path: Path, conformance_guest: Callable[[str], Path]
) -> None:
    data = tmp_path / "data"
    with kvredis.Host(data_dir=data) as host:
        url = host.redis_url
        assert url.startswith("unix://")
        component = host.load(conformance_guest("draft"))
        assert ops(component, "counter", "increment", "hits", "1") == {"ok": 1}
        client = redis.Redis.from_url(url)
        assert client.get(b"counter:hits") == b"1"
        client.close()
    assert data.is_dir()
    # The server stopped with the host...
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_timeout=1).ping()
    # ...and the next host on the same directory finds the count where it was left.
    with kvredis.Host(data_dir=data) as host:
        component = host.load(conformance_guest("draft"))
        assert ops(component, "counter", "increment", "hits", "1") == {"ok": 2}


def test_embedded_host_defaults_to_dot_kvredis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, conformance_guest: Callable[[str], Path]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1")  # the API ignores it: no URL given
    with kvredis.Host() as host:
        assert ops(host.load(conformance_guest("draft2")), "b", "set", "k", "v") == {"ok": None}
    assert (tmp_path / ".kvredis").is_dir()


def test_host_starts_on_first_use_and_restarts_after_close(
    tmp_path: Path, conformance_guest: Callable[[str], Path]
) -> None:
    host = kvredis.Host(data_dir=tmp_path / "data")
    component = host.load(conformance_guest("draft2"))  # compiling needs no server
    try:
        assert ops(component, "b", "set", "k", "v") == {"ok": None}
        host.close()
        # The same component keeps working on the restarted server (same data directory).
        assert ops(component, "b", "get", "k") == {"ok": "v"}
    finally:
        host.close()


def test_first_use_from_many_threads_starts_one_server(
    tmp_path: Path, conformance_guest: Callable[[str], Path]
) -> None:
    host = kvredis.Host(data_dir=tmp_path / "data")
    component = host.load(conformance_guest("draft2"))
    urls: list[str] = []
    barrier = threading.Barrier(4)

    def first_use() -> None:
        barrier.wait()
        urls.append(host.redis_url)

    try:
        threads = [threading.Thread(target=first_use) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(set(urls)) == 1 and len(urls) == 4
        assert ops(component, "b", "set", "k", "v") == {"ok": None}
    finally:
        host.close()


# --- Host: buckets, read-only, key layout ----------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_bucket_allowlist(
    server: servers.ServerProcess,
    db: redis.Redis,
    conformance_guest: Callable[[str], Path],
    version: str,
) -> None:
    with kvredis.Host(server.url, buckets=["counter", ""]) as host:
        component = host.load(conformance_guest(version))
        assert ops(component, "counter", "set", "k", "v") == {"ok": None}
        assert ops(component, "", "set", "k", "w") == {"ok": None}
        assert ops(component, "other", "get", "k")["err"] == "no-such-store"
        assert ops(component, "counterx", "open")["err"] == "no-such-store"
    assert sorted(db.keys()) == [b":k", b"counter:k"]


def test_bucket_mapping_sends_a_bucket_to_another_database(
    server: servers.ServerProcess, db: redis.Redis, conformance_guest: Callable[[str], Path]
) -> None:
    cache_db = server.client(db=3)
    routes: dict[str, str | None] = {"main": None, "cache": f"{server.url}?db=3"}
    with kvredis.Host(server.url, buckets=routes) as host:
        component = host.load(conformance_guest("draft2"))
        assert ops(component, "main", "set", "k", "in db 0") == {"ok": None}
        assert ops(component, "cache", "set", "k", "in db 3") == {"ok": None}
        assert ops(component, "cache", "list-all")["ok"]["keys"] == ["k"]
        assert ops(component, "elsewhere", "open")["err"] == "no-such-store"
    assert db.keys() == [b"main:k"]
    assert cache_db.keys() == [b"cache:k"]
    assert cache_db.get(b"cache:k") == b"in db 3"


@pytest.mark.parametrize("version", VERSIONS)
def test_read_only_buckets(
    server: servers.ServerProcess,
    db: redis.Redis,
    conformance_guest: Callable[[str], Path],
    version: str,
) -> None:
    db.set(b"config:mode", b"strict")
    with kvredis.Host(server.url, read_only=["config"]) as host:
        component = host.load(conformance_guest(version))
        assert ops(component, "config", "get", "mode") == {"ok": "strict"}
        assert ops(component, "config", "exists", "mode") == {"ok": True}
        for op, args in [
            ("set", ["mode", "lax"]),
            ("delete", ["mode"]),
            ("increment", ["n", "1"]),
            ("set-many", ["a", "1"]),
            ("delete-many", ["mode"]),
        ]:
            assert ops(component, "config", op, *args)["err"] == "access-denied", op
        assert ops(component, "scratch", "set", "k", "v") == {"ok": None}
    assert db.get(b"config:mode") == b"strict"
    assert sorted(db.keys()) == [b"config:mode", b"scratch:k"]


@pytest.mark.parametrize(
    ("prefix", "redis_key"),
    [("app:{bucket}/", b"app:my/k"), ("", b"k"), ("{bucket}:", b"my:k")],
)
def test_key_prefix(
    server: servers.ServerProcess,
    db: redis.Redis,
    conformance_guest: Callable[[str], Path],
    prefix: str,
    redis_key: bytes,
) -> None:
    with kvredis.Host(server.url, key_prefix=prefix) as host:
        assert host.key_for("my", "k") == redis_key
        component = host.load(conformance_guest("draft2"))
        assert ops(component, "my", "set", "k", "v") == {"ok": None}
    assert db.keys() == [redis_key]


def test_timeout_and_max_memory_leave_normal_calls_alone(
    valkey_server: servers.ServerProcess, values_wasm: Path
) -> None:
    with kvredis.Host(valkey_server.url, timeout=30, max_memory="512M") as host:
        assert host.load(values_wasm).call("swap", ("a", 1)) == (1, "a")


def test_max_memory_below_what_the_guest_needs(
    valkey_server: servers.ServerProcess, values_wasm: Path
) -> None:
    with kvredis.Host(valkey_server.url, max_memory="1M") as host:
        component = host.load(values_wasm)
        with pytest.raises(kvredis.GuestOutOfMemory) as caught:
            component.call("swap", ("a", 1))
        assert isinstance(caught.value, kvredis.GuestTrap)
        assert "memory" in one_line(caught.value)


# --- Component.call: the value mapping -------------------------------------------------------


def test_records_are_dicts(values: kvredis.Component) -> None:
    assert values.call("make-point", 1, -2, None) == {"x": 1, "y": -2, "label": None}
    assert values.call("make-point", 3, 4, "p") == {"x": 3, "y": 4, "label": "p"}


def test_tuples_are_tuples(values: kvredis.Component) -> None:
    assert values.call("swap", ("a", 7)) == (7, "a")
    assert values.call("swap", ["b", 8]) == (8, "b")  # a list is accepted as input


def test_options_are_none_or_the_value(values: kvredis.Component) -> None:
    assert values.call("successor", None) is None
    assert values.call("successor", 0) == 1


def test_result_ok_is_the_value(values: kvredis.Component) -> None:
    assert values.call("checked-div", 7, 2) == 3
    assert values.call("reject", 0) == "accepted"
    assert values.call("unit-result", False) is None


def test_result_err_raises_component_error_with_the_payload(values: kvredis.Component) -> None:
    with pytest.raises(kvredis.ComponentError) as caught:
        values.call("checked-div", 1, 0)
    assert caught.value.value == "division by zero"
    assert caught.value.function == "checked-div"
    assert "division by zero" in one_line(caught.value)
    with pytest.raises(kvredis.ComponentError) as caught:
        values.call("reject", 5)
    assert caught.value.value == {"x": 5, "y": -1, "label": "rejected"}
    with pytest.raises(kvredis.ComponentError) as caught:
        values.call("unit-result", True)
    assert caught.value.value is None
    assert isinstance(caught.value, kvredis.KvredisError)


def test_variants_enums_and_flags(values: kvredis.Component) -> None:
    assert values.call("grow", {"tag": "circle", "value": 1.5}) == {"tag": "circle", "value": 3.0}
    square = {"tag": "square", "value": {"x": 1, "y": 2, "label": "s"}}
    assert values.call("grow", square) == {
        "tag": "square",
        "value": {"x": 2, "y": 4, "label": "s"},
    }
    assert values.call("grow", {"tag": "dot"}) == {"tag": "circle", "value": 1.0}
    assert values.call("next-color", "red") == "green"
    assert values.call("next-color", "blue") == "red"
    assert values.call("invert", {"read"}) == {"write", "exec"}
    assert values.call("invert", []) == {"read", "write", "exec"}
    assert values.call("invert", ["read", "write", "exec"]) == set()


def test_byte_lists_are_bytes(values: kvredis.Component) -> None:
    assert values.call("reverse-bytes", b"\x00\x01abc") == b"cba\x01\x00"
    assert values.call("reverse-bytes", b"") == b""
    assert values.call("reverse-bytes", bytearray(b"xy")) == b"yx"
    big = bytes(range(256)) * 4096  # 1 MiB
    assert values.call("reverse-bytes", big) == big[::-1]


def test_nested_results_are_tagged_dicts(values: kvredis.Component) -> None:
    assert values.call("halves", [4, 3, 0]) == [{"ok": 2}, {"err": "3 is odd"}, {"ok": 0}]


def test_bytes_through_redis(
    values: kvredis.Component, valkey_server: servers.ServerProcess
) -> None:
    payload = b"\x00\xff binary \r\n"
    assert values.call("save", "files", "blob", payload) is None
    assert valkey_server.client().get(b"files:blob") == payload
    assert values.call("load", "files", "blob") == payload
    assert values.call("load", "files", "absent") is None
    valkey_server.client().set(b"files:empty", b"")
    assert values.call("load", "files", "empty") == b""


def test_keyvalue_errors_reach_the_caller_as_component_errors(
    valkey_server: servers.ServerProcess, values_wasm: Path
) -> None:
    with kvredis.Host(valkey_server.url, buckets=["files"], read_only=["files"]) as host:
        component = host.load(values_wasm)
        with pytest.raises(kvredis.ComponentError) as caught:
            component.call("load", "secrets", "k")
        assert caught.value.value == "nosuchstore"
        with pytest.raises(kvredis.ComponentError) as caught:
            component.call("save", "files", "k", b"v")
        assert caught.value.value == "accessdenied"


def test_interface_functions_by_short_and_full_name(
    valkey_server: servers.ServerProcess, conformance_guest: Callable[[str], Path]
) -> None:
    with kvredis.Host(valkey_server.url) as host:
        component = host.load(conformance_guest("draft2"))
        cases = component.call("conformance#cases")
        assert "overwrite" in cases
        assert component.call("kvredis:conformance/conformance#run-case", "overwrite")
        with pytest.raises(kvredis.ComponentError) as caught:
            component.call("conformance#run-case", "no-such-case")
        assert "no-such-case" in caught.value.value


@pytest.mark.parametrize(
    ("name", "args", "fragment"),
    [
        ("checked-div", (1,), "takes 2 argument(s)"),
        ("checked-div", (1, 2, 3), "takes 2 argument(s)"),
        ("checked-div", ("x", 1), "'a'"),
        ("checked-div", (2**31, 1), "s32"),
        ("successor", (-1,), "u32"),
        ("successor", (True,), "u32"),
        ("swap", (("a",),), "2 values"),
        ("swap", ("ab",), "2 values"),
        ("make-point", (1.5, 2, None), "'x'"),
        ("make-point", (1, 2, 3), "string"),
        ("next-color", ("purple",), "red, green, blue"),
        ("invert", ({"admin"},), "read, write, exec"),
        ("invert", ("read",), "read, write, exec"),
        ("grow", ({"tag": "hexagon"},), "circle, square, dot"),
        ("grow", ({"tag": "square", "value": {"x": 1}},), "missing field"),
        ("grow", ("circle",), "tag"),
        ("reverse-bytes", ([256],), "bytes"),
        ("reverse-bytes", (None,), "bytes"),
    ],
)
def test_wrong_arguments_raise_invalid_arguments(
    values: kvredis.Component, name: str, args: tuple[Any, ...], fragment: str
) -> None:
    with pytest.raises(kvredis.InvalidArguments) as caught:
        values.call(name, *args)
    assert fragment in one_line(caught.value)
    # A refused call leaves the instance usable.
    assert values.call("successor", 1) == 2


@pytest.mark.parametrize(
    "expression",
    [
        "make-point(1, 2, null)",
        'swap(["a", 3])',
        'grow({"tag": "square", "value": {"x": 1, "y": 2, "label": "s"}})',
        'invert(["read"])',
        "reverse-bytes([0, 255])",
        "halves([2, 3])",
        "reject(5)",
    ],
)
def test_call_and_invoke_share_one_value_mapping(
    values: kvredis.Component,
    values_wasm: Path,
    valkey_server: servers.ServerProcess,
    cli: Callable[..., Any],
    expression: str,
) -> None:
    name, args = parse_invoke(expression)
    try:
        expected, status = to_json(values.call(name, *args)), 0
    except kvredis.ComponentError as err:
        expected, status = {"err": to_json(err.value)}, 1
    done = cli("run", "--redis-url", valkey_server.url, "--invoke", expression, values_wasm)
    assert done.returncode == status, done.stderr
    assert json.loads(done.stdout) == expected


def test_unknown_export_raises_export_not_found(values: kvredis.Component) -> None:
    with pytest.raises(kvredis.ExportNotFound) as caught:
        values.call("no-such-function")
    message = one_line(caught.value)
    assert "no-such-function" in message and "make-point" in message
    assert "swap" in caught.value.available
    with pytest.raises(kvredis.ExportNotFound):
        values.call("nope#swap")


def test_exports_are_listed_with_signatures(values: kvredis.Component) -> None:
    signatures = {sig.name: str(sig) for sig in values.info.functions}
    assert signatures["swap"] == "swap(pair: tuple<string, u32>) -> tuple<u32, string>"
    assert signatures["successor"] == "successor(n: option<u32>) -> option<u32>"


def test_inspect_describes_a_component_without_a_server(
    values_wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    info = kvredis.Host.inspect(values_wasm)
    assert isinstance(info, kvredis.ComponentInfo)
    signatures = {sig.name: sig for sig in info.functions}
    assert isinstance(signatures["swap"], kvredis.Signature)
    assert str(signatures["swap"]) == "swap(pair: tuple<string, u32>) -> tuple<u32, string>"
    assert info.keyvalue_packages == ["wasi:keyvalue@0.2.0-draft2"] and info.missing == []
    assert list(tmp_path.iterdir()) == []  # no embedded server started


def test_find_export_settles_a_name_before_anything_starts(
    conformance_guest: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    component = kvredis.Host().load(conformance_guest("draft2"))
    assert component.find_export("ops#call") == "kvredis:conformance/ops#call"
    assert component.find_export("kvredis:conformance/ops#call") == "kvredis:conformance/ops#call"
    with pytest.raises(kvredis.ExportNotFound) as caught:
        component.find_export("ops#nope")
    assert "kvredis:conformance/ops#call" in caught.value.available
    assert list(tmp_path.iterdir()) == []


# --- raw keys, for tools that clean up after themselves --------------------------------------


def test_scan_and_delete_raw_keys(valkey_server: servers.ServerProcess) -> None:
    db = valkey_server.client()
    db.mset({f"kvt:{i}": i for i in range(1200)} | {"other": "kept"})
    with kvredis.Host(valkey_server.url) as host:
        found = set(host.scan_keys("kvt:*"))
        assert found == {f"kvt:{i}".encode() for i in range(1200)}
        assert host.delete_keys(iter(found)) == 1200
        assert host.delete_keys([]) == 0
    assert db.keys() == [b"other"]


def test_raw_keys_of_a_server_that_went_away(tmp_path: Path) -> None:
    gone = servers.start("valkey", tmp_path / "server")
    quick = kvredis.ConnectionSettings(reconnect_retries=0, op_budget_ms=500)
    with kvredis.Host(gone.url, connection=quick) as host:
        gone.stop()
        with pytest.raises(kvredis.RedisUnavailable) as caught:
            list(host.scan_keys("*"))
        assert "cannot list keys '*'" in one_line(caught.value)
        with pytest.raises(kvredis.RedisUnavailable) as caught:
            host.delete_keys([b"k"])
        assert "cannot delete keys" in one_line(caught.value)


# --- Component.run ---------------------------------------------------------------------------


def test_run_captures_stdout_stderr_and_the_exit_code(values: kvredis.Component) -> None:
    result = values.run("hello", "world")
    assert result == kvredis.RunResult(0, "out: hello world\n", "err: hello world\n")
    failed = values.run("fail")
    assert failed.exit_code == 1
    assert failed.stdout == "out: fail\n"
    assert failed.stderr == "err: fail\n"


def test_run_refuses_non_string_arguments(values: kvredis.Component) -> None:
    with pytest.raises(kvredis.InvalidArguments) as caught:
        values.run(1)  # type: ignore[arg-type]
    one_line(caught.value)
    with pytest.raises(kvredis.InvalidArguments):
        values.run(env={"N": 1})  # type: ignore[dict-item]
    with pytest.raises(kvredis.ConfigError):
        values.run(dirs=[("/no/such/dir", "/data")])


@pytest.mark.parametrize("version", VERSIONS)
def test_run_the_conformance_suite_as_a_command(
    server: servers.ServerProcess, conformance_guest: Callable[[str], Path], version: str
) -> None:
    with kvredis.Host(server.url) as host:
        component = host.load(conformance_guest(version))
        result = component.run("overwrite", "binary-values")
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        f"PASS {version} binary-values",
        f"PASS {version} overwrite",
    ]
    assert lines[-1] == "2 passed, 0 failed"
    assert result.stderr == ""


def test_run_exits_1_when_the_guest_fails(
    valkey_server: servers.ServerProcess, conformance_guest: Callable[[str], Path]
) -> None:
    # With an allowlist of one bucket, every case's own bucket is refused.
    with kvredis.Host(valkey_server.url, buckets=["only"]) as host:
        result = host.load(conformance_guest("draft2")).run("overwrite")
    assert result.exit_code == 1
    assert result.stdout.startswith("FAIL draft2 overwrite: ")
    assert "no-such-store" in result.stdout
    assert result.stdout.splitlines()[-1] == "0 passed, 1 failed"


def test_run_without_wasi_cli_run(valkey_server: servers.ServerProcess, tmp_path: Path) -> None:
    path = tmp_path / "empty.wasm"
    path.write_bytes(wasmtime.wat2wasm("(component)"))
    with kvredis.Host(valkey_server.url) as host:
        with pytest.raises(kvredis.ExportNotFound) as caught:
            host.load(path).run()
        assert "wasi:cli/run" in one_line(caught.value)


# --- threads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_one_instance_per_thread(
    server: servers.ServerProcess,
    db: redis.Redis,
    conformance_guest: Callable[[str], Path],
    version: str,
) -> None:
    threads, rounds = 4, 25
    with kvredis.Host(server.url) as host:
        component = host.load(conformance_guest(version))

        def work(index: int) -> None:
            instance = component.instantiate()
            for _ in range(rounds):
                outcome = json.loads(instance.call("ops#call", "c", "increment", ["n", "1"]))
                assert "ok" in outcome, outcome
            answer = instance.call("ops#call", "c", "set", [f"t{index}", str(index)])
            assert json.loads(answer) == {"ok": None}

        run_threads(work, threads)
    assert db.get(b"c:n") == str(threads * rounds).encode()
    assert sorted(db.keys(b"c:t*")) == sorted(f"c:t{i}".encode() for i in range(threads))


def test_the_shared_instance_serialises_calls_from_threads(
    valkey_server: servers.ServerProcess, conformance_guest: Callable[[str], Path]
) -> None:
    results: list[Any] = []
    with kvredis.Host(valkey_server.url) as host:
        component = host.load(conformance_guest("draft2"))

        def work() -> None:
            for _ in range(10):
                results.append(ops(component, "s", "increment", "n", "1"))

        workers = [threading.Thread(target=work) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
    assert sorted(r["ok"] for r in results) == list(range(1, 31))


# --- bad inputs: each a documented KvredisError subclass, with a one-line message -------------


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"redis_url": "http://localhost"}, "unsupported Redis URL scheme"),
        ({"redis_url": ""}, "empty Redis URL"),
        ({"redis_url": "redis://host/notanumber"}, "database number"),
        ({"buckets": "counter"}, "not a string"),
        ({"buckets": [1]}, "bucket names are strings"),
        ({"buckets": {"cache": "ftp://x"}}, "unsupported Redis URL scheme"),
        ({"read_only": "config"}, "not a string"),
        ({"key_prefix": "{nope}"}, "{bucket}"),
        ({"key_prefix": None}, "key_prefix"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "soon"}, "timeout"),
        ({"timeout": float("inf")}, "finite"),
        ({"timeout": float("nan")}, "finite"),
        ({"timeout": 1e308}, "above the maximum"),
        ({"max_memory": "lots"}, "as a size"),
        ({"max_memory": 0}, "above zero"),
        ({"max_value_size": "huge"}, "as a size"),
    ],
)
def test_bad_options_raise_config_error(options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(kvredis.ConfigError) as caught:
        kvredis.Host(**options)
    assert fragment in one_line(caught.value)
    assert isinstance(caught.value, kvredis.KvredisError)


def test_unreachable_redis_raises_redis_unavailable(tmp_path: Path) -> None:
    for url in [
        f"unix://{tmp_path}/nothing.sock",
        f"redis://:hunter2@127.0.0.1:{servers.free_port()}",
    ]:
        with pytest.raises(kvredis.RedisUnavailable) as caught:
            kvredis.Host(url).start()
        assert "hunter2" not in one_line(caught.value)
    with pytest.raises(kvredis.RedisUnavailable):
        kvredis.Host(buckets={"b": f"unix://{tmp_path}/nothing.sock"}, data_dir=tmp_path).start()
    # The failed start stopped the embedded server it had started: a new one owns the dir.
    embedded = EmbeddedServer(tmp_path)
    try:
        embedded.start()
        assert not embedded.shared
    finally:
        embedded.stop()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "no such file"),
        (b"not wasm at all", "not a WebAssembly file"),
        (b"\0asm\x01\0\0\0", "core WebAssembly module"),
        (b"\0asm\x0d\0\x01\0garbage", "cannot compile"),
    ],
)
def test_bad_component_files_raise_component_load_error(
    tmp_path: Path, content: bytes | None, fragment: str
) -> None:
    path = tmp_path / "app.wasm"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(kvredis.ComponentLoadError) as caught:
        kvredis.Host("redis://127.0.0.1:1").load(path)
    assert fragment in one_line(caught.value)


def test_missing_imports_raise_unsatisfied_imports(tmp_path: Path) -> None:
    path = tmp_path / "http.wasm"
    path.write_bytes(wasmtime.wat2wasm('(component (import "wasi:http/types@0.3.0" (instance)))'))
    with pytest.raises(kvredis.UnsatisfiedImports) as caught:
        kvredis.Host("redis://127.0.0.1:1").load(path)
    assert caught.value.missing == ["wasi:http/types@0.3.0"]
    assert "wasi:http/types@0.3.0" in one_line(caught.value)
    assert isinstance(caught.value, kvredis.ComponentLoadError)
