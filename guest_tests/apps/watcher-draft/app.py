"""A watcher of wasi:keyvalue 0.2.0-draft alone: each call appends "SET <key> <value>" or
"DEL <key>" to key "log" of bucket "journal"."""

from wit_world import exports
from wit_world.imports import store


def _append(line: str) -> None:
    with store.open("journal") as journal:
        journal.set("log", (journal.get("log") or b"") + line.encode() + b"\n")


class Watcher(exports.Watcher):
    def on_set(self, bucket: store.Bucket, key: str, value: bytes) -> None:
        with bucket:
            _append(f"SET {key} {value.decode(errors='replace')}")

    def on_delete(self, bucket: store.Bucket, key: str) -> None:
        with bucket:
            _append(f"DEL {key}")
