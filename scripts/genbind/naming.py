"""Python names and type annotations for the WIT names and types of one package."""

from __future__ import annotations

import keyword
import re
import sys

from genbind.model import Function, Interface, Package, TypeRef, unsupported

# WIT primitive -> (annotation, lift function, lower function) in kvredis.canon.
PRIMITIVES = {
    "bool": ("bool", "canon.lift_bool", "canon.lower_bool"),
    "u8": ("int", "canon.lift_u8", "canon.lower_u8"),
    "u16": ("int", "canon.lift_u16", "canon.lower_u16"),
    "u32": ("int", "canon.lift_u32", "canon.lower_u32"),
    "u64": ("int", "canon.lift_u64", "canon.lower_u64"),
    "s8": ("int", "canon.lift_s8", "canon.lower_s8"),
    "s16": ("int", "canon.lift_s16", "canon.lower_s16"),
    "s32": ("int", "canon.lift_s32", "canon.lower_s32"),
    "s64": ("int", "canon.lift_s64", "canon.lower_s64"),
    "f32": ("float", "canon.lift_f32", "canon.lower_f32"),
    "f64": ("float", "canon.lift_f64", "canon.lower_f64"),
    "char": ("str", "canon.lift_char", "canon.lower_char"),
    "string": ("str", "canon.lift_string", "canon.lower_string"),
}


def snake(name: str) -> str:
    out = name.replace("-", "_").lower()
    return out + "_" if keyword.iskeyword(out) or out in {"self", "type", "in"} else out


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def upper(name: str) -> str:
    """An enum or flags member: `would-block` -> `WOULD_BLOCK`."""
    return name.replace("-", "_").upper()


def natural_key(name: str) -> tuple[int, list[str | int]]:
    """Sort order of `__all__` as ruff wants it: CONSTANTS, Classes, functions; digits as
    numbers (`lift_u8` before `lift_u16`)."""
    group = 0 if name.isupper() else 1 if name[0].isupper() else 2
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]
    return group, parts


class Names:
    """How each WIT name of `package` reads in the generated module."""

    def __init__(self, package: Package) -> None:
        self.package = package
        self.type_names = {i: camel(package.types[i]["name"]) for i in package.named_types()}
        names = list(self.type_names.values()) + [self.resource_class(r) for r in package.resources]
        names += [
            self.interface_class(package.interfaces[i])
            for i in package.imports
            if package.interface_functions(package.interfaces[i])
        ]
        names += [self.exports_class(package.interfaces[i]) for i in package.exports]
        for i in package.named_types():
            kind, body = package.kind(i)
            if kind == "variant":
                names += [self.type_names[i] + camel(c["name"]) for c in body["cases"]]
        names += ["Scope", "Tables"]
        if len(names) != len(set(names)):
            dupes = sorted({n for n in names if names.count(n) > 1})
            sys.exit(f"gen_bindings: names collide in {package.name}: {dupes}")

    # --- interfaces and resources ----------------------------------------------------------

    @staticmethod
    def interface_const(iface: Interface) -> str:
        """STORE: the constant holding the interface's qualified name."""
        return snake(iface["name"]).upper()

    @staticmethod
    def interface_class(iface: Interface) -> str:
        return camel(iface["name"])

    def host_attribute(self, iface: Interface) -> str:
        """Where a scope keeps the host of an interface: `keyvalue_store`, `http_types` (the
        package in the name, so one scope can serve several packages)."""
        package = self.package.package_names[iface["package"]]
        short = package.split(":", 1)[1].split("@", 1)[0]
        return snake(f"{short}-{iface['name']}")

    @staticmethod
    def exports_class(iface: Interface) -> str:
        return camel(iface["name"]) + "Exports"

    def resource_class(self, rid: int) -> str:
        return self.package.prefix(rid) + camel(self.package.types[rid]["name"])

    def resource_table(self, rid: int) -> str:
        return snake(self.package.types[rid]["name"])

    def resource_type_const(self, rid: int) -> str:
        return f"{self.package.prefix(rid)}{upper(self.package.types[rid]['name'])}_TYPE"

    def type_name(self, t: int) -> str:
        """The class (or union alias) of a named type, through its module if foreign."""
        rid = self.package.resource_id(t)
        return self.package.prefix(rid) + camel(self.package.types[rid]["name"])

    def method_name(self, fn: Function) -> str:
        kind = fn["kind"]
        short = fn["name"].split(".", 1)[-1] if isinstance(kind, dict) else fn["name"]
        if isinstance(kind, dict) and "static" in kind:
            return snake(f"{self.package.types[kind['static']]['name']}-{short}")
        if isinstance(kind, dict) and "constructor" in kind:
            return snake(f"{self.package.types[kind['constructor']]['name']}-new")
        return snake(short)

    @staticmethod
    def callback_name(fn: Function) -> str:
        """`[method]bucket.get` -> `_method_bucket_get`."""
        return "_" + snake(fn["name"].replace("[", "").replace("]", "-").replace(".", "-"))

    # --- types ---------------------------------------------------------------------------

    def shape(self, t: TypeRef) -> str:
        """A readable structural name: option<list<u8>> -> 'option_bytes'."""
        p = self.package
        kind, body = p.kind(t)
        if kind == "primitive":
            return str(body)
        if kind == "list":
            return "bytes" if p.resolve(body) == "u8" else f"list_{self.shape(body)}"
        if kind == "option":
            return f"option_{self.shape(body)}"
        if kind == "tuple":
            return "tuple_" + "_".join(self.shape(x) for x in body["types"])
        if kind == "handle":
            mode, rid = p.handle(t)
            return f"{mode}_{snake(p.types[rid]['name'])}"
        if kind == "result":
            ok = self.shape(body["ok"]) if body["ok"] is not None else "unit"
            err = self.shape(body["err"]) if body["err"] is not None else "unit"
            return f"result_{ok}_{err}"
        return snake(p.types[p.resource_id(t)]["name"])

    def annotation(self, t: TypeRef | None) -> str:
        if t is None:
            return "None"
        p = self.package
        kind, body = p.kind(t)
        if kind == "primitive":
            return PRIMITIVES[body][0] if body in PRIMITIVES else unsupported(body)
        if kind == "list":
            return "bytes" if p.resolve(body) == "u8" else f"list[{self.annotation(body)}]"
        if kind == "option":
            if p.kind(body)[0] == "option":
                unsupported("option<option<...>>")
            return f"{self.annotation(body)} | None"
        if kind == "tuple":
            return "tuple[" + ", ".join(self.annotation(x) for x in body["types"]) + "]"
        if kind == "handle":
            return self.resource_class(p.handle(t)[1])
        if kind == "result":
            return f"Ok[{self.annotation(body['ok'])}] | Err[{self.annotation(body['err'])}]"
        if kind in ("record", "variant", "enum", "flags"):
            return self.type_name(p.resource_id(t))
        return unsupported(kind)

    def param_annotation(self, t: TypeRef) -> str:
        """A list<u8> parameter of a host function is a canon.Blob: its size is known before
        it is copied."""
        return "canon.Blob" if self.package.is_bytes(t) else self.annotation(t)
