"""The host side of a world's imports: WIT types as Python classes, a Protocol per interface
and per resource for the host to implement, handle tables, and `add_*_to_linker` functions
that register every function as a raw callback lifting its arguments and lowering its result.
"""

from __future__ import annotations

from typing import Any

from genbind.codec import Emitter
from genbind.model import Function, Interface, unsupported
from genbind.naming import camel, snake


class ImportsEmitter(Emitter):
    def exported_names(self) -> list[str]:
        """What the imports side adds to the module's `__all__`."""
        p, n = self.package, self.names
        return [
            "Err",
            "Tables",
            "PACKAGE",
            "IMPORTS",
            "add_to_linker",
            *n.type_names.values(),
            *(n.resource_class(r) for r in p.resources_in_imports()),
            *(n.interface_class(p.interfaces[i]) for i in p.imports),
        ]

    def render(self) -> list[str]:
        p = self.package
        out: list[str] = []
        for i in sorted(self.names.type_names):
            out += self.render_type(i)
        for rid in p.resources_in_imports():
            out += self.render_resource_protocol(rid)
        for iid in p.imports:
            out += self.render_interface_protocol(p.interfaces[iid])
        out += self.render_tables()
        for iid in p.imports:
            out += self.render_linker(p.interfaces[iid])
        out += self.render_add_to_linker()
        return out

    # --- types and protocols -------------------------------------------------------------

    def render_type(self, i: int) -> list[str]:
        t = self.package.types[i]
        name = self.names.type_names[i]
        kind, body = self.package.kind(i)
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
                lines += ["", "", "@dataclass(frozen=True, slots=True)", f"class {cls}:"]
                lines.append(f'    """`{t["name"]}::{case["name"]}`."""')
                if case["type"] is not None:
                    lines += ["", f"    value: {self.names.annotation(case['type'])}"]
            lines += ["", "", f"{name} = {' | '.join(cases)}"]
            return lines
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
            ret = n.annotation(body["ok"]) if body["ok"] is not None else "None"
            if body["err"] is not None:
                doc.append(f"Raise `Err({n.annotation(body['err'])})` for the err case.")
        else:
            ret = n.annotation(result)
        return args, ret, doc

    def render_protocol(self, cls: str, doc: str, fns: list[Function], methods: bool) -> list[str]:
        lines = ["", "", f"class {cls}(Protocol):", f'    """{doc}"""']
        for fn in fns:
            args, ret, notes = self.signature(fn, skip_self=methods)
            sep = ", " if args else ""
            lines += ["", f"    def {self.names.method_name(fn)}(self{sep}{args}) -> {ret}:"]
            note = " ".join([f"`{fn['name']}`."] + notes)
            lines += [f'        """{note}"""', "        ..."]
        return lines

    def render_resource_protocol(self, rid: int) -> list[str]:
        p = self.package
        owner = p.interfaces[p.owner(rid)]
        doc = f"Host side of resource `{p.types[rid]['name']}` of {p.qualified(owner)}."
        return self.render_protocol(
            self.names.resource_class(rid), doc, p.resource_methods(rid), methods=True
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
            '    """Handle tables of one component instance, one per resource."""',
            "",
        ]
        lines.append("    def __init__(self) -> None:")
        for rid in p.resources_in_imports():
            lines.append(
                f"        self.{n.resource_table(rid)}: HandleTable[{n.resource_class(rid)}]"
                f' = HandleTable("{p.types[rid]["name"]}")'
            )
        return lines

    # --- registration --------------------------------------------------------------------

    def render_linker(self, iface: Interface) -> list[str]:
        p, n = self.package, self.names
        const = n.interface_const(iface)
        cls = n.interface_class(iface)
        lines = [
            "",
            "",
            f"def add_{snake(iface['name'])}_to_linker("
            f"root: LinkerInstance, host: {cls}, tables: Tables) -> None:",
            f'    """Define every function of {p.qualified(iface)} in a linker."""',
            f"    with root.add_instance({const}) as instance:",
        ]
        for rid in p.resources:
            if p.owner(rid) == p.interfaces.index(iface):
                lines.append(
                    f"        instance.add_resource({p.types[rid]['name']!r}, "
                    f"ResourceType.host({n.resource_type_const(rid)}), "
                    f"tables.{n.resource_table(rid)}.drop)"
                )
        for fn in iface["functions"].values():
            lines += self.render_function(fn, const)
        return lines

    def render_function(self, fn: Function, const: str) -> list[str]:
        is_method = self.package.is_method(fn)
        pyname = self.names.callback_name(fn)
        lines = ["", f"        def {pyname}(ctx: int, args: int, results: int) -> None:"]
        call_args = []
        for i, param in enumerate(fn["params"]):
            var = "self_" if is_method and i == 0 else f"arg_{snake(param['name'])}"
            addr = "args" if i == 0 else f"args + {i} * VAL_SIZE"
            lines.append(f"            {var} = {self.codec.lift_param(param['type'], addr)}")
            if not (is_method and i == 0):
                call_args.append(var)
        target = "self_" if is_method else "host"
        call = f"{target}.{self.names.method_name(fn)}({', '.join(call_args)})"
        lines += self.render_result(fn.get("result"), call)
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
        p, n = self.package, self.names
        params = ", ".join(
            f"{snake(p.interfaces[i]['name'])}: {n.interface_class(p.interfaces[i])}"
            for i in p.imports
        )
        lines = [
            "",
            "",
            f"def add_to_linker(root: LinkerInstance, {params}) -> Tables:",
            f'    """Define all of {p.name} in a linker; returns the new handle tables."""',
            "    tables = Tables()",
        ]
        for i in p.imports:
            name = snake(p.interfaces[i]["name"])
            lines.append(f"    add_{name}_to_linker(root, {name}, tables)")
        lines.append("    return tables")
        return lines
