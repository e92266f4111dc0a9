#!/usr/bin/env python3
"""Generate typed host bindings for the vendored wasi:keyvalue packages.

For each package in `PACKAGES`, `wasm-tools component wit --json` resolves the WIT, and this
script writes one module to host/kvredis/bindings/ with:

- Python types for the WIT records and variants;
- a Protocol per imported interface and per resource, for the host to implement;
- a `Tables` of handle tables (one per resource), and an `add_<interface>_to_linker` function
  per interface that registers every function as a raw callback through `kvredis.canon`,
  lifting arguments and lowering results with code specialised to each function's types.

Usage: gen_bindings.py [--check]   (--check: exit 1 when the committed output is stale)
"""

from __future__ import annotations

import argparse
import json
import keyword
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guests import wasm_tools

ROOT = Path(__file__).resolve().parent.parent
WIT = ROOT / "wit"
OUT = ROOT / "host" / "kvredis" / "bindings"

# (WIT folder, module name, resource type id base). The ids keep each package's resources
# distinct, so a handle of one version never passes for a handle of the other.
PACKAGES = [
    ("keyvalue-0.2.0-draft", "keyvalue_draft", 0x4B560100),
    ("keyvalue-0.2.0-draft2", "keyvalue_draft2", 0x4B560200),
]
IMPORTS_WORLD = "imports"
# WASI 0.2 packages: wasmtime's own implementation (`Linker.add_wasip2`) serves them; the
# bindings only record their interface names, so the host can tell what it can satisfy.
WASI_FOLDERS = [
    "wasi-cli-0.2.0",
    "wasi-clocks-0.2.0",
    "wasi-filesystem-0.2.0",
    "wasi-io-0.2.0",
    "wasi-random-0.2.0",
    "wasi-sockets-0.2.0",
]

PRIMITIVES = {
    "bool": ("bool", "canon.lift_bool", "canon.lower_bool"),
    "u32": ("int", "canon.lift_u32", "canon.lower_u32"),
    "u64": ("int", "canon.lift_u64", "canon.lower_u64"),
    "s64": ("int", "canon.lift_s64", "canon.lower_s64"),
    "string": ("str", "canon.lift_string", "canon.lower_string"),
}

TypeRef = int | str


def snake(name: str) -> str:
    out = name.replace("-", "_")
    return out + "_" if keyword.iskeyword(out) or out in {"self", "type"} else out


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


