"""The public Python API: `Host` (a Redis connection and its policy) and `Component`.

The CLI, the pytest plugin and the conformance runner are thin faces over these classes and
the few functions beside them (`parse_size`, `parse_timeout`).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from kvredis.backend.base import Backend, BackendError
from kvredis.backend.settings import ConnectionSettings
from kvredis.backend.urls import UrlError, check_url, redact
from kvredis.core import DEFAULT_MAX_VALUE_BYTES, KeyValueCore, StoreConfig
from kvredis.embedded import EmbeddedCluster, EmbeddedServer
from kvredis.embedded.cluster import MAX_PRIMARIES
from kvredis.errors import ConfigError, InvalidArguments, RedisUnavailable, UnsatisfiedImports
from kvredis.layout import DEFAULT_TEMPLATE, KeyLayout, LayoutError
from kvredis.runtime.cache import load_component
from kvredis.runtime.engine import EngineKind
from kvredis.runtime.inspect import ComponentInfo, describe, find_export
from kvredis.runtime.instance import Instance, Limits, WasiOptions
from kvredis.wasmcloud import (
    DEFAULT_LINK,
    DEFAULT_LOG_LEVEL,
    HostServices,
    check_config,
    check_link_name,
    check_log_level,
)

if TYPE_CHECKING:
    import httpx

    from kvredis.serve.asgi import AsgiApp
    from kvredis.watch.dispatcher import Delivery
    from kvredis.watch.session import Watch

DEFAULT_KEY_PREFIX = DEFAULT_TEMPLATE
# A guest call may run this long at most: beyond it a deadline is no deadline, and the epoch
# arithmetic behind it would overflow long before `inf`.
MAX_TIMEOUT_S = 7 * 24 * 3600.0
# Keys per SCAN page and per DEL when a tool sweeps raw keys (`scan_keys`, `delete_keys`).
_SWEEP_BATCH = 500

_SIZE = re.compile(r"^\s*(\d+)\s*([kKmMgG]?)(i?[bB]?)\s*$")
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(value: int | str) -> int:
    """Bytes from `64M`, `1G`, `512k` or a plain number (binary units)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ConfigError(f"size must be above zero: {value}")
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ConfigError(f"cannot read {value!r} as a size; use a number with K, M or G")
    size = int(match.group(1)) * _UNITS[match.group(2).lower()]
    if size <= 0:
        raise ConfigError(f"size must be above zero: {value!r}")
    return size


def parse_timeout(value: float | str) -> float:
    """Seconds from a number or its text: finite, above zero, at most a week."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"timeout must be a number of seconds, not {value!r}")
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"cannot read {value!r} as seconds") from None
    if not math.isfinite(seconds):
        raise ConfigError(f"timeout must be a finite number of seconds, not {value!r}")
    if seconds <= 0:
        raise ConfigError(f"timeout must be above zero, not {value!r}")
    if seconds > MAX_TIMEOUT_S:
        raise ConfigError(
            f"timeout of {value!r} seconds is above the maximum of {MAX_TIMEOUT_S:.0f} (a week)"
        )
    return seconds


@dataclass(frozen=True)
class RunResult:
    """What `Component.run` saw: the guest's exit status and its captured output."""

    exit_code: int
    stdout: str
    stderr: str


