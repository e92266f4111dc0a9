"""The conformance cases: each checks one promise of DESIGN.md, through wasi:keyvalue only.

Every case works in buckets of its own (a random token in each name), so runs never meet,
and deletes what it wrote when it ends, so running the suite against a shared Redis leaves
nothing behind. What a case cannot delete (during an outage) the host removes by name:
buckets are named `kvc-<run>-<started><nonce>-...`, the format `kvredis.conformance.leftovers`
describes.
"""

import contextlib
import os
import time
import traceback

import kv

CASES = {}
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)


def case(*versions):
    """Register a case, for the given keyvalue versions (default: both)."""

    def register(fn):
        CASES[fn.__name__.replace("_", "-")] = (fn, versions or ("draft", "draft2"))
        return fn

    return register


def names():
    return [name for name, (_, versions) in CASES.items() if kv.VERSION in versions]


class Failed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failed(message)


def expect_error(kind, fn, *args):
    """Run fn and check it answers the WIT error `kind`; returns the error."""
    try:
        result = fn(*args)
    except kv.KvError as err:
        expect(err.kind == kind, f"expected error {kind}, got {err}")
        return err
    raise Failed(f"expected error {kind}, got ok({short(result)})")


def short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Context:
    """Unique bucket names for one case, and cleanup of everything it wrote."""

    def __init__(self, name):
        # Read per case, not at import: componentize-py runs module code at build time.
        run = os.environ.get("KVREDIS_CONFORMANCE_RUN") or os.urandom(3).hex()
        self.token = f"{run}-{int(time.time()):010d}{os.urandom(2).hex()}"
        self.case = name
        self.buckets = []

    def name(self, suffix=""):
        return f"kvc-{self.token}-{suffix}"

    def open(self, suffix="b", raw_name=None):
        bucket = kv.open_bucket(raw_name if raw_name is not None else self.name(suffix))
        self.buckets.append(bucket)
        return bucket

    def cleanup(self):
        # Cleaning up after a failed case must never mask its failure.
        for bucket in self.buckets:
            with contextlib.suppress(Exception):
                keys, _ = kv.list_all(bucket)
                for start in range(0, len(keys), 500):
                    kv.delete_many(bucket, keys[start : start + 500])
            with contextlib.suppress(Exception):
                kv.drop(bucket)


def run(name):
    """Run one case; returns (passed, note)."""
    if name not in CASES or kv.VERSION not in CASES[name][1]:
        return False, f"no case named {name!r} for {kv.VERSION}"
    ctx = Context(name)
    try:
        note = CASES[name][0](ctx)
        return True, note or "ok"
    except Failed as failure:
        return False, str(failure)
    except kv.KvError as err:
        return False, f"unexpected keyvalue error: {err}"
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return False, f"{type(exc).__name__}: {exc} (line {where.lineno})"
    finally:
        ctx.cleanup()


# --- store ---------------------------------------------------------------------------------


@case()
def open_any_identifier(ctx):
    for raw in ["", "plain", "with space", "桶🪣", "g*?[x]\\", "p:q", "a%3Ab", "nul\0inside"]:
        bucket = ctx.open(raw_name=ctx.name(raw))
        expect(kv.get(bucket, "absent") is None, f"fresh bucket {raw!r} is not empty")
    ctx.open(raw_name="")  # the empty identifier itself opens


@case()
def get_missing_is_none(ctx):
    bucket = ctx.open()
    expect(kv.get(bucket, "never-set") is None, "get of a missing key is not none")
    expect(kv.exists(bucket, "never-set") is False, "exists of a missing key is not false")


@case()
def binary_values(ctx):
    bucket = ctx.open()
    value = bytes(range(256)) * 4
    kv.set_(bucket, "bin", value)
    got = kv.get(bucket, "bin")
    expect(got == value, f"binary value changed: {short(got)}")


@case()
def empty_value_is_some(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "empty", b"")
    got = kv.get(bucket, "empty")
    expect(got is not None, "the empty value came back as none")
    expect(got == b"", f"the empty value came back as {short(got)}")
    expect(kv.exists(bucket, "empty"), "exists is false for an empty value")


@case()
def one_mebibyte_value(ctx):
    bucket = ctx.open()
    value = os.urandom(1 << 20)
    kv.set_(bucket, "big", value)
    got = kv.get(bucket, "big")
    expect(got is not None and len(got) == len(value), "the 1 MiB value has the wrong size")
    expect(got == value, "the 1 MiB value changed")


