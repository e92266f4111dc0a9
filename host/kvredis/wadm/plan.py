"""From a wadm manifest to what `kvredis up` runs: each component's file, its Redis (the
keyvalue provider is kvredis itself), where it is served (the HTTP server provider), what it
watches, its `wasi:config` values and how many of its instances run at once.

Everything kvredis cannot run the way wasmCloud would (another provider, an interface kvredis
does not serve, an OCI image without `--image`) is refused before anything starts: `PlanError`
holds one line per item, each naming it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kvredis.backend.settings import ConnectionSettings
from kvredis.backend.urls import UrlError, check_url, redact
from kvredis.errors import ConfigError
from kvredis.layout import DEFAULT_TEMPLATE
from kvredis.serve.defaults import MAX_CONCURRENCY
from kvredis.wadm.manifest import Entry, Link, Manifest, NamedConfig, SecretRef, Settings

# The provider's name of the Redis URL setting, which it looks up ignoring case.
URL_KEY = "url"
# The provider's connection settings, by the ConnectionSettings field each one sets.
BACKEND_SETTINGS = {
    "BACKEND_RECONNECT_NUM_RETRIES": "reconnect_retries",
    "BACKEND_RECONNECT_MAX_DELAY_MS": "reconnect_max_delay_ms",
    "BACKEND_CONNECTION_TIMEOUT_MS": "connection_timeout_ms",
    "BACKEND_RESPONSE_TIMEOUT_MS": "response_timeout_ms",
}
WATCH_KEY = "watch"
ADDRESS_KEY = "address"
DEFAULT_ADDRESS = "127.0.0.1:8000"
# A secret's value comes from this variable plus its key (and field), e.g.
# key `redis-url` -> KVREDIS_SECRET_REDIS_URL.
SECRET_ENV_PREFIX = "KVREDIS_SECRET_"
# Image repositories (the last part of the name, without tag) kvredis stands in for.
KEYVALUE_PROVIDERS = frozenset({"keyvalue-redis", "kvredis"})
HTTP_PROVIDERS = frozenset({"http-server", "httpserver"})
KEYVALUE_INTERFACES = frozenset({"store", "atomics", "batch"})
DEFAULT_LINK = "default"


class PlanError(ConfigError):
    """What keeps a manifest from running, one line per item."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class RedisLink:
    """A keyvalue link: its Redis (None: `--redis-url`, `REDIS_URL` or the embedded server),
    where that came from, and the provider settings it sets."""

    url: str | None = None
    origin: str = "default"
    settings: Mapping[str, int] = field(default_factory=dict)

    def connection(self, base: ConnectionSettings) -> ConnectionSettings:
        """`base` (the command's flags) with this link's BACKEND_* settings."""
        changes: dict[str, Any] = dict(self.settings)
        return replace(base, **changes)

    def describe(self) -> str:
        if self.url is None:
            shown = "--redis-url, $REDIS_URL or the embedded server"
        else:
            shown = f"{redact(self.url)} ({self.origin})"
        tuning = ", ".join(f"{k}={v}" for k, v in sorted(self.settings.items()))
        return f"{shown}{'; ' + tuning if tuning else ''}"


@dataclass(frozen=True)
class PlannedComponent:
    name: str
    image: Path
    keyvalue: RedisLink = RedisLink()
    links: Mapping[str, RedisLink] = field(default_factory=dict)
    addresses: tuple[str, ...] = ()
    watch: tuple[str, ...] = ()
    config: Mapping[str, str] = field(default_factory=dict)
    concurrency: int | None = None


@dataclass(frozen=True)
class Plan:
    application: str
    version: str | None
    key_prefix: str
    components: tuple[PlannedComponent, ...]

    def describe(self) -> list[str]:
        """What would run, a line per fact, URLs without passwords, secrets not shown."""
        layout = (
            "keys as given, bucket ignored"
            if self.key_prefix == ""
            else (f"key prefix {self.key_prefix!r}")
        )
        version = f" {self.version}" if self.version else ""
        lines = [f"application {self.application}{version} ({layout})"]
        for item in self.components:
            lines.append(f"component {item.name}: {item.image}")
            lines.append(f"  keyvalue: {item.keyvalue.describe()}")
            lines += [f"  link {name}: {link.describe()}" for name, link in item.links.items()]
            if item.addresses:
                runs = "default" if item.concurrency is None else str(item.concurrency)
                lines.append(f"  http: {', '.join(item.addresses)} (concurrency {runs})")
            if item.watch:
                lines.append(f"  watch: {', '.join(item.watch)}")
            if item.config:
                lines.append(f"  config: {', '.join(sorted(item.config))}")
        return lines