class Host:
    """A Redis server (embedded or given by URL) plus the rules components run under.

    Use it as a context manager; it connects on entry (or on first use) and, on exit, closes
    its connections and stops the embedded server if it started one:

        with kvredis.Host("redis://localhost:6379/0", buckets=["counter"]) as host:
            counter = host.load("counter.wasm")
            print(counter.run().stdout)

    `redis_url`: `redis://`, `rediss://` or `unix://`; None starts the embedded Valkey with
    its data in `data_dir` (default `.kvredis/` of the working directory). A Redis Cluster
    node's URL gets the cluster backend (found out by asking it; `?cluster=yes|no` forces it
    either way, `?addr=host:port` names more nodes). `cluster`: with no URL, the embedded
    cluster instead (True: the one of `data_dir`, or 3 primaries; a number: that many
    primaries), each primary with one replica.
    `buckets`: when given, only these bucket identifiers open (others get `no-such-store`);
    a mapping may send a bucket to another server (`{"cache": "redis://..."}`, None for the
    default server). `read_only`: buckets whose every write gets `access-denied`.
    `key_prefix`: the key layout template (`{bucket}:` by default; `""` for raw keys).
    `timeout` (seconds) and `max_memory` (bytes, or a size such as `"64M"`) limit each
    guest call; `max_value_size` is the largest value a guest may store or read.
    `connection`: reconnect and timeout settings (the wasmCloud provider's meanings).
    `backend`: instead of Redis, your own implementation of the `kvredis.backend.base.Backend`
    protocol (raw Redis keys and values in, plain Python out), for tests and benchmarks of
    the host itself; `redis_url` and `data_dir` are then unused, and bucket routes to other
    URLs still connect to Redis.
    wasmCloud's host interfaces: `config` is what `wasi:config` (`store` and `runtime`)
    gives components; `links` names keyvalue links a component picks with
    `wasmcloud:bus/lattice.set-link-name` (a URL: that server, under the same bucket rules
    but without the per-bucket URLs; None: the default server, exactly as `default`, the
    link every instance starts on); `log_level` is the least severe `wasi:logging` level
    shown (trace, debug, info, warn, error, critical).

    Bad options raise `ConfigError`; an unreachable server raises `RedisUnavailable`.
    """

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        buckets: Mapping[str, str | None] | Iterable[str] | None = None,
        read_only: Iterable[str] = (),
        key_prefix: str = DEFAULT_TEMPLATE,
        timeout: float | None = None,
        max_memory: int | str | None = None,
        max_value_size: int | str = DEFAULT_MAX_VALUE_BYTES,
        connection: ConnectionSettings | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        backend: Backend | None = None,
        cluster: bool | int = False,
        config: Mapping[str, str] | None = None,
        links: Mapping[str, str | None] | None = None,
        log_level: str = DEFAULT_LOG_LEVEL,
    ) -> None:
        self._settings = connection or ConnectionSettings()
        self._guest_config = check_config(config or {})
        self._log_level = check_log_level(log_level)
        self._links = _link_urls(links)
        if cluster is not False and (redis_url is not None or backend is not None):
            raise ConfigError(
                "cluster starts the embedded cluster, so it takes no redis_url or backend; "
                "a URL of your own cluster gets the cluster backend by itself"
            )
        if not isinstance(cluster, bool | int):
            raise ConfigError(
                f"cluster must be True, False or a number of primaries, not {cluster!r}"
            )
        if not isinstance(key_prefix, str):
            raise ConfigError(f"key_prefix must be a string, not {key_prefix!r}")
        try:
            self._layout = KeyLayout(key_prefix)
        except LayoutError as exc:
            raise ConfigError(str(exc)) from None
        try:
            if redis_url is not None:
                check_url(redis_url)
            routes = _bucket_routes(buckets)
            for url in [*routes.values(), *self._links.values()]:
                if url is not None:
                    check_url(url)
        except UrlError as exc:
            raise ConfigError(str(exc)) from None
        if timeout is not None and not isinstance(timeout, int | float):
            raise ConfigError(f"timeout must be a number of seconds, not {timeout!r}")
        try:
            self.limits = Limits(
                timeout_s=None if timeout is None else parse_timeout(timeout),
                max_memory_bytes=None if max_memory is None else parse_size(max_memory),
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self._config = StoreConfig(
            layout=self._layout,
            allowed=None if buckets is None else frozenset(routes),
            read_only=_names("read_only", read_only),
            max_value_bytes=parse_size(max_value_size),
        )
        self._redis_url = redis_url
        self._routes = routes
        self._data_dir = data_dir
        self._custom_backend = backend
        self._cluster = cluster
        if backend is None and _REDIS_BACKEND not in sys.modules:
            _import_in_background(_REDIS_BACKEND)  # while a component loads, a server starts
        self._server: EmbeddedServer | EmbeddedCluster | None = None
        self._default_backend: Backend | None = None
        self._backends: list[Backend] = []
        self._core: KeyValueCore | None = None
        self._services: HostServices | None = None
        # Several threads may touch `core` first at once; only one of them may start a server.
        self._start_lock = threading.RLock()

    # --- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> Host:
        self.start()
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> Host:
        """Connect (starting the embedded server if no URL was given); idempotent."""
        with self._start_lock:
            if self._core is None:
                self._connect()
        return self

    def _connect(self) -> None:
        try:
            if self._custom_backend is not None:
                default = self._custom_backend
            else:
                if self._redis_url is None:
                    self._server = self._embedded()
                    self._redis_url = self._server.start()
                default = self._open_backend(self._redis_url)
            by_url: dict[str, Backend] = {}
            for url in {u for u in self._routes.values() if u is not None}:
                by_url[url] = self._open_backend(url)
            routed = {b: by_url[u] for b, u in self._routes.items() if u is not None}
            core = KeyValueCore(self._config, default, routed)
            cores = {DEFAULT_LINK: core}
            for name, link_url in self._links.items():
                if link_url is None:
                    cores[name] = core
                    continue
                if link_url not in by_url:
                    by_url[link_url] = self._open_backend(link_url)
                cores[name] = KeyValueCore(self._config, by_url[link_url])
            self._services = HostServices(cores, self._guest_config, self._log_level)
            self._core = core
            self._default_backend = default
        except BaseException:
            self.close()
            raise

    def _embedded(self) -> EmbeddedServer | EmbeddedCluster:
        if self._cluster is False:
            return EmbeddedServer(self._data_dir)
        primaries = None if self._cluster is True else int(self._cluster)
        return EmbeddedCluster(self._data_dir, primaries)

    def _open_backend(self, url: str) -> Backend:
        from kvredis.backend.connect import open_backend  # noqa: PLC0415 - see _REDIS_BACKEND

        try:
            backend = open_backend(
                url, self._settings, max_value_bytes=self._config.max_value_bytes
            )
        except BackendError as exc:
            raise RedisUnavailable(f"cannot reach Redis at {redact(url)}: {exc.reason}") from None
        self._backends.append(backend)
        return backend

    def close(self) -> None:
        """Close connections and stop the embedded server, if this host started one."""
        with self._start_lock:
            self._core = None
            self._services = None
            self._default_backend = None
            for backend in self._backends:
                with contextlib.suppress(Exception):
                    backend.close()
            self._backends.clear()
            if self._server is not None:
                self._server.stop()
                self._server = None
                self._redis_url = None

    # --- facts --------------------------------------------------------------------------

    @property
    def redis_url(self) -> str:
        """The default server's URL, credentials included (for your own Redis clients)."""
        self.start()
        if self._redis_url is None:
            raise ConfigError("this host runs on a custom backend and has no Redis URL")
        return self._redis_url

    @property
    def is_cluster(self) -> bool:
        """Whether the default server is a Redis Cluster (connects on first use)."""
        from kvredis.backend.connect import is_cluster  # noqa: PLC0415 - see _REDIS_BACKEND

        return is_cluster(self._started_backend())

    @property
    def url(self) -> str:
        """The default server's URL with the password redacted (for messages)."""
        return redact(self.redis_url)

    @property
    def core(self) -> KeyValueCore:
        """The keyvalue core components of this host call (connects on first use)."""
        return self.services.cores[DEFAULT_LINK]

    @property
    def services(self) -> HostServices:
        """Links, configuration and log level components get (connects on first use)."""
        with self._start_lock:
            self.start()
            assert self._services is not None
            return self._services

    @property
    def layout(self) -> KeyLayout:
        """Where (bucket, key) pairs live in Redis."""
        return self._layout

    @property
    def connection_settings(self) -> ConnectionSettings:
        return self._settings

    def bucket_url(self, bucket: str) -> str:
        """The URL of the server that holds `bucket`, credentials included."""
        return self._routes.get(bucket) or self.redis_url

    def key_for(self, bucket: str, key: str) -> bytes:
        """The Redis key where (bucket, key) is stored under this host's layout."""
        return self._layout.prefix(bucket) + key.encode()

    # --- raw keys, for tools that clean up after themselves ------------------------------

    def scan_keys(self, pattern: str) -> Iterator[bytes]:
        """Raw Redis keys of the default server that match the glob `pattern`, a SCAN page
        at a time (a key may come twice, as SCAN promises no more). Not bucket keys: see
        `key_for`. Raises `RedisUnavailable` when the server fails to answer."""
        backend = self._started_backend()
        cursor = 0
        while True:
            try:
                cursor, keys = backend.scan(cursor, pattern.encode(), _SWEEP_BATCH)
            except BackendError as exc:
                raise RedisUnavailable(f"cannot list keys {pattern!r}: {exc.reason}") from None
            yield from keys
            if cursor == 0:
                return

    def delete_keys(self, keys: Iterable[bytes]) -> int:
        """Delete these raw Redis keys of the default server, in batches; how many were
        asked for. Raises `RedisUnavailable` when the server fails to answer."""
        backend = self._started_backend()
        asked = 0
        batch: list[bytes] = []
        for key in keys:
            batch.append(key)
            if len(batch) == _SWEEP_BATCH:
                asked += self._delete_batch(backend, batch)
                batch = []
        return asked + self._delete_batch(backend, batch)

    def _started_backend(self) -> Backend:
        with self._start_lock:
            self.start()
            assert self._default_backend is not None
            return self._default_backend

    @staticmethod
    def _delete_batch(backend: Backend, keys: list[bytes]) -> int:
        if keys:
            try:
                backend.delete_many(keys)
            except BackendError as exc:
                raise RedisUnavailable(f"cannot delete keys: {exc.reason}") from None
        return len(keys)

    # --- components ---------------------------------------------------------------------

    @staticmethod
    def inspect(
        path: str | os.PathLike[str], on_compile: Callable[[], None] | None = None
    ) -> ComponentInfo:
        """What the component at `path` imports and exports, and which of its imports this
        host cannot provide (`.missing`); needs no server. Compiles it (or takes it from
        the cache) like `load`, and calls `on_compile` before a cache miss is compiled."""
        return describe(load_component(path, on_compile))

    def load(
        self, path: str | os.PathLike[str], on_compile: Callable[[], None] | None = None
    ) -> Component:
        """Compile (or take from the cache) the component at `path` and check its imports."""
        kind = self.limits.engine_kind
        compiled = load_component(path, on_compile, kind=kind)
        info = describe(compiled, kind)
        if info.missing:
            raise UnsatisfiedImports(os.fspath(path), info.missing)
        return Component(self, {kind: compiled}, info, os.fspath(path))


class Component:
    """A loaded component, ready to call (`call`) or to run as a command (`run`)."""

    def __init__(
        self, host: Host, compiled: dict[EngineKind, Any], info: ComponentInfo, path: str
    ) -> None:
        self.host = host
        self.info = info
        self.path = path
        self.name = Path(path).name
        # Compiled code per engine kind (`engine(kind)`): a guest with a timeout runs on an
        # engine with epoch interruption, one with a memory limit on kvredis's memories.
        self._compiled = compiled
        self._default: Instance | None = None
        self._default_core: KeyValueCore | None = None
        self._lock = threading.Lock()

    def asgi(self, **options: Any) -> AsgiApp:
        """The component (exporting `wasi:http/incoming-handler`) as an ASGI 3 application:
        a fresh instance per request under the host's timeout (504) and memory limit.
        `options`: `concurrency` (guests at once), `max_body_size` (413 above it), `env`
        (the guests' environment), `dirs` ((host, guest) directories), `access_log` (a
        callable given one line per request). Serve it with any ASGI server, or mount it in
        an application; `close()` it when done."""
        from kvredis.serve.factory import asgi_app  # noqa: PLC0415 - only for HTTP components

        return asgi_app(self, **options)

    def http_client(self, base_url: str = "http://component", **options: Any) -> httpx.Client:
        """An `httpx.Client` sending requests to this component in-process (no port):
        `client.get("/hits")`. `options` go to `asgi()`; close the client when done."""
        from kvredis.serve.client import asgi_client  # noqa: PLC0415 - httpx on demand

        app = self.asgi(**options)
        return asgi_client(app, base_url, on_close=app.close)

    def watch(
        self,
        specs: Iterable[str] | str,
        *,
        configure_notifications: bool = False,
        env: Mapping[str, str] | None = None,
        dirs: Sequence[tuple[str, str]] = (),
        report: Callable[[Delivery], None] | None = None,
    ) -> Watch:
        """Call the component's `wasi:keyvalue/watcher` export (on-set, on-delete) when the
        keys of `specs` change, until the returned `Watch` is closed (a context manager).

        `specs`: `OP@[BUCKET/]KEY` texts, `OP` SET or DEL, `KEY` a Redis glob; several in
        one text separated by commas. Listening has started when this returns. Changes come
        from keyspace notifications: a server whose `notify-keyspace-events` lacks them
        raises `ConfigError` saying what to set, unless `configure_notifications` lets
        kvredis set it. `env` and `dirs` are the guest's, as for `run`; `report` is given
        each `Delivery` (by default a log line). A Redis Cluster is refused (`ConfigError`).
        """
        from kvredis.watch.session import start_watch  # noqa: PLC0415 - only watchers need it

        options: dict[str, Any] = {} if report is None else {"report": report}
        return start_watch(
            self,
            specs,
            configure_notifications=configure_notifications,
            env=env,
            dirs=dirs,
            **options,
        )

    def find_export(self, name: str) -> str:
        """The full name of the exported function `name` (`fn`, `iface#fn` or
        `ns:pkg/iface[@ver]#fn`), or `ExportNotFound` listing the exports: a way to check a
        name before anything starts."""
        return find_export(self.info, name)

    def clone(self) -> Component:
        """The same compiled component with state of its own (no instance shared)."""
        return Component(self.host, self._compiled, self.info, self.path)

    def compiled_for(self, kind: EngineKind) -> Any:
        """The compiled component for `engine(kind)`, compiled on first use."""
        found = self._compiled.get(kind)
        if found is None:
            found = self._compiled[kind] = load_component(self.path, kind=kind)
        return found

    def instantiate(
        self, wasi: WasiOptions | None = None, limits: Limits | None = None
    ) -> Instance:
        """A fresh, independent instance (one per thread when calling from several)."""
        limits = limits or self.host.limits
        return Instance(
            self.compiled_for(limits.engine_kind),
            self.info,
            self.host.core,
            wasi or WasiOptions(program=self.name),
            limits,
            self.name,
            self.host.services,
        )

    def call(self, name: str, *args: Any) -> Any:
        """Call an exported function with plain Python values; returns its result.

        `name` is `fn` for a function the component exports itself, `iface#fn` or
        `ns:pkg/iface#fn` for one of an exported interface. Values map as for
        `kvredis run --invoke` (the table in `kvredis.runtime.values`): records are dicts, tuples
        tuples, list<u8> bytes, an option None or the value, variants
        `{"tag": case, "value": payload}`, enums case names, flags sets of names. A
        function's own `result` gives the ok value, or raises `ComponentError` whose
        `.value` is the err payload.

        Unknown names raise `ExportNotFound`, arguments that do not fit the signature
        `InvalidArguments`, a trap `GuestTrap` (`GuestTimeout`, `GuestOutOfMemory`).
        Calls share one instance, so guest state persists between them; after a trap the
        next call gets a fresh instance. From several threads, give each thread its own
        `instantiate()`: calls on this shared instance take turns.
        """
        with self._lock:
            core = self.host.core
            # An instance is bound to the core it was linked with: after the host was closed
            # and started again, the old one would talk to closed connections.
            if self._default is None or self._default.broken or self._default_core is not core:
                self._default = self.instantiate()
                self._default_core = core
            return self._default.call(name, *args)

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        dirs: Sequence[tuple[str, str]] = (),
    ) -> RunResult:
        """Run the component's `wasi:cli/run` in a fresh instance, capturing its output.

        `args` are the guest's arguments (after its program name), `env` its whole
        environment, `dirs` (host path, guest path) pairs of directories it may open.
        """
        for arg in args:
            if not isinstance(arg, str):
                raise InvalidArguments(f"run arguments must be strings, got {arg!r}")
        for key, value in (env or {}).items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise InvalidArguments(f"env must map strings to strings, got {key!r}: {value!r}")
        for host_path, _guest_path in dirs:
            if not Path(host_path).is_dir():
                raise ConfigError(f"dirs: {host_path} is not a directory")
        with tempfile.TemporaryDirectory(prefix="kvredis-run-") as tmp:
            out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
            wasi = WasiOptions(
                program=self.name,
                args=list(args),
                env=list((env or {}).items()),
                dirs=list(dirs),
                stdout_path=str(out),
                stderr_path=str(err),
            )
            code = self.instantiate(wasi).run()
            return RunResult(
                code,
                out.read_text(errors="replace") if out.exists() else "",
                err.read_text(errors="replace") if err.exists() else "",
            )


