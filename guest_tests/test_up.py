"""`kvredis up`: wadm manifests run locally, HTTP components served on real ports against real
servers, and what it refuses before anything starts."""

from __future__ import annotations

import copy
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import redis
import yaml

import servers
from clikit import LineReader, error_line, finish, start_kvredis
from support import ROOT, run_kvredis

EXAMPLE = ROOT / "examples" / "wadm" / "wadm.yaml"
OCI_IMAGE = "ghcr.io/wasmcloud/components/http-keyvalue-counter-rust:0.1.0"


@contextmanager
def up(
    *args: str | Path, cwd: Path, served: int = 1
) -> Iterator[tuple[dict[str, str], LineReader]]:
    """`kvredis up ARGS`: the base URL of each served component, and its log; stopped with
    SIGTERM at the end, which must end it cleanly."""
    process = start_kvredis("up", *args, cwd=cwd)
    assert process.stdout is not None and process.stderr is not None
    log = LineReader(process.stderr)
    try:
        out = LineReader(process.stdout)
        urls = {}
        for _ in range(served):
            line = out.next()
            assert line.startswith("kvredis up: "), line
            name, url = line.removeprefix("kvredis up: ").split(" ")
            urls[name] = url.rstrip("/")
        yield urls, log
    finally:
        process.send_signal(signal.SIGTERM)
        finish(process)
    assert process.returncode == 0, log.seen


