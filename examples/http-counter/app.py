"""The Python twin of wasmCloud's http-keyvalue-counter: GET /NAME adds one to NAME in the
bucket `counter` (or the one `?bucket=` names; `?bucket=` alone is the bucket "") and
answers the new count. Any other method gets 405; GET / gets 404."""

from urllib.parse import parse_qs, urlsplit

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import atomics, store
from wit_world.imports.types import (
    Fields,
    Method_Get,
    OutgoingBody,
    OutgoingResponse,
    ResponseOutparam,
)


def respond(response_out, status, text):
    response = OutgoingResponse(Fields.from_list([("content-type", b"text/plain")]))
    response.set_status_code(status)
    body = response.body()
    ResponseOutparam.set(response_out, Ok(response))
    with body.write() as sink:
        sink.blocking_write_and_flush(text.encode())
    OutgoingBody.finish(body, None)


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
        query = parse_qs(target.query, keep_blank_values=True)
        bucket_name = query.get("bucket", ["counter"])[0]
        try:
            with store.open(bucket_name) as bucket:
                count = atomics.increment(bucket, name, 1)
        except Err as err:
            respond(response_out, 500, f"keyvalue: {err.value!r}\n")
            return
        respond(response_out, 200, f"{count}\n")