@case()
def unicode_empty_and_glob_keys(ctx):
    bucket = ctx.open()
    keys = ["ключ", "🔑", "a b", "", "tab\tkey", "*", "?", "[a-z]", "back\\slash", "a:b:c", "%"]
    for i, key in enumerate(keys):
        kv.set_(bucket, key, str(i).encode())
    for i, key in enumerate(keys):
        expect(kv.get(bucket, key) == str(i).encode(), f"key {key!r} lost its value")
    listed, _ = kv.list_all(bucket)
    expect(sorted(listed) == sorted(keys), f"list-keys gave {short(sorted(listed), 200)}")


@case()
def overwrite(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "k", b"first")
    kv.set_(bucket, "k", b"second")
    expect(kv.get(bucket, "k") == b"second", "set did not overwrite")


@case()
def delete_and_exists(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "k", b"v")
    expect(kv.exists(bucket, "k"), "exists is false after set")
    kv.delete(bucket, "k")
    expect(not kv.exists(bucket, "k"), "exists is true after delete")
    expect(kv.get(bucket, "k") is None, "get is not none after delete")
    kv.delete(bucket, "k")  # deleting a missing key is fine


@case()
def bucket_isolation(ctx):
    p = ctx.open("p")
    pq = ctx.open("p:q")
    kv.set_(p, "q:r", b"from p")
    kv.set_(pq, "r", b"from p:q")
    expect(kv.get(p, "q:r") == b"from p", "bucket p, key q:r was overwritten")
    expect(kv.get(pq, "r") == b"from p:q", "bucket p:q, key r was overwritten")
    expect(kv.get(p, "r") is None, "bucket p sees a key of bucket p:q")
    p_keys, _ = kv.list_all(p)
    pq_keys, _ = kv.list_all(pq)
    expect(p_keys == ["q:r"], f"bucket p lists {p_keys}")
    expect(pq_keys == ["r"], f"bucket p:q lists {pq_keys}")


@case()
def percent_in_bucket_names(ctx):
    a = ctx.open("a%3Ab")
    b = ctx.open("a:b")
    kv.set_(a, "k", b"percent")
    kv.set_(b, "k", b"colon")
    expect(kv.get(a, "k") == b"percent", "bucket a%3Ab collides with bucket a:b")
    expect(kv.get(b, "k") == b"colon", "bucket a:b collides with bucket a%3Ab")


@case()
def glob_bucket_names_isolated(ctx):
    plain = ctx.open("g")
    star = ctx.open("g*")
    bracket = ctx.open("[g]")
    kv.set_(plain, "one", b"1")
    kv.set_(star, "two", b"2")
    kv.set_(bracket, "three", b"3")
    expect(kv.list_all(star)[0] == ["two"], "bucket g* lists keys of other buckets")
    expect(kv.list_all(plain)[0] == ["one"], "bucket g lists keys of other buckets")
    expect(kv.list_all(bracket)[0] == ["three"], "bucket [g] lists keys of other buckets")


@case()
def list_keys_empty_bucket(ctx):
    keys, _ = kv.list_all(ctx.open())
    expect(keys == [], f"a new bucket lists {keys}")


@case()
def list_keys_full_iteration(ctx):
    bucket = ctx.open()
    expected = {f"key-{i:05d}" for i in range(2500)}
    ordered = sorted(expected)
    for start in range(0, len(ordered), 500):
        kv.set_many(bucket, [(k, k.encode()) for k in ordered[start : start + 500]])
    keys, pages = kv.list_all(bucket)
    expect(len(keys) >= len(expected), f"full iteration returned {len(keys)} of 2500 keys")
    missing = expected - set(keys)
    expect(not missing, f"{len(missing)} keys missing from list-keys, e.g. {sorted(missing)[:3]}")
    expect(set(keys) == expected, "list-keys returned keys that were never set")
    expect(len(pages) > 1, "2500 keys came back in a single page: pages are not bounded")
    expect(max(pages) <= 2000, f"a list-keys page held {max(pages)} keys")
    return f"{len(pages)} pages"


@case("draft2")
def list_keys_malformed_cursor(ctx):
    bucket = ctx.open()
    for cursor in ["not-a-cursor", "-1", "", "1.5", "99999999999999999999999"]:
        expect_error("other", kv.list_page, bucket, cursor)


