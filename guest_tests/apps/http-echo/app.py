"""An HTTP guest for the tests of kvredis's own wasi:http (see its world in guests.wit):

- POST /echo streams the request body back as it arrives, with a trailer `x-echo-bytes`;
- /fetch?url=URL[&timeout-ms=T] sends the request on to URL (its method and body too), with
  T as the connect and first-byte timeouts, and answers JSON: the status, headers and body
  that came back, or {"error": "<error-code case>"};
- GET /misuse finishes its body while the body's stream is still alive, which must trap;
- GET /wasi answers JSON of what the rest of WASI shows it: the environment, the files in
  /data (it reads hello.txt and writes out.txt), and how long a 50 ms sleep took.
"""

import json
import os
import time
from urllib.parse import parse_qs, urlsplit

from componentize_py_types import Err
from httpkit import chunks, respond, send_body, start_response, write_all
from wit_world import exports
from wit_world.imports import outgoing_handler
from wit_world.imports.types import (
    Fields,
    IncomingBody,
    Method_Get,
    Method_Other,
    OutgoingBody,
    OutgoingRequest,
    RequestOptions,
    Scheme_Http,
    Scheme_Https,
)

_NANOS_PER_MS = 1_000_000


def echo(request, response_out):
    body = request.consume()
    total = 0
    out_body = start_response(response_out, 200, [("content-type", b"application/octet-stream")])
    with body.stream() as source, out_body.write() as sink:
        for chunk in chunks(source):
            total += len(chunk)
            write_all(sink, chunk)
        sink.blocking_flush()
    with IncomingBody.finish(body):
        pass
    OutgoingBody.finish(out_body, Fields.from_list([("x-echo-bytes", str(total).encode())]))


def _outgoing(request, url, timeout_ms):
    target = urlsplit(url)
    outgoing = OutgoingRequest(Fields())
    outgoing.set_method(request.method())
    outgoing.set_scheme(Scheme_Https() if target.scheme == "https" else Scheme_Http())
    outgoing.set_authority(target.netloc)
    outgoing.set_path_with_query(target.path + (f"?{target.query}" if target.query else ""))
    options = RequestOptions()
    if timeout_ms is not None:
        options.set_connect_timeout(timeout_ms * _NANOS_PER_MS)
        options.set_first_byte_timeout(timeout_ms * _NANOS_PER_MS)
    return outgoing, options


def _error_name(code):
    return type(code).__name__.removeprefix("ErrorCode_")


def fetch(request, response_out, query):
    timeout = query.get("timeout-ms")
    outgoing, options = _outgoing(request, query["url"][0], int(timeout[0]) if timeout else None)
    outgoing_body = outgoing.body()
    try:
        future = outgoing_handler.handle(outgoing, options)
    except Err as err:
        respond(response_out, 502, json.dumps({"error": _error_name(err.value)}))
        return
    if not isinstance(request.method(), Method_Get):
        incoming_body = request.consume()
        with incoming_body.stream() as source:
            send_body(outgoing_body, chunks(source))
        with IncomingBody.finish(incoming_body):
            pass
    else:
        send_body(outgoing_body, [])
    with future:
        with future.subscribe() as ready:
            ready.block()
        outcome = future.get()
    answer = outcome.value  # Some(Ok(Ok(response) | Err(error-code)))
    if isinstance(answer, Err):
        respond(response_out, 502, json.dumps({"error": _error_name(answer.value)}))
        return
    with answer.value as response:
        with response.headers() as headers:
            seen = [[name, value.decode("latin-1")] for name, value in headers.entries()]
        status = response.status()
        body = response.consume()
        with body.stream() as source:
            text = b"".join(chunks(source)).decode("latin-1")
        with IncomingBody.finish(body):
            pass
    respond(
        response_out,
        200,
        json.dumps({"status": status, "headers": seen, "body": text}),
        b"application/json",
    )


def misuse(response_out):
    body = start_response(response_out, 200)
    sink = body.write()
    write_all(sink, b"the stream is still alive")
    OutgoingBody.finish(body, None)  # traps: the stream, a child of the body, is not dropped
    sink.__exit__(None, None, None)


def wasi(response_out):
    with open("/data/hello.txt") as source:
        greeting = source.read()
    with open("/data/out.txt", "w") as sink:
        sink.write(greeting.upper())
    started = time.monotonic()
    time.sleep(0.05)
    report = {
        "env": dict(os.environ),
        "files": sorted(os.listdir("/data")),
        "hello": greeting,
        "slept_ms": round((time.monotonic() - started) * 1000),
        "wall_clock": time.time(),
    }
    respond(response_out, 200, json.dumps(report), b"application/json")


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request, response_out):
        target = urlsplit(request.path_with_query() or "/")
        method = request.method()
        if target.path == "/echo" and not isinstance(method, (Method_Get, Method_Other)):
            echo(request, response_out)
        elif target.path == "/fetch":
            fetch(request, response_out, parse_qs(target.query))
        elif target.path == "/misuse":
            misuse(response_out)
        elif target.path == "/wasi":
            wasi(response_out)
        else:
            respond(response_out, 404, f"no route {target.path}\n")
        request.__exit__(None, None, None)
