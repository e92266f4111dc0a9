"""What a component imports and exports: which imports this host can satisfy, the exported
functions with their signatures, and which of those a build toolchain added for itself."""

from __future__ import annotations

from dataclasses import dataclass

from wasmtime.component import Component, ComponentInstanceType, FuncType

from kvredis.adapters import LINKERS
from kvredis.bindings import MODULES as KEYVALUE_MODULES
from kvredis.bindings import WASMCLOUD_MODULES, wasi
from kvredis.errors import ExportNotFound
from kvredis.runtime.engine import PLAIN, EngineKind, engine
from kvredis.runtime.values import type_name

CLI_RUN = "wasi:cli/run"
HTTP_HANDLER = "wasi:http/incoming-handler"
# Interfaces a host serves; wasi:cli/run is a component's export, never the host's.
# wasi:http comes from kvredis's own WASI (runtime/linking), for components that serve HTTP.
_WASI_IMPORTABLE = (wasi.INTERFACES - {CLI_RUN}) | {"wasi:http/types", "wasi:http/outgoing-handler"}
_KEYVALUE_IMPORTS = {name for module in KEYVALUE_MODULES for name in module.IMPORTS}
# wasi:logging, wasi:config and wasmcloud:bus, served to every component at these versions.
_WASMCLOUD_IMPORTS = {name for module in WASMCLOUD_MODULES for name in module.IMPORTS}


@dataclass(frozen=True)
class ToolchainExport:
    """An export a build toolchain adds to every component it makes, for its own use."""

    toolchain: str
    name: str  # as `Signature.name` spells it
    # The first parameters' names are matched too, so a component's own function of the same
    # name is not mistaken for it; later versions may add parameters after them.
    leading_params: tuple[str, ...]


# componentize-py exports `exports#init(app-name, symbols[, stub-wasi])` (0.25.1 has all three),
# which it calls while building the component to set up the Python interpreter inside it.
TOOLCHAIN_EXPORTS = (ToolchainExport("componentize-py", "exports#init", ("app-name", "symbols")),)


def split_version(name: str) -> tuple[str, str | None]:
    """'wasi:cli/run@0.2.3' -> ('wasi:cli/run', '0.2.3')."""
    base, sep, ver = name.partition("@")
    return base, (ver if sep else None)


def host_provides(import_name: str) -> bool:
    if import_name in _KEYVALUE_IMPORTS or import_name in _WASMCLOUD_IMPORTS:
        return True
    base, ver = split_version(import_name)
    return base in _WASI_IMPORTABLE and ver is not None and ver.startswith(wasi.VERSION_PREFIX)


def keyvalue_package(import_name: str) -> str | None:
    """The wasi:keyvalue package (name@version) an import belongs to, if any."""
    for package in LINKERS:
        namespace, version = package.split("@", 1)
        base, ver = split_version(import_name)
        if base.startswith(namespace + "/") and ver == version:
            return package
    return None


@dataclass(frozen=True)
class Signature:
    """An exported function: its call name and its WIT-like signature for listings.

    `internal_to` names the toolchain that added the export for its own use (see
    `TOOLCHAIN_EXPORTS`); such a function can still be called, but listings may hide it.
    """

    name: str
    params: list[tuple[str, str]]
    result: str | None
    internal_to: str | None = None

    @property
    def internal(self) -> bool:
        return self.internal_to is not None

    def __str__(self) -> str:
        params = ", ".join(f"{n}: {t}" for n, t in self.params)
        return f"{self.name}({params})" + (f" -> {self.result}" if self.result else "")


