"""A guest that misbehaves on request, for the limit and interruption tests."""

from componentize_py_types import Err
from wit_world import WitWorld as Base
from wit_world.imports import store

_held = []


class WitWorld(Base):
    def spin(self) -> None:
        # Pure computation with no host calls: only epoch interruption can stop it.
        n = 0
        while True:
            n = (n * 31 + 7) % 1_000_003

    def hog(self, mebibytes: int) -> int:
        block = bytearray(mebibytes << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1  # touch every page so the memory is really used
        _held.append(block)
        return mebibytes

    def touch(self, bucket: str) -> str:
        try:
            handle = store.open(bucket)
            with handle:
                handle.set("t", b"touched")
        except Err as err:
            return f"error: {err.value}"
        return "ok"
