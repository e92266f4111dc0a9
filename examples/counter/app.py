"""Count the runs: increment `hits` in bucket `counter` and print the new count.

`bump` does the same for any bucket and key, as a function a host can call."""

from componentize_py_types import Err
from wit_world import WitWorld, exports
from wit_world.imports import atomics, store


def increment(bucket_name: str, key: str, by: int) -> int:
    with store.open(bucket_name) as bucket:
        return atomics.increment(bucket, key, by)


class WitWorld(WitWorld):
    def bump(self, bucket: str, key: str, by: int) -> int:
        try:
            return increment(bucket, key, by)
        except Err as err:
            # The draft error variant: no-such-store, access-denied, or other(message).
            case = type(err.value).__name__.removeprefix("Error_")
            detail = getattr(err.value, "value", None)
            raise Err(f"{case}: {detail}" if detail else case) from None


class Run(exports.Run):
    def run(self) -> None:
        try:
            print(increment("counter", "hits", 1))
        except Err as err:
            print(f"counter: keyvalue error: {err.value}")
            raise Err(None) from None