@case()
def list_keys_returns_keys_without_prefix(ctx):
    bucket = ctx.open("prefixed")
    kv.set_(bucket, "plain", b"x")
    keys, _ = kv.list_all(bucket)
    expect(keys == ["plain"], f"list-keys returned {keys} (prefix not stripped?)")


# --- atomics -------------------------------------------------------------------------------


@case()
def increment_creates_decimal_counter(ctx):
    bucket = ctx.open()
    expect(kv.increment(bucket, "n", 5) == 5, "increment of a missing key did not start at 0")
    expect(kv.increment(bucket, "n", 1) == 6, "the second increment is wrong")
    expect(kv.get(bucket, "n") == b"6", f"the counter is stored as {short(kv.get(bucket, 'n'))}")


@case()
def increment_zero_delta(ctx):
    bucket = ctx.open()
    expect(kv.increment(bucket, "z", 0) == 0, "increment by 0 of a missing key is not 0")
    expect(kv.get(bucket, "z") == b"0", "increment by 0 did not store 0")


@case()
def increment_existing_decimal(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "n", b"41")
    expect(kv.increment(bucket, "n", 1) == 42, "increment of a stored 41 is not 42")


@case()
def increment_non_integer_is_other(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "text", b"abc")
    expect_error("other", kv.increment, bucket, "text", 1)
    expect(kv.get(bucket, "text") == b"abc", "a failed increment changed the value")
    kv.set_(bucket, "float", b"1.5")
    expect_error("other", kv.increment, bucket, "float", 1)


@case()
def increment_overflow_is_other(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "max", str(I64_MAX).encode())
    expect_error("other", kv.increment, bucket, "max", 1)
    expect(kv.get(bucket, "max") == str(I64_MAX).encode(), "an overflowing increment wrote")


@case("draft")
def increment_u64_delta_above_i64_is_other(ctx):
    bucket = ctx.open()
    expect_error("other", kv.increment, bucket, "n", I64_MAX + 1)
    expect_error("other", kv.increment, bucket, "n", 2**64 - 1)
    expect(kv.get(bucket, "n") is None, "a refused increment wrote")


@case("draft")
def increment_below_zero_is_other(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "neg", b"-10")
    expect_error("other", kv.increment, bucket, "neg", 3)
    expect(kv.get(bucket, "neg") == b"-10", "a refused increment changed the value")
    kv.set_(bucket, "edge", b"-3")
    expect(kv.increment(bucket, "edge", 3) == 0, "-3 + 3 is not 0")


@case("draft2")
def increment_negative_delta(ctx):
    bucket = ctx.open()
    expect(kv.increment(bucket, "n", -5) == -5, "increment by -5 of a missing key")
    expect(kv.increment(bucket, "n", 2) == -3, "-5 + 2 is not -3")
    expect(kv.get(bucket, "n") == b"-3", "the negative counter is not stored as decimal")


@case("draft2")
def increment_s64_range(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "min", str(I64_MIN).encode())
    expect_error("other", kv.increment, bucket, "min", -1)
    expect(kv.increment(bucket, "big", I64_MAX) == I64_MAX, "increment by s64 max")
    expect(kv.increment(bucket, "small", I64_MIN) == I64_MIN, "increment by s64 min")


# --- batch ---------------------------------------------------------------------------------


@case()
def get_many_order_none_and_duplicates(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "a", b"A")
    kv.set_(bucket, "b", b"")
    got = kv.get_many(bucket, ["b", "a", "missing", "a"])
    expected = [("b", b""), ("a", b"A"), None, ("a", b"A")]
    expect(got == expected, f"get-many gave {short(got, 200)}")


@case()
def empty_batches(ctx):
    bucket = ctx.open()
    expect(kv.get_many(bucket, []) == [], "get-many of nothing is not empty")
    kv.set_many(bucket, [])
    kv.delete_many(bucket, [])


@case()
def set_many_and_delete_many(ctx):
    bucket = ctx.open()
    items = [(f"k{i}", bytes([i]) * i) for i in range(50)]
    kv.set_many(bucket, items)
    for key, value in items:
        expect(kv.get(bucket, key) == value, f"set-many lost {key}")
    kv.delete_many(bucket, [k for k, _ in items[:25]] + ["never-there"])
    got = kv.get_many(bucket, [k for k, _ in items])
    expect(got[:25] == [None] * 25, "delete-many left keys behind")
    expect(got[25:] == items[25:], "delete-many removed the wrong keys")


