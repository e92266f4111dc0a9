"""kvredis: run WebAssembly components that import wasi:keyvalue on a real Redis.

The public surface is small: `Host` (a Redis server and the rules components run under),
`Component` (call its exports, or run it as a command), `RunResult`, and the errors below.
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
    "InvalidArguments",
    "KvredisError",
    "RedisUnavailable",
    "RunResult",
    "UnsatisfiedImports",
    "__version__",
]
