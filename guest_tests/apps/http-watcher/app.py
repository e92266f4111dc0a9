"""An HTTP handler that also watches keys: on-set and on-delete append "SET <key> <value>"
or "DEL <key>" lines to key "log" of bucket "journal"; GET /journal answers those lines."""

from httpkit import respond
from wit_world import exports
from wit_world.imports import store

JOURNAL = "journal"


def _append(line: str) -> None:
    with store.open(JOURNAL) as journal:
        journal.set("log", (journal.get("log") or b"") + line.encode() + b"\n")


class Watcher(exports.Watcher):
    def on_set(self, bucket: store.Bucket, key: str, value: bytes) -> None:
        with bucket:
            _append(f"SET {key} {value.decode(errors='replace')}")

    def on_delete(self, bucket: store.Bucket, key: str) -> None:
        with bucket:
            _append(f"DEL {key}")


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request, response_out):
        with request:
            path = request.path_with_query() or "/"
        if path != "/journal":
            respond(response_out, 404, "GET /journal\n")
            return
        with store.open(JOURNAL) as journal:
            text = (journal.get("log") or b"").decode(errors="replace")
        respond(response_out, 200, text)