def plan_manifest(
    manifest: Manifest,
    *,
    images: Mapping[str, str] | None = None,
    addresses: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    bucket_layout: bool = False,
) -> Plan:
    """The run plan of `manifest`. `images` and `addresses` replace, by component name, the
    manifest's image and served address; `environ` holds the secrets (`SECRET_ENV_PREFIX`).
    `bucket_layout`: kvredis's `{bucket}:` key layout instead of the provider's raw keys."""
    planner = _Planner(manifest, dict(images or {}), dict(addresses or {}), environ or {})
    return planner.plan(DEFAULT_TEMPLATE if bucket_layout else "")


def provider_kind(image: str) -> str | None:
    """ "keyvalue" or "http" for an image of a provider kvredis stands in for, else None."""
    repository = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    if repository in KEYVALUE_PROVIDERS:
        return "keyvalue"
    if repository in HTTP_PROVIDERS:
        return "http"
    return None


def secret_variable(secret: SecretRef) -> str:
    """The environment variable holding `secret`'s value."""
    name = secret.key if secret.field is None else f"{secret.key}_{secret.field}"
    return SECRET_ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def _lookup(values: Mapping[str, str], key: str) -> str | None:
    """The value of `key`, its case ignored, as the provider reads its settings."""
    for name, value in values.items():
        if name.lower() == key.lower():
            return value
    return None


