"""Thin adapters from the generated wasi:logging, wasi:config and wasmcloud:bus bindings to
`kvredis.wasmcloud`: one scope per instance serves all three packages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wasmtime.component import LinkerInstance

from kvredis._wit import Scopes
from kvredis.bindings import wasi_config, wasi_logging, wasmcloud_bus
from kvredis.wasmcloud.links import LinkTable
from kvredis.wasmcloud.log_sink import LogSink, Write
from kvredis.wasmcloud.services import HostServices


class LoggingAdapter:
    def __init__(self, sink: LogSink) -> None:
        self._sink = sink

    def log(self, level: wasi_logging.Level, context: str, message: str) -> None:
        self._sink.log(level.value, context, message)


class ConfigAdapter:
    """`store` and `runtime` alike: they differ only in the name of an error variant, and
    the values are in memory, so neither error ever happens."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def get_all(self) -> list[tuple[str, str]]:
        return list(self._values.items())


class CallTarget:
    """A `call-target-interface` handle: the interface it names."""

    __slots__ = ("interface",)

    def __init__(self, namespace: str, package: str, interface: str) -> None:
        self.interface = (namespace, package, interface)

    def drop(self) -> None:
        """Holds nothing."""


class LatticeAdapter:
    def __init__(self, links: LinkTable) -> None:
        self._links = links

    def call_target_interface_new(self, namespace: str, package: str, interface: str) -> CallTarget:
        return CallTarget(namespace, package, interface)

    def set_link_name(self, name: str, interfaces: list[wasmcloud_bus.CallTargetInterface]) -> None:
        self._links.set_link_name(name, _interfaces(interfaces))


def _interfaces(handles: Iterable[object]) -> list[tuple[str, str, str]]:
    found = []
    for handle in handles:
        if not isinstance(handle, CallTarget):
            raise TypeError(f"not a kvredis call-target-interface: {handle!r}")
        found.append(handle.interface)
    return found


class WasmcloudScope(wasi_logging.Tables, wasi_config.Tables, wasmcloud_bus.Tables):
    """What one instance's wasi:logging, wasi:config and wasmcloud:bus imports work with:
    the host's services, with this instance's log destination and choice of link."""

    def __init__(self, services: HostServices, write_log: Write, links: LinkTable) -> None:
        super().__init__()
        self.logging_logging = LoggingAdapter(services.log_sink(write_log))
        self.config_store = self.config_runtime = ConfigAdapter(services.config)
        self.bus_lattice = LatticeAdapter(links)


def add_wasmcloud_to_linker(root: LinkerInstance, scopes: Scopes[WasmcloudScope]) -> None:
    """Define wasi:logging, wasi:config and wasmcloud:bus; each call finds its instance's
    scope in `scopes` by its store context."""
    wasi_logging.add_to_linker(root, scopes)
    wasi_config.add_to_linker(root, scopes)
    wasmcloud_bus.add_to_linker(root, scopes)


__all__ = ["WasmcloudScope", "add_wasmcloud_to_linker"]
