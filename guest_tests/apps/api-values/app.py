"""Values of every WIT shape, for the tests of `Component.call`'s value mapping."""

import sys

import wit_world
from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import store


def _error_text(error):
    return type(error).__name__.rsplit("_", 1)[-1].lower() + (
        f": {error.value}" if getattr(error, "value", None) is not None else ""
    )


class WitWorld(wit_world.WitWorld):
    def make_point(self, x, y, label):
        return wit_world.Point(x, y, label)

    def swap(self, pair):
        return (pair[1], pair[0])

    def successor(self, n):
        return None if n is None else n + 1

    def checked_div(self, a, b):
        if b == 0:
            raise Err("division by zero")
        return a // b

    def reject(self, code):
        if code == 0:
            return "accepted"
        raise Err(wit_world.Point(code, -1, "rejected"))

    def unit_result(self, fail):
        if fail:
            raise Err(None)

    def grow(self, s):
        if isinstance(s, wit_world.Shape_Circle):
            return wit_world.Shape_Circle(s.value * 2)
        if isinstance(s, wit_world.Shape_Square):
            p = s.value
            return wit_world.Shape_Square(wit_world.Point(p.x * 2, p.y * 2, p.label))
        return wit_world.Shape_Circle(1.0)

    def next_color(self, c):
        members = list(wit_world.Color)
        return members[(members.index(c) + 1) % len(members)]

    def invert(self, p):
        every = wit_world.Perms.READ | wit_world.Perms.WRITE | wit_world.Perms.EXEC
        return every & ~p

    def reverse_bytes(self, data):
        return bytes(reversed(data))

    def halves(self, items):
        return [Ok(n // 2) if n % 2 == 0 else Err(f"{n} is odd") for n in items]

    def load(self, bucket, key):
        try:
            with store.open(bucket) as handle:
                return handle.get(key)
        except Err as err:
            raise Err(_error_text(err.value)) from None

    def save(self, bucket, key, value):
        try:
            with store.open(bucket) as handle:
                handle.set(key, value)
        except Err as err:
            raise Err(_error_text(err.value)) from None


class Run(exports.Run):
    def run(self):
        args = sys.argv[1:]
        print("out: " + " ".join(args))
        print("err: " + " ".join(args), file=sys.stderr)
        if "fail" in args:
            raise Err(None)
