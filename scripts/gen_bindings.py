#!/usr/bin/env python3
"""Generate typed host bindings for the vendored wasi:keyvalue packages (`make bindings`).

For each keyvalue package, `wasm-tools component wit --json` resolves the WIT, and the
generator (the `genbind` package beside this file) writes one module to
host/kvredis/bindings/ with:

- Python types for the WIT records and variants;
- a Protocol per imported interface and per resource, for the host to implement;
- a `Tables` of handle tables (one per resource), and an `add_<interface>_to_linker` function
  per interface that registers every function as a raw callback through `kvredis.canon`,
  lifting arguments and lowering results with code specialised to each function's types;
- per exported interface of the `watch-service` world, a typed caller class
  (`WatcherExports`) that lowers its arguments through the same code.

Usage: gen_bindings.py [--check]   (--check: exit 1 when the committed output is stale)
"""

from __future__ import annotations

import sys

from genbind.main import main

if __name__ == "__main__":
    sys.exit(main())
