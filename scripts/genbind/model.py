"""The WIT model: one package of a document that `wasm-tools component wit --json` resolved.

A document may hold several packages (wasi:http with the wasi:io, clocks... it uses); each
package becomes its own module, and a type of another package is named through that
package's module (`wasi_io.InputStream`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

TypeRef = int | str
"""A type in the JSON: an index into `types`, or the name of a primitive."""

Function = dict[str, Any]
Interface = dict[str, Any]

# Kinds whose named types become classes; other named types (`type field-value = list<u8>`)
# are read as what they stand for.
_NOMINAL = ("record", "variant", "enum", "flags")


def unsupported(what: str) -> NoReturn:
    sys.exit(f"gen_bindings: WIT {what} is not supported by this generator yet")


class Package:
    """One WIT package: its types and interfaces, those the host serves (`imports`) and those
    it calls in a component (`exports`). `modules` names the module of every package of the
    document, for references across them."""

    def __init__(
        self,
        doc: dict[str, Any],
        name: str,
        imports: list[int],
        exports: list[int],
        modules: dict[str, str],
        exports_world: str | None = None,
    ) -> None:
        self.doc = doc
        self.name = name
        self.types: list[dict[str, Any]] = doc["types"]
        self.interfaces: list[Interface] = doc["interfaces"]
        self.package_names: list[str] = [p["name"] for p in doc["packages"]]
        self.index = self.package_names.index(name)
        self.own_interfaces = set(doc["packages"][self.index]["interfaces"].values())
        self.imports = imports
        self.exports = exports
        self.modules = modules
        self.exports_world = exports_world
        self.resources = [
            i for i, t in enumerate(self.types) if t["kind"] == "resource" and self.is_own(i)
        ]

    @classmethod
    def from_worlds(
        cls,
        doc: dict[str, Any],
        imports_world: str,
        exports_world: str | None,
        module: str,
    ) -> Package:
        """The only package of `doc`: what `imports_world` imports, `exports_world` exports."""
        (pkg,) = doc["packages"]
        imports = _world_interfaces(doc, pkg, imports_world, "imports")
        exports = _world_interfaces(doc, pkg, exports_world, "exports") if exports_world else []
        return cls(doc, pkg["name"], imports, exports, {pkg["name"]: module}, exports_world)

    @classmethod
    def whole(
        cls,
        doc: dict[str, Any],
        name: str,
        exported: frozenset[str],
        omitted: frozenset[str],
        modules: dict[str, str],
    ) -> Package:
        """Package `name` of `doc`: every interface is served, but those named in `exported`,
        which components export and the host calls, and those `omitted`."""
        (pkg,) = [p for p in doc["packages"] if p["name"] == name]
        ids = [i for i in pkg["interfaces"].values() if doc["interfaces"][i]["name"] not in omitted]
        imports = [i for i in ids if doc["interfaces"][i]["name"] not in exported]
        exports = [i for i in ids if doc["interfaces"][i]["name"] in exported]
        return cls(doc, name, imports, exports, modules)

    @property
    def version(self) -> str:
        return self.name.split("@", 1)[1]

    @property
    def short_name(self) -> str:
        """`wasi:keyvalue@0.2.0-draft2` -> `keyvalue`."""
        return self.name.split(":", 1)[1].split("@", 1)[0]

    def qualified(self, iface: Interface) -> str:
        """`wasi:keyvalue/store@0.2.0-draft2`."""
        namespace, version = self.package_names[iface["package"]].split("@", 1)
        return f"{namespace}/{iface['name']}@{version}"

    # --- ownership -----------------------------------------------------------------------

    def package_of(self, t: int) -> str:
        """The package whose interface defines type `t` (this one for world-owned types)."""
        owner = self.types[t]["owner"]
        if owner is None or "interface" not in owner:
            return self.name
        index: int = self.interfaces[owner["interface"]]["package"]
        return self.package_names[index]

    def is_own(self, t: int) -> bool:
        return self.package_of(t) == self.name

    def prefix(self, t: int) -> str:
        """`wasi_io.` for a type of another package, '' for one of this package."""
        return "" if self.is_own(t) else self.modules[self.package_of(t)] + "."

    def named_types(self) -> list[int]:
        """This package's records, variants, enums and flags (not aliases, not resources)."""
        return [
            i
            for i, t in enumerate(self.types)
            if t["name"]
            and isinstance(t["kind"], dict)
            and next(iter(t["kind"])) in _NOMINAL
            and self.is_own(i)
        ]

    def resources_in_imports(self) -> list[int]:
        return [r for r in self.resources if self.owner(r) in self.imports]

    def owner(self, rid: int) -> int:
        """The interface that defines resource `rid`."""
        owner: int = self.types[rid]["owner"]["interface"]
        return owner

    # --- type structure ------------------------------------------------------------------

    def resolve(self, t: TypeRef) -> TypeRef:
        """Follow type aliases (`use store.{bucket}`) to the type itself."""
        while (
            isinstance(t, int)
            and isinstance(self.types[t]["kind"], dict)
            and ("type" in self.types[t]["kind"])
        ):
            t = self.types[t]["kind"]["type"]
        return t

    def resource_id(self, t: TypeRef) -> int:
        rid = self.resolve(t)
        assert isinstance(rid, int)
        return rid

    def kind(self, t: TypeRef) -> tuple[str, Any]:
        """("primitive", name), ("resource", id), or (kind, body) of a compound type."""
        t = self.resolve(t)
        if isinstance(t, str):
            return ("primitive", t)
        k = self.types[t]["kind"]
        if k == "resource":
            return ("resource", t)
        ((name, body),) = k.items()
        return (name, body)

    def handle(self, t: TypeRef) -> tuple[str, int]:
        """("own" or "borrow", resource id) of a handle type."""
        ((mode, rid),) = self.kind(t)[1].items()
        return mode, self.resource_id(rid)

    def is_bytes(self, t: TypeRef) -> bool:
        kind, body = self.kind(t)
        return kind == "list" and self.resolve(body) == "u8"

    def children(self, t: TypeRef) -> Iterator[TypeRef]:
        """The types directly inside t (payloads, fields, elements)."""
        kind, body = self.kind(t)
        if kind in ("list", "option"):
            yield body
        elif kind == "tuple":
            yield from body["types"]
        elif kind == "record":
            yield from (f["type"] for f in body["fields"])
        elif kind == "variant":
            yield from (c["type"] for c in body["cases"] if c["type"] is not None)
        elif kind == "result":
            yield from (x for x in (body["ok"], body["err"]) if x is not None)

    def handles_in(self, t: TypeRef) -> set[int]:
        """Every resource whose handles a value of type t may carry."""
        if self.kind(t)[0] == "handle":
            return {self.handle(t)[1]}
        found: set[int] = set()
        for child in self.children(t):
            found |= self.handles_in(child)
        return found

    # --- functions -----------------------------------------------------------------------

    @staticmethod
    def is_method(fn: Function) -> bool:
        return isinstance(fn["kind"], dict) and "method" in fn["kind"]

    def interface_functions(self, iface: Interface) -> list[Function]:
        """Functions of the interface itself (static functions included), not methods."""
        return [f for f in iface["functions"].values() if not self.is_method(f)]

    def resource_methods(self, rid: int) -> list[Function]:
        owner = self.interfaces[self.owner(rid)]
        return [
            f
            for f in owner["functions"].values()
            if isinstance(f["kind"], dict) and f["kind"].get("method") == rid
        ]

    def function_types(self, fn: Function) -> list[TypeRef]:
        types = [p["type"] for p in fn["params"]]
        return types + ([fn["result"]] if fn.get("result") is not None else [])

    def resources_used(self) -> list[int]:
        """Resources whose handles pass through the served or called functions, and those
        this package serves (their destructors need the tables): the scope's tables."""
        found = set(self.resources_in_imports())
        for iid in self.imports + self.exports:
            for fn in self.interfaces[iid]["functions"].values():
                for t in self.function_types(fn):
                    found |= self.handles_in(t)
        return sorted(found)


