"""kvredis: run WebAssembly components that import wasi:keyvalue on a real Redis.

The public surface is small: `Host` (a Redis server and the rules components run under),
`Component` (call its exports, or run it as a command), `RunResult`, and the errors below,
all subclasses of `KvredisError`. `Instance`, `WasiOptions` and `Limits` appear in
`Component.instantiate`, for one instance per thread or a guest with its own WASI setup.

`import kvredis` loads neither wasmtime nor redis: each name is imported from its module the
first time it is used, so a tool that imports kvredis and never runs a component (a pytest
session that uses no fixture, `kvredis --help`) does not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kvredis.errors import (
    ComponentError,
    ComponentLoadError,
    ConfigError,
    EmbeddedServerError,
    ExportNotFound,
    GuestOutOfMemory,
    GuestTimeout,
    GuestTrap,
    HostResourceError,
    InvalidArguments,
    KvredisError,
    RedisUnavailable,
    UnsatisfiedImports,
)

if TYPE_CHECKING:
    from kvredis.backend.settings import ConnectionSettings
    from kvredis.host import Component, Host, RunResult
    from kvredis.runtime.instance import Instance, Limits, WasiOptions

__version__ = "0.1.0"

# The module of each name imported on first use.
_LAZY = {
    "ConnectionSettings": "kvredis.backend.settings",
    "Component": "kvredis.host",
    "Host": "kvredis.host",
    "RunResult": "kvredis.host",
    "Instance": "kvredis.runtime.instance",
    "Limits": "kvredis.runtime.instance",
    "WasiOptions": "kvredis.runtime.instance",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kvredis' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later uses find it without coming here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Component",
    "ComponentError",
    "ComponentLoadError",
    "ConfigError",
    "ConnectionSettings",
    "EmbeddedServerError",
    "ExportNotFound",
    "GuestOutOfMemory",
    "GuestTimeout",
    "GuestTrap",
    "Host",
    "HostResourceError",
    "Instance",
    "InvalidArguments",
    "KvredisError",
    "Limits",
    "RedisUnavailable",
    "RunResult",
    "UnsatisfiedImports",
    "WasiOptions",
    "__version__",
]
