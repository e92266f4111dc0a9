"""Single operations for the host's own tests: each call performs one thing, answers JSON."""

import json

import kv


def _text(value):
    return None if value is None else value.decode("utf-8", "backslashreplace")


def _drop_bucket_keep_cas(bucket, key):
    """Drop the bucket while CAS handles on it live, then use the handles."""
    first, second = kv.cas_new(bucket, key), kv.cas_new(bucket, key)
    kv.drop(bucket)
    current = kv.cas_current(first)
    kv.swap(second, b"after-drop")
    return _text(current)


def _list_all(bucket):
    keys, pages = kv.list_all(bucket)
    return {"keys": sorted(keys), "pages": len(pages)}


def _list_page(bucket, args):
    cursor = None
    if args:
        cursor = int(args[0]) if kv.VERSION == "draft" else args[0]
    keys, cursor = kv.list_page(bucket, cursor)
    return {"keys": keys, "cursor": None if cursor is None else str(cursor)}


def _set_many(bucket, args):
    kv.set_many(bucket, [(args[i], args[i + 1].encode()) for i in range(0, len(args), 2)])


def _get_many(bucket, args):
    return [
        None if item is None else [item[0], _text(item[1])] for item in kv.get_many(bucket, args)
    ]


def _get_many_count(bucket, args):
    keys = [f"{args[0]}{i}" for i in range(int(args[1]))]
    found = kv.get_many(bucket, keys)
    return {"asked": len(keys), "found": sum(item is not None for item in found)}


def _incr_loop(bucket, args):
    last = None
    for _ in range(int(args[1])):
        last = kv.increment(bucket, args[0], 1)
    return last


OPS = {
    "open": lambda b, a: None,
    "get": lambda b, a: _text(kv.get(b, a[0])),
    "get-len": lambda b, a: None if (v := kv.get(b, a[0])) is None else len(v),
    "set": lambda b, a: kv.set_(b, a[0], a[1].encode()),
    "set-size": lambda b, a: kv.set_(b, a[0], b"x" * int(a[1])),
    "delete": lambda b, a: kv.delete(b, a[0]),
    "exists": lambda b, a: kv.exists(b, a[0]),
    "list-page": _list_page,
    "list-all": lambda b, a: _list_all(b),
    "increment": lambda b, a: kv.increment(b, a[0], int(a[1])),
    "incr-loop": _incr_loop,
    "get-many": _get_many,
    "get-many-count": _get_many_count,
    "set-many": _set_many,
    "delete-many": lambda b, a: kv.delete_many(b, list(a)),
    "cas-bump": lambda b, a: kv.cas_increment(b, a[0], int(a[1])),
    "cas-drop": lambda b, a: [kv.drop(kv.cas_new(b, a[0])) for _ in range(int(a[1]))] and None,
    "cas-outlives-bucket": lambda b, a: _drop_bucket_keep_cas(b, a[0]),
}


def call(bucket_name, op, args):
    if op not in OPS:
        return json.dumps({"err": "unknown-op", "message": op})
    try:
        bucket = kv.open_bucket(bucket_name)
        try:
            result = OPS[op](bucket, args)
        finally:
            if op != "cas-outlives-bucket":
                kv.drop(bucket)
    except kv.KvError as err:
        return json.dumps({"err": err.kind, "message": err.message})
    except kv.CasFailed:
        return json.dumps({"err": "cas-failed", "message": ""})
    return json.dumps({"ok": result})
