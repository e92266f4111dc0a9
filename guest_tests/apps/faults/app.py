"""A guest for the fault, hostile-input, concurrency and property tests.

`incr_for` keeps incrementing through errors and reports what was acknowledged, so a test can
kill the server under it and check the counter. `script` runs a whole list of operations in one
call (JSON in, JSON out), so a test can drive many operations without a host round trip each.
Values travel as hex strings; keys and bucket names as JSON strings (any Unicode scalar value).
"""

import json
import time

from componentize_py_types import Err
from wit_world import WitWorld as Base
from wit_world.imports import atomics, batch, store

_MAX_MESSAGES = 8


def _kind(error):
    if isinstance(error, store.Error_NoSuchStore):
        return {"err": "no-such-store", "message": ""}
    if isinstance(error, store.Error_AccessDenied):
        return {"err": "access-denied", "message": ""}
    if isinstance(error, store.Error_Other):
        return {"err": "other", "message": error.value}
    return {"err": "unknown", "message": repr(error)}


def _hex(value):
    return None if value is None else value.hex()


class _Script:
    """The state of one `script` call: the current bucket and the live CAS handles by slot."""

    def __init__(self, bucket_name):
        self.bucket = store.open(bucket_name)
        self.dropped = []
        self.cas = {}

    def run(self, op, args):
        try:
            return {"ok": getattr(self, "op_" + op.replace("-", "_"))(*args)}
        except Err as err:
            value = err.value
            if isinstance(value, atomics.CasError_CasFailed):
                self.cas[args[0]] = value.value
                return {"err": "cas-failed", "message": ""}
            if isinstance(value, atomics.CasError_StoreError):
                return _kind(value.value)
            return _kind(value)

    # --- store --------------------------------------------------------------------------

    def op_open(self, name):
        """Open another bucket and use it from now on (the previous one stays open)."""
        self.bucket = store.open(name)

    def op_get(self, key):
        return _hex(self.bucket.get(key))

    def op_get_len(self, key):
        value = self.bucket.get(key)
        return None if value is None else len(value)

    def op_set(self, key, value):
        self.bucket.set(key, bytes.fromhex(value))

    def op_set_size(self, key, size):
        self.bucket.set(key, b"x" * size)

    def op_delete(self, key):
        self.bucket.delete(key)

    def op_exists(self, key):
        return self.bucket.exists(key)

    def op_list_page(self, cursor):
        page = self.bucket.list_keys(cursor)
        return {"keys": list(page.keys), "cursor": page.cursor}

    def op_list_all(self, limit=100_000):
        keys, cursor = [], None
        for _ in range(limit):
            page = self.bucket.list_keys(cursor)
            keys += page.keys
            cursor = page.cursor
            if cursor is None:
                return sorted(set(keys))
        return {"unfinished": len(keys)}

    def op_sleep_until(self, wall_time):
        """Wait until the wall clock reads `wall_time` (seconds since the epoch)."""
        time.sleep(max(0.0, wall_time - time.time()))

    # --- atomics ------------------------------------------------------------------------

    def op_increment(self, key, delta):
        return atomics.increment(self.bucket, key, delta)

    def op_incr_loop(self, key, times):
        last = None
        for _ in range(times):
            last = atomics.increment(self.bucket, key, 1)
        return last

    def op_cas(self, slot, key):
        """Take a CAS handle on `key` into `slot`; answers its snapshot."""
        self.cas[slot] = atomics.Cas.new(self.bucket, key)
        return _hex(self.cas[slot].current())

    def op_cas_current(self, slot):
        return _hex(self.cas[slot].current())

    def op_swap(self, slot, value):
        """Swap through the handle in `slot`; on cas-failed the slot holds the new handle."""
        handle = self.cas.pop(slot)
        atomics.swap(handle, bytes.fromhex(value))

    def op_drop_cas(self, slot):
        self.cas.pop(slot).__exit__(None, None, None)

    def op_cas_bump(self, key, times):
        """Add one to a decimal counter `times` times by CAS loops; answers the retries."""
        retries = 0
        for _ in range(times):
            cas = atomics.Cas.new(self.bucket, key)
            while True:
                value = str(int(cas.current() or b"0") + 1).encode()
                try:
                    atomics.swap(cas, value)
                    break
                except Err as err:
                    if not isinstance(err.value, atomics.CasError_CasFailed):
                        raise
                    retries += 1
                    cas = err.value.value
        return retries

    def op_cas_drop_many(self, key, times):
        for _ in range(times):
            atomics.Cas.new(self.bucket, key).__exit__(None, None, None)

    def op_drop_bucket(self):
        """Drop the current bucket handle; CAS handles taken on it stay in their slots."""
        self.bucket.__exit__(None, None, None)
        self.dropped.append(self.bucket)

    def op_use_dropped_bucket(self, key):
        """Misuse on purpose: call a method of a bucket object dropped earlier."""
        return _hex(self.dropped[-1].get(key))

    def op_stale_bucket(self, key):
        """Forge a stale handle: drop a bucket, then call it through its old handle index."""
        bucket = store.open("stale")
        index = bucket.handle
        bucket.__exit__(None, None, None)
        bucket.handle = index
        return _hex(bucket.get(key))

    def op_forged_bucket(self, index, key):
        """Call a bucket method through a handle index this guest never received."""
        bucket = store.Bucket.__new__(store.Bucket)
        bucket.handle = index
        return _hex(bucket.get(key))

    def op_cas_as_bucket(self, key):
        """Pass the handle index of a CAS handle where a bucket is expected."""
        cas = atomics.Cas.new(self.bucket, key)
        bucket = store.Bucket.__new__(store.Bucket)
        bucket.handle = cas.handle
        return _hex(bucket.get(key))

    def op_stale_cas(self, key):
        """Swap consumes the handle; then use the consumed handle's index again."""
        cas = atomics.Cas.new(self.bucket, key)
        index = cas.handle
        atomics.swap(cas, b"1")
        cas.handle = index
        return _hex(cas.current())

    # --- batch --------------------------------------------------------------------------

    def op_get_many(self, keys):
        found = batch.get_many(self.bucket, keys)
        return [None if item is None else [item[0], item[1].hex()] for item in found]

    def op_get_many_count(self, prefix, count):
        keys = [f"{prefix}{i}" for i in range(count)]
        found = batch.get_many(self.bucket, keys)
        present = sum(item is not None for item in found)
        return {"asked": len(keys), "answers": len(found), "found": present}

    def op_set_many(self, items):
        batch.set_many(self.bucket, [(key, bytes.fromhex(value)) for key, value in items])

    def op_delete_many(self, keys):
        batch.delete_many(self.bucket, keys)


