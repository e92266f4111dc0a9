"""What a component imports and exports, and which of its imports this host can satisfy."""

from __future__ import annotations

from dataclasses import dataclass

from wasmtime.component import Component, ComponentInstanceType, FuncType

from kvredis.adapters import LINKERS
from kvredis.bindings import MODULES as KEYVALUE_MODULES
from kvredis.bindings import wasi
from kvredis.runtime.engine import engine

CLI_RUN = "wasi:cli/run"
# Interfaces a host serves; wasi:cli/run is a component's export, never the host's.
_WASI_IMPORTABLE = wasi.INTERFACES - {CLI_RUN}
_KEYVALUE_IMPORTS = {name for module in KEYVALUE_MODULES for name in module.IMPORTS}


def split_version(name: str) -> tuple[str, str | None]:
    """'wasi:cli/run@0.2.3' -> ('wasi:cli/run', '0.2.3')."""
    base, sep, ver = name.partition("@")
    return base, (ver if sep else None)


def host_provides(import_name: str) -> bool:
    if import_name in _KEYVALUE_IMPORTS:
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
    """An exported function: its call name and its WIT-like signature for listings."""

    name: str
    params: list[tuple[str, str]]
    result: str | None

    def __str__(self) -> str:
        params = ", ".join(f"{n}: {t}" for n, t in self.params)
        return f"{self.name}({params})" + (f" -> {self.result}" if self.result else "")


@dataclass(frozen=True)
class ComponentInfo:
    imports: list[str]
    exports: list[str]
    functions: list[Signature]
    keyvalue_packages: list[str]
    missing: list[str]

    @property
    def runnable(self) -> bool:
        return not self.missing

    @property
    def cli_run_export(self) -> str | None:
        for name in self.exports:
            base, ver = split_version(name)
            if base == CLI_RUN and ver is not None and ver.startswith(wasi.VERSION_PREFIX):
                return name
        return None


def describe(component: Component) -> ComponentInfo:
    eng = engine()
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
    from kvredis.values import type_name  # noqa: PLC0415 - values imports this module's users

    result = ty.result
    return Signature(
        name,
        [(pname, type_name(pty)) for pname, pty in ty.params],
        type_name(result) if result is not None else None,
    )
