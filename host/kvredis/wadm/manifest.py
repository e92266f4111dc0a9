"""A wadm `Application` manifest (`apiVersion: core.oam.dev/v1beta1`) read into typed records.

Only the shape is checked here, and the first wrong shape is reported as one line naming its
place (`spec.components[1].traits[0].properties.interfaces: expected a list of strings`);
what kvredis can run is decided by the plan (`kvredis.wadm.plan`). Both link spellings wadm
reads are taken: the older `target: NAME` with `source_config`/`target_config`, and the newer
`target: {name, config, secrets}` with `source: {config, secrets}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kvredis.errors import ConfigError

API_VERSION = "core.oam.dev/v1beta1"
KIND = "Application"
# The largest manifest read: a deployment file is a few kilobytes.
_MAX_BYTES = 1 << 20


class ManifestError(ConfigError):
    """The file is not a wadm Application of the shape wadm reads."""


@dataclass(frozen=True)
class NamedConfig:
    """A named configuration; `properties` None means one managed outside the manifest."""

    name: str
    properties: Mapping[str, str] | None


@dataclass(frozen=True)
class SecretRef:
    """A secret the manifest names; its value lives in a secrets backend, not in the file."""

    name: str
    policy: str
    key: str
    field: str | None = None


@dataclass(frozen=True)
class Settings:
    """The configurations and secrets given to one end of a link, or to an entry."""

    config: tuple[NamedConfig, ...] = ()
    secrets: tuple[SecretRef, ...] = ()


@dataclass(frozen=True)
class Link:
    """A `link` trait: its entry (the source) calls `target` through `namespace:package`."""

    where: str
    target: str
    namespace: str
    package: str
    interfaces: tuple[str, ...]
    name: str | None
    source: Settings
    target_settings: Settings

    @property
    def wit(self) -> str:
        return f"{self.namespace}:{self.package}/{{{','.join(self.interfaces)}}}"


@dataclass(frozen=True)
class Scaler:
    """A `spreadscaler` or `daemonscaler` trait."""

    where: str
    kind: str
    instances: int


@dataclass(frozen=True)
class OtherTrait:
    where: str
    kind: str


@dataclass(frozen=True)
class Entry:
    """One item of `spec.components`: a component (`type: component`) or a provider
    (`type: capability`)."""

    where: str
    name: str
    kind: str
    image: str | None
    shared_from: str | None
    settings: Settings
    links: tuple[Link, ...]
    scalers: tuple[Scaler, ...]
    other_traits: tuple[OtherTrait, ...]


@dataclass(frozen=True)
class Manifest:
    path: Path
    name: str
    version: str | None
    entries: tuple[Entry, ...]

    @property
    def folder(self) -> Path:
        return self.path.parent


def read_manifest(path: str | Path) -> Manifest:
    """The manifest in the YAML (or JSON) file `path`; `ManifestError` naming the place of
    the first wrong shape."""
    path = Path(path)
    try:
        with path.open("rb") as source:
            text = source.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if len(text) > _MAX_BYTES:
        raise ManifestError(f"{path}: larger than {_MAX_BYTES} bytes; not a wadm manifest")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ManifestError(f"{path}{at}: {problem}") from None
    return parse_manifest(document, path)


def parse_manifest(document: object, path: Path) -> Manifest:
    """The manifest of an already loaded YAML document."""
    root = _Node(document, "", path)
    root.mapping()
    api = root.text("apiVersion")
    if api != API_VERSION:
        raise root.child("apiVersion").error(f"expected {API_VERSION}, got {api}")
    kind = root.text("kind")
    if kind != KIND:
        raise root.child("kind").error(f"expected {KIND}, got {kind}")
    metadata = root.child("metadata")
    annotations = metadata.child("annotations", {})
    spec = root.child("spec")
    return Manifest(
        path=path,
        name=metadata.text("name"),
        version=annotations.optional_text("version"),
        entries=tuple(_entry(item) for item in spec.child("components").items()),
    )


# --- entries and traits ----------------------------------------------------------------------

_ENTRY_PROPERTIES = frozenset({"image", "application", "id", "config", "secrets"})
_LINK_PROPERTIES = frozenset(
    {
        "target",
        "namespace",
        "package",
        "interfaces",
        "name",
        "source",
        "source_config",
        "target_config",
        # Not wadm's own spelling (it nests secrets under `target:`), but the one the
        # provider's docs and our issue use; read the same way.
        "target_secrets",
    }
)


def _entry(node: _Node) -> Entry:
    name = node.text("name")
    kind = node.text("type")
    properties = node.child("properties")
    properties.known_keys(_ENTRY_PROPERTIES)
    shared = properties.child("application", None)
    image = properties.optional_text("image")
    if image is None and shared.value is None:
        raise properties.error("expected an image (or an application to share)")
    links: list[Link] = []
    scalers: list[Scaler] = []
    others: list[OtherTrait] = []
    for trait in node.child("traits", []).items():
        trait_kind = trait.text("type")
        trait_properties = trait.child("properties", {})
        if trait_kind == "link":
            links.append(_link(trait_properties))
        elif trait_kind in ("spreadscaler", "daemonscaler"):
            scalers.append(_scaler(trait_properties, trait_kind))
        else:
            others.append(OtherTrait(trait.where, trait_kind))
    return Entry(
        where=node.where,
        name=name,
        kind=kind,
        image=image,
        shared_from=None if shared.value is None else shared.text("name"),
        settings=_settings(properties),
        links=tuple(links),
        scalers=tuple(scalers),
        other_traits=tuple(others),
    )


def _link(node: _Node) -> Link:
    node.known_keys(_LINK_PROPERTIES)
    target = node.child("target")
    if isinstance(target.value, str):
        target_name = target.value
        target_settings = Settings(
            _configs(node.child("target_config", [])), _secrets(node.child("target_secrets", []))
        )
    else:
        target_name = target.text("name")
        target_settings = _settings(target)
    source = node.child("source", None)
    if source.value is not None:
        source_settings = _settings(source)
    else:
        source_settings = Settings(_configs(node.child("source_config", [])))
    interfaces = node.child("interfaces")
    return Link(
        where=node.where,
        target=target_name,
        namespace=node.text("namespace"),
        package=node.text("package"),
        interfaces=tuple(item.text_value() for item in interfaces.items()),
        name=node.optional_text("name"),
        source=source_settings,
        target_settings=target_settings,
    )


def _scaler(node: _Node, kind: str) -> Scaler:
    # wadm reads `replicas` as another name of `instances`.
    given = node.mapping()
    key = "replicas" if "replicas" in given and "instances" not in given else "instances"
    count = node.child(key)
    if not isinstance(count.value, int) or isinstance(count.value, bool) or count.value < 0:
        raise count.error("expected a whole number of instances")
    return Scaler(node.where, kind, count.value)


def _settings(node: _Node) -> Settings:
    return Settings(_configs(node.child("config", [])), _secrets(node.child("secrets", [])))


def _configs(node: _Node) -> tuple[NamedConfig, ...]:
    found = []
    for item in node.items():
        properties = item.child("properties", None)
        values = None if properties.value is None else properties.string_map()
        found.append(NamedConfig(item.text("name"), values))
    return tuple(found)


def _secrets(node: _Node) -> tuple[SecretRef, ...]:
    found = []
    for item in node.items():
        source = item.child("properties")
        found.append(
            SecretRef(
                name=item.text("name"),
                policy=source.text("policy"),
                key=source.text("key"),
                field=source.optional_text("field"),
            )
        )
    return tuple(found)


# --- reading YAML values with their place ------------------------------------------------------

_ABSENT = object()


class _Node:
    """A YAML value and where it is in the document, for messages that name the place."""

    def __init__(self, value: object, where: str, path: Path) -> None:
        self.value = value
        self.where = where
        self.path = path

    def error(self, problem: str) -> ManifestError:
        return ManifestError(f"{self.path}: {self.where or 'the document'}: {problem}")

    def mapping(self) -> dict[str, Any]:
        if not isinstance(self.value, dict):
            raise self.error(f"expected a mapping, got {_shape(self.value)}")
        return self.value

    def child(self, key: str, default: object = _ABSENT) -> _Node:
        where = f"{self.where}.{key}" if self.where else key
        value = self.mapping().get(key, default)
        if value is _ABSENT:
            raise self.error(f"missing {key}")
        return _Node(value, where, self.path)

    def items(self) -> list[_Node]:
        if not isinstance(self.value, list):
            raise self.error(f"expected a list, got {_shape(self.value)}")
        return [_Node(item, f"{self.where}[{i}]", self.path) for i, item in enumerate(self.value)]

    def text_value(self) -> str:
        if not isinstance(self.value, str) or not self.value:
            raise self.error(f"expected a non-empty string, got {_shape(self.value)}")
        return self.value

    def text(self, key: str) -> str:
        return self.child(key).text_value()

    def optional_text(self, key: str) -> str | None:
        node = self.child(key, None)
        return None if node.value is None else node.text_value()

    def string_map(self) -> dict[str, str]:
        """A mapping of names to values; numbers and booleans are taken as their YAML text
        (`port: 8080` as "8080"), as a hand-written manifest often has them."""
        values = {}
        for key, value in self.mapping().items():
            if not isinstance(key, str) or not _is_scalar(value):
                raise self.error(f"expected names with text values; {key!r} has {_shape(value)}")
            values[key] = _scalar_text(value)
        return values

    def known_keys(self, known: frozenset[str]) -> None:
        unknown = sorted(str(key) for key in self.mapping() if key not in known)
        if unknown:
            raise self.error(f"unknown {unknown[0]} (expected one of {', '.join(sorted(known))})")


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool)


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _shape(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
