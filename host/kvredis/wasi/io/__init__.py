"""wasi:io: errors, pollables and streams."""
