"""wasi:random adapters: `random`, `insecure` and `insecure-seed` over the core."""

from __future__ import annotations

from kvredis.wasi.random import Random


class RandomHost:
    """`random`, `insecure` and `insecure-seed`: one object, the three interfaces."""

    def __init__(self, random: Random) -> None:
        self._random = random

    def get_random_bytes(self, len: int) -> bytes:
        return self._random.get_random_bytes(len)

    def get_random_u64(self) -> int:
        return self._random.get_random_u64()

    def get_insecure_random_bytes(self, len: int) -> bytes:
        return self._random.get_insecure_random_bytes(len)

    def get_insecure_random_u64(self) -> int:
        return self._random.get_insecure_random_u64()

    def insecure_seed(self) -> tuple[int, int]:
        return self._random.insecure_seed()
