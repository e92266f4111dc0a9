"""Typed callers of a world's exports: per exported interface, a class whose methods call the
guest's functions with Python values, lowered through the same `kvredis.canon` code as the
host functions' results.

A resource argument is handed to the guest as an owned handle: the host object enters the
handle table of the instance's scope (the one its imports find) and leaves it when the guest
drops the handle.
"""

from __future__ import annotations

from genbind.codec import Emitter
from genbind.model import Function, Interface, unsupported
from genbind.naming import snake


class ExportsEmitter(Emitter):
    def exported_names(self) -> list[str]:
        """What the exports side adds to the module's `__all__`."""
        p = self.package
        if not p.exports:
            return []
        return ["EXPORTS", *(self.names.exports_class(p.interfaces[i]) for i in p.exports)]

    def render(self) -> list[str]:
        out: list[str] = []
        for iid in self.package.exports:
            out += self.render_caller(self.package.interfaces[iid])
        return out

    def render_caller(self, iface: Interface) -> list[str]:
        p, n = self.package, self.names
        if any(p.is_method(fn) for fn in iface["functions"].values()):
            unsupported(f"resources exported by {p.qualified(iface)}")
        const = n.interface_const(iface)
        functions = list(iface["functions"].values())
        lines = [
            "",
            "",
            f"class {n.exports_class(iface)}:",
            f'    """Calls into a component\'s export of {p.qualified(iface)}.',
            "",
            "    `scope` is the one the same instance's imports find. `interface` is the name the",
            "    component exports it under, when another 0.2.x version. The instance's owner arms",
            "    the store's deadline and makes one call at a time, as for any call.",
            '    """',
            "",
            "    def __init__(",
            "        self,",
            "        instance: wasmtime.component.Instance,",
            "        store: wasmtime.Store,",
            "        scope: Scope,",
            f"        interface: str = {const},",
            "    ) -> None:",
            "        self._scope = scope",
        ]
        for fn in functions:
            lines.append(
                f"        self.{self._attribute(fn)} = canon.ExportFunc("
                f'instance, store, interface, "{fn["name"]}", {len(fn["params"])})'
            )
        for fn in functions:
            lines += self.render_call(fn)
        return lines

    @staticmethod
    def _attribute(fn: Function) -> str:
        return "_" + snake(fn["name"])

    def render_call(self, fn: Function) -> list[str]:
        """A method that lowers its arguments and calls the export."""
        if fn.get("result") is not None:
            unsupported(f"results of exported functions ({fn['name']})")
        params = ", ".join(
            f"{snake(x['name'])}: {self.names.annotation(x['type'])}" for x in fn["params"]
        )
        sep = ", " if params else ""
        lines = [
            "",
            f"    def {snake(fn['name'])}(self{sep}{params}) -> None:",
            f'        """{self._doc(fn)}"""',
        ]
        lowering = self.lowering(fn)
        if not lowering:
            return lines + [f"        self.{self._attribute(fn)}.call(None)"]
        if any("scope" in line for line in lowering):
            lines.append("        scope = self._scope")
        lines += ["", "        def lower_args(ctx: int, args: int) -> None:"]
        lines += [f"            {line}" for line in lowering]
        return lines + ["", f"        self.{self._attribute(fn)}.call(lower_args)"]

    def _doc(self, fn: Function) -> str:
        handles = [
            f"`{snake(x['name'])}`"
            for x in fn["params"]
            if self.package.kind(x["type"])[0] == "handle"
        ]
        if not handles:
            return f"`{fn['name']}`."
        what = "an owned handle" if len(handles) == 1 else "owned handles"
        return f"`{fn['name']}`. The guest receives {', '.join(handles)} as {what}."

    def lowering(self, fn: Function) -> list[str]:
        """Statements writing each argument. Handles go last: once one is in the handle
        table, nothing else in the call can fail before wasmtime takes the arguments."""
        params = list(enumerate(fn["params"]))
        is_handle = [self.package.kind(x["type"])[0] == "handle" for _, x in params]
        ordered = [p for p, h in zip(params, is_handle, strict=True) if not h] + [
            p for p, h in zip(params, is_handle, strict=True) if h
        ]
        return [
            self.codec.lower(
                x["type"], "args" if i == 0 else f"args + {i} * VAL_SIZE", snake(x["name"])
            )
            for i, x in ordered
        ]
