"""Starting what a plan says: the Redis connections (one `Host` per distinct Redis and
component settings), each component loaded once, an HTTP application per served component,
and its watchers; stopped together, in reverse order.

The HTTP server itself is not here: the caller binds the addresses and serves
`Deployment.router(...)` (the `kvredis up` command does it with uvicorn, as `kvredis serve`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass
from types import TracebackType

from kvredis.backend.settings import ConnectionSettings
from kvredis.embedded import EmbeddedCluster, EmbeddedServer
from kvredis.errors import ComponentLoadError, ConfigError
from kvredis.host import Component, Host
from kvredis.serve.asgi import AsgiApp
from kvredis.serve.factory import http_handler
from kvredis.wadm.plan import Plan, PlannedComponent
from kvredis.wadm.router import PortRouter
from kvredis.wasmcloud.log_sink import DEFAULT_LOG_LEVEL
from kvredis.watch.specs import parse_watch_specs


@dataclass(frozen=True)
class GuestOptions:
    """What every instance gets, from the command's flags: limits, environment, directories."""

    timeout: float | None = None
    max_memory: int | None = None
    env: Mapping[str, str] | None = None
    dirs: Sequence[tuple[str, str]] = ()
    log_level: str = DEFAULT_LOG_LEVEL


class Deployment:
    """A plan running: `start()` (or `with`) connects, loads and starts watching; `apps`
    maps each served component's name to its ASGI application; `close()` stops it all.

    `default_url`: the Redis of links that name none; None starts the embedded server (the
    embedded cluster with `cluster`) in `data_dir`, shared by every such link.
    `connection`: the flags' settings, under each link's BACKEND_* settings.
    """

    def __init__(
        self,
        plan: Plan,
        *,
        default_url: str | None = None,
        cluster: bool = False,
        data_dir: str | os.PathLike[str] | None = None,
        connection: ConnectionSettings | None = None,
        guest: GuestOptions | None = None,
        access_log: Callable[[str], None] | None = None,
        on_compile: Callable[[str], Callable[[], None] | None] | None = None,
        configure_notifications: bool = False,
    ) -> None:
        self.plan = plan
        self.default_url = default_url
        self._cluster = cluster
        self._data_dir = data_dir
        self._connection = connection or ConnectionSettings()
        self._guest = guest or GuestOptions()
        self._access_log = access_log
        self._on_compile = on_compile
        self._configure_notifications = configure_notifications
        self._stack = ExitStack()
        self.hosts: list[Host] = []
        self.apps: dict[str, AsgiApp] = {}

    def __enter__(self) -> Deployment:
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> Deployment:
        self._check_supported()
        try:
            self._start_default_server()
            hosts: dict[tuple[object, ...], Host] = {}
            for item in self.plan.components:
                key = self._host_key(item)
                if key not in hosts:
                    hosts[key] = self._stack.enter_context(self._host(item))
                    self.hosts.append(hosts[key])
                self._run(item, hosts[key])
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        self._stack.close()

    def router(self, ports: Mapping[int, str]) -> PortRouter:
        """One ASGI application for every served component: `ports` says which component's
        application answers on each port."""
        return PortRouter({port: self.apps[name] for port, name in ports.items()})

    # --- starting --------------------------------------------------------------------------

    def _check_supported(self) -> None:
        """A malformed `watch` setting fails before anything starts."""
        for item in self.plan.components:
            if item.watch:
                try:
                    parse_watch_specs(item.watch)
                except ConfigError as exc:
                    raise ConfigError(f"component {item.name}: {exc}") from None

    def _needs_default_server(self) -> bool:
        return any(
            link.url is None
            for item in self.plan.components
            for link in (item.keyvalue, *item.links.values())
        )

    def _start_default_server(self) -> None:
        if self.default_url is not None or not self._needs_default_server():
            return
        server = (
            EmbeddedCluster(self._data_dir) if self._cluster else EmbeddedServer(self._data_dir)
        )
        # Started before any Host, so every link without a URL shares this one server.
        self._stack.enter_context(server)
        self.default_url = server.url

    def _host_key(self, item: PlannedComponent) -> tuple[object, ...]:
        return (
            item.keyvalue.url,
            item.keyvalue.connection(self._connection),
            tuple(sorted(item.config.items())),
            tuple(sorted((name, link.url) for name, link in item.links.items())),
        )

    def _host(self, item: PlannedComponent) -> Host:
        return Host(
            item.keyvalue.url or self.default_url,
            key_prefix=self.plan.key_prefix,
            timeout=self._guest.timeout,
            max_memory=self._guest.max_memory,
            connection=item.keyvalue.connection(self._connection),
            config=item.config,
            links={name: link.url for name, link in item.links.items()},
            log_level=self._guest.log_level,
        )

    def _run(self, item: PlannedComponent, host: Host) -> None:
        path = str(item.image)
        note = self._on_compile(path) if self._on_compile is not None else None
        component = host.load(path, note)
        if item.addresses:
            self.apps[item.name] = self._stack.enter_context(self._app(item, component))
        if item.watch:
            self._stack.enter_context(
                component.watch(
                    item.watch,
                    configure_notifications=self._configure_notifications,
                    env=self._guest.env,
                    dirs=self._guest.dirs,
                )
            )

    def _app(self, item: PlannedComponent, component: Component) -> closing[AsgiApp]:
        try:
            handler = http_handler(component, self._guest.env, self._guest.dirs)
        except ComponentLoadError as exc:
            raise ConfigError(
                f"component {item.name}: the http-server provider links to it, but: {exc}"
            ) from None
        # Closed when the deployment stops: guests still running finish, no new ones start.
        return closing(AsgiApp(handler, concurrency=item.concurrency, access_log=self._access_log))
