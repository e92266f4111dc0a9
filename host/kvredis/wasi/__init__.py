"""kvredis's own WASI 0.2 host: the version-neutral semantics of wasi:io, clocks, random, cli,
filesystem, sockets and http, as plain Python objects.

Why it exists: a component that imports `wasi:http/types` needs `incoming-request`,
`response-outparam` and the `wasi:io` streams and pollables its bodies are made of, and
wasmtime-py cannot create those from Python. So such a component gets all of WASI from here.

Nothing in this package imports wasmtime. Adapters beside the generated bindings call these
objects; the rules they rely on:

- a WIT `result` error is a Python exception (`StreamError`, a `CodedError` such as
  `FilesystemError`, `HttpError` and `SocketError`, `HeaderError`, `UnitError`), which the
  adapter lowers to the `err` case;
- `GuestMisuse` is a rule the WIT says traps (a write above the permitted budget, polling an
  empty list, setting a response twice); `Interrupted` ends a wait the host cancelled. The
  adapter turns both into a trap;
- one `Waker` per component instance: everything that can make a pollable ready notifies it,
  so `poll` sleeps instead of spinning. `WasiContext` holds it with the rest of an instance's
  WASI state.
"""

from kvredis.wasi.context import WasiContext
from kvredis.wasi.errors import CodedError, GuestMisuse, Interrupted

__all__ = ["CodedError", "GuestMisuse", "Interrupted", "WasiContext"]