# The Redis backends, and redis-py with them, take about as long to import (≈80 ms) as loading
# a component and starting the embedded server, which mostly wait outside Python: a Host that
# will need them imports them in the background as soon as it is made.
_REDIS_BACKEND = "kvredis.backend.connect"


def _import_in_background(module: str) -> None:
    def target() -> None:
        # A failure shows when the module is imported again where it is used.
        with contextlib.suppress(BaseException):
            importlib.import_module(module)

    # Only a head start: with no thread to spare, the import happens when it is needed.
    with contextlib.suppress(RuntimeError):
        threading.Thread(target=target, name="kvredis-import", daemon=True).start()


def _check_cluster(cluster: object, redis_url: str | None, backend: Backend | None) -> None:
    if not isinstance(cluster, bool | int) or (
        not isinstance(cluster, bool) and not 1 <= cluster <= MAX_PRIMARIES
    ):
        raise ConfigError(
            f"cluster must be True, False or a number of primaries from 1 to {MAX_PRIMARIES}, "
            f"not {cluster!r}"
        )
    if cluster is not False and (redis_url is not None or backend is not None):
        raise ConfigError(
            "cluster starts the embedded cluster, so it takes no redis_url or backend; the "
            "URL of a cluster of your own gets the cluster backend by itself"
        )