class WitWorld(Base):
    def incr_for(self, bucket_name: str, key: str, count: int, millis: int) -> str:
        acknowledged = errors = 0
        last = None
        messages = []
        runs = []  # [ok, n, first start, last start, last end] per run of equal outcomes
        slowest_ok = slowest_error = 0.0
        bucket = store.open(bucket_name)
        stop_at = time.monotonic() + millis / 1000 if millis else None
        for _ in range(count):
            if stop_at is not None and time.monotonic() >= stop_at:
                break
            wall = time.time()
            began = time.monotonic()
            try:
                last = atomics.increment(bucket, key, 1)
                ok = True
            except Err as err:
                ok = False
                text = _kind(err.value)["message"]
                if text not in messages and len(messages) < _MAX_MESSAGES:
                    messages.append(text)
            took = time.monotonic() - began
            if ok:
                acknowledged += 1
                slowest_ok = max(slowest_ok, took)
            else:
                errors += 1
                slowest_error = max(slowest_error, took)
            end = wall + took
            if runs and runs[-1][0] == ok:
                runs[-1][1] += 1
                runs[-1][3] = wall
                runs[-1][4] = end
            else:
                runs.append([ok, 1, wall, wall, end])
        bucket.__exit__(None, None, None)
        return json.dumps(
            {
                "acknowledged": acknowledged,
                "errors": errors,
                "last": last,
                "messages": messages,
                "runs": runs,
                "slowest_ok_s": slowest_ok,
                "slowest_error_s": slowest_error,
            }
        )

    def script(self, bucket_name: str, ops: str) -> str:
        try:
            state = _Script(bucket_name)
        except Err as err:
            return json.dumps([_kind(err.value)])
        return json.dumps([state.run(op[0], op[1:]) for op in json.loads(ops)])
