"""The code that reads (lifts) and writes (lowers) values of each WIT type.

Simple types become one call into `kvredis.canon`; the bulk list shapes the keyvalue
functions use get its one-pass functions; anything else gets a helper function in the module
(`_lift_option_string`, `_lower_key_response`...), written once and shared by every function
that needs it. Generated code sees `scope` (the calling instance's handle tables and hosts)
and `ctx` (the store context).
"""

from __future__ import annotations

from typing import Any

from genbind.model import Package, TypeRef, unsupported
from genbind.naming import PRIMITIVES, Names, camel, snake, upper

_LIFT, _LOWER = 0, 1
# Lists that kvredis.canon reads or writes in one pass, by element shape: (lift, lower).
_WHOLE_LISTS = {
    "u8": ("canon.lift_bytes", "canon.lower_bytes"),
    "string": ("canon.lift_string_list", "canon.lower_string_list"),
    "tuple_string_bytes": ("canon.lift_string_bytes_list", None),
    "option_tuple_string_bytes": (None, "canon.lower_string_bytes_option_list"),
}


class Codec:
    """Lift and lower expressions for one package, and the helpers they call."""

    def __init__(self, package: Package, names: Names) -> None:
        self.package = package
        self.names = names
        self.helpers: dict[str, list[str]] = {}

    def _direct(self, t: TypeRef, side: int) -> str | None:
        """The canon function that lifts or lowers t by itself, if there is one."""
        kind, body = self.package.kind(t)
        if kind == "primitive":
            return PRIMITIVES[body][1 + side]
        if kind == "list":
            return _WHOLE_LISTS.get(self.names.shape(body), (None, None))[side]
        return None

    def _reserve(self, name: str) -> bool:
        """Whether helper `name` still has to be written (reserved now, against recursion)."""
        if name in self.helpers:
            return False
        self.helpers[name] = []
        return True

    # --- lifting (reading) ---------------------------------------------------------------

    def lift(self, t: TypeRef, addr: str) -> str:
        """An expression that reads a value of type t at address `addr`."""
        direct = self._direct(t, _LIFT)
        if direct:
            return f"{direct}({addr})"
        kind, _ = self.package.kind(t)
        if kind == "handle":
            mode, rid = self.package.handle(t)
            table = f"scope.{self.names.resource_table(rid)}"
            if mode == "borrow":
                return f"{table}.get(canon.lift_borrow(ctx, {addr}))"
            return f"{table}.take(canon.lift_own(ctx, {addr}))"
        if kind == "enum":
            return f"{self.names.annotation(t)}(canon.lift_enum({addr}))"
        return f"{self._lift_helper(t)}(scope, ctx, {addr})"

    def lift_param(self, t: TypeRef, addr: str) -> str:
        """Like `lift`, but a list<u8> parameter is a canon.Blob, read only on demand."""
        return f"canon.Blob({addr})" if self.package.is_bytes(t) else self.lift(t, addr)

    def _lift_helper(self, t: TypeRef) -> str:
        name = f"_lift_{self.names.shape(t)}"
        if not self._reserve(name):
            return name
        kind, body = self.package.kind(t)
        ann = self.names.annotation(t)
        lines = [f"def {name}(scope: Scope, ctx: int, addr: int) -> {ann}:"]
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
        elif kind == "record":
            fields = body["fields"]
            parts = [self.lift(f["type"], f"fields[{i}]") for i, f in enumerate(fields)]
            lines += [
                f"    fields = canon.lift_record(addr, {len(fields)})",
                f"    return {ann}({', '.join(parts)})",
            ]
        elif kind == "variant":
            lines += self._lift_variant_body(t, body)
        elif kind == "flags":
            # Members are named after the flags: `symlink-follow` is SYMLINK_FOLLOW.
            lines += [
                f"    value = {ann}(0)",
                "    for flag in canon.lift_flags(addr):",
                f'        value |= {ann}[flag.upper().replace("-", "_")]',
                "    return value",
            ]
        elif kind == "result":
            payload = "payload" if body["ok"] is not None or body["err"] is not None else "_"
            lines += [
                f"    ok, {payload} = canon.lift_result(addr)",
                "    if ok:",
                f"        return Ok({self._lift_payload(body['ok'])})",
                f"    return Err({self._lift_payload(body['err'])})",
            ]
        else:
            unsupported(f"{kind} as a parameter")
        self.helpers[name] = lines
        return name

    def _lift_payload(self, t: TypeRef | None) -> str:
        return "None" if t is None else self.lift(t, "payload")

    def _lift_variant_body(self, t: TypeRef, body: dict[str, Any]) -> list[str]:
        tname = self.names.type_name(self.package.resource_id(t))
        lines = ["    case, payload = canon.lift_variant(addr)"]
        for case in body["cases"]:
            cls = tname + camel(str(case["name"]))
            value = "" if case["type"] is None else self._lift_payload(case["type"])
            lines += [f'    if case == "{case["name"]}":', f"        return {cls}({value})"]
        lines.append(f'    raise Trap(f"no case {{case!r}} in variant {tname}")')
        return lines

    # --- lowering (writing) --------------------------------------------------------------

    def lower(self, t: TypeRef, addr: str, value: str) -> str:
        """A statement that writes `value` of type t at address `addr`."""
        direct = self._direct(t, _LOWER)
        if direct:
            return f"{direct}({addr}, {value})"
        if self.package.kind(t)[0] == "enum":
            return f"canon.lower_enum({addr}, {value})"
        return f"{self._lower_helper(t)}(scope, ctx, {addr}, {value})"

    def boxed(self, t: TypeRef | None, value: str, indent: str) -> tuple[list[str], str]:
        """Statements putting `value` into a fresh payload box; returns them and the box name."""
        if t is None:
            return [], "None"
        return [f"{indent}box = canon.new_box()", f"{indent}{self.lower(t, 'box', value)}"], "box"

    def _lower_helper(self, t: TypeRef) -> str:
        name = f"_lower_{self.names.shape(t)}"
        if not self._reserve(name):
            return name
        kind, body = self.package.kind(t)
        ann = self.names.annotation(t)
        lines = [f"def {name}(scope: Scope, ctx: int, addr: int, value: {ann}) -> None:"]
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
            lines += self._lower_record_body(body)
        elif kind == "variant":
            lines += self._lower_variant_body(t, body)
        elif kind == "flags":
            lines.append("    names = []")
            for flag in body["flags"]:
                lines += [
                    f"    if {ann}.{upper(flag['name'])} in value:",
                    f'        names.append(b"{flag["name"]}")',
                ]
            lines.append("    canon.lower_flags(addr, names)")
        elif kind == "result":
            ok_lines, ok_box = self.boxed(body["ok"], "value.value", "        ")
            err_lines, err_box = self.boxed(body["err"], "value.value", "    ")
            lines += ["    if isinstance(value, Ok):", *ok_lines]
            lines += [f"        canon.lower_result(addr, True, {ok_box})", "        return"]
            lines += [*err_lines, f"    canon.lower_result(addr, False, {err_box})"]
        elif kind == "handle":
            mode, rid = self.package.handle(t)
            if mode != "own":
                unsupported("borrow handles in results")
            table = self.names.resource_table(rid)
            const = self.names.resource_type_const(rid)
            lines.append(f"    canon.lower_own(ctx, addr, scope.{table}.insert(value), {const})")
        else:
            unsupported(f"{kind} as a result")
        self.helpers[name] = lines
        return name

    def _lower_record_body(self, body: dict[str, list[dict[str, TypeRef]]]) -> list[str]:
        fields = body["fields"]
        names = ", ".join(f'b"{f["name"]}"' for f in fields)
        names = names if len(fields) > 1 else names + ","
        lines = [f"    fields = canon.lower_record(addr, ({names}))"]
        for i, f in enumerate(fields):
            attr = "value." + snake(str(f["name"]))
            lines.append(f"    {self.lower(f['type'], f'fields[{i}]', attr)}")
        return lines

    def _lower_variant_body(
        self, t: TypeRef, body: dict[str, list[dict[str, TypeRef]]]
    ) -> list[str]:
        tname = self.names.type_name(self.package.resource_id(t))
        lines = []
        for case in body["cases"]:
            cls = tname + camel(str(case["name"]))
            lines.append(f"    if isinstance(value, {cls}):")
            box_lines, box = self.boxed(case["type"], "value.value", "        ")
            lines += box_lines
            lines += [
                f'        canon.lower_variant(addr, b"{case["name"]}", {box})',
                "        return",
            ]
        lines.append(f'    raise TypeError(f"expected a {tname}, got {{value!r}}")')
        return lines

    def render_helpers(self) -> list[str]:
        """Every helper written so far, in name order."""
        lines: list[str] = []
        for name in sorted(self.helpers):
            lines += ["", ""] + self.helpers[name]
        return lines


class Emitter:
    """What the emitters of a module share: the package, its names and its codec."""

    def __init__(self, package: Package, names: Names, codec: Codec) -> None:
        self.package = package
        self.names = names
        self.codec = codec
