"""wasi:filesystem: preopened directories with the file operations standard libraries use."""
