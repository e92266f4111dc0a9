"""kvredis: run WebAssembly components that import wasi:keyvalue on a real Redis.

The public surface is small: `Host` (a Redis server and the rules components run under),
`Component` (call its exports, or run it as a command), `RunResult`, and the errors below,
all subclasses of `KvredisError`. `Instance`, `WasiOptions` and `Limits` appear in
`Component.instantiate`, for one instance per thread or a guest with its own WASI setup.
`Host.inspect` describes a component (`ComponentInfo`, `Signature`) without running it.

The faces (the `kvredis` command, the pytest plugin, `run_conformance`) use only these
names, and so can any tool: `parse_invoke` and `to_json` for the `NAME(ARGS)` text and JSON
of `kvredis run --invoke`, `parse_size` and `parse_timeout` for limits given as text,
`redact` and `redact_text` to show URLs without their passwords, `EmbeddedServer` and
`EmbeddedCluster` for the embedded Valkey (or a local cluster of it) on its own, and the
defaults `DEFAULT_DATA_DIR` and `DEFAULT_KEY_PREFIX`.
"""

from kvredis.backend.settings import ConnectionSettings
from kvredis.backend.urls import redact, redact_text

# Last: the conformance runner is itself a face over the names above.
from kvredis.embedded import DEFAULT_DATA_DIR, EmbeddedCluster, EmbeddedServer
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
from kvredis.host import (
    DEFAULT_KEY_PREFIX,
    Component,
    Host,
    RunResult,
    parse_size,
    parse_timeout,
)
from kvredis.runtime.imports import ComponentInfo, Signature
from kvredis.runtime.instance import Instance, Limits, WasiOptions
from kvredis.values import parse_invoke, to_json

# isort: off
# Last: the conformance runner is a face over the names above, imported from this package.
from kvredis.conformance import run_conformance
# isort: on

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_KEY_PREFIX",
    "Component",
    "ComponentError",
    "ComponentInfo",
    "ComponentLoadError",
    "ConfigError",
    "ConnectionSettings",
    "EmbeddedCluster",
    "EmbeddedServer",
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
    "Signature",
    "UnsatisfiedImports",
    "WasiOptions",
    "__version__",
    "parse_invoke",
    "parse_size",
    "parse_timeout",
    "redact",
    "redact_text",
    "run_conformance",
    "to_json",
]
