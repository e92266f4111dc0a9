"""The code that reads (lifts) and writes (lowers) values of each WIT type.

Simple types become one call into `kvredis.canon`; the bulk list shapes the keyvalue
functions use get its one-pass functions; anything else gets a helper function in the module
(`_lift_option_string`, `_lower_key_response`...), written once and shared by every function
that needs it. Generated code sees `tables` (the handle tables) and `ctx` (the store context).
"""

from __future__ import annotations

from genbind.model import Package, TypeRef, unsupported
from genbind.naming import PRIMITIVES, Names, camel, snake

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

    # --- lifting (reading) ---------------------------------------------------------------

    def lift(self, t: TypeRef, addr: str) -> str:
        """An expression that reads a value of type t at address `addr`."""
        direct = self._direct(t, _LIFT)
        if direct:
            return f"{direct}({addr})"
        kind, _ = self.package.kind(t)
        if kind == "handle":
            mode, rid = self.package.handle(t)
            table = f"tables.{self.names.resource_table(rid)}"
            if mode == "borrow":
                return f"{table}.get(canon.lift_borrow(ctx, {addr}))"
            return f"{table}.take(canon.lift_own(ctx, {addr}))"
        return f"{self._lift_helper(t)}(tables, ctx, {addr})"

    def lift_param(self, t: TypeRef, addr: str) -> str:
        """Like `lift`, but a list<u8> parameter is a canon.Blob, read only on demand."""
        return f"canon.Blob({addr})" if self.package.is_bytes(t) else self.lift(t, addr)

    def _lift_helper(self, t: TypeRef) -> str:
        name = f"_lift_{self.names.shape(t)}"
        if name in self.helpers:
            return name
        self.helpers[name] = []  # reserve against recursion
        kind, body = self.package.kind(t)
        ann = self.names.annotation(t)
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
            unsupported(f"{kind} as a parameter")
        self.helpers[name] = lines
        return name

    # --- lowering (writing) --------------------------------------------------------------

    def lower(self, t: TypeRef, addr: str, value: str) -> str:
        """A statement that writes `value` of type t at address `addr`."""
        direct = self._direct(t, _LOWER)
        if direct:
            return f"{direct}({addr}, {value})"
        return f"{self._lower_helper(t)}(tables, ctx, {addr}, {value})"

    def boxed(self, t: TypeRef | None, value: str, indent: str) -> tuple[list[str], str]:
        """Statements putting `value` into a fresh payload box; returns them and the box name."""
        if t is None:
            return [], "None"
        return [f"{indent}box = canon.new_box()", f"{indent}{self.lower(t, 'box', value)}"], "box"

    def _lower_helper(self, t: TypeRef) -> str:
        name = f"_lower_{self.names.shape(t)}"
        if name in self.helpers:
            return name
        self.helpers[name] = []
        kind, body = self.package.kind(t)
        ann = self.names.annotation(t)
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
            lines += self._lower_record_body(body)
        elif kind == "variant":
            lines += self._lower_variant_body(t, body)
        elif kind == "handle":
            mode, rid = self.package.handle(t)
            if mode != "own":
                unsupported("borrow handles in results")
            table = self.names.resource_table(rid)
            const = self.names.resource_type_const(rid)
            lines.append(f"    canon.lower_own(ctx, addr, tables.{table}.insert(value), {const})")
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
        tname = self.names.type_names[self.package.resource_id(t)]
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
