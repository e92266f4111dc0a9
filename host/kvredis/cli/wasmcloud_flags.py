"""What the flags for wasmCloud's host interfaces say (--config, --config-file, --link),
as `Host` settings, checked before anything starts. Values and URLs may be secrets: no
message shows a value, and URLs only redacted."""

from __future__ import annotations

from collections.abc import Sequence

from kvredis import ConfigError, read_config_file, redact


def guest_config(specs: Sequence[str], config_file: str | None) -> dict[str, str]:
    """The values of --config-file, then each --config KEY=VALUE over them."""
    config = read_config_file(config_file) if config_file is not None else {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        if not sep:
            raise ConfigError(f"--config {spec!r}: expected KEY=VALUE")
        if not key:
            raise ConfigError("--config: a KEY=VALUE has no KEY before '='")
        config[key] = value
    return config


def link_urls(specs: Sequence[str]) -> dict[str, str | None]:
    """--link NAME=URL or NAME (the default server): the named keyvalue links."""
    links: dict[str, str | None] = {}
    for spec in specs:
        name, sep, url = spec.partition("=")
        shown = f"{name}={redact(url)}" if sep else name
        if not name:
            raise ConfigError(f"--link {shown!r}: expected NAME=URL or NAME")
        if sep and not url:
            raise ConfigError(f"--link {shown!r}: empty URL after '='")
        if name in links:
            raise ConfigError(f"--link {name}: given twice")
        links[name] = url if sep else None
    return links
