"""Python names and type annotations for the WIT names and types of one package."""

from __future__ import annotations

import keyword
import sys

from genbind.model import Function, Interface, Package, TypeRef, unsupported

# WIT primitive -> (annotation, lift function, lower function) in kvredis.canon.
PRIMITIVES = {
    "bool": ("bool", "canon.lift_bool", "canon.lower_bool"),
    "u32": ("int", "canon.lift_u32", "canon.lower_u32"),
    "u64": ("int", "canon.lift_u64", "canon.lower_u64"),
    "s64": ("int", "canon.lift_s64", "canon.lower_s64"),
    "string": ("str", "canon.lift_string", "canon.lower_string"),
}


def snake(name: str) -> str:
    out = name.replace("-", "_")
    return out + "_" if keyword.iskeyword(out) or out in {"self", "type"} else out


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


class Names:
    """How each WIT name of `package` reads in the generated module."""

    def __init__(self, package: Package) -> None:
        self.package = package
        self.type_names = {i: camel(package.types[i]["name"]) for i in package.named_types()}
        names = list(self.type_names.values()) + [self.resource_class(r) for r in package.resources]
        if len(names) != len(set(names)):
            sys.exit(f"gen_bindings: type names collide in {package.name}: {sorted(names)}")

    # --- interfaces and resources ----------------------------------------------------------

    @staticmethod
    def interface_const(iface: Interface) -> str:
        """STORE: the constant holding the interface's qualified name."""
        return snake(iface["name"]).upper()

    @staticmethod
    def interface_class(iface: Interface) -> str:
        return camel(iface["name"])

    @staticmethod
    def exports_class(iface: Interface) -> str:
        return camel(iface["name"]) + "Exports"

    def resource_class(self, rid: int) -> str:
        return camel(self.package.types[rid]["name"])

    def resource_table(self, rid: int) -> str:
        return snake(self.package.types[rid]["name"])

    def resource_type_const(self, rid: int) -> str:
        return f"{snake(self.package.types[rid]['name']).upper()}_TYPE"

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
            return f"{mode}_{p.types[rid]['name']}"
        if kind == "result":
            ok = self.shape(body["ok"]) if body["ok"] is not None else "unit"
            err = self.shape(body["err"]) if body["err"] is not None else "unit"
            return f"result_{ok}_{err}"
        return snake(p.types[p.resource_id(t)]["name"])

    def annotation(self, t: TypeRef) -> str:
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
        if kind in ("record", "variant"):
            return self.type_names[p.resource_id(t)]
        return unsupported(kind)

    def param_annotation(self, t: TypeRef) -> str:
        """A list<u8> parameter of a host function is a canon.Blob: its size is known before
        it is copied."""
        return "canon.Blob" if self.package.is_bytes(t) else self.annotation(t)
