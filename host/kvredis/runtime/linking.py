"""Which WASI a component gets, and linkers that serve many instances.

A component that imports `wasi:http/types` (any 0.2.x) gets kvredis's own WASI 0.2 entirely
(`kvredis.adapters.wasi`); every other component keeps wasmtime's (`Linker.add_wasip2`).

A `SharedLinker` is built once per engine and kind of WASI and serves every instance: its
host functions find an instance's state (the WASI scope, the keyvalue scopes) by the store
they are called with, which `attach` registers and `StoreState.detach` removes. Building a
linker defines some 250 host functions; an HTTP component served with a fresh instance per
request pays that once, not per request.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wasmtime import Engine, Store
from wasmtime.component import Linker

from kvredis import canon
from kvredis.adapters import PACKAGES
from kvredis.adapters.wasmcloud import WasmcloudScope, add_wasmcloud_to_linker
from kvredis.bindings import wasi_modules
from kvredis.core import KeyValueCore
from kvredis.runtime.inspect import ComponentInfo, split_version
from kvredis.wasmcloud.log_sink import Write, write_to_stderr
from kvredis.wasmcloud.services import HostServices

if TYPE_CHECKING:
    # kvredis's WASI (some 50 ms of bindings and adapters) loads with the first linker that
    # serves it; httpx (~150 ms) only when a served guest makes an outgoing request.
    from kvredis.adapters.wasi import WasiScope
    from kvredis.wasi.context import WasiContext
    from kvredis.wasi.http.client import HttpClient

WASI_VERSION_PREFIX = "0.2."
_HTTP_TYPES = "wasi:http/types"


@functools.cache
def kvredis_wasi_interfaces() -> frozenset[str]:
    """What kvredis's own WASI serves, unversioned: a component importing any of these at
    0.2.x is satisfied by it (wasmtime's linker matches 0.2.x versions to the 0.2.0
    definitions)."""
    return frozenset(
        split_version(name)[0] for bindings in wasi_modules() for name in bindings.IMPORTS
    )


def wants_kvredis_wasi(imports: Iterable[str]) -> bool:
    """Whether a component with these imports needs kvredis's own WASI: it imports
    `wasi:http/types`, whose resources wasmtime's WASI cannot hand to Python."""
    for name in imports:
        base, version = split_version(name)
        if base == _HTTP_TYPES and version is not None and version.startswith(WASI_VERSION_PREFIX):
            return True
    return False


@dataclass
class StoreState:
    """What one store's instance has registered with a shared linker."""

    linker: SharedLinker
    key: int
    wasi: WasiScope | None
    keyvalue: dict[str, Any] = field(default_factory=dict)
    wasmcloud: WasmcloudScope | None = None

    def detach(self) -> None:
        """Forget the store (before it is freed: its address may serve another store next)
        and release what its instance still held."""
        self.linker.forget(self.key)
        if self.wasi is not None:
            self.wasi.close()


class SharedLinker:
    """A linker with both keyvalue versions, wasmCloud's host interfaces (logging, config,
    link names) and either kvredis's WASI or wasmtime's, whose host functions look their
    instance up by store."""

    def __init__(self, engine: Engine, *, kvredis_wasi: bool) -> None:
        self.kvredis_wasi = kvredis_wasi
        self.linker = Linker(engine)
        self._wasi_scopes: dict[int, WasiScope] = {}
        self._keyvalue_scopes: dict[str, dict[int, Any]] = {name: {} for name in PACKAGES}
        self._wasmcloud_scopes: dict[int, WasmcloudScope] = {}
        with self.linker.root() as root:
            if kvredis_wasi:
                from kvredis.adapters.wasi import add_wasi_to_linker  # noqa: PLC0415

                add_wasi_to_linker(root, self._wasi_scopes)
            for name, package in PACKAGES.items():
                package.define(root, self._keyvalue_scopes[name])
            add_wasmcloud_to_linker(root, self._wasmcloud_scopes)
        if not kvredis_wasi:
            self.linker.add_wasip2()

    def attach(
        self,
        store: Store,
        core: KeyValueCore,
        wasi: WasiContext | None,
        client: HttpClient,
        services: HostServices | None = None,
        write_log: Write | None = None,
    ) -> StoreState:
        """Register a new store's state: keyvalue scopes over `core` (or over the links of
        `services`, `default` being `core`), wasmCloud's host interfaces with log lines going
        to `write_log` (default: our stderr) and, with kvredis's WASI, a scope over `wasi`
        (required then). Call `detach` before the store goes."""
        key = canon.store_key(store)
        scope = None
        if self.kvredis_wasi:
            if wasi is None:
                raise ValueError("a linker with kvredis's WASI needs a WASI context per store")
            from kvredis.adapters.wasi import WasiScope  # noqa: PLC0415

            scope = WasiScope(wasi, client)
            self._wasi_scopes[key] = scope
        state = StoreState(self, key, scope)
        services = services or HostServices.default_only(core)
        links = services.links()
        for name, package in PACKAGES.items():
            state.keyvalue[name] = self._keyvalue_scopes[name][key] = package.new_scope(links)
        state.wasmcloud = self._wasmcloud_scopes[key] = WasmcloudScope(
            services, write_log or write_to_stderr, links
        )
        return state

    def forget(self, key: int) -> None:
        self._wasi_scopes.pop(key, None)
        self._wasmcloud_scopes.pop(key, None)
        for scopes in self._keyvalue_scopes.values():
            scopes.pop(key, None)

    @property
    def attached(self) -> int:
        """How many stores are registered now (for tests: none should outlive its request)."""
        return len(next(iter(self._keyvalue_scopes.values())))


_linkers: dict[tuple[int, bool], SharedLinker] = {}
_linkers_lock = threading.Lock()


def linker_for(engine: Engine, info: ComponentInfo) -> SharedLinker:
    """The shared linker that suits a component (one per engine and kind of WASI)."""
    kvredis_wasi = wants_kvredis_wasi(info.imports)
    key = (id(engine), kvredis_wasi)
    with _linkers_lock:
        linker = _linkers.get(key)
        if linker is None:
            linker = _linkers[key] = SharedLinker(engine, kvredis_wasi=kvredis_wasi)
        return linker
