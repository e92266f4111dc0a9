"""The instance of a component that receives watch events through its
`wasi:keyvalue/watcher` export (draft2 when it exports both versions, else draft).

One instance takes every event, one call at a time, so a guest may keep state between
events. An instance that trapped is dropped, and the next event gets a fresh one. The
instance comes from the shared linker that suits the component (`linker_for`): an HTTP
component served with `--watch` gets kvredis's own WASI here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wasmtime import Store, WasiConfig, WasmtimeError
from wasmtime.component import Component

from kvredis.adapters.draft import DraftBucket
from kvredis.adapters.draft2 import Draft2Bucket
from kvredis.bindings import keyvalue_draft, keyvalue_draft2
from kvredis.core import KeyValueCore
from kvredis.errors import ComponentLoadError, GuestTimeout, GuestTrap, KvredisError
from kvredis.runtime.engine import deadline_ticks, engine
from kvredis.runtime.faults import summarize
from kvredis.runtime.http_handler import GuestSettings
from kvredis.runtime.inspect import ComponentInfo
from kvredis.runtime.linking import StoreState, linker_for
from kvredis.runtime.memory_creator import MemoryBudget, charged_to, stopped_by_limit
from kvredis.wasmcloud.services import HostServices
from kvredis.watch.keys import Change
from kvredis.watch.specs import Op


@dataclass(frozen=True)
class _Version:
    bindings: Any  # keyvalue_draft or keyvalue_draft2
    bucket: type[DraftBucket | Draft2Bucket]


# Preferred first: a component exporting both gets the newer one.
_VERSIONS = (
    _Version(keyvalue_draft2, Draft2Bucket),
    _Version(keyvalue_draft, DraftBucket),
)


def require_watcher(info: ComponentInfo, label: str) -> None:
    """`ComponentLoadError` naming the exports of a component that exports no watcher."""
    if _version_of(info) is None:
        raise ComponentLoadError(
            f"{label} exports no wasi:keyvalue/watcher (0.2.0-draft or 0.2.0-draft2), so "
            "it cannot watch keys; its exports: " + (", ".join(info.exports) or "nothing")
        )


def _version_of(info: ComponentInfo) -> _Version | None:
    for version in _VERSIONS:
        if version.bindings.WATCHER in info.exports:
            return version
    return None


class WatcherGuest:
    """Calls `on-set` and `on-delete` on one instance at a time (not thread-safe: the
    dispatcher is its only caller)."""

    def __init__(
        self,
        component: Component,
        info: ComponentInfo,
        core: KeyValueCore,
        settings: GuestSettings,
        label: str,
        services: HostServices | None = None,
    ) -> None:
        require_watcher(info, label)
        version = _version_of(info)
        assert version is not None
        self._version = version
        self._component = component
        self._core = core
        self._services = services
        self._settings = settings
        self.label = label
        self._kind = settings.engine_kind
        self.interruptible = self._kind.interruptible
        self._linker = linker_for(engine(self._kind), info)
        self._budget: MemoryBudget | None = None
        self._client: Any = None
        self._live: tuple[Store, StoreState, Any] | None = None

    def deliver(self, change: Change, value: bytes | None) -> None:
        """Call the export for `change` (`value` is what on-set receives); a trap or a
        timeout raises `GuestTrap` and the next call starts a fresh instance."""
        store, _state, exports = self._live or self._instantiate()
        bucket = self._version.bucket(self._core.open(change.bucket))
        self._arm(store)
        try:
            if change.op is Op.SET:
                assert value is not None
                exports.on_set(bucket, change.key, value)
            else:
                exports.on_delete(bucket, change.key)
        except WasmtimeError as exc:
            self.close()
            raise self._classify(exc, change) from None

    def _arm(self, store: Store) -> None:
        if self.interruptible:
            store.set_epoch_deadline(deadline_ticks(self._settings.timeout_s))

    def _instantiate(self) -> tuple[Store, StoreState, Any]:
        settings = self._settings
        store = Store(engine(self._kind))
        if settings.max_memory_bytes is not None:
            self._budget = MemoryBudget(settings.max_memory_bytes)
        context = None
        if self._linker.kvredis_wasi:
            context = settings.wasi_context()
            if self._client is None:
                from kvredis.wasi.http.client import HttpClient  # noqa: PLC0415 - httpx on demand

                self._client = HttpClient()
        else:
            store.set_wasi(self._wasi_config())
        state = self._linker.attach(store, self._core, context, self._client, self._services)
        self._arm(store)
        try:
            with charged_to(self._budget):
                instance = self._linker.linker.instantiate(store, self._component)
            exports = self._version.bindings.WatcherExports(
                instance, store, state.keyvalue[self._version.bindings.PACKAGE]
            )
        except WasmtimeError as exc:
            state.detach()
            raise GuestTrap(
                f"{self.label}: cannot start the watcher: {summarize(str(exc))}"
            ) from None
        self._live = (store, state, exports)
        return self._live

    def _wasi_config(self) -> WasiConfig:
        """wasmtime's WASI: the same arguments, environment and directories; output on the
        host's own stdout and stderr."""
        settings = self._settings
        wasi = WasiConfig()
        wasi.argv = list(settings.arguments)
        if settings.variables:
            wasi.env = list(settings.variables)
        for preopen in settings.preopens:
            wasi.preopen_dir(preopen.host_path, preopen.guest_path)
        wasi.inherit_stdout()
        wasi.inherit_stderr()
        return wasi

    def _classify(self, exc: WasmtimeError, change: Change) -> KvredisError:
        message = str(exc)
        during = "on-set" if change.op is Op.SET else "on-delete"
        out_of_memory = stopped_by_limit(self.label, self._budget, during)
        if out_of_memory is not None:
            return out_of_memory
        if self.interruptible and "wasm trap: interrupt" in message:
            return GuestTimeout(
                f"{self.label}: timed out after {self._settings.timeout_s:g} s in {during}"
            )
        return GuestTrap(f"{self.label}: trapped in {during}: {summarize(message)}")

    def close(self) -> None:
        """Drop the instance (the next event starts a fresh one)."""
        if self._live is not None:
            self._live[1].detach()
            self._live = None

    def shutdown(self) -> None:
        self.close()
        if self._client is not None:
            self._client.close()
            self._client = None
