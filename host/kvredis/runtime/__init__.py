"""wasmtime plumbing: engine and compiled-component cache, linking, instances and calls."""
