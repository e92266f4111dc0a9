"""One instantiated component: its store, its linker (WASI 0.2 + wasi:keyvalue) and calls."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from wasmtime import ExitTrap, Store, WasiConfig, WasmtimeError
from wasmtime.component import Component, Func, Linker, ResultType

from kvredis._wit import OneScope
from kvredis.adapters import LINKERS
from kvredis.adapters.wasmcloud import WasmcloudScope, add_wasmcloud_to_linker
from kvredis.core import KeyValueCore
from kvredis.errors import (
    ComponentError,
    ComponentLoadError,
    ExportNotFound,
    GuestOutOfMemory,
    GuestTimeout,
    GuestTrap,
    InvalidArguments,
    KvredisError,
)
from kvredis.runtime import values
from kvredis.runtime.engine import EngineKind, deadline_ticks, engine
from kvredis.runtime.faults import host_resource_error, size_text, summarize
from kvredis.runtime.inspect import ComponentInfo, find_export, public_names
from kvredis.runtime.memory_creator import MemoryBudget, charged_to, stopped_by_limit
from kvredis.runtime.stdio import StderrTap, StdinPump
from kvredis.wasmcloud.log_sink import Write, write_to_stderr
from kvredis.wasmcloud.services import HostServices

_LOGGING = "wasi:logging/"


@dataclass(frozen=True)
class Limits:
    """Per-call limits on a guest: wall-clock time and linear memory."""

    timeout_s: float | None = None
    max_memory_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ValueError("timeout must be above zero")
        if self.max_memory_bytes is not None and self.max_memory_bytes <= 0:
            raise ValueError("max_memory must be above zero")

    @property
    def engine_kind(self) -> EngineKind:
        """The engine the guest runs on (`engine`)."""
        return EngineKind.of(self.timeout_s, self.max_memory_bytes)


@dataclass(frozen=True)
class WasiOptions:
    """What the guest sees of the outside world through WASI 0.2."""

    program: str = "component"
    args: Sequence[str] = ()
    env: Sequence[tuple[str, str]] = ()
    inherit_env: bool = False
    dirs: Sequence[tuple[str, str]] = ()  # (host path, guest path)
    # The host's stdin; with a timeout, through a pipe that the deadline closes (StdinPump).
    inherit_stdin: bool = False
    stdout_path: str | None = None  # None: the host's own stdout
    stderr_path: str | None = None

    def config(self, stderr_path: str | None = None, stdin_path: str | None = None) -> WasiConfig:
        """The WASI configuration; `stderr_path` and `stdin_path` override where stderr goes
        and where stdin comes from."""
        wasi = WasiConfig()
        # wasmtime takes these as UTF-8: refuse what is not, rather than fail inside it.
        wasi.argv = [
            values.unicode_text(arg, "a guest argument") for arg in (self.program, *self.args)
        ]
        env = list(os.environ.items()) if self.inherit_env else []
        env += list(self.env)
        if env:
            wasi.env = [
                (
                    values.unicode_text(key, "an environment variable"),
                    values.unicode_text(value, f"variable {key}"),
                )
                for key, value in env
            ]
        for host_path, guest_path in self.dirs:
            wasi.preopen_dir(
                values.unicode_text(host_path, "a directory"),
                values.unicode_text(guest_path, "a directory"),
            )
        if stdin_path is not None:
            wasi.stdin_file = stdin_path
        elif self.inherit_stdin:
            wasi.inherit_stdin()
        if self.stdout_path is None:
            wasi.inherit_stdout()
        else:
            wasi.stdout_file = self.stdout_path
        stderr_path = stderr_path or self.stderr_path
        if stderr_path is None:
            wasi.inherit_stderr()
        else:
            wasi.stderr_file = stderr_path
        return wasi


class Instance:
    """A live instance of a component. Not thread-safe: one thread at a time calls it."""

    def __init__(
        self,
        component: Component,
        info: ComponentInfo,
        core: KeyValueCore,
        wasi: WasiOptions,
        limits: Limits,
        label: str,
        services: HostServices | None = None,
    ) -> None:
        """`services`: links, configuration and log level (default: the `default` link on
        `core` only, no configuration, logs at info)."""
        self.info = info
        self.label = label
        self._limits = limits
        # `component` was compiled for this engine (`Component.compiled_for` in host.py).
        eng = engine(limits.engine_kind)
        self.store = Store(eng)
        self._tap: StderrTap | None = None
        self._stdin: StdinPump | None = None
        self._budget: MemoryBudget | None = None
        try:
            if limits.max_memory_bytes is not None:
                self._budget = MemoryBudget(limits.max_memory_bytes)
            if limits.max_memory_bytes is not None or (
                wasi.stderr_path is not None and _imports_logging(info)
            ):
                # Log lines then go through the tap too, in order with the guest's stderr.
                self._tap = StderrTap(wasi.stderr_path)
            if wasi.inherit_stdin and limits.timeout_s is not None:
                self._stdin = StdinPump(limits.timeout_s)
            self.store.set_wasi(
                wasi.config(
                    stderr_path=self._tap.guest_path if self._tap else None,
                    stdin_path=self._stdin.guest_path if self._stdin else None,
                )
            )
        finally:
            for pipe in (self._tap, self._stdin):
                if pipe is not None:
                    pipe.attached()
        services = services or HostServices.default_only(core)
        links = services.links()
        write_log: Write = self._tap.write if self._tap is not None else write_to_stderr
        linker = Linker(eng)
        linker.add_wasip2()
        with linker.root() as root:
            for add_to_linker in LINKERS.values():
                add_to_linker(root, links)
            add_wasmcloud_to_linker(root, OneScope(WasmcloudScope(services, write_log, links)))
        self._linker = linker  # keeps the host callbacks alive as long as the instance
        try:
            with self._deadline(), charged_to(self._budget):
                self._instance = linker.instantiate(self.store, component)
            self._raise_if_stdin_was_cut("instantiating")
        except ExitTrap as exit_trap:
            raise stopped_by_limit(label, self._budget, "instantiating") or GuestTrap(
                f"{label}: exited with status {exit_trap.code} while starting"
            ) from None
        except WasmtimeError as exc:
            raise self._classify(exc, "instantiating") from None
        self.broken = False
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _deadline(self) -> Iterator[None]:
        """The limit of one call: epoch ticks for WebAssembly code, and the end of stdin for a
        guest waiting on it (see StdinPump)."""
        self.store.set_epoch_deadline(deadline_ticks(self._limits.timeout_s))
        if self._stdin is not None:
            self._stdin.arm()
        try:
            yield
        finally:
            if self._stdin is not None:
                self._stdin.disarm()

    # --- exports ------------------------------------------------------------------------

    def _resolve(self, name: str) -> tuple[str, Func]:
        """Find an exported function by `fn`, `iface#fn` or `ns:pkg/iface[@ver]#fn`."""
        wanted = find_export(self.info, name)
        store = self.store
        iface, sep, fn = wanted.rpartition("#")
        parent = self._instance.get_export_index(store, iface) if sep else None
        index = self._instance.get_export_index(store, fn if sep else wanted, parent)
        func = self._instance.get_func(store, index) if index is not None else None
        if func is None:
            raise ExportNotFound(name, public_names(self.info))
        return wanted, func

    def call(self, name: str, *args: Any) -> Any:
        """Call an export with plain values; an `err` result raises `ComponentError`."""
        full_name, func = self._resolve(name)
        fty = func.type(self.store)
        params = fty.params
        if len(args) != len(params):
            expected = ", ".join(f"{n}: {values.type_name(t)}" for n, t in params)
            raise InvalidArguments(
                f"{full_name} takes {len(params)} argument(s) ({expected}), got {len(args)}"
            )
        lowered = [
            values.lower(pty, arg, f"argument {pname!r}")
            for (pname, pty), arg in zip(params, args, strict=True)
        ]
        raw = self._invoke(func, lowered, full_name)
        result_ty = fty.result
        if result_ty is None:
            return None
        if isinstance(result_ty, ResultType):
            tag, payload = values.lift_result(result_ty, raw)
            if tag == "err":
                raise ComponentError(full_name, payload)
            return payload
        return values.lift(result_ty, raw)

    def run(self) -> int:
        """Call the component's `wasi:cli/run` export; returns the exit status."""
        export = self.info.cli_run_export
        if export is None:
            raise ExportNotFound("wasi:cli/run", public_names(self.info))
        _, func = self._resolve(f"{export}#run")
        try:
            result = self._invoke(func, [], f"{export}#run")
        except _Exit as done:
            return done.code
        # run returns result<_, _>: wasmtime-py gives None for ok and a tagged Variant for err.
        if result is None or getattr(result, "tag", "ok") == "ok":
            return 0
        # A guest refused memory may report it as a plain err (StarlingMonkey does).
        oom = stopped_by_limit(self.label, self._budget, f"{export}#run")
        if oom is not None:
            raise oom
        return 1

    def _invoke(self, func: Func, args: list[Any], name: str) -> Any:
        if self.broken:
            raise GuestTrap(f"{self.label}: the instance trapped earlier and cannot be reused")
        with self._lock:
            tap = self._tap
            if tap is not None:
                tap.tail = b""
            try:
                with self._deadline():
                    result = func(self.store, *args)
                    func.post_return(self.store)
                if tap is not None:
                    tap.drain()
            except ExitTrap as exit_trap:
                if tap is not None:
                    tap.drain()
                self.broken = True
                self._raise_if_stdin_was_cut(name)
                # A guest whose allocator gives up may exit quietly (StarlingMonkey does).
                oom = stopped_by_limit(self.label, self._budget, name)
                if oom is not None:
                    raise oom from None
                raise _Exit(exit_trap.code) from None
            except WasmtimeError as exc:
                self.broken = True
                raise self._classify(exc, name) from None
            self._raise_if_stdin_was_cut(name)
            return result

    def _raise_if_stdin_was_cut(self, during: str) -> None:
        """A guest whose stdin was closed at the deadline may finish before the epoch
        deadline stops it; it did so on input cut short, past its time: a timeout too."""
        if self._stdin is not None and self._stdin.expired:
            self.broken = True
            raise self._timed_out(during)

    def _timed_out(self, during: str) -> GuestTimeout:
        return GuestTimeout(
            f"{self.label}: timed out after {self._limits.timeout_s:g} s ({during})"
        )

    def _classify(self, exc: WasmtimeError, during: str) -> KvredisError:
        message = str(exc)
        if "wasm trap: interrupt" in message and self._limits.timeout_s is not None:
            return self._timed_out(during)
        short_of = host_resource_error(message, self.label, during)
        if short_of is not None:
            return short_of
        oom = stopped_by_limit(self.label, self._budget, during)
        if oom is not None:
            if self._tap is not None:
                self._tap.drain()  # the guest's last words reach stderr before the host's
            return oom
        summary = summarize(message)
        limit = self._limits.max_memory_bytes
        if limit is not None and self._hit_memory_limit(message):
            return GuestOutOfMemory(
                f"{self.label}: out of memory in {during}: it reached the memory limit of "
                f"{size_text(limit)} ({summary})"
            )
        if during == "instantiating" and "matching implementation was not found" in message:
            return ComponentLoadError(f"{self.label}: cannot instantiate: {summary}")
        return GuestTrap(f"{self.label}: trapped in {during}: {summary}")

    def _hit_memory_limit(self, message: str) -> bool:
        if any(sign in message for sign in _LIMIT_MESSAGES + _OOM_FRAMES):
            return True
        if self._tap is None:
            return False
        self._tap.drain()
        return any(sign in self._tap.tail for sign in _GUEST_OOM_SIGNS)


def _imports_logging(info: ComponentInfo) -> bool:
    return any(name.startswith(_LOGGING) for name in info.imports)


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


# wasmtime's words when a store's memory limit stops an instantiation.
_LIMIT_MESSAGES = ("exceeds memory limits", "memory minimum size")
# Frames of a wasm backtrace that only an allocation failure runs (Rust's OOM handlers).
_OOM_FRAMES = ("handle_alloc_error", "__rdl_oom", "__rg_oom", "rust_oom")
# What guests print when their allocator cannot grow memory: CPython, Rust std, C runtimes.
_GUEST_OOM_SIGNS = (b"MemoryError", b"memory allocation of", b"out of memory", b"Out of memory")
