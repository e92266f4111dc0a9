"""The binding generator: typed host bindings for WIT packages, emitted as Python modules.

`model` reads the WIT that wasm-tools resolves to JSON, `naming` turns WIT names into Python
ones, `values` writes the code that lifts and lowers each type, `emit_imports` the host side of
imported interfaces, `emit_exports` typed callers of exported ones, `emit_module` puts one
package's module together, and `main` runs it all (`scripts/gen_bindings.py`).
"""