@dataclass(frozen=True)
class ComponentInfo:
    imports: list[str]
    exports: list[str]
    functions: list[Signature]  # every exported function, internal ones included
    keyvalue_packages: list[str]
    missing: list[str]

    @property
    def runnable(self) -> bool:
        return not self.missing

    @property
    def public_functions(self) -> list[Signature]:
        """The component's own API: its exported functions without toolchain internals."""
        return [sig for sig in self.functions if not sig.internal]

    @property
    def internal_functions(self) -> list[Signature]:
        return [sig for sig in self.functions if sig.internal]

    @property
    def serves_http(self) -> bool:
        """Whether it exports `wasi:http/incoming-handler` (any 0.2.x): `kvredis serve`."""
        return self._wasi_export(HTTP_HANDLER) is not None

    @property
    def watches(self) -> bool:
        """Whether it exports `wasi:keyvalue/watcher` (either version): `kvredis watch`."""
        return any(module.WATCHER in self.exports for module in KEYVALUE_MODULES)

    @property
    def cli_run_export(self) -> str | None:
        return self._wasi_export(CLI_RUN)

    def _wasi_export(self, interface: str) -> str | None:
        """The full name of the exported WASI 0.2.x `interface`, if exported."""
        for name in self.exports:
            base, ver = split_version(name)
            if base == interface and ver is not None and ver.startswith(wasi.VERSION_PREFIX):
                return name
        return None


def describe(component: Component, kind: EngineKind = PLAIN) -> ComponentInfo:
    """What `component`, compiled for `engine(kind)`, imports and exports."""
    eng = engine(kind)
    ctype = component.type
    imports = sorted(ctype.imports(eng))
    export_items = ctype.exports(eng)
    functions: list[Signature] = []
    for name, item in export_items.items():
        ty = item.ty
        if isinstance(ty, FuncType):
            functions.append(_signature(name, ty))
        elif isinstance(ty, ComponentInstanceType):
            for fname, fitem in ty.exports(eng).items():
                fty = fitem.ty
                if isinstance(fty, FuncType):
                    functions.append(_signature(f"{name}#{fname}", fty))
    packages = sorted({p for p in map(keyvalue_package, imports) if p is not None})
    return ComponentInfo(
        imports=imports,
        exports=sorted(export_items),
        functions=functions,
        keyvalue_packages=packages,
        missing=[name for name in imports if not host_provides(name)],
    )


def _signature(name: str, ty: FuncType) -> Signature:
    result = ty.result
    params = [(pname, type_name(pty)) for pname, pty in ty.params]
    return Signature(
        name,
        params,
        type_name(result) if result is not None else None,
        toolchain_of(name, tuple(pname for pname, _ in params)),
    )


def toolchain_of(name: str, param_names: tuple[str, ...]) -> str | None:
    """The toolchain that adds the export `name(param_names...)` for itself, if one does."""
    for known in TOOLCHAIN_EXPORTS:
        if known.name == name and param_names[: len(known.leading_params)] == known.leading_params:
            return known.toolchain
    return None


# --- finding an export by a short name ------------------------------------------------------


def _matches(full: str, wanted: str) -> bool:
    """Does export `full` (iface#fn or fn) answer to the short name `wanted`?"""
    f_iface, f_sep, f_fn = full.rpartition("#")
    w_iface, w_sep, w_fn = wanted.rpartition("#")
    if not f_sep or not w_sep or f_fn != w_fn:
        return False
    base, _ = split_version(f_iface)
    if w_iface in (f_iface, base):
        return True
    short = base.rsplit("/", 1)[-1]
    return w_iface == short


def find_export(info: ComponentInfo, name: str) -> str:
    """The full name of the exported function `name` (`fn`, `iface#fn` or
    `ns:pkg/iface[@ver]#fn`); checked before anything starts, so a typo costs nothing.
    Toolchain internals answer to their full names but are left out of error listings."""
    names = [sig.name for sig in info.functions]
    if name in names:
        return name
    candidates = [n for n in names if _matches(n, name)]
    if len(candidates) != 1:
        raise ExportNotFound(name, candidates or public_names(info))
    return candidates[0]


def public_names(info: ComponentInfo) -> list[str]:
    return [sig.name for sig in info.public_functions]
