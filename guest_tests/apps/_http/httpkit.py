"""What the HTTP test guests share: answering a request, and moving bytes through wasi:io
streams as a guest must (within check-write permits, waiting on pollables, dropping each
stream before its body is finished)."""

from componentize_py_types import Err, Ok
from wit_world.imports import streams
from wit_world.imports.types import Fields, OutgoingBody, OutgoingResponse, ResponseOutparam

CHUNK = 65536


def write_all(sink, data):
    """Write every byte of `data`, waiting whenever the stream has no room."""
    view = memoryview(data)
    while view:
        permit = sink.check_write()
        if permit == 0:
            with sink.subscribe() as ready:
                ready.block()
            continue
        sink.write(bytes(view[:permit]))
        view = view[permit:]


def chunks(source):
    """The chunks of an input stream until it closes."""
    while True:
        try:
            yield source.blocking_read(CHUNK)
        except Err as err:
            if isinstance(err.value, streams.StreamError_Closed):
                return
            raise


def start_response(response_out, status, headers=()):
    """Set the response head; returns its body, for `send_body`."""
    response = OutgoingResponse(Fields.from_list(list(headers)))
    response.set_status_code(status)
    body = response.body()
    ResponseOutparam.set(response_out, Ok(response))
    return body


def send_body(body, pieces, trailers=None):
    """Write `pieces` (bytes) into an outgoing body and finish it."""
    with body.write() as sink:
        for piece in pieces:
            write_all(sink, piece)
        sink.blocking_flush()
    OutgoingBody.finish(body, trailers)


def respond(response_out, status, text, content_type=b"text/plain"):
    body = start_response(response_out, status, [("content-type", content_type)])
    send_body(body, [text.encode()])