def _names(option: str, names: Iterable[str]) -> frozenset[str]:
    if isinstance(names, str):
        raise ConfigError(f"{option} must be a list of bucket names, not a string")
    found = frozenset(names)
    for name in found:
        if not isinstance(name, str):
            raise ConfigError(f"{option}: bucket names are strings, got {name!r}")
    return found


def _link_urls(links: Mapping[str, str | None] | None) -> dict[str, str | None]:
    if links is None:
        return {}
    if not isinstance(links, Mapping):
        raise ConfigError("links must be a mapping of link names to URLs (or None)")
    urls: dict[str, str | None] = {}
    for name, url in links.items():
        check_link_name(name)
        if url is not None and not isinstance(url, str):
            raise ConfigError(f"links: the URL of {name!r} must be a string or None")
        if name == DEFAULT_LINK and url is not None:
            raise ConfigError(
                f"links: {DEFAULT_LINK!r} is the host's own server; give its URL as redis_url"
            )
        urls[name] = url
    return urls


def _bucket_routes(
    buckets: Mapping[str, str | None] | Iterable[str] | None,
) -> dict[str, str | None]:
    if buckets is None:
        return {}
    if isinstance(buckets, Mapping):
        routes = dict(buckets)
    elif isinstance(buckets, str):
        raise ConfigError("buckets must be a list of names or a mapping, not a string")
    else:
        routes = dict.fromkeys(buckets)
    for name, url in routes.items():
        if not isinstance(name, str):
            raise ConfigError(f"buckets: bucket names are strings, got {name!r}")
        if url is not None and not isinstance(url, str):
            raise ConfigError(f"buckets: the URL of {name!r} must be a string or None")
    return routes


__all__ = [
    "DEFAULT_KEY_PREFIX",
    "MAX_TIMEOUT_S",
    "Component",
    "Host",
    "RunResult",
    "parse_size",
    "parse_timeout",
]