def _world_interfaces(doc: dict[str, Any], pkg: dict[str, Any], world: str, side: str) -> list[int]:
    items = doc["worlds"][pkg["worlds"][world]][side].values()
    ids = []
    for item in items:
        if "interface" not in item:
            unsupported(f"{side} of functions or types directly in world {world}")
        ids.append(item["interface"]["id"])
    return ids


def wit_json(tool: str, folder: Path) -> dict[str, Any]:
    """The resolved WIT of `folder` as wasm-tools prints it."""
    raw = subprocess.run(
        [tool, "component", "wit", "--json", str(folder)],
        check=False,
        capture_output=True,
        text=True,
    )
    if raw.returncode != 0:
        sys.exit(f"gen_bindings: wasm-tools failed on {folder}:\n{raw.stderr}")
    doc: dict[str, Any] = json.loads(raw.stdout)
    return doc


def wit_json_with_deps(tool: str, wit: Path, root: str, deps: list[str]) -> dict[str, Any]:
    """The resolved WIT of wit/`root`, with the folders `deps` laid out as its `deps/`."""
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp) / root
        shutil.copytree(wit / root, top)
        for other in deps:
            if other != root:
                shutil.copytree(wit / other, top / "deps" / other)
        return wit_json(tool, top)


def wasi_interfaces(tool: str, wit: Path, folders: list[str]) -> list[str]:
    """Unversioned names of every interface of the WASI packages in `folders` of `wit`."""
    names = []
    for folder in folders:
        # The WASI packages include one another: lay the others out as `deps/` of this one.
        doc = wit_json_with_deps(tool, wit, folder, folders)
        wanted = "wasi:" + folder.removeprefix("wasi-").replace("-0.2.0", "@0.2.0")
        (pkg,) = [p for p in doc["packages"] if p["name"] == wanted]
        base = pkg["name"].split("@", 1)[0]
        names += [f"{base}/{name}" for name in pkg["interfaces"]]
    return names
