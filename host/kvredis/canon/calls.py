"""Calling a guest's exported function with arguments lowered in place.

wasmtime-py's `Func.__call__` re-reads the function's type and converts each argument through
its generic conversion (a ``list<u8>`` one Python call per byte). Here the generated callers
write the arguments straight into a ``wasmtime_component_val_t`` array with the same lowering
functions the host functions use, and call `wasmtime_component_func_call` on it, as
wasmtime-py does underneath: wasmtime only reads the arguments, and they are freed after.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from ctypes import c_void_p

from wasmtime import Store
from wasmtime import _ffi as ffi
from wasmtime.component import Func, Instance
from wasmtime.component._enter import enter_wasm

from kvredis.canon.c_api import VAL_SIZE, val_delete

LowerArgs = Callable[[int, int], None]
"""Writes a call's arguments: (store context, address of the first argument)."""


class ExportFunc:
    """One exported function of an interface, without results, of one instance.

    Like any call into the instance, a call here needs the store's deadline armed and no
    other call running on the instance; wasmtime errors (a trap, the guest's exit) propagate
    as wasmtime-py raises them.
    """

    def __init__(
        self, instance: Instance, store: Store, interface: str, name: str, params: int
    ) -> None:
        self.name = f"{interface}#{name}"
        parent = instance.get_export_index(store, interface)
        index = instance.get_export_index(store, name, parent) if parent is not None else None
        func = instance.get_func(store, index) if index is not None else None
        if func is None:
            raise LookupError(f"the component does not export {self.name}")
        ty = func.type(store)
        if len(ty.params) != params or ty.result is not None:
            raise LookupError(f"the component's {self.name} does not have the expected type")
        self._func: Func = func
        self._store = store
        self._params = params

    def call(self, lower_args: LowerArgs | None) -> None:
        """Lower the arguments with `lower_args`, call, and run the guest's post-return."""
        n = self._params
        args = (ffi.wasmtime_component_val_t * n)()  # zeroed: each a `false`, nothing to free
        addr = ctypes.addressof(args)
        context = self._store._context()
        func_ref = ctypes.byref(self._func._func)
        try:
            if lower_args is not None:
                lower_args(ctypes.cast(context, c_void_p).value or 0, addr)
            enter_wasm(
                lambda: ffi.wasmtime_component_func_call(func_ref, context, args, n, None, 0)
            )
        finally:
            for i in range(n):
                val_delete(addr + i * VAL_SIZE)
        self._func.post_return(self._store)
