"""The WIT model: one package as `wasm-tools component wit --json` resolves it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

TypeRef = int | str
"""A type in the JSON: an index into `types`, or the name of a primitive."""

Function = dict[str, Any]
Interface = dict[str, Any]


def unsupported(what: str) -> NoReturn:
    sys.exit(f"gen_bindings: WIT {what} is not supported by this generator yet")


class Package:
    """One WIT package: its types and interfaces, and those a world imports and exports."""

    def __init__(self, doc: dict[str, Any], imports_world: str, exports_world: str | None) -> None:
        (pkg,) = doc["packages"]
        self.name: str = pkg["name"]
        self.types: list[dict[str, Any]] = doc["types"]
        self.interfaces: list[Interface] = doc["interfaces"]
        self.imports = self._world_interfaces(doc, pkg, imports_world, "imports")
        self.exports_world = exports_world
        self.exports = (
            self._world_interfaces(doc, pkg, exports_world, "exports") if exports_world else []
        )
        self.resources = [i for i, t in enumerate(self.types) if t["kind"] == "resource"]

    @staticmethod
    def _world_interfaces(
        doc: dict[str, Any], pkg: dict[str, Any], world: str, side: str
    ) -> list[int]:
        items = doc["worlds"][pkg["worlds"][world]][side].values()
        ids = []
        for item in items:
            if "interface" not in item:
                unsupported(f"{side} of functions or types directly in world {world}")
            ids.append(item["interface"]["id"])
        return ids

    @property
    def version(self) -> str:
        return self.name.split("@", 1)[1]

    def qualified(self, iface: Interface) -> str:
        """`wasi:keyvalue/store@0.2.0-draft2`."""
        ns_pkg = self.name.split("@", 1)[0]
        return f"{ns_pkg}/{iface['name']}@{self.version}"

    def named_types(self) -> list[int]:
        """Records, variants and the like that have a name of their own (not aliases)."""
        return [
            i
            for i, t in enumerate(self.types)
            if t["name"] and t["kind"] != "resource" and "type" not in t["kind"]
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


def wasi_interfaces(tool: str, wit: Path, folders: list[str]) -> list[str]:
    """Unversioned names of every interface of the WASI packages in `folders` of `wit`."""
    names = []
    for folder in folders:
        # The WASI packages include one another: lay the others out as `deps/` of this one.
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / folder
            shutil.copytree(wit / folder, root)
            for other in folders:
                if other != folder:
                    shutil.copytree(wit / other, root / "deps" / other)
            doc = wit_json(tool, root)
        wanted = "wasi:" + folder.removeprefix("wasi-").replace("-0.2.0", "@0.2.0")
        (pkg,) = [p for p in doc["packages"] if p["name"] == wanted]
        base = pkg["name"].split("@", 1)[0]
        names += [f"{base}/{name}" for name in pkg["interfaces"]]
    return names
