"""kvredis: run WebAssembly components that import wasi:keyvalue on a real Redis.

The public surface is small: `Host` (a Redis server and the rules components run under),
`Component` (call its exports, or run it as a command), `RunResult`, and the errors below,
all subclasses of `KvredisError`. `Instance`, `WasiOptions` and `Limits` appear in
`Component.instantiate`, for one instance per thread or a guest with its own WASI setup.
`Host.inspect` describes a component (`ComponentInfo`, `Signature`) without running it.

The faces (the `kvredis` command, the pytest plugin, `run_conformance`) use only these
names, and so can any tool: `parse_invoke` and `to_json` for the `NAME(ARGS)` text and JSON
of `kvredis run --invoke`, `parse_size` and `parse_timeout` for limits given as text,
`run_with_deadline` to wait for guest code no longer than a timeout, `redact` and
`redact_text` to show URLs without their passwords, `read_config_file` for the values
of `--config-file` (`LOG_LEVELS`, `DEFAULT_LOG_LEVEL` for `--log-level`), `EmbeddedServer`
and `EmbeddedCluster`
for the embedded Valkey (or a local cluster of it) on its own, and the defaults
`DEFAULT_DATA_DIR` and `DEFAULT_KEY_PREFIX`. `read_manifest`, `plan_manifest` (or
`PlanError`, a line per refused item) and `Deployment` (with `GuestOptions`) run a wadm
manifest, as `kvredis up` does.

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
    from kvredis.backend.urls import redact, redact_text
    from kvredis.conformance import run_conformance
    from kvredis.embedded import DEFAULT_DATA_DIR, EmbeddedCluster, EmbeddedServer
    from kvredis.host import (
        DEFAULT_KEY_PREFIX,
        Component,
        Host,
        RunResult,
        parse_size,
        parse_timeout,
    )
    from kvredis.runtime.deadline import run_with_deadline
    from kvredis.runtime.http_handler import HttpHandler
    from kvredis.runtime.inspect import ComponentInfo, Signature
    from kvredis.runtime.instance import Instance, Limits, WasiOptions
    from kvredis.runtime.values import parse_invoke, to_json
    from kvredis.serve.asgi import AsgiApp
    from kvredis.serve.client import asgi_client
    from kvredis.serve.defaults import MAX_CONCURRENCY, default_concurrency
    from kvredis.serve.factory import asgi_app, http_handler
    from kvredis.serve.workers import run_workers
    from kvredis.wadm.deploy import Deployment, GuestOptions
    from kvredis.wadm.manifest import read_manifest
    from kvredis.wadm.plan import Plan, PlanError, plan_manifest
    from kvredis.wasmcloud.config import read_config_file
    from kvredis.wasmcloud.log_sink import DEFAULT_LOG_LEVEL, LOG_LEVELS
    from kvredis.watch.dispatcher import Delivery
    from kvredis.watch.session import Watch
    from kvredis.watch.specs import parse_watch_specs

__version__ = "0.1.0"

# The module of each name imported on first use.
_LAZY = {
    "ConnectionSettings": "kvredis.backend.settings",
    "redact": "kvredis.backend.urls",
    "redact_text": "kvredis.backend.urls",
    "run_conformance": "kvredis.conformance",
    "DEFAULT_DATA_DIR": "kvredis.embedded",
    "EmbeddedCluster": "kvredis.embedded",
    "EmbeddedServer": "kvredis.embedded",
    "DEFAULT_KEY_PREFIX": "kvredis.host",
    "Component": "kvredis.host",
    "Host": "kvredis.host",
    "RunResult": "kvredis.host",
    "parse_size": "kvredis.host",
    "parse_timeout": "kvredis.host",
    "run_with_deadline": "kvredis.runtime.deadline",
    "ComponentInfo": "kvredis.runtime.inspect",
    "Signature": "kvredis.runtime.inspect",
    "Instance": "kvredis.runtime.instance",
    "Limits": "kvredis.runtime.instance",
    "WasiOptions": "kvredis.runtime.instance",
    "parse_invoke": "kvredis.runtime.values",
    "to_json": "kvredis.runtime.values",
    "HttpHandler": "kvredis.runtime.http_handler",
    "AsgiApp": "kvredis.serve.asgi",
    "default_concurrency": "kvredis.serve.defaults",
    "MAX_CONCURRENCY": "kvredis.serve.defaults",
    "asgi_client": "kvredis.serve.client",
    "asgi_app": "kvredis.serve.factory",
    "http_handler": "kvredis.serve.factory",
    "read_config_file": "kvredis.wasmcloud.config",
    "DEFAULT_LOG_LEVEL": "kvredis.wasmcloud.log_sink",
    "LOG_LEVELS": "kvredis.wasmcloud.log_sink",
    "Delivery": "kvredis.watch.dispatcher",
    "Watch": "kvredis.watch.session",
    "parse_watch_specs": "kvredis.watch.specs",
    "Deployment": "kvredis.wadm.deploy",
    "GuestOptions": "kvredis.wadm.deploy",
    "read_manifest": "kvredis.wadm.manifest",
    "Plan": "kvredis.wadm.plan",
    "PlanError": "kvredis.wadm.plan",
    "plan_manifest": "kvredis.wadm.plan",
    "run_workers": "kvredis.serve.workers",
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
    "DEFAULT_DATA_DIR",
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_LOG_LEVEL",
    "LOG_LEVELS",
    "MAX_CONCURRENCY",
    "AsgiApp",
    "Component",
    "ComponentError",
    "ComponentInfo",
    "ComponentLoadError",
    "ConfigError",
    "ConnectionSettings",
    "Delivery",
    "Deployment",
    "EmbeddedCluster",
    "EmbeddedServer",
    "EmbeddedServerError",
    "ExportNotFound",
    "GuestOptions",
    "GuestOutOfMemory",
    "GuestTimeout",
    "GuestTrap",
    "Host",
    "HostResourceError",
    "HttpHandler",
    "Instance",
    "InvalidArguments",
    "KvredisError",
    "Limits",
    "Plan",
    "PlanError",
    "RedisUnavailable",
    "RunResult",
    "Signature",
    "UnsatisfiedImports",
    "WasiOptions",
    "Watch",
    "__version__",
    "asgi_app",
    "asgi_client",
    "default_concurrency",
    "http_handler",
    "parse_invoke",
    "parse_size",
    "parse_timeout",
    "parse_watch_specs",
    "plan_manifest",
    "read_config_file",
    "read_manifest",
    "redact",
    "redact_text",
    "run_conformance",
    "run_with_deadline",
    "run_workers",
    "to_json",
]