@dataclass
class Package:
    doc: dict[str, Any]
    folder: str
    module: str
    type_base: int
    name: str = ""
    helpers: dict[str, list[str]] = field(default_factory=dict)
    type_names: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (pkg,) = self.doc["packages"]
        self.name = pkg["name"]
        self.types: list[dict[str, Any]] = self.doc["types"]
        self.interfaces: list[dict[str, Any]] = self.doc["interfaces"]
        world = self.doc["worlds"][pkg["worlds"][IMPORTS_WORLD]]
        self.imports = [item["interface"]["id"] for item in world["imports"].values()]
        self.resources = [i for i, t in enumerate(self.types) if t["kind"] == "resource"]
        for i, t in enumerate(self.types):
            if t["name"] and t["kind"] != "resource" and "type" not in t["kind"]:
                self.type_names[i] = camel(t["name"])
        names = list(self.type_names.values()) + [self.resource_class(r) for r in self.resources]
        if len(names) != len(set(names)):
            sys.exit(f"gen_bindings: type names collide in {self.name}: {sorted(names)}")

    # --- naming ---------------------------------------------------------------------------

    @property
    def version(self) -> str:
        return self.name.split("@", 1)[1]

    def qualified(self, iface: dict[str, Any]) -> str:
        ns_pkg = self.name.split("@", 1)[0]
        return f"{ns_pkg}/{iface['name']}@{self.version}"

    def resource_class(self, rid: int) -> str:
        return camel(self.types[rid]["name"])

    def resource_table(self, rid: int) -> str:
        return snake(self.types[rid]["name"])

    def resource_type_const(self, rid: int) -> str:
        return f"{snake(self.types[rid]['name']).upper()}_TYPE"

    # --- type structure ------------------------------------------------------------------

    def resolve(self, t: TypeRef) -> TypeRef:
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
        t = self.resolve(t)
        if isinstance(t, str):
            return ("primitive", t)
        k = self.types[t]["kind"]
        if k == "resource":
            return ("resource", t)
        ((name, body),) = k.items()
        return (name, body)

    def shape(self, t: TypeRef) -> str:
        """A readable structural name: option<list<u8>> -> 'option_bytes'."""
        kind, body = self.kind(t)
        if kind == "primitive":
            return str(body)
        if kind == "list":
            return "bytes" if self.resolve(body) == "u8" else f"list_{self.shape(body)}"
        if kind == "option":
            return f"option_{self.shape(body)}"
        if kind == "tuple":
            return "tuple_" + "_".join(self.shape(x) for x in body["types"])
        if kind == "handle":
            ((mode, rid),) = body.items()
            return f"{mode}_{self.types[self.resource_id(rid)]['name']}"
        if kind == "result":
            ok = self.shape(body["ok"]) if body["ok"] is not None else "unit"
            err = self.shape(body["err"]) if body["err"] is not None else "unit"
            return f"result_{ok}_{err}"
        return snake(self.types[self.resolve(t)]["name"])  # type: ignore[index]

    def annotation(self, t: TypeRef) -> str:
        kind, body = self.kind(t)
        if kind == "primitive":
            return PRIMITIVES[body][0] if body in PRIMITIVES else _unsupported(body)
        if kind == "list":
            return "bytes" if self.resolve(body) == "u8" else f"list[{self.annotation(body)}]"
        if kind == "option":
            if self.kind(body)[0] == "option":
                _unsupported("option<option<...>>")
            return f"{self.annotation(body)} | None"
        if kind == "tuple":
            return "tuple[" + ", ".join(self.annotation(x) for x in body["types"]) + "]"
        if kind == "handle":
            ((_, rid),) = body.items()
            return self.resource_class(self.resolve(rid))  # type: ignore[arg-type]
        if kind in ("record", "variant"):
            return self.type_names[self.resolve(t)]  # type: ignore[index]
        return _unsupported(kind)

    # --- lifting (reading arguments) -----------------------------------------------------

    def lift(self, t: TypeRef, addr: str) -> str:
        """An expression that reads a value of type t at address `addr`."""
        kind, body = self.kind(t)
        if kind == "primitive":
            return f"{PRIMITIVES[body][1]}({addr})"
        if kind == "list":
            element = self.shape(body)
            if element == "u8":
                return f"canon.lift_bytes({addr})"
            if element == "string":
                return f"canon.lift_string_list({addr})"
            if element == "tuple_string_bytes":
                return f"canon.lift_string_bytes_list({addr})"
        if kind == "handle":
            ((mode, rid),) = body.items()
            table = f"tables.{self.resource_table(self.resolve(rid))}"  # type: ignore[arg-type]
            if mode == "borrow":
                return f"{table}.get(canon.lift_borrow(ctx, {addr}))"
            return f"{table}.take(canon.lift_own(ctx, {addr}))"
        return f"{self.lift_helper(t)}(tables, ctx, {addr})"

    def lift_helper(self, t: TypeRef) -> str:
        name = f"_lift_{self.shape(t)}"
        if name in self.helpers:
            return name
        self.helpers[name] = []  # reserve against recursion
        kind, body = self.kind(t)
        ann = self.annotation(t)
        lines = [f"def {name}(tables: Tables, ctx: int, addr: int) -> {ann}:"]
        if kind == "option":
            lines += [
                "    payload = canon.lift_option(addr)",
                f"    return None if payload is None else {self.lift(body, 'payload')}",
            ]
        elif kind == "list":
            lines += [
                "    data, n = canon.lift_list(addr)",
                f"    return [{self.lift(body, 'data + i * VAL_SIZE')} for i in range(n)]",
            ]
        elif kind == "tuple":
            parts = [self.lift(x, f"data + {i} * VAL_SIZE") for i, x in enumerate(body["types"])]
            lines += ["    data, _ = canon.lift_tuple(addr)", f"    return ({', '.join(parts)},)"]
        else:
            _unsupported(f"{kind} as a parameter")
        self.helpers[name] = lines
        return name

    # --- lowering (writing results) ------------------------------------------------------

    def lower(self, t: TypeRef, addr: str, value: str) -> str:
        """A statement that writes `value` of type t at address `addr`."""
        kind, body = self.kind(t)
        if kind == "primitive":
            return f"{PRIMITIVES[body][2]}({addr}, {value})"
        if kind == "list":
            element = self.shape(body)
            if element == "u8":
                return f"canon.lower_bytes({addr}, {value})"
            if element == "string":
                return f"canon.lower_string_list({addr}, {value})"
            if element == "option_tuple_string_bytes":
                return f"canon.lower_string_bytes_option_list({addr}, {value})"
        return f"{self.lower_helper(t)}(tables, ctx, {addr}, {value})"

    def boxed(self, t: TypeRef | None, value: str, indent: str) -> tuple[list[str], str]:
        """Statements putting `value` into a fresh payload box; returns them and the box name."""
        if t is None:
            return [], "None"
        return [f"{indent}box = canon.new_box()", f"{indent}{self.lower(t, 'box', value)}"], "box"

    def lower_helper(self, t: TypeRef) -> str:
        name = f"_lower_{self.shape(t)}"
        if name in self.helpers:
            return name
        self.helpers[name] = []
        kind, body = self.kind(t)
        ann = self.annotation(t)
        lines = [f"def {name}(tables: Tables, ctx: int, addr: int, value: {ann}) -> None:"]
        if kind == "option":
            box_lines, box = self.boxed(body, "value", "    ")
            lines += [
                "    if value is None:",
                "        canon.lower_option(addr, None)",
                "        return",
            ]
            lines += box_lines + [f"    canon.lower_option(addr, {box})"]
        elif kind == "list":
            lines += [
                "    data = canon.lower_list(addr, len(value))",
                "    for i, item in enumerate(value):",
                f"        {self.lower(body, 'data + i * VAL_SIZE', 'item')}",
            ]
        elif kind == "tuple":
            lines.append(f"    data = canon.lower_tuple(addr, {len(body['types'])})")
            for i, x in enumerate(body["types"]):
                lines.append(f"    {self.lower(x, f'data + {i} * VAL_SIZE', f'value[{i}]')}")
        elif kind == "record":
            names = ", ".join(f'b"{f["name"]}"' for f in body["fields"])
            names = names if len(body["fields"]) > 1 else names + ","
            lines.append(f"    fields = canon.lower_record(addr, ({names}))")
            for i, f in enumerate(body["fields"]):
                attr = "value." + snake(f["name"])
                lines.append(f"    {self.lower(f['type'], f'fields[{i}]', attr)}")
        elif kind == "variant":
            tname = self.type_names[self.resolve(t)]  # type: ignore[index]
            for case in body["cases"]:
                cls = tname + camel(case["name"])
                lines.append(f"    if isinstance(value, {cls}):")
                box_lines, box = self.boxed(case["type"], "value.value", "        ")
                lines += box_lines
                case_name = case["name"]
                lines += [
                    f'        canon.lower_variant(addr, b"{case_name}", {box})',
                    "        return",
                ]
            lines.append(f'    raise TypeError(f"expected a {tname}, got {{value!r}}")')
        elif kind == "handle":
            ((mode, rid),) = body.items()
            rid = self.resolve(rid)
            if mode != "own":
                _unsupported("borrow handles in results")
            table = self.resource_table(rid)  # type: ignore[arg-type]
            const = self.resource_type_const(rid)  # type: ignore[arg-type]
            lines.append(f"    canon.lower_own(ctx, addr, tables.{table}.insert(value), {const})")
        else:
            _unsupported(f"{kind} as a result")
        self.helpers[name] = lines
        return name

    # --- module --------------------------------------------------------------------------

    def render(self) -> str:
        w = self.name
        out: list[str] = [
            f"# GENERATED by scripts/gen_bindings.py from wit/{self.folder} ({w}).",
            "# Do not edit by hand: run `make bindings`; a test fails when this file is stale.",
            f'"""Host bindings for {w}: types, host protocols and linker registration."""',
            "",
            "from __future__ import annotations",
            "",
            "from dataclasses import dataclass",
            "from typing import Protocol",
            "",
            "from wasmtime.component import LinkerInstance, ResourceType",
            "",
            "from kvredis import canon",
            "from kvredis._wit import Err, HandleTable",
            "",
            "VAL_SIZE = canon.VAL_SIZE",
            "",
            f'PACKAGE = "{w}"',
        ]
        for iid in self.imports:
            iface = self.interfaces[iid]
            out.append(f'{snake(iface["name"]).upper()} = "{self.qualified(iface)}"')
        names = ", ".join(snake(self.interfaces[i]["name"]).upper() for i in self.imports)
        out += [f"IMPORTS = ({names})" if "," in names else f"IMPORTS = ({names},)", ""]
        for n, rid in enumerate(self.resources):
            if self.types[rid]["owner"]["interface"] not in self.imports:
                continue
            out.append(f"{self.resource_type_const(rid)} = {self.type_base + n:#x}")
        out += ["", "__all__ = ["]
        exported = [
            "Err",
            "Tables",
            "PACKAGE",
            "IMPORTS",
            "add_to_linker",
            *self.type_names.values(),
            *(self.resource_class(r) for r in self.resources_in_imports()),
            *(camel(self.interfaces[i]["name"]) for i in self.imports),
        ]
        # isort order, as ruff wants it: CONSTANTS, Classes, functions
        exported.sort(key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
        out += [f'    "{name}",' for name in exported] + ["]", ""]
        for i in sorted(self.type_names):
            out += self.render_type(i)
        for rid in self.resources_in_imports():
            out += self.render_resource_protocol(rid)
        for iid in self.imports:
            out += self.render_interface_protocol(self.interfaces[iid])
        out += self.render_tables()
        linkers: list[str] = []
        for iid in self.imports:
            linkers += self.render_linker(self.interfaces[iid])
        out += linkers
        out += self.render_add_to_linker()
        helpers: list[str] = []
        for name in sorted(self.helpers):
            helpers += ["", ""] + self.helpers[name]
        text = "\n".join(out).rstrip() + "\n" + "\n".join(helpers) + "\n"
        return text

    def resources_in_imports(self) -> list[int]:
        return [r for r in self.resources if self.types[r]["owner"]["interface"] in self.imports]

    def render_type(self, i: int) -> list[str]:
        t = self.types[i]
        name = self.type_names[i]
        kind, body = self.kind(i)
        lines: list[str]
        if kind == "record":
            lines = [
                "",
                "",
                "@dataclass(slots=True)",
                f"class {name}:",
                f'    """WIT record `{t["name"]}`."""',
                "",
            ]
            lines += [
                f"    {snake(f['name'])}: {self.annotation(f['type'])}" for f in body["fields"]
            ]
            return lines
        if kind == "variant":
            lines = []
            cases = []
            for case in body["cases"]:
                cls = name + camel(case["name"])
                cases.append(cls)
                lines += ["", "", "@dataclass(frozen=True, slots=True)", f"class {cls}:"]
                lines.append(f'    """`{t["name"]}::{case["name"]}`."""')
                if case["type"] is not None:
                    lines += ["", f"    value: {self.annotation(case['type'])}"]
            lines += ["", "", f"{name} = {' | '.join(cases)}"]
            return lines
        return _unsupported(kind)  # type: ignore[return-value]

    def is_blob(self, t: TypeRef) -> bool:
        """A list<u8> parameter: passed as a canon.Blob, so its size is known before a copy."""
        kind, body = self.kind(t)
        return kind == "list" and self.resolve(body) == "u8"

    def param_annotation(self, t: TypeRef) -> str:
        return "canon.Blob" if self.is_blob(t) else self.annotation(t)

    def signature(self, fn: dict[str, Any], skip_self: bool) -> tuple[str, str, list[str]]:
        params = fn["params"][1:] if skip_self else fn["params"]
        args = ", ".join(f"{snake(p['name'])}: {self.param_annotation(p['type'])}" for p in params)
        result = fn.get("result")
        doc: list[str] = []
        if result is None:
            ret = "None"
        elif self.kind(result)[0] == "result":
            body = self.kind(result)[1]
            ret = self.annotation(body["ok"]) if body["ok"] is not None else "None"
            if body["err"] is not None:
                doc.append(f"Raise `Err({self.annotation(body['err'])})` for the err case.")
        else:
            ret = self.annotation(result)
        return args, ret, doc

    def method_name(self, fn: dict[str, Any]) -> str:
        kind = fn["kind"]
        short = fn["name"].split(".", 1)[-1] if isinstance(kind, dict) else fn["name"]
        if isinstance(kind, dict) and "static" in kind:
            return snake(f"{self.types[kind['static']]['name']}-{short}")
        if isinstance(kind, dict) and "constructor" in kind:
            return snake(f"{self.types[kind['constructor']]['name']}-new")
        return snake(short)

    def render_protocol(
        self, cls: str, doc: str, fns: list[dict[str, Any]], methods: bool
    ) -> list[str]:
        lines = ["", "", f"class {cls}(Protocol):", f'    """{doc}"""']
        for fn in fns:
            args, ret, notes = self.signature(fn, skip_self=methods)
            sep = ", " if args else ""
            lines += ["", f"    def {self.method_name(fn)}(self{sep}{args}) -> {ret}:"]
            note = " ".join([f"`{fn['name']}`."] + notes)
            lines += [f'        """{note}"""', "        ..."]
        return lines

    def render_resource_protocol(self, rid: int) -> list[str]:
        owner = self.interfaces[self.types[rid]["owner"]["interface"]]
        fns = [
            f
            for f in owner["functions"].values()
            if isinstance(f["kind"], dict) and f["kind"].get("method") == rid
        ]
        doc = f"Host side of resource `{self.types[rid]['name']}` of {self.qualified(owner)}."
        return self.render_protocol(self.resource_class(rid), doc, fns, methods=True)

    def interface_functions(self, iface: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            f
            for f in iface["functions"].values()
            if not (isinstance(f["kind"], dict) and "method" in f["kind"])
        ]

    def render_interface_protocol(self, iface: dict[str, Any]) -> list[str]:
        doc = f"Host side of interface {self.qualified(iface)}."
        return self.render_protocol(
            camel(iface["name"]), doc, self.interface_functions(iface), False
        )

    def render_tables(self) -> list[str]:
        lines = [
            "",
            "",
            "class Tables:",
            '    """Handle tables of one component instance, one per resource."""',
            "",
        ]
        lines.append("    def __init__(self) -> None:")
        for rid in self.resources_in_imports():
            lines.append(
                f"        self.{self.resource_table(rid)}: HandleTable[{self.resource_class(rid)}]"
                f' = HandleTable("{self.types[rid]["name"]}")'
            )
        return lines

    def render_linker(self, iface: dict[str, Any]) -> list[str]:
        const = snake(iface["name"]).upper()
        cls = camel(iface["name"])
        lines = [
            "",
            "",
            f"def add_{snake(iface['name'])}_to_linker("
            f"root: LinkerInstance, host: {cls}, tables: Tables) -> None:",
            f'    """Define every function of {self.qualified(iface)} in a linker."""',
            f"    with root.add_instance({const}) as instance:",
        ]
        for rid in self.resources:
            if self.types[rid]["owner"]["interface"] == self.interfaces.index(iface):
                lines.append(
                    f"        instance.add_resource({self.types[rid]['name']!r}, "
                    f"ResourceType.host({self.resource_type_const(rid)}), "
                    f"tables.{self.resource_table(rid)}.drop)"
                )
        for fn in iface["functions"].values():
            lines += self.render_function(fn, const)
        return lines

    def render_function(self, fn: dict[str, Any], const: str) -> list[str]:
        kind = fn["kind"]
        is_method = isinstance(kind, dict) and "method" in kind
        pyname = "_" + snake(fn["name"].replace("[", "").replace("]", "-").replace(".", "-"))
        lines = ["", f"        def {pyname}(ctx: int, args: int, results: int) -> None:"]
        call_args = []
        for i, p in enumerate(fn["params"]):
            var = "self_" if is_method and i == 0 else f"arg_{snake(p['name'])}"
            addr = "args" if i == 0 else f"args + {i} * VAL_SIZE"
            lifted = (
                f"canon.Blob({addr})" if self.is_blob(p["type"]) else self.lift(p["type"], addr)
            )
            lines.append(f"            {var} = {lifted}")
            if not (is_method and i == 0):
                call_args.append(var)
        target = "self_" if is_method else "host"
        call = f"{target}.{self.method_name(fn)}({', '.join(call_args)})"
        result = fn.get("result")
        if result is None:
            lines.append(f"            {call}")
        elif self.kind(result)[0] == "result":
            body = self.kind(result)[1]
            pad = "                "
            lines.append("            try:")
            lines.append(f"                {'ret = ' if body['ok'] is not None else ''}{call}")
            if body["err"] is not None:
                lines.append("            except Err as err:")
                err_lines, err_box = self.boxed(body["err"], "err.value", pad)
                lines += err_lines + [
                    f"{pad}canon.lower_result(results, False, {err_box})",
                    f"{pad}return",
                ]
            else:
                lines.append("            except Err:")
                lines += [f"{pad}canon.lower_result(results, False, None)", f"{pad}return"]
            ok_lines, ok_box = self.boxed(body["ok"], "ret", "            ")
            lines += ok_lines + [f"            canon.lower_result(results, True, {ok_box})"]
        else:
            lines += [
                f"            ret = {call}",
                f"            {self.lower(result, 'results', 'ret')}",
            ]
        label = f'f"{{{const}}}#{fn["name"]}"'
        lines.append(f'        canon.add_func(instance, "{fn["name"]}", {pyname}, {label})')
        return lines

    def render_add_to_linker(self) -> list[str]:
        params = ", ".join(
            f"{snake(self.interfaces[i]['name'])}: {camel(self.interfaces[i]['name'])}"
            for i in self.imports
        )
        lines = [
            "",
            "",
            f"def add_to_linker(root: LinkerInstance, {params}) -> Tables:",
            f'    """Define all of {self.name} in a linker; returns the new handle tables."""',
            "    tables = Tables()",
        ]
        for i in self.imports:
            n = snake(self.interfaces[i]["name"])
            lines.append(f"    add_{n}_to_linker(root, {n}, tables)")
        lines.append("    return tables")
        return lines


def _unsupported(what: str) -> str:
    sys.exit(f"gen_bindings: WIT {what} is not supported by this generator yet")


def render_wasi(interfaces: list[str]) -> str:
    lines = [
        "# GENERATED by scripts/gen_bindings.py from wit/wasi-*-0.2.0. Do not edit by hand.",
        '"""The WASI 0.2 interfaces wasmtime serves (Linker.add_wasip2), without versions."""',
        "",
        'VERSION_PREFIX = "0.2."',
        "",
        "INTERFACES = frozenset(",
        "    {",
    ]
    lines += [f'        "{name}",' for name in sorted(set(interfaces))]
    lines += ["    }", ")"]
    return "\n".join(lines) + "\n"


def wasi_interfaces(tool: str) -> list[str]:
    names = []
    for folder in WASI_FOLDERS:
        # The WASI packages include one another: lay the others out as `deps/` of this one.
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / folder
            shutil.copytree(WIT / folder, root)
            for other in WASI_FOLDERS:
                if other != folder:
                    shutil.copytree(WIT / other, root / "deps" / other)
            doc = wit_json(tool, root)
        wanted = "wasi:" + folder.removeprefix("wasi-").replace("-0.2.0", "@0.2.0")
        (pkg,) = [p for p in doc["packages"] if p["name"] == wanted]
        base = pkg["name"].split("@", 1)[0]
        names += [f"{base}/{name}" for name in pkg["interfaces"]]
    return names


def wit_json(tool: str, folder: Path) -> dict[str, Any]:
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


def render_index(packages: list[Package]) -> str:
    lines = [
        "# GENERATED by scripts/gen_bindings.py. Do not edit by hand: run `make bindings`.",
        '"""Typed host bindings generated from the vendored WIT in wit/, one module a package."""',
        "",
        "from kvredis.bindings import " + ", ".join(p.module for p in packages),
        "",
        "MODULES = (" + ", ".join(p.module for p in packages) + ",)",
        "",
        '__all__ = ["MODULES", ' + ", ".join(f'"{p.module}"' for p in packages) + "]",
    ]
    return "\n".join(lines) + "\n"


def generate() -> dict[Path, str]:
    tool = wasm_tools()
    packages = [
        Package(wit_json(tool, WIT / folder), folder, module, base)
        for folder, module, base in PACKAGES
    ]
    files = {OUT / f"{p.module}.py": p.render() for p in packages}
    files[OUT / "wasi.py"] = render_wasi(wasi_interfaces(tool))
    files[OUT / "__init__.py"] = render_index(packages)
    return {path: format_source(text) for path, text in files.items()}


def format_source(text: str) -> str:
    # Run ruff's formatter so the output reads like hand-written code; same input, same bytes.
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--line-length", "100", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"gen_bindings: generated code does not parse:\n{done.stderr}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="fail when the output is stale")
    args = parser.parse_args()
    files = generate()
    stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run `make bindings`)")
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_text(files[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
