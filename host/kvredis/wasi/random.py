"""wasi:random: `random` (the OS's CSPRNG), `insecure` and `insecure-seed`, for one instance."""

from __future__ import annotations

import os
import random
import secrets

from kvredis.wasi.errors import GuestMisuse

# One call's list<u8> stays under wasmtime-py's per-call copy cap; a guest wanting more asks
# again (every standard library fills large buffers in a loop).
MAX_RANDOM_BYTES = 2 * 1024 * 1024
_U64_BITS = 64


def _checked_length(length: int) -> int:
    if not 0 <= length <= MAX_RANDOM_BYTES:
        raise GuestMisuse(
            f"random bytes are handed out at most {MAX_RANDOM_BYTES} per call, {length} asked"
        )
    return length


class Random:
    """The three random interfaces. The insecure generator and the seed are per instance:
    the seed is the same on every call, as the WIT intends (hash-map DoS protection)."""

    def __init__(self) -> None:
        self._insecure = random.Random(secrets.randbits(128))
        self._seed = (secrets.randbits(_U64_BITS), secrets.randbits(_U64_BITS))

    def get_random_bytes(self, length: int) -> bytes:
        return os.urandom(_checked_length(length))

    def get_random_u64(self) -> int:
        return secrets.randbits(_U64_BITS)

    def get_insecure_random_bytes(self, length: int) -> bytes:
        return self._insecure.randbytes(_checked_length(length))

    def get_insecure_random_u64(self) -> int:
        return self._insecure.getrandbits(_U64_BITS)

    def insecure_seed(self) -> tuple[int, int]:
        return self._seed
