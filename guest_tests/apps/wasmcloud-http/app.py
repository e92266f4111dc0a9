"""An HTTP handler of wasmCloud's host interfaces: GET /KEY?link=NAME logs the request
(info, context "http"), picks link NAME for wasi:keyvalue/store when given, stores the
wasi:config value "greeting" under KEY in bucket "web", and answers that value; an error
of `open` or `set` answers 500 with its text."""

from urllib.parse import parse_qs, urlsplit

from componentize_py_types import Err
from httpkit import respond
from wit_world import exports
from wit_world.imports import lattice, logging, wasi_config_store, wasi_keyvalue_store


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request, response_out):
        target = urlsplit(request.path_with_query() or "/")
        logging.log(logging.Level.INFO, "http", f"GET {target.path}")
        link = parse_qs(target.query).get("link")
        if link:
            interface = lattice.CallTargetInterface("wasi", "keyvalue", "store")
            lattice.set_link_name(link[0], [interface])
        greeting = wasi_config_store.get("greeting") or ""
        try:
            with wasi_keyvalue_store.open("web") as bucket:
                bucket.set(target.path.lstrip("/"), greeting.encode())
        except Err as err:
            respond(response_out, 500, f"{getattr(err.value, 'value', err.value)}\n")
            return
        respond(response_out, 200, greeting)
