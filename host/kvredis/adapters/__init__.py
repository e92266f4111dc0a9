"""Thin per-version adapters from the generated bindings to the version-neutral core."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wasmtime.component import LinkerInstance

from kvredis._wit import OneScope, Scopes
from kvredis.adapters import draft, draft2
from kvredis.bindings import keyvalue_draft, keyvalue_draft2
from kvredis.core import BucketOpener


@dataclass(frozen=True)
class KeyvaluePackage:
    """One wasi:keyvalue version: how to define it in a linker, and a new scope (handle
    tables and hosts) for an instance over a core."""

    define: Callable[[LinkerInstance, Scopes[Any]], None]
    new_scope: Callable[[BucketOpener], Any]

    def add_to_linker(self, root: LinkerInstance, core: BucketOpener) -> Any:
        """Define it for a linker whose instances share one scope; returns that scope."""
        scope = self.new_scope(core)
        self.define(root, OneScope(scope))
        return scope


# Every wasi:keyvalue package this host serves, by package name.
PACKAGES = {
    draft.PACKAGE: KeyvaluePackage(keyvalue_draft.add_to_linker, draft.new_scope),
    draft2.PACKAGE: KeyvaluePackage(keyvalue_draft2.add_to_linker, draft2.new_scope),
}

Linkers = dict[str, Callable[[LinkerInstance, BucketOpener], object]]

LINKERS: Linkers = {name: package.add_to_linker for name, package in PACKAGES.items()}

__all__ = ["LINKERS", "PACKAGES", "KeyvaluePackage"]
