"""Building the ASGI application of a loaded `Component`: its handler, with the host's
limits and the guest's environment and directories."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kvredis.errors import ConfigError
from kvredis.runtime.http_handler import GuestSettings, HttpHandler, handler_engine_kind
from kvredis.serve.asgi import AsgiApp
from kvredis.wasi.filesystem.preopens import Preopen

if TYPE_CHECKING:
    from kvredis.host import Component


def guest_settings(
    component: Component,
    env: Mapping[str, str] | None = None,
    dirs: Sequence[tuple[str, str]] = (),
) -> GuestSettings:
    """Each request's instance: the host's timeout and memory limit, `env` as its whole
    environment, `dirs` (host path, guest path) preopened, its output on our stderr."""
    for host_path, _guest_path in dirs:
        if not Path(host_path).is_dir():
            raise ConfigError(f"dirs: {host_path} is not a directory")
    limits = component.host.limits
    return GuestSettings(
        timeout_s=limits.timeout_s,
        max_memory_bytes=limits.max_memory_bytes,
        arguments=(component.name,),
        variables=tuple((env or {}).items()),
        preopens=tuple(Preopen(host, guest) for host, guest in dirs),
        stdout=_to_stderr,
        stderr=_to_stderr,
    )


def http_handler(
    component: Component,
    env: Mapping[str, str] | None = None,
    dirs: Sequence[tuple[str, str]] = (),
) -> HttpHandler:
    """`component` ready to answer HTTP requests; `ComponentLoadError` naming its exports
    when it does not export `wasi:http/incoming-handler`."""
    settings = guest_settings(component, env, dirs)
    return HttpHandler(
        component.compiled_for(handler_engine_kind(settings)),
        component.info,
        component.host.core,
        settings,
        component.name,
        component.host.services,
    )


def asgi_app(
    component: Component,
    *,
    concurrency: int | None = None,
    max_body_size: int | None = None,
    env: Mapping[str, str] | None = None,
    dirs: Sequence[tuple[str, str]] = (),
    access_log: Callable[[str], None] | None = None,
) -> AsgiApp:
    return AsgiApp(
        http_handler(component, env, dirs),
        concurrency=concurrency,
        max_body_size=max_body_size,
        access_log=access_log,
    )


def _to_stderr(data: bytes) -> None:
    """A served guest's output goes where the server's own log goes."""
    sys.stderr.buffer.write(data)
    sys.stderr.buffer.flush()
