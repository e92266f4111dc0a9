"""Version-neutral wasi:keyvalue for the conformance cases, over componentize-py's bindings.

The same source is built against 0.2.0-draft and 0.2.0-draft2; the generated modules share
their names, so only cursor types, increment ranges and CAS differ, and `VERSION` says which.
"""

from componentize_py_types import Err
from wit_world.imports import atomics, batch, store

VERSION = "draft2" if hasattr(atomics, "swap") else "draft"
HAS_CAS = VERSION == "draft2"


class KvError(Exception):
    """A WIT `error`: kind is no-such-store, access-denied or other."""

    def __init__(self, kind, message=""):
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.message = message


class CasFailed(Exception):
    def __init__(self, cas):
        super().__init__("cas-failed")
        self.cas = cas


def translate(error):
    if isinstance(error, store.Error_NoSuchStore):
        return KvError("no-such-store")
    if isinstance(error, store.Error_AccessDenied):
        return KvError("access-denied")
    if isinstance(error, store.Error_Other):
        return KvError("other", error.value)
    return KvError("unknown", repr(error))


def call(fn, *args):
    try:
        return fn(*args)
    except Err as err:
        raise translate(err.value) from None


def open_bucket(name):
    return call(store.open, name)


def get(bucket, key):
    return call(bucket.get, key)


def set_(bucket, key, value):
    call(bucket.set, key, value)


def delete(bucket, key):
    call(bucket.delete, key)


def exists(bucket, key):
    return call(bucket.exists, key)


def list_page(bucket, cursor):
    response = call(bucket.list_keys, cursor)
    return list(response.keys), response.cursor


def list_all(bucket, limit=10_000):
    """Every key of the bucket, and the size of each page."""
    keys, pages, cursor = [], [], None
    for _ in range(limit):
        page, cursor = list_page(bucket, cursor)
        keys += page
        pages.append(len(page))
        if cursor is None:
            return keys, pages
    raise AssertionError(f"list-keys did not finish within {limit} pages")


def increment(bucket, key, delta):
    return call(atomics.increment, bucket, key, delta)


def get_many(bucket, keys):
    return call(batch.get_many, bucket, keys)


def set_many(bucket, items):
    call(batch.set_many, bucket, items)


def delete_many(bucket, keys):
    call(batch.delete_many, bucket, keys)


def cas_new(bucket, key):
    return call(atomics.Cas.new, bucket, key)


def cas_current(cas):
    return call(cas.current)


def swap(cas, value):
    try:
        atomics.swap(cas, value)
    except Err as err:
        if isinstance(err.value, atomics.CasError_CasFailed):
            raise CasFailed(err.value.value) from None
        raise translate(err.value.value) from None


def cas_increment(bucket, key, times):
    """Add `times` to the decimal counter at `key` with cas + swap; returns the retries."""
    retries = 0
    for _ in range(times):
        cas = cas_new(bucket, key)
        while True:
            value = str(int(cas_current(cas) or b"0") + 1).encode()
            try:
                swap(cas, value)
                break
            except CasFailed as failed:
                retries += 1
                cas = failed.cas
    return retries


def drop(resource):
    resource.__exit__(None, None, None)
