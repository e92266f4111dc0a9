"""A watcher of both keyvalue versions that writes down what it is told.

In the bucket it is given: on-set(b, k, v) stores "<version> set " + v under "seen:k",
on-delete(b, k) stores "<version> delete". It also appends one line per call to key "log"
of bucket "journal" ("<version> SET <key> <value> #<n>" or "<version> DEL <key> #<n>"), so
a test sees every call in order; <n> counts the calls of this instance, so a test sees when
a fresh one took over. A key starting with "trap" makes it trap, after the journal line.
It drops each bucket handle before returning."""

from wit_world.exports import WasiKeyvalueWatcher020Draft, WasiKeyvalueWatcher020Draft2
from wit_world.imports import wasi_keyvalue_store_0_2_0_draft as store_draft
from wit_world.imports import wasi_keyvalue_store_0_2_0_draft2 as store_draft2

Bucket = store_draft.Bucket | store_draft2.Bucket
JOURNAL = "journal"
_calls = 0


def _note(bucket: Bucket, key: str, what: bytes) -> None:
    with bucket:
        bucket.set(f"seen:{key}", what)


def _journal(store: object, version: str, line: str) -> None:
    global _calls
    _calls += 1
    with store.open(JOURNAL) as journal:  # type: ignore[attr-defined]
        before = journal.get("log") or b""
        journal.set("log", before + f"{version} {line} #{_calls}\n".encode())


def _react(store: object, version: str, bucket: Bucket, key: str, value: bytes | None) -> None:
    if value is None:
        _journal(store, version, f"DEL {key}")
        _note(bucket, key, f"{version} delete".encode())
    else:
        _journal(store, version, f"SET {key} {value.decode(errors='replace')}")
        _note(bucket, key, f"{version} set ".encode() + value)
    if key.startswith("trap"):
        raise RuntimeError(f"asked to trap on {key}")


class WasiKeyvalueWatcher020Draft(WasiKeyvalueWatcher020Draft):
    def on_set(self, bucket: store_draft.Bucket, key: str, value: bytes) -> None:
        _react(store_draft, "draft", bucket, key, value)

    def on_delete(self, bucket: store_draft.Bucket, key: str) -> None:
        _react(store_draft, "draft", bucket, key, None)


class WasiKeyvalueWatcher020Draft2(WasiKeyvalueWatcher020Draft2):
    def on_set(self, bucket: store_draft2.Bucket, key: str, value: bytes) -> None:
        _react(store_draft2, "draft2", bucket, key, value)

    def on_delete(self, bucket: store_draft2.Bucket, key: str) -> None:
        _react(store_draft2, "draft2", bucket, key, None)
