"""Thin per-version adapters from the generated bindings to the version-neutral core."""

from collections.abc import Callable

from wasmtime.component import LinkerInstance

from kvredis.adapters import draft, draft2
from kvredis.core import KeyValueCore

Linkers = dict[str, Callable[[LinkerInstance, KeyValueCore], object]]

# Every wasi:keyvalue package this host serves, by package name.
LINKERS: Linkers = {
    draft.PACKAGE: draft.add_to_linker,
    draft2.PACKAGE: draft2.add_to_linker,
}

__all__ = ["LINKERS"]
