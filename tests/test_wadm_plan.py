"""`kvredis up`'s reading of a wadm manifest: the shapes it takes, the plan it makes (image,
Redis, address, watch, config, concurrency), and each thing it refuses, one line per item."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from kvredis import (
    DEFAULT_KEY_PREFIX,
    MAX_CONCURRENCY,
    ConfigError,
    PlanError,
    plan_manifest,
    read_manifest,
)
from kvredis.wadm.manifest import ManifestError
from kvredis.wadm.plan import Plan

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "wadm" / "wadm.yaml"


def counter() -> dict[str, Any]:
    """The provider README's counter app (examples/wadm/wadm.yaml), its component a file
    beside the manifest and its keyvalue link naming a Redis."""
    manifest: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    manifest["spec"]["components"][0]["properties"]["image"] = "file://app.wasm"
    kv_link(manifest)["target_config"] = [
        {"name": "redis-url", "properties": {"url": "redis://db:6379"}}
    ]
    return manifest


def traits(manifest: dict[str, Any], entry: int = 0) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = manifest["spec"]["components"][entry].setdefault("traits", [])
    return result


def kv_link(manifest: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = traits(manifest)[1]["properties"]
    return result


def write(folder: Path, manifest: object) -> Path:
    (folder / "app.wasm").write_bytes(b"\0asm")
    path = folder / "wadm.yaml"
    path.write_text(yaml.safe_dump(manifest) if not isinstance(manifest, str) else manifest)
    return path


def plan(folder: Path, manifest: object, **options: Any) -> Plan:
    return plan_manifest(read_manifest(write(folder, manifest)), **options)


def refusals(folder: Path, manifest: object, **options: Any) -> list[str]:
    with pytest.raises(PlanError) as caught:
        plan(folder, manifest, **options)
    return caught.value.problems


def test_the_readme_counter_app_runs_its_component_on_the_link_url_and_address(
    tmp_path: Path,
) -> None:
    made = plan(tmp_path, counter())
    assert (made.application, made.version, made.key_prefix) == ("counter-app", "v0.0.1", "")
    [item] = made.components
    assert item.image == tmp_path / "app.wasm"
    assert (item.keyvalue.url, item.keyvalue.origin) == ("redis://db:6379", "link config")
    assert (item.addresses, item.concurrency, item.watch, item.links) == (
        ("127.0.0.1:8080",),
        1,
        (),
        {},
    )
    assert made.describe()[0] == "application counter-app v0.0.1 (keys as given, bucket ignored)"


def test_bucket_layout_chooses_kvredis_key_prefix(tmp_path: Path) -> None:
    assert plan(tmp_path, counter(), bucket_layout=True).key_prefix == DEFAULT_KEY_PREFIX


@pytest.mark.parametrize("key", ["url", "URL", "Url"])
def test_the_url_key_is_read_ignoring_case_as_the_provider_does(tmp_path: Path, key: str) -> None:
    manifest = counter()
    kv_link(manifest)["target_config"][0]["properties"] = {key: "redis://other:1/2"}
    assert plan(tmp_path, manifest).components[0].keyvalue.url == "redis://other:1/2"


def test_a_link_without_url_takes_the_default_redis(tmp_path: Path) -> None:
    manifest = counter()
    del kv_link(manifest)["target_config"]
    item = plan(tmp_path, manifest).components[0]
    assert item.keyvalue.url is None
    assert "--redis-url, $REDIS_URL or the embedded server" in item.keyvalue.describe()


def test_the_url_secret_comes_from_the_environment_and_wins_over_config(tmp_path: Path) -> None:
    manifest = counter()
    link = kv_link(manifest)
    link["target"] = {
        "name": "kvredis",
        "config": link.pop("target_config"),
        "secrets": [{"name": "url", "properties": {"policy": "nats-kv", "key": "redis-url"}}],
    }
    secret = "redis://:s3cret@vault-db:6379"
    made = plan(tmp_path, manifest, environ={"KVREDIS_SECRET_REDIS_URL": secret})
    link_plan = made.components[0].keyvalue
    assert link_plan.url == secret
    assert link_plan.origin == "secret url from $KVREDIS_SECRET_REDIS_URL"
    assert "s3cret" not in "\n".join(made.describe())


def test_a_missing_secret_names_the_variable_to_set(tmp_path: Path) -> None:
    manifest = counter()
    kv_link(manifest)["target_secrets"] = [
        {"name": "URL", "properties": {"policy": "p", "key": "db.url", "field": "primary"}}
    ]
    assert refusals(tmp_path, manifest) == [
        "component counter-app: link to kvredis (wasi:keyvalue/{atomics,store}): secret URL: "
        "set $KVREDIS_SECRET_DB_URL_PRIMARY to its value (key db.url, field primary)"
    ]


def test_an_oci_image_asks_for_image_and_image_replaces_it(tmp_path: Path) -> None:
    manifest = counter()
    oci = "ghcr.io/wasmcloud/components/http-keyvalue-counter-rust:0.1.0"
    manifest["spec"]["components"][0]["properties"]["image"] = oci
    [problem] = refusals(tmp_path, manifest)
    assert problem == (
        f"component counter-app: image {oci} is an OCI reference, which kvredis up does not "
        "pull; give the file: --image counter-app=path.wasm"
    )
    built = tmp_path / "built.wasm"
    built.write_bytes(b"\0asm")
    made = plan(tmp_path, manifest, images={"counter-app": str(built)})
    assert made.components[0].image == built


def test_image_and_addr_must_name_components_and_files(tmp_path: Path) -> None:
    images = {"counter-app": str(tmp_path / "missing.wasm"), "ghost": "x.wasm"}
    assert refusals(tmp_path, counter(), images=images, addresses={"kvredis": "h:1"}) == [
        f"component counter-app: --image counter-app={tmp_path / 'missing.wasm'}: no such "
        f"file {tmp_path / 'missing.wasm'}",
        "--image ghost: the manifest has no component ghost",
        "--addr kvredis: the manifest has no component kvredis",
    ]


def test_addr_replaces_the_manifest_address(tmp_path: Path) -> None:
    made = plan(tmp_path, counter(), addresses={"counter-app": "127.0.0.1:0"})
    assert made.components[0].addresses == ("127.0.0.1:0",)


@pytest.mark.parametrize(
    ("scaler", "instances"),
    [
        ({"type": "spreadscaler", "properties": {"replicas": 4}}, 4),
        ({"type": "daemonscaler", "properties": {"instances": 3}}, 3),
        # More than one process's instance pool runs at once: as many as it does.
        ({"type": "spreadscaler", "properties": {"instances": 5000}}, MAX_CONCURRENCY),
        (None, None),
    ],
)
def test_replicas_become_concurrency(
    tmp_path: Path, scaler: dict[str, Any] | None, instances: int | None
) -> None:
    manifest = counter()
    traits(manifest)[0:1] = [scaler] if scaler else []
    assert plan(tmp_path, manifest).components[0].concurrency == instances


def test_zero_instances_and_two_scalers_are_refused(tmp_path: Path) -> None:
    manifest = counter()
    traits(manifest)[0]["properties"]["instances"] = 0
    assert refusals(tmp_path, manifest) == [
        "component counter-app: spreadscaler of 0 instances runs nothing"
    ]
    traits(manifest).append({"type": "daemonscaler", "properties": {"instances": 1}})
    assert refusals(tmp_path, manifest) == ["component counter-app: more than one scaler"]


def test_backend_settings_are_honoured_and_unknown_ones_refused_by_name(tmp_path: Path) -> None:
    manifest = counter()
    properties = kv_link(manifest)["target_config"][0]["properties"]
    properties.update(BACKEND_RECONNECT_NUM_RETRIES="5", backend_response_timeout_ms=250)
    item = plan(tmp_path, manifest).components[0]
    assert item.keyvalue.settings == {"reconnect_retries": 5, "response_timeout_ms": 250}
    properties.update(BACKEND_POOL_SIZE="8", BACKEND_CONNECTION_TIMEOUT_MS="soon")
    where = "component counter-app: link to kvredis (wasi:keyvalue/{atomics,store})"
    assert refusals(tmp_path, manifest) == [
        f"{where}: config BACKEND_CONNECTION_TIMEOUT_MS: expected a whole number, got 'soon'",
        f"{where}: config BACKEND_POOL_SIZE: not a keyvalue-redis setting",
        f"{where}: connection_timeout_ms must be at least 1, not 0",
    ]


def test_named_links_and_different_urls_per_component(tmp_path: Path) -> None:
    manifest = counter()
    cache_link = copy.deepcopy(kv_link(manifest))
    cache_link.update(name="cache")
    cache_link["target_config"][0]["properties"] = {"url": "redis://cache:6379"}
    traits(manifest).append({"type": "link", "properties": cache_link})
    other = copy.deepcopy(manifest["spec"]["components"][0])
    other["name"] = "second"
    other["traits"] = other["traits"][:2]
    other["traits"][1]["properties"]["target_config"][0]["properties"]["url"] = "redis://db/1"
    manifest["spec"]["components"].append(other)
    http_link = copy.deepcopy(traits(manifest, 2)[0])
    http_link["properties"]["target"] = "second"
    traits(manifest, 2).append(http_link)
    first, second = plan(tmp_path, manifest).components
    assert first.keyvalue.url == "redis://db:6379"
    assert {name: link.url for name, link in first.links.items()} == {"cache": "redis://cache:6379"}
    assert (second.keyvalue.url, second.links) == ("redis://db/1", {})


def test_component_config_feeds_wasi_config_and_external_config_is_refused(
    tmp_path: Path,
) -> None:
    manifest = counter()
    manifest["spec"]["components"][0]["properties"]["config"] = [
        {"name": "a", "properties": {"greeting": "hello", "port": 8080}},
        {"name": "b", "properties": {"greeting": "hi"}},
    ]
    made = plan(tmp_path, manifest)
    assert made.components[0].config == {"greeting": "hi", "port": "8080"}
    assert "  config: greeting, port" in made.describe()
    manifest["spec"]["components"][0]["properties"]["config"].append({"name": "vault"})
    assert refusals(tmp_path, manifest) == [
        "component counter-app: config vault has no properties (kept outside the manifest in "
        "wasmCloud); give them in the manifest"
    ]


def test_a_watcher_link_gives_watch_specs(tmp_path: Path) -> None:
    manifest = counter()
    watcher = {
        "type": "link",
        "properties": {
            "target": "counter-app",
            "namespace": "wasi",
            "package": "keyvalue",
            "interfaces": ["watcher"],
            "source_config": [
                {
                    "name": "watch",
                    "properties": {"URL": "redis://db:6379", "watch": "SET@hits, DEL@hits"},
                }
            ],
        },
    }
    traits(manifest, 1).append(watcher)
    item = plan(tmp_path, manifest).components[0]
    assert item.watch == ("SET@hits", "DEL@hits")
    config = watcher["properties"]["source_config"][0]["properties"]
    config.update(URL="redis://elsewhere:6379", watch="GET@x,SET@")
    where = "provider kvredis: link to counter-app (wasi:keyvalue/{watcher})"
    assert refusals(tmp_path, manifest) == [
        f"{where}: watches another Redis than the component's keyvalue link; kvredis watches "
        "the component's own",
        f"{where}: watch GET@x: expected SET@KEY or DEL@KEY",
        f"{where}: watch SET@: expected SET@KEY or DEL@KEY",
    ]


def test_without_an_address_the_http_link_serves_on_the_default(tmp_path: Path) -> None:
    manifest = counter()
    del traits(manifest, 2)[0]["properties"]["source_config"]
    assert plan(tmp_path, manifest).components[0].addresses == ("127.0.0.1:8000",)


def test_anything_else_is_refused_one_line_per_item(tmp_path: Path) -> None:
    manifest = counter()
    manifest["spec"]["components"].append(
        {
            "name": "nats",
            "type": "capability",
            "properties": {"image": "ghcr.io/wasmcloud/messaging-nats:0.23.1"},
        }
    )
    traits(manifest).append(
        {
            "type": "link",
            "properties": {
                "target": "nats",
                "namespace": "wasmcloud",
                "package": "messaging",
                "interfaces": ["consumer"],
            },
        }
    )
    kv_link(manifest)["interfaces"].append("watcher")
    traits(manifest, 2)[0]["properties"]["source_config"][0]["properties"]["timeout_ms"] = "9"
    traits(manifest).append({"type": "affinity", "properties": {}})
    assert refusals(tmp_path, manifest) == [
        "provider nats (ghcr.io/wasmcloud/messaging-nats:0.23.1): kvredis stands in only for "
        "the keyvalue-redis and http-server providers",
        "component counter-app: trait affinity: not supported",
        "component counter-app: link to kvredis (wasi:keyvalue/{atomics,store,watcher}): "
        "interface watcher: not served by kvredis up",
        "component counter-app: link to nats (wasmcloud:messaging/{consumer}): not supported; "
        "kvredis up runs links from components to the keyvalue provider, and from the "
        "http-server and keyvalue (watcher) providers to components",
        "provider httpserver: link to counter-app (wasi:http/{incoming-handler}): source "
        "config timeout_ms: not supported",
    ]


def test_a_component_nothing_calls_is_refused(tmp_path: Path) -> None:
    manifest = counter()
    del manifest["spec"]["components"][2]
    assert refusals(tmp_path, manifest) == [
        "component counter-app: nothing would call it (no link from the http-server provider, "
        "no watcher link); kvredis up serves HTTP handlers and watchers"
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda m: m.update(apiVersion="v2"),
            "apiVersion: expected core.oam.dev/v1beta1, got v2",
        ),
        (lambda m: m.pop("spec"), "the document: missing spec"),
        (
            lambda m: kv_link(m).update(interfaces="store"),
            "spec.components[0].traits[1].properties.interfaces: expected a list, got str 'store'",
        ),
        (
            lambda m: kv_link(m).update(target_configs=[]),
            "spec.components[0].traits[1].properties: unknown target_configs (expected one of "
            "interfaces, name, namespace, package, source, source_config, target, "
            "target_config, target_secrets)",
        ),
        (
            lambda m: traits(m)[0]["properties"].update(instances="two"),
            "spec.components[0].traits[0].properties.instances: expected a whole number of "
            "instances",
        ),
    ],
)
def test_a_wrong_shape_is_one_line_naming_its_place(
    tmp_path: Path, change: Any, message: str
) -> None:
    manifest = counter()
    change(manifest)
    with pytest.raises(ManifestError) as caught:
        plan(tmp_path, manifest)
    assert str(caught.value) == f"{tmp_path / 'wadm.yaml'}: {message}"


def test_bad_yaml_and_a_missing_file_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"wadm.yaml line 2: "):
        plan(tmp_path, "apiVersion: x\n  kind: [\n")
    with pytest.raises(ConfigError, match=r"nothing.yaml: cannot read it: No such file"):
        read_manifest(tmp_path / "nothing.yaml")