@case()
def set_many_duplicate_keys_last_wins(ctx):
    bucket = ctx.open()
    kv.set_many(bucket, [("k", b"first"), ("k", b"last")])
    expect(kv.get(bucket, "k") == b"last", "set-many with a repeated key: the last should win")


# --- compare-and-swap (draft2) -------------------------------------------------------------


@case("draft2")
def cas_swap_succeeds(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "k", b"old")
    cas = kv.cas_new(bucket, "k")
    expect(kv.cas_current(cas) == b"old", "cas.current is not the snapshot")
    kv.swap(cas, b"new")
    expect(kv.get(bucket, "k") == b"new", "swap did not write")


@case("draft2")
def cas_on_absent_key(ctx):
    bucket = ctx.open()
    cas = kv.cas_new(bucket, "k")
    expect(kv.cas_current(cas) is None, "cas.current of a missing key is not none")
    kv.swap(cas, b"created")
    expect(kv.get(bucket, "k") == b"created", "swap on a missing key did not create it")


@case("draft2")
def cas_failure_refreshes_handle(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "k", b"v1")
    cas = kv.cas_new(bucket, "k")
    kv.set_(bucket, "k", b"v2")
    expect(kv.cas_current(cas) == b"v1", "the snapshot moved with the value")
    try:
        kv.swap(cas, b"mine")
    except kv.CasFailed as failed:
        fresh = failed.cas
    else:
        raise Failed("swap succeeded although the value changed")
    expect(kv.get(bucket, "k") == b"v2", "a failed swap wrote")
    expect(kv.cas_current(fresh) == b"v2", "the refreshed handle does not hold the latest value")
    kv.swap(fresh, b"mine")
    expect(kv.get(bucket, "k") == b"mine", "swap with the refreshed handle failed")


@case("draft2")
def cas_delete_between_snapshot_and_swap(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "k", b"x")
    cas = kv.cas_new(bucket, "k")
    kv.delete(bucket, "k")
    try:
        kv.swap(cas, b"y")
    except kv.CasFailed as failed:
        fresh = failed.cas
    else:
        raise Failed("swap succeeded on a deleted key")
    expect(kv.get(bucket, "k") is None, "a failed swap recreated the key")
    expect(kv.cas_current(fresh) is None, "the refreshed handle does not see the deletion")
    kv.swap(fresh, b"z")
    expect(kv.get(bucket, "k") == b"z", "swap after the deletion failed")


@case("draft2")
def cas_created_between_snapshot_and_swap(ctx):
    bucket = ctx.open()
    cas = kv.cas_new(bucket, "k")
    kv.set_(bucket, "k", b"someone")
    try:
        kv.swap(cas, b"me")
    except kv.CasFailed as failed:
        expect(kv.cas_current(failed.cas) == b"someone", "the refreshed handle is stale")
    else:
        raise Failed("swap succeeded although the key was created meanwhile")


@case("draft2")
def cas_retry_loop_counts_exactly(ctx):
    bucket = ctx.open()
    retries = kv.cas_increment(bucket, "counter", 50)
    expect(kv.get(bucket, "counter") == b"50", f"CAS loop ended at {kv.get(bucket, 'counter')}")
    return f"{retries} retries"


@case("draft2")
def cas_handles_dropped_without_swap(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "k", b"v")
    for _ in range(1000):
        kv.drop(kv.cas_new(bucket, "k"))
    expect(kv.get(bucket, "k") == b"v", "dropping CAS handles changed the value")


@case("draft2")
def cas_binary_and_empty_values(ctx):
    bucket = ctx.open()
    kv.set_(bucket, "k", b"")
    cas = kv.cas_new(bucket, "k")
    expect(kv.cas_current(cas) == b"", "the snapshot of an empty value is not some([])")
    kv.swap(cas, bytes(range(256)))
    expect(kv.get(bucket, "k") == bytes(range(256)), "swap of binary data changed it")


# --- resources -----------------------------------------------------------------------------


@case()
def open_drop_cycles(ctx):
    name = ctx.name("cycles")
    for _ in range(3000):
        kv.drop(kv.open_bucket(name))
    bucket = ctx.open("cycles")
    kv.set_(bucket, "still", b"works")
    expect(kv.get(bucket, "still") == b"works", "the host misbehaves after many open/drop")
