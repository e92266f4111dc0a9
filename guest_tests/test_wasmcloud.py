"""wasmCloud's host interfaces, end to end: a componentize-py guest importing wasi:logging,
wasi:config (store and runtime) and wasmcloud:bus, run by `kvredis run` with --config and
--link against two real servers, and through the pytest fixture and the Python API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from wasmtime import Store, WasiConfig

import servers
from clikit import error_line
from kvredis import Host
from kvredis.pytest_plugin import KvredisFixture
from kvredis.runtime.engine import engine
from kvredis.runtime.linking import SharedLinker
from kvredis.wasi.context import WasiContext
from kvredis.wasi.http.client import HttpClient
from kvredis.wasmcloud import HostServices
from support import run_kvredis

Guest = Callable[[str], Path]
SECRET = "pw-Link-Sekr1t-93"
EVERY_LEVEL = [
    "TRACE app: trace message",
    "DEBUG app: debug message",
    "INFO app: info message",
    "WARN app: warn message",
    "ERROR app: error message",
    "CRITICAL app: critical message",
    "WARN no context",
]


@pytest.fixture(scope="module")
def wasmcloud_wasm(app_guest: Guest) -> Path:
    return app_guest("wasmcloud")


@pytest.fixture(scope="module")
def two_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[servers.ServerProcess, servers.ServerProcess]]:
    """The default server and the one the link `other` names (this one wants a password)."""
    main = servers.start("redis7", tmp_path_factory.mktemp("main"))
    other = servers.start("redis7", tmp_path_factory.mktemp("other"), tcp=True, password=SECRET)
    yield main, other
    main.stop()
    other.stop()


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_run_uses_config_links_and_log_level(
    wasmcloud_wasm: Path,
    two_servers: tuple[servers.ServerProcess, servers.ServerProcess],
    tmp_path: Path,
) -> None:
    main, other = two_servers
    for server in two_servers:
        server.client().flushdb()
    config_file = tmp_path / "config.yaml"
    config_file.write_text("greeting: from-file\nextra: kept\n")
    done = run_kvredis(
        "run",
        "--redis-url",
        main.url,
        "--config-file",
        config_file,
        "--config",
        "greeting=from-flag",
        "--link",
        f"other={other.url}",
        "--link",
        "alias",
        "--log-level",
        "warn",
        wasmcloud_wasm,
        "-/b/k1=v1",
        "other/b/k2=v2",
        "missing/b/k3=v3",
        "alias/b/k4=v4",
        "default/b/k5=v5",
    )
    assert done.returncode == 0, done.stderr
    config, *writes = _lines(done.stdout)
    assert config == {
        "config": {
            "store": "from-flag",
            "store_missing": None,
            "runtime": "from-flag",
            "all": [["extra", "kept"], ["greeting", "from-flag"]],
        }
    }
    assert [w.get("ok") for w in writes] == [True, True, None, True, True]
    error = str(writes[2]["error"])
    assert "no keyvalue link named 'missing'" in error
    assert SECRET not in error
    # Each key on the server of the link that was chosen when its bucket was opened.
    assert sorted(main.client().keys("*")) == [b"b:k1", b"b:k4", b"b:k5"]
    assert other.client().keys("*") == [b"b:k2"]
    # At or above --log-level only, in the guest's order.
    assert done.stderr.splitlines() == [
        line for line in EVERY_LEVEL if line.split()[0] in ("WARN", "ERROR", "CRITICAL")
    ]


def test_default_log_level_is_info(
    wasmcloud_wasm: Path, two_servers: tuple[servers.ServerProcess, servers.ServerProcess]
) -> None:
    done = run_kvredis("run", "--redis-url", two_servers[0].url, wasmcloud_wasm)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == EVERY_LEVEL[2:]


def test_serve_has_the_flags_too() -> None:
    done = run_kvredis("serve", "--help")
    for flag in ("--config ", "--config-file", "--link", "--log-level"):
        assert flag in done.stdout


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--config", "novalue"], "--config 'novalue': expected KEY=VALUE"),
        (["--config", "=x"], "--config: a KEY=VALUE has no KEY"),
        (["--link", "=redis://h"], "expected NAME=URL or NAME"),
        (["--link", "a="], "empty URL after '='"),
        (["--link", "a", "--link", "a"], "--link a: given twice"),
        (["--link", "default=redis://h"], "'default' is the host's own server"),
        (["--link", f"a=redis://:{SECRET}@"], "redis://:***@: no host"),
        (["--link", f"a=http://:{SECRET}@h"], "unsupported Redis URL scheme"),
        (["--log-level", "loud"], "invalid choice: 'loud'"),
    ],
)
def test_bad_flags_get_one_line(
    wasmcloud_wasm: Path, flags: list[str], expected: str, tmp_path: Path
) -> None:
    done = run_kvredis("run", "--data-dir", tmp_path, *flags, wasmcloud_wasm)
    line = error_line(done)
    assert expected in line
    assert SECRET not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("c.yaml", "port: 8080\n", "the value of 'port' is a number, not a string"),
        ("c.yaml", "- a\n- b\n", "expected an object of names to strings"),
        ("c.yaml", "a: [\n", "not YAML"),
        ("c.json", '{"a": ', "not JSON"),
        ("c.json", '{"token": null}', "the value of 'token' is empty"),
    ],
)
def test_bad_config_file_gets_one_line(
    wasmcloud_wasm: Path, name: str, text: str, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_text(text)
    done = run_kvredis(
        "run", "--data-dir", tmp_path / "data", "--config-file", path, wasmcloud_wasm
    )
    line = error_line(done)
    assert line.startswith(f"kvredis: config file {path}: ")
    assert expected in line


def test_missing_config_file(wasmcloud_wasm: Path, tmp_path: Path) -> None:
    done = run_kvredis("run", "--config-file", tmp_path / "nope.json", wasmcloud_wasm)
    assert "cannot read it: No such file or directory" in error_line(done)


def test_fixture_run_captures_logs_in_stderr(kvredis: KvredisFixture, wasmcloud_wasm: Path) -> None:
    result = kvredis.run(wasmcloud_wasm)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == EVERY_LEVEL[2:]


def test_python_api_config_links_and_log_level(
    kvredis: KvredisFixture,
    wasmcloud_wasm: Path,
    two_servers: tuple[servers.ServerProcess, servers.ServerProcess],
) -> None:
    other = two_servers[1]
    other.client().flushdb()
    host = kvredis.new_host(
        config={"greeting": "api"}, links={"other": other.url, "same": None}, log_level="trace"
    )
    result = host.load(wasmcloud_wasm).run("other/b/x=1", "same/b/y=2")
    config, *writes = _lines(result.stdout)
    assert config["config"]["store"] == "api"  # type: ignore[index]
    assert all(w["ok"] for w in writes)
    assert other.client().keys("*") == [b"b:x"]
    assert kvredis.redis.keys("*") == [b"b:y"]
    assert result.stderr.splitlines() == EVERY_LEVEL


@pytest.mark.parametrize("kvredis_wasi", [False, True], ids=["wasmtime-wasi", "kvredis-wasi"])
def test_shared_linker_serves_them_with_either_wasi(
    kvredis: KvredisFixture, wasmcloud_wasm: Path, kvredis_wasi: bool
) -> None:
    """The linker `kvredis serve` uses defines them with kvredis's own WASI (HTTP components)
    and with wasmtime's, per store: config, links and log lines of each instance's own."""
    component = kvredis.load(wasmcloud_wasm)
    linker = SharedLinker(engine(), kvredis_wasi=kvredis_wasi)
    store = Store(engine())
    if not kvredis_wasi:
        store.set_wasi(WasiConfig())
    core = kvredis.host.core
    services = HostServices({"default": core, "alias": core}, {"greeting": "shared"}, "error")
    logged: list[bytes] = []
    wasi = WasiContext.create(arguments=["app", "alias/b/z=3"]) if kvredis_wasi else None
    state = linker.attach(store, core, wasi, HttpClient(), services, logged.append)
    try:
        instance = linker.linker.instantiate(
            store, component.compiled_for(kvredis.host.limits.engine_kind)
        )
        run_index = instance.get_export_index(store, "wasi:cli/run@0.2.0")
        func = instance.get_func(store, instance.get_export_index(store, "run", run_index))
        assert func is not None
        func(store)
    finally:
        state.detach()
    assert logged == [b"ERROR app: error message\n", b"CRITICAL app: critical message\n"]
    assert linker.attached == 0
    if kvredis_wasi:
        assert kvredis.redis.get("b:z") == b"3"


def test_a_served_http_component_gets_them_per_request(
    app_guest: Guest,
    two_servers: tuple[servers.ServerProcess, servers.ServerProcess],
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Through the ASGI application `kvredis serve` runs (kvredis's own WASI): each request's
    instance starts on the default link, and its log lines go to our stderr."""
    main, other = two_servers
    for server in two_servers:
        server.client().flushdb()
    with (
        Host(
            main.url, config={"greeting": "hello"}, links={"other": other.url}, log_level="info"
        ) as host,
        host.load(app_guest("wasmcloud-http")).http_client() as client,
    ):
        linked = client.get("/a?link=other")
        default = client.get("/b")
        unknown = client.get("/c?link=nowhere")
    assert (linked.status_code, linked.text) == (200, "hello")
    assert (default.status_code, default.text) == (200, "hello")
    assert unknown.status_code == 500
    assert "no keyvalue link named 'nowhere'" in unknown.text
    assert other.client().keys("*") == [b"web:a"]
    assert main.client().keys("*") == [b"web:b"]
    logged = [line for line in capfd.readouterr().err.splitlines() if line.startswith("INFO")]
    assert logged == ["INFO http: GET /a", "INFO http: GET /b", "INFO http: GET /c"]
