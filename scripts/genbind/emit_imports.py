"""The host side of a world's imports: WIT types as Python classes, a Protocol per interface
and per resource for the host to implement, handle tables, the `Scope` host functions find
per instance, and `add_*_to_linker` functions that register every function as a raw callback
lifting its arguments and lowering its result.
"""

from __future__ import annotations

from typing import Any

from genbind.codec import Emitter
from genbind.model import Function, Interface, unsupported
from genbind.naming import camel, snake, upper

_LINE_LENGTH = 100


class ImportsEmitter(Emitter):
    def exported_names(self) -> list[str]:
        """What the imports side adds to the module's `__all__`."""
        p, n = self.package, self.names
        return [
            "Err",
            "Ok",
            "Scope",
            "Tables",
            "PACKAGE",
            "IMPORTS",
            "add_to_linker",
            *n.type_names.values(),
            *(n.resource_class(r) for r in p.resources),
            *(n.interface_class(i) for i in self.hosted()),
        ]

    def hosted(self) -> list[Interface]:
        """Imported interfaces with functions of their own (not only resource methods): each
        has a host object in the scope."""
        p = self.package
        return [p.interfaces[i] for i in p.imports if p.interface_functions(p.interfaces[i])]

    def render(self) -> list[str]:
        p = self.package
        out: list[str] = []
        for i in sorted(self.names.type_names):
            out += self.render_type(i)
        for rid in p.resources:
            out += self.render_resource_protocol(rid)
        for iface in self.hosted():
            out += self.render_interface_protocol(iface)
        out += self.render_tables()
        out += self.render_scope()
        for iid in p.imports:
            out += self.render_linker(p.interfaces[iid])
        out += self.render_add_to_linker()
        return out

    # --- types and protocols -------------------------------------------------------------

    def render_type(self, i: int) -> list[str]:
        t = self.package.types[i]
        name = self.names.type_names[i]
        kind, body = self.package.kind(i)
        head = ["", ""]
        if kind == "record":
            lines = [*head, "@dataclass(slots=True)", f"class {name}:"]
            lines += [f'    """WIT record `{t["name"]}`."""', ""]
            lines += [
                f"    {snake(f['name'])}: {self.names.annotation(f['type'])}"
                for f in body["fields"]
            ]
            return lines
        if kind == "variant":
            lines = []
            cases = []
            for case in body["cases"]:
                cls = name + camel(case["name"])
                cases.append(cls)
                lines += [*head, "@dataclass(frozen=True, slots=True)", f"class {cls}:"]
                lines.append(f'    """`{t["name"]}::{case["name"]}`."""')
                if case["type"] is not None:
                    lines += ["", f"    value: {self.names.annotation(case['type'])}"]
            return lines + ["", "", f"{name} = {' | '.join(cases)}"]
        if kind == "enum":
            lines = [*head, f"class {name}(StrEnum):", f'    """WIT enum `{t["name"]}`."""', ""]
            return lines + [f'    {upper(c["name"])} = "{c["name"]}"' for c in body["cases"]]
        if kind == "flags":
            lines = [*head, f"class {name}(Flag):", f'    """WIT flags `{t["name"]}`."""', ""]
            return lines + [f"    {upper(f['name'])} = auto()" for f in body["flags"]]
        return unsupported(kind)

    def signature(self, fn: Function, skip_self: bool) -> tuple[str, str, list[str]]:
        """(parameters, return annotation, notes for the docstring) of a host function."""
        p, n = self.package, self.names
        params = fn["params"][1:] if skip_self else fn["params"]
        args = ", ".join(f"{snake(x['name'])}: {n.param_annotation(x['type'])}" for x in params)
        result = fn.get("result")
        doc: list[str] = []
        if result is None:
            ret = "None"
        elif p.kind(result)[0] == "result":
            body = p.kind(result)[1]
            ret = n.annotation(body["ok"])
            if body["err"] is not None:
                doc.append(f"Raise `Err({n.annotation(body['err'])})` for the err case.")
            else:
                doc.append("Raise `Err(None)` for the err case.")
        else:
            ret = n.annotation(result)
        return args, ret, doc

    def render_protocol(
        self, cls: str, doc: str, fns: list[Function], methods: bool, drop: bool = False
    ) -> list[str]:
        lines = ["", "", f"class {cls}(Protocol):", f'    """{doc}"""']
        for fn in fns:
            args, ret, notes = self.signature(fn, skip_self=methods)
            sep = ", " if args else ""
            lines += ["", f"    def {self.names.method_name(fn)}(self{sep}{args}) -> {ret}:"]
            lines += _docstring([f"`{fn['name']}`.", *notes], "        ") + ["        ..."]
        if drop:
            lines += [
                "",
                "    def drop(self) -> None:",
                '        """The guest dropped its handle (or the instance ended holding it)."""',
                "        ...",
            ]
        return lines

    def render_resource_protocol(self, rid: int) -> list[str]:
        p = self.package
        owner = p.interfaces[p.owner(rid)]
        doc = f"Host side of resource `{p.types[rid]['name']}` of {p.qualified(owner)}."
        return self.render_protocol(
            self.names.resource_class(rid), doc, p.resource_methods(rid), True, drop=True
        )

    def render_interface_protocol(self, iface: Interface) -> list[str]:
        doc = f"Host side of interface {self.package.qualified(iface)}."
        return self.render_protocol(
            self.names.interface_class(iface),
            doc,
            self.package.interface_functions(iface),
            False,
        )

    def render_tables(self) -> list[str]:
        p, n = self.package, self.names
        lines = [
            "",
            "",
            "class Tables:",
            '    """Handle tables of one component instance, one per resource of this package.',
            "",
            "    Cooperative (`super().__init__()`), so one class may combine the tables of",
            '    several packages, as a scope serving them all does."""',
            "",
            "    def __init__(self) -> None:",
            "        super().__init__()",
        ]
        for rid in p.resources:
            lines.append(
                f"        self.{n.resource_table(rid)}: HandleTable[{n.resource_class(rid)}]"
                f' = HandleTable("{p.types[rid]["name"]}")'
            )
        return lines

    def render_scope(self) -> list[str]:
        p, n = self.package, self.names
        lines = [
            "",
            "",
            "class Scope(Protocol):",
            f'    """What host functions of {p.name} find for the instance that calls them:',
            "    a handle table per resource they pass, and a host per interface with",
            '    functions of its own."""',
        ]
        members = [
            (n.resource_table(rid), f"HandleTable[{n.resource_class(rid)}]")
            for rid in p.resources_used()
        ]
        members += [(n.host_attribute(i), n.interface_class(i)) for i in self.hosted()]
        for attribute, ann in members:
            lines += ["", "    @property", f"    def {attribute}(self) -> {ann}: ..."]
        return lines

    # --- registration --------------------------------------------------------------------

    def render_linker(self, iface: Interface) -> list[str]:
        p, n = self.package, self.names
        const = n.interface_const(iface)
        lines = [
            "",
            "",
            f"def add_{snake(iface['name'])}_to_linker("
            "root: LinkerInstance, scopes: Scopes[Scope]) -> None:",
            f'    """Define every function of {p.qualified(iface)} in a linker."""',
            f"    with root.add_instance({const}) as instance:",
        ]
        for rid in p.resources:
            if p.owner(rid) == p.interfaces.index(iface):
                name = p.types[rid]["name"]
                table = n.resource_table(rid)
                lines += [
                    "        canon.add_resource(",
                    "            instance,",
                    f'            "{name}",',
                    f"            {n.resource_type_const(rid)},",
                    f"            lambda ctx, rep: scopes[ctx].{table}.drop(rep),",
                    f'            f"{{{const}}}#[resource-drop]{name}",',
                    "        )",
                ]
        for fn in iface["functions"].values():
            lines += self.render_function(fn, const, iface)
        return lines

    def render_function(self, fn: Function, const: str, iface: Interface) -> list[str]:
        is_method = self.package.is_method(fn)
        pyname = self.names.callback_name(fn)
        body = []
        call_args = []
        for i, param in enumerate(fn["params"]):
            var = "self_" if is_method and i == 0 else f"arg_{snake(param['name'])}"
            addr = "args" if i == 0 else f"args + {i} * VAL_SIZE"
            body.append(f"            {var} = {self.codec.lift_param(param['type'], addr)}")
            if not (is_method and i == 0):
                call_args.append(var)
        target = "self_" if is_method else f"scope.{self.names.host_attribute(iface)}"
        call = f"{target}.{self.names.method_name(fn)}({', '.join(call_args)})"
        body += self.render_result(fn.get("result"), call)
        lines = ["", f"        def {pyname}(ctx: int, args: int, results: int) -> None:"]
        if any("scope" in line for line in body):
            lines.append("            scope = scopes[ctx]")
        lines += body
        label = f'f"{{{const}}}#{fn["name"]}"'
        lines.append(f'        canon.add_func(instance, "{fn["name"]}", {pyname}, {label})')
        return lines

    def render_result(self, result: Any, call: str) -> list[str]:
        """The call of the host's method, and the lowering of what it returns or raises."""
        codec = self.codec
        if result is None:
            return [f"            {call}"]
        if self.package.kind(result)[0] != "result":
            return [
                f"            ret = {call}",
                f"            {codec.lower(result, 'results', 'ret')}",
            ]
        body = self.package.kind(result)[1]
        pad = "                "
        lines = [
            "            try:",
            f"                {'ret = ' if body['ok'] is not None else ''}{call}",
        ]
        if body["err"] is not None:
            lines.append("            except Err as err:")
            err_lines, err_box = codec.boxed(body["err"], "err.value", pad)
            lines += err_lines + [f"{pad}canon.lower_result(results, False, {err_box})"]
        else:
            lines += ["            except Err:", f"{pad}canon.lower_result(results, False, None)"]
        lines.append(f"{pad}return")
        ok_lines, ok_box = codec.boxed(body["ok"], "ret", "            ")
        return lines + ok_lines + [f"            canon.lower_result(results, True, {ok_box})"]

    def render_add_to_linker(self) -> list[str]:
        p = self.package
        lines = [
            "",
            "",
            "def add_to_linker(root: LinkerInstance, scopes: Scopes[Scope]) -> None:",
            f'    """Define all of {p.name} that components import in a linker; each call',
            '    finds its instance\'s scope in `scopes` by its store context."""',
        ]
        for i in p.imports:
            lines.append(f"    add_{snake(p.interfaces[i]['name'])}_to_linker(root, scopes)")
        return lines


def _docstring(sentences: list[str], indent: str) -> list[str]:
    """A docstring on one line, or its sentences one per line when that is too long."""
    one_line = f'{indent}"""{" ".join(sentences)}"""'
    if len(one_line) <= _LINE_LENGTH or len(sentences) == 1:
        return [one_line]
    first, *rest = sentences
    return [f'{indent}"""{first}', "", *(indent + s for s in rest), f'{indent}"""']