def counter_manifest(counter: Path, *apps: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """The example's manifest (the provider README's counter app) with one component per
    (name, keyvalue link properties), all running `counter`, each on a port of its own."""
    manifest: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    entries = manifest["spec"]["components"]
    template, providers = entries[0], entries[1:]
    http_template = providers[1]["traits"][0]
    entries[:] = providers
    providers[1]["traits"] = []
    for name, link in apps:
        component = copy.deepcopy(template)
        component.update(name=name)
        component["properties"]["image"] = str(counter)
        component["traits"][1]["properties"].update(link)
        entries.insert(0, component)
        http_link = copy.deepcopy(http_template)
        http_link["properties"]["target"] = name
        http_link["properties"]["source_config"][0]["properties"]["address"] = "127.0.0.1:0"
        providers[1]["traits"].append(http_link)
    return manifest


def url_config(url: str) -> dict[str, Any]:
    return {"target_config": [{"name": "redis", "properties": {"URL": url}}]}


def test_the_wadm_example_counts_in_redis_with_the_providers_keys(
    app_guest: Callable[[str], Path], server: servers.ServerProcess, db: redis.Redis, tmp_path: Path
) -> None:
    app_guest("http-counter")  # the file the example's manifest names
    args = ("--redis-url", server.url, "--addr", "counter-app=127.0.0.1:0", EXAMPLE)
    with (
        up(*args, cwd=tmp_path) as (urls, log),
        httpx.Client(base_url=urls["counter-app"], timeout=60) as client,
    ):
        counts = [client.get("/hits").text for _ in range(3)]
        assert client.get("/visits?bucket=site").text == "1\n"
        assert log.next().startswith("kvredis: up: counter-app, 1 component; keyvalue on ")
    assert counts == ["1\n", "2\n", "3\n"]
    # As the provider lays keys out: as given, the bucket ignored.
    assert sorted(db.keys()) == [b"hits", b"visits"]
    assert db.get(b"hits") == b"3"


def test_two_components_are_served_at_once_each_on_its_links_redis(
    app_guest: Callable[[str], Path], valkey_server: servers.ServerProcess, tmp_path: Path
) -> None:
    manifest = counter_manifest(
        app_guest("http-counter"),
        ("first", url_config(valkey_server.url)),
        ("second", url_config(f"{valkey_server.url}?db=1")),
    )
    path = tmp_path / "wadm.yaml"
    path.write_text(yaml.safe_dump(manifest))
    with (
        up("--bucket-layout", path, cwd=tmp_path, served=2) as (urls, _log),
        httpx.Client(timeout=60) as client,
    ):
        assert client.get(f"{urls['first']}/hits").text == "1\n"
        assert client.get(f"{urls['second']}/hits").text == "1\n"
        assert client.get(f"{urls['second']}/hits").text == "2\n"
    assert urls["first"] != urls["second"]
    assert valkey_server.client(db=0).get(b"counter:hits") == b"1"
    assert valkey_server.client(db=1).get(b"counter:hits") == b"2"


def test_check_prints_the_plan_without_passwords_and_starts_nothing(
    app_guest: Callable[[str], Path], tmp_path: Path
) -> None:
    secret_url = "redis://:s3cretpw@127.0.0.1:1/0"
    manifest = counter_manifest(app_guest("http-counter"), ("counter", url_config(secret_url)))
    path = tmp_path / "wadm.yaml"
    path.write_text(yaml.safe_dump(manifest))
    done = run_kvredis("up", "--check", path, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "s3cretpw" not in done.stdout + done.stderr
    assert done.stdout.splitlines()[1:] == [
        f"component counter: {app_guest('http-counter')}",
        "  keyvalue: redis://:***@127.0.0.1:1/0 (link config)",
        "  http: 127.0.0.1:0 (concurrency 1)",
    ]
    assert not (tmp_path / ".kvredis").exists()


def test_what_kvredis_cannot_run_is_refused_one_line_per_item(tmp_path: Path) -> None:
    manifest = counter_manifest(Path("unused.wasm"), ("counter", {}))
    manifest["spec"]["components"][0]["properties"]["image"] = OCI_IMAGE
    manifest["spec"]["components"][1]["properties"]["image"] = "ghcr.io/acme/blobstore-s3:1"
    path = tmp_path / "wadm.yaml"
    path.write_text(yaml.safe_dump(manifest))
    done = run_kvredis("up", path, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "kvredis: provider kvredis (ghcr.io/acme/blobstore-s3:1): kvredis stands in only for "
        "the keyvalue-redis and http-server providers",
        f"kvredis: component counter: image {OCI_IMAGE} is an OCI reference, which kvredis "
        "up does not pull; give the file: --image counter=path.wasm",
        "kvredis: component counter: link to kvredis (wasi:keyvalue/{atomics,store}): not "
        "supported; kvredis up runs links from components to the keyvalue provider, and from "
        "the http-server and keyvalue (watcher) providers to components",
    ]
    missing = run_kvredis("up", tmp_path / "none.yaml", cwd=tmp_path)
    assert error_line(missing).startswith("kvredis: ")
    assert "none.yaml: cannot read it" in missing.stderr


def keyvalue_link(url: str, name: str | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "target": "kvredis",
        "namespace": "wasi",
        "package": "keyvalue",
        "interfaces": ["store"],
        **url_config(url),
    }
    if name is not None:
        properties["name"] = name
    return {"type": "link", "properties": properties}


def http_link(target: str) -> dict[str, Any]:
    return {
        "type": "link",
        "properties": {
            "target": target,
            "namespace": "wasi",
            "package": "http",
            "interfaces": ["incoming-handler"],
            "source_config": [{"name": "http", "properties": {"address": "127.0.0.1:0"}}],
        },
    }


def application(*components: dict[str, Any], provider_traits: list[Any]) -> dict[str, Any]:
    """A manifest of `components`, the keyvalue provider with `provider_traits` (its watcher
    links) and the http-server provider serving each component."""
    names = [component["name"] for component in components]
    return {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": "app"},
        "spec": {
            "components": [
                *components,
                {
                    "name": "kvredis",
                    "type": "capability",
                    "properties": {"image": "ghcr.io/wasmcloud/keyvalue-redis:0.29.1"},
                    "traits": provider_traits,
                },
                {
                    "name": "httpserver",
                    "type": "capability",
                    "properties": {"image": "ghcr.io/wasmcloud/http-server:0.27.0"},
                    "traits": [http_link(name) for name in names],
                },
            ]
        },
    }


def test_component_config_named_links_and_logging_reach_the_guest(
    app_guest: Callable[[str], Path], valkey_server: servers.ServerProcess, tmp_path: Path
) -> None:
    greeter = {
        "name": "greeter",
        "type": "component",
        "properties": {
            "image": str(app_guest("wasmcloud-http")),
            "config": [{"name": "greetings", "properties": {"greeting": "hello"}}],
        },
        "traits": [
            keyvalue_link(valkey_server.url),
            keyvalue_link(f"{valkey_server.url}?db=1", name="cache"),
        ],
    }
    path = tmp_path / "wadm.yaml"
    path.write_text(yaml.safe_dump(application(greeter, provider_traits=[])))
    for db in (0, 1):
        valkey_server.client(db=db).flushdb()
    with (
        up(path, cwd=tmp_path) as (urls, log),
        httpx.Client(base_url=urls["greeter"], timeout=60) as client,
    ):
        assert client.get("/first").text == "hello"  # the component's config
        assert client.get("/second?link=cache").text == "hello"  # set-link-name("cache")
        log.until(lambda line: line == "INFO http: GET /second")  # wasi:logging
    # Keys as the provider lays them out, each on its link's database.
    assert valkey_server.client(db=0).keys() == [b"first"]
    assert valkey_server.client(db=1).keys() == [b"second"]


def test_a_watcher_link_tells_the_component_of_the_keys_it_watches(
    app_guest: Callable[[str], Path], tmp_path: Path
) -> None:
    watcher = {
        "name": "watcher",
        "type": "component",
        "properties": {"image": str(app_guest("http-watcher"))},
        "traits": [],
    }
    watch_link = {
        "type": "link",
        "properties": {
            "target": "watcher",
            "namespace": "wasi",
            "package": "keyvalue",
            "interfaces": ["watcher"],
            "source_config": [{"name": "w", "properties": {"watch": "SET@item*,DEL@item*"}}],
        },
    }
    path = tmp_path / "wadm.yaml"
    path.write_text(yaml.safe_dump(application(watcher, provider_traits=[watch_link])))
    with servers.one_of_each(
        lambda kind: tmp_path / kind, config=["notify-keyspace-events E$g"]
    ) as started:
        server = next(iter(started.values()))
        db = server.client()
        args = ("--redis-url", server.url, path)
        with (
            up(*args, cwd=tmp_path) as (urls, _log),
            httpx.Client(base_url=urls["watcher"], timeout=60) as client,
        ):

            def journal_is(text: str) -> None:
                servers.wait_until(
                    lambda: client.get("/journal").text == text, 60, f"journal {text!r}"
                )

            # A SET is told with the value the key holds at its turn, and skipped when the
            # key is gone by then: the DEL waits until the SET was seen.
            db.set(b"item1", b"v1")
            journal_is("SET item1 v1\n")
            db.set(b"other", b"ignored")
            db.delete(b"item1")
            journal_is("SET item1 v1\nDEL item1\n")
