"""wasi:http/types: fields, requests, responses, bodies, futures and error codes."""
