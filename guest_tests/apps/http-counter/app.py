"""wasmCloud's http-keyvalue-counter, in Python: GET /NAME increments NAME (bucket `counter`,
or the one in `?bucket=`) through wasi:keyvalue and answers the new count."""

from urllib.parse import parse_qs, urlsplit

from componentize_py_types import Err
from httpkit import respond
from wit_world import exports
from wit_world.imports import atomics, store
from wit_world.imports.types import Method_Get


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request, response_out):
        with request:
            method = request.method()
            target = urlsplit(request.path_with_query() or "/")
        name = target.path.strip("/")
        if not isinstance(method, Method_Get):
            respond(response_out, 405, "only GET counts\n")
            return
        if not name:
            respond(response_out, 404, "GET /NAME counts NAME\n")
            return
        bucket_name = parse_qs(target.query).get("bucket", ["counter"])[0]
        try:
            with store.open(bucket_name) as bucket:
                count = atomics.increment(bucket, name, 1)
        except Err as err:
            respond(response_out, 500, f"keyvalue: {err.value!r}\n")
            return
        respond(response_out, 200, f"{count}\n")
