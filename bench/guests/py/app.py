"""The componentize-py benchmark guest, one source for worlds kvredis:bench/bench (draft) and
bench-cas (draft2): the generated modules share their names, so only CAS differs."""

from wit_world import WitWorld as Base
from wit_world.imports import atomics, monotonic_clock, store

HAS_CAS = hasattr(atomics, "swap")


def _get(bucket, key, value, n):
    for _ in range(n):
        if bucket.get(key) is None:
            raise AssertionError(f"get {key}: no value")


def _set(bucket, key, value, n):
    for _ in range(n):
        bucket.set(key, value)


def _exists(bucket, key, value, n):
    for _ in range(n):
        bucket.exists(key)


def _delete(bucket, key, value, n):
    for _ in range(n):
        bucket.delete(key)


def _increment(bucket, key, value, n):
    for _ in range(n):
        atomics.increment(bucket, key, 1)


def _cas(bucket, key, value, n):
    for _ in range(n):
        cas = atomics.Cas.new(bucket, key)
        cas.current()
        atomics.swap(cas, value)  # consumes the handle


LOOPS = {"cas": _cas} if HAS_CAS else {
    "get": _get,
    "set": _set,
    "exists": _exists,
    "delete": _delete,
    "increment": _increment,
}


class WitWorld(Base):
    def measure(self, op: str, bucket: str, key: str, size: int, n: int) -> int:
        loop = LOOPS[op]
        value = b"v" * size
        with store.open(bucket) as handle:
            if op == "get":
                handle.set(key, value)
            started = monotonic_clock.now()
            loop(handle, key, value, n)
            return monotonic_clock.now() - started
