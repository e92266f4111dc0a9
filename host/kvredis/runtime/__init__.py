"""wasmtime plumbing: the engine and compiled-component cache, what a component imports and
exports, plain values for its functions, linking, instances and calls."""
