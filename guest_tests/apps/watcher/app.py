"""A watcher of both keyvalue versions that writes down what it is told, in the bucket it is
given: on-set(b, k, v) stores "<version> set " + v under "seen:k", on-delete(b, k) stores
"<version> delete". It drops each bucket handle before returning."""

from wit_world.exports import WasiKeyvalueWatcher020Draft, WasiKeyvalueWatcher020Draft2
from wit_world.imports import wasi_keyvalue_store_0_2_0_draft as store_draft
from wit_world.imports import wasi_keyvalue_store_0_2_0_draft2 as store_draft2

Bucket = store_draft.Bucket | store_draft2.Bucket


def _note(bucket: Bucket, key: str, what: bytes) -> None:
    with bucket:
        bucket.set(f"seen:{key}", what)


class WasiKeyvalueWatcher020Draft(WasiKeyvalueWatcher020Draft):
    def on_set(self, bucket: store_draft.Bucket, key: str, value: bytes) -> None:
        _note(bucket, key, b"draft set " + value)

    def on_delete(self, bucket: store_draft.Bucket, key: str) -> None:
        _note(bucket, key, b"draft delete")


class WasiKeyvalueWatcher020Draft2(WasiKeyvalueWatcher020Draft2):
    def on_set(self, bucket: store_draft2.Bucket, key: str, value: bytes) -> None:
        _note(bucket, key, b"draft2 set " + value)

    def on_delete(self, bucket: store_draft2.Bucket, key: str) -> None:
        _note(bucket, key, b"draft2 delete")
