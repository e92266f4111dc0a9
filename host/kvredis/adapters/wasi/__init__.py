"""Adapters from the generated WASI 0.2 + wasi:http bindings to kvredis's own WASI core
(`kvredis.wasi`): thin classes per resource and a host per interface, gathered per instance
in a `WasiScope`. `add_wasi_to_linker` defines all of it in a linker."""

from __future__ import annotations

from wasmtime.component import LinkerInstance

from kvredis import canon
from kvredis._wit import Scopes
from kvredis.adapters.wasi.cli import GuestExit
from kvredis.adapters.wasi.scope import WasiScope
from kvredis.bindings import (
    wasi_cli,
    wasi_clocks,
    wasi_filesystem,
    wasi_http,
    wasi_io,
    wasi_random,
    wasi_sockets,
)
from kvredis.wasi import GuestMisuse, Interrupted

# The core's rules whose breach the WIT makes a trap, and a wait the host ended: both trap.
canon.trap_on(GuestMisuse, Interrupted)


def add_wasi_to_linker(root: LinkerInstance, scopes: Scopes[WasiScope]) -> None:
    """Define all of WASI 0.2 (io, clocks, random, cli, filesystem, sockets) and
    wasi:http/types and outgoing-handler in a linker, for instances whose scope is found in
    `scopes` by their store."""
    # One call per package, not a loop: so mypy checks WasiScope against each one's Scope.
    wasi_io.add_to_linker(root, scopes)
    wasi_clocks.add_to_linker(root, scopes)
    wasi_random.add_to_linker(root, scopes)
    wasi_cli.add_to_linker(root, scopes)
    wasi_filesystem.add_to_linker(root, scopes)
    wasi_sockets.add_to_linker(root, scopes)
    wasi_http.add_to_linker(root, scopes)


__all__ = ["GuestExit", "WasiScope", "add_wasi_to_linker"]
