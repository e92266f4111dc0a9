"""An HTTP guest that misbehaves on request:

- /trap traps before setting a response;
- /spin loops forever in guest code (until the host's timeout);
- /silent returns without setting a response;
- /drip?n=N&ms=M sets the head, then writes line i of N every M ms, flushing each;
- POST /size reads the whole body, then answers how many bytes it had;
- /hog allocates 1 MiB blocks and keeps them until memory runs out;
- /seen adds to a module-level list and answers its length (1 in a fresh instance);
  /seen?trap=1 adds, then traps;
- anything else answers 200 "ok".
"""

import time
from urllib.parse import parse_qs, urlsplit

from httpkit import chunks, respond, start_response, write_all
from wit_world import exports
from wit_world.imports.types import IncomingBody, OutgoingBody


def drip(response_out, count, pause_ms):
    body = start_response(response_out, 200, [("content-type", b"text/plain")])
    with body.write() as sink:
        for i in range(count):
            write_all(sink, f"line {i}\n".encode())
            sink.blocking_flush()
            time.sleep(pause_ms / 1000)
    OutgoingBody.finish(body, None)


def size(request, response_out):
    body = request.consume()
    with body.stream() as source:
        total = sum(len(chunk) for chunk in chunks(source))
    with IncomingBody.finish(body):
        pass
    respond(response_out, 200, f"{total}\n")


# Module state: each request's instance must start without what earlier ones added.
SEEN = []


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request, response_out):
        target = urlsplit(request.path_with_query() or "/")
        query = parse_qs(target.query)
        if target.path == "/size":
            size(request, response_out)
            request.__exit__(None, None, None)
            return
        request.__exit__(None, None, None)
        if target.path == "/trap":
            raise RuntimeError("the guest failed on purpose")
        if target.path == "/spin":
            while True:
                pass
        if target.path == "/hog":
            held = []
            while True:
                held.append(bytearray(1 << 20))
        if target.path == "/seen":
            SEEN.append(bytearray(1 << 16))
            if "trap" in query:
                raise RuntimeError("trapped after adding")
            respond(response_out, 200, f"{len(SEEN)}\n")
            return
        if target.path == "/silent":
            return
        if target.path == "/drip":
            drip(response_out, int(query["n"][0]), int(query["ms"][0]))
            return
        respond(response_out, 200, "ok\n")
