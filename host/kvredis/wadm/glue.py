"""GLUE, to wire when the other parts of issue 12 are merged: `wasi:config` values and named
links (item 1: `Host(config=..., links=...)`) and watchers (item 2: `Component.watch(specs)`).

Each is one small function. Until the `Host` or `Component` it needs takes what the plan
carries, a manifest that needs it fails with one clear line; nothing is silently dropped.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kvredis.errors import ConfigError
from kvredis.host import Component, Host


def host_options(
    component: str, config: Mapping[str, str], links: Mapping[str, str | None]
) -> dict[str, Any]:
    """The `Host` keyword arguments for a component's `wasi:config` values and named links
    (none when it has neither); `ConfigError` when this kvredis's Host does not take them."""
    wanted: dict[str, Any] = {}
    if config:
        wanted["config"] = dict(config)
    if links:
        wanted["links"] = dict(links)
    taken = inspect.signature(Host).parameters
    for name, what in (("config", "config values (wasi:config)"), ("links", "named links")):
        if name in wanted and name not in taken:
            raise ConfigError(
                f"component {component}: its {what} need a kvredis with issue 12's "
                f"Host({name}=...), which this build does not have"
            )
    return wanted


def require_watch(name: str, specs: tuple[str, ...]) -> None:
    """`ConfigError` when this kvredis cannot watch yet (checked before anything starts)."""
    if getattr(Component, "watch", None) is None:
        raise _cannot_watch(name, specs)


@contextmanager
def watching(component: Component, name: str, specs: tuple[str, ...]) -> Iterator[None]:
    """`component`'s watcher export called for the keys `specs` name (`SET@key`, `DEL@key`)
    while the block runs; `ConfigError` when this kvredis cannot watch yet."""
    watch = getattr(component, "watch", None)
    if watch is None:
        raise _cannot_watch(name, specs)
    with watch(list(specs)):
        yield


def _cannot_watch(name: str, specs: tuple[str, ...]) -> ConfigError:
    return ConfigError(
        f"component {name}: watching {', '.join(specs)} needs a kvredis with issue 12's "
        "Component.watch, which this build does not have"
    )