class _Planner:
    def __init__(
        self,
        manifest: Manifest,
        images: dict[str, str],
        addresses: dict[str, str],
        environ: Mapping[str, str],
    ) -> None:
        self.manifest = manifest
        self.images = images
        self.addresses = addresses
        self.environ = environ
        self.problems: list[str] = []
        self.providers: dict[str, str] = {}
        self.provider_default = RedisLink()
        self.planned: dict[str, PlannedComponent] = {}

    def plan(self, key_prefix: str) -> Plan:
        entries = self.manifest.entries
        names = [entry.name for entry in entries]
        for name in sorted({n for n in names if names.count(n) > 1}):
            self.problems.append(f"{name}: two entries of this name")
        for entry in entries:
            if entry.kind == "capability":
                self._provider(entry)
        self.provider_default = self._provider_default()
        for entry in entries:
            if entry.kind in ("component", "actor"):
                self._component(entry)
            elif entry.kind != "capability":
                self.problems.append(f"{entry.name}: type {entry.kind}: not a component type")
        for name in sorted(set(self.images) - set(self.planned)):
            self.problems.append(f"--image {name}: the manifest has no component {name}")
        for name in sorted(set(self.addresses) - set(self.planned)):
            self.problems.append(f"--addr {name}: the manifest has no component {name}")
        # Components' own links first: a watcher link is checked against the Redis they give.
        for entry in sorted(entries, key=lambda e: e.name not in self.planned):
            for link in entry.links:
                self._link_from(entry, link)
        for name in self.addresses:
            if name in self.planned and not self.planned[name].addresses:
                self.problems.append(f"--addr {name}: the component is not served over HTTP")
        for item in self.planned.values():
            self._check_link_settings(item)
            if not item.addresses and not item.watch:
                self.problems.append(
                    f"component {item.name}: nothing would call it (no link from the "
                    "http-server provider, no watcher link); kvredis up serves HTTP "
                    "handlers and watchers"
                )
        if self.problems:
            raise PlanError(self.problems)
        components = tuple(self._with_address_override(c) for c in self.planned.values())
        return Plan(self.manifest.name, self.manifest.version, key_prefix, components)

    # --- entries ---------------------------------------------------------------------------

    def _provider(self, entry: Entry) -> None:
        kind = None if entry.image is None else provider_kind(entry.image)
        if kind is None:
            self.problems.append(
                f"provider {entry.name} ({entry.image or 'a shared application'}): kvredis "
                "stands in only for the keyvalue-redis and http-server providers"
            )
            return
        self.providers[entry.name] = kind
        for trait in entry.other_traits:
            self.problems.append(f"provider {entry.name}: trait {trait.kind}: not supported")
        if kind == "http":
            for key in self._values(f"provider {entry.name}", entry.settings):
                self.problems.append(f"provider {entry.name}: config {key}: not supported")

    def _component(self, entry: Entry) -> None:
        item = f"component {entry.name}"
        image = self._image(entry)
        if entry.settings.secrets:
            self.problems.append(f"{item}: secrets (wasmcloud:secrets) are not supported")
        for trait in entry.other_traits:
            self.problems.append(f"{item}: trait {trait.kind}: not supported")
        concurrency = None
        if len(entry.scalers) > 1:
            self.problems.append(f"{item}: more than one scaler")
        elif entry.scalers:
            # wasmCloud's instances are the most that run at once: here, guests at once,
            # up to what one process's instance pool holds.
            concurrency = min(entry.scalers[0].instances, MAX_CONCURRENCY)
            if concurrency == 0:
                self.problems.append(f"{item}: {entry.scalers[0].kind} of 0 instances runs nothing")
        planned = PlannedComponent(
            name=entry.name,
            image=image or Path(),
            keyvalue=self.provider_default,
            config=self._values(item, Settings(entry.settings.config)),
            concurrency=concurrency or None,
        )
        self.planned[entry.name] = planned

    def _image(self, entry: Entry) -> Path | None:
        item = f"component {entry.name}"
        if entry.name in self.images:
            path = Path(self.images[entry.name])
            given = f"--image {entry.name}={path}"
        elif entry.image is None:
            self.problems.append(f"{item}: shares another application's component; not supported")
            return None
        elif entry.image.startswith("file://"):
            path = _within(self.manifest.folder, entry.image.removeprefix("file://"))
            given = f"image {entry.image}"
        elif _is_local(entry.image):
            path = _within(self.manifest.folder, entry.image)
            given = f"image {entry.image}"
        else:
            self.problems.append(
                f"{item}: image {entry.image} is an OCI reference, which kvredis up does not "
                f"pull; give the file: --image {entry.name}=path.wasm"
            )
            return None
        if not path.is_file():
            self.problems.append(f"{item}: {given}: no such file {path}")
            return None
        return path

    def _provider_default(self) -> RedisLink:
        """The Redis of a link that names none: the keyvalue provider's own config, else the
        default."""
        for entry in self.manifest.entries:
            if self.providers.get(entry.name) == "keyvalue":
                return self._redis(f"provider {entry.name}", entry.settings, "provider config")
        return RedisLink()

    # --- links -----------------------------------------------------------------------------

    def _link_from(self, entry: Entry, link: Link) -> None:
        source = f"{'provider' if entry.kind == 'capability' else 'component'} {entry.name}"
        item = f"{source}: link to {link.target} ({link.wit})"
        target_kind = self.providers.get(link.target)
        if entry.name in self.planned and target_kind == "keyvalue":
            self._keyvalue_link(entry.name, link, item)
        elif self.providers.get(entry.name) == "http" and link.target in self.planned:
            self._http_link(link, item)
        elif self.providers.get(entry.name) == "keyvalue" and link.target in self.planned:
            self._watch_link(entry, link, item)
        elif entry.name in self.planned or entry.name in self.providers:
            self.problems.append(
                f"{item}: not supported; kvredis up runs links from components to the "
                "keyvalue provider, and from the http-server and keyvalue (watcher) providers "
                "to components"
            )

    def _keyvalue_link(self, component: str, link: Link, item: str) -> None:
        if not self._is_wasi(link, "keyvalue", item, KEYVALUE_INTERFACES):
            return
        if link.source.config or link.source.secrets:
            self.problems.append(f"{item}: source config: not used by a keyvalue link")
        redis = self._redis(item, link.target_settings, "link config", self.provider_default)
        planned = self.planned[component]
        if link.name in (None, DEFAULT_LINK):
            planned = replace(planned, keyvalue=redis)
        else:
            planned = replace(planned, links={**planned.links, link.name: redis})
        self.planned[component] = planned

    def _check_link_settings(self, item: PlannedComponent) -> None:
        if any(link.settings != item.keyvalue.settings for link in item.links.values()):
            self.problems.append(
                f"component {item.name}: BACKEND_* settings differ between its keyvalue links; "
                "kvredis takes one set per component"
            )

    def _http_link(self, link: Link, item: str) -> None:
        if not self._is_wasi(link, "http", item, frozenset({"incoming-handler"})):
            return
        values = self._values(item, link.source)
        for key in values:
            if key.lower() != ADDRESS_KEY:
                self.problems.append(f"{item}: source config {key}: not supported")
        if link.target_settings.config or link.target_settings.secrets:
            self.problems.append(f"{item}: target config: not used by an http link")
        address = _lookup(values, ADDRESS_KEY) or DEFAULT_ADDRESS
        planned = self.planned[link.target]
        self.planned[link.target] = replace(planned, addresses=(*planned.addresses, address))

    def _watch_link(self, provider: Entry, link: Link, item: str) -> None:
        if not self._is_wasi(link, "keyvalue", item, frozenset({"watcher"})):
            return
        planned = self.planned[link.target]
        redis = self._redis(
            item, link.source, "watch link config", self.provider_default, extra={WATCH_KEY}
        )
        if (redis.url, redis.settings) != (planned.keyvalue.url, planned.keyvalue.settings):
            self.problems.append(
                f"{item}: watches another Redis than the component's keyvalue link; kvredis "
                "watches the component's own"
            )
        specs = _lookup(self._values(item, link.source), WATCH_KEY) or ""
        entries = tuple(spec.strip() for spec in specs.split(",") if spec.strip())
        if not entries:
            self.problems.append(f"{item}: no watch config (e.g. watch: SET@key,DEL@key)")
        for spec in entries:
            operation, at, key = spec.partition("@")
            if not at or operation.upper() not in ("SET", "DEL") or not key:
                self.problems.append(f"{item}: watch {spec}: expected SET@KEY or DEL@KEY")
        self.planned[link.target] = replace(planned, watch=(*planned.watch, *entries))

    def _is_wasi(self, link: Link, package: str, item: str, served: frozenset[str]) -> bool:
        if (link.namespace, link.package) != ("wasi", package):
            self.problems.append(f"{item}: expected wasi:{package}")
            return False
        unserved = [name for name in link.interfaces if name not in served]
        for name in unserved:
            self.problems.append(f"{item}: interface {name}: not served by kvredis up")
        return not unserved

    # --- values ----------------------------------------------------------------------------

    def _redis(
        self,
        item: str,
        settings: Settings,
        origin: str,
        base: RedisLink | None = None,
        extra: Iterable[str] = (),
    ) -> RedisLink:
        """The Redis a provider-side configuration describes: its URL (a secret before a
        config value, as the provider reads them) and its BACKEND_* settings, over `base`."""
        base = base or RedisLink()
        values = self._values(item, settings)
        tuning = dict(base.settings)
        known = {URL_KEY, *(k.lower() for k in BACKEND_SETTINGS), *extra}
        for key, value in values.items():
            setting = BACKEND_SETTINGS.get(key.upper())
            if setting is not None:
                tuning[setting] = self._whole_number(item, key, value)
            elif key.lower() not in known:
                self.problems.append(f"{item}: config {key}: not a keyvalue-redis setting")
        try:
            RedisLink(settings=tuning).connection(ConnectionSettings())
        except ConfigError as exc:
            self.problems.append(f"{item}: {exc}")
        url = _lookup(values, URL_KEY)
        if url is None:
            return RedisLink(base.url, base.origin, tuning)
        try:
            check_url(url)
        except UrlError as exc:
            self.problems.append(f"{item}: {exc}")
        return RedisLink(url, self._origin_of_url(settings, origin), tuning)

    def _origin_of_url(self, settings: Settings, origin: str) -> str:
        for secret in settings.secrets:
            if secret.name.lower() == URL_KEY:
                return f"secret {secret.name} from ${secret_variable(secret)}"
        return origin

    def _whole_number(self, item: str, key: str, value: str) -> int:
        if not value.strip().isdigit():
            self.problems.append(f"{item}: config {key}: expected a whole number, got {value!r}")
            return 0
        return int(value)

    def _values(self, item: str, settings: Settings) -> dict[str, str]:
        """The merged values of named configurations (in order) and then secrets, which
        win, as the provider reads a secret before a config value."""
        values: dict[str, str] = {}
        for config in settings.config:
            values.update(self._config_values(item, config))
        for secret in settings.secrets:
            variable = secret_variable(secret)
            value = self.environ.get(variable)
            if value is None:
                self.problems.append(
                    f"{item}: secret {secret.name}: set ${variable} to its value (key "
                    f"{secret.key}{'' if secret.field is None else ', field ' + secret.field})"
                )
                continue
            values = {k: v for k, v in values.items() if k.lower() != secret.name.lower()}
            values[secret.name] = value
        return values

    def _config_values(self, item: str, config: NamedConfig) -> Mapping[str, str]:
        if config.properties is None:
            self.problems.append(
                f"{item}: config {config.name} has no properties (kept outside the manifest "
                "in wasmCloud); give them in the manifest"
            )
            return {}
        return config.properties

    def _with_address_override(self, item: PlannedComponent) -> PlannedComponent:
        address = self.addresses.get(item.name)
        return item if address is None else replace(item, addresses=(address,))


def _within(folder: Path, name: str) -> Path:
    """`name` taken from `folder` (an absolute name as it is), `..` resolved for display."""
    return Path(os.path.normpath(folder / name))


def _is_local(image: str) -> bool:
    """A file name rather than an OCI reference (`registry/repository:tag`)."""
    return image.endswith(".wasm") or image.startswith(("/", "./", "../"))
