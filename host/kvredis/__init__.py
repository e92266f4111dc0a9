"""kvredis: run WebAssembly components that import wasi:keyvalue on a real Redis.

The public surface is small: `Host` (a Redis server and the rules components run under),
`Component` (call its exports, or run it as a command), `RunResult`, and the errors below,
all subclasses of `KvredisError`. `Instance`, `WasiOptions` and `Limits` appear in
`Component.instantiate`, for one instance per thread or a guest with its own WASI setup.
"""

from kvredis.backend.settings import ConnectionSettings
from kvredis.errors import (
    ComponentError,
    ComponentLoadError,
    ConfigError,
    EmbeddedServerError,
    ExportNotFound,
    GuestOutOfMemory,
    GuestTimeout,
    GuestTrap,
    InvalidArguments,
    KvredisError,
    RedisUnavailable,
    UnsatisfiedImports,
)
from kvredis.host import Component, Host, RunResult
from kvredis.runtime.instance import Instance, Limits, WasiOptions

__version__ = "0.1.0"

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
