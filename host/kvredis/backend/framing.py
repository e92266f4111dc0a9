"""How much a RESP2 reply holds, told from its bytes before hiredis builds it.

Pure logic over chunks of bytes, no sockets: the reply parser (reply.py) feeds each chunk
here before hiredis, which would make room for a whole array as soon as it reads its header,
and spends up to sixteen times the bytes that carry them on small elements.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.exceptions import InvalidResponse

# `$<length>\r\n` and the closing `\r\n` of one element, generously.
FRAMING_BYTES = 32
# The longest header line worth reading: a type byte, a 64-bit length and `\r\n`.
HEADER_BYTES = 24
# Status and error lines in replies to kvredis's commands are short; a longer line is no reply.
_MAX_LINE_BYTES = 4096
ARRAY = ord("*")
BULK = ord("$")
_LF = ord("\n")


class ReplyTooLarge(Exception):
    """The reply is bigger than any a guest could be given; it was not read to its end."""


@dataclass(frozen=True, slots=True)
class ReplyBound:
    """What one reply may hold: at most `elements` elements (an array counts as one, and so
    does each of its members) and `data_bytes` bytes of values or keys."""

    elements: int
    data_bytes: int

    @property
    def byte_limit(self) -> int:
        return self.data_bytes + self.elements * FRAMING_BYTES + HEADER_BYTES


class ElementBound:
    """Keeps an array reply within `budget` elements, checked before hiredis sees each chunk.

    hiredis makes room for a whole array as soon as it has read its header, and each small
    element costs it up to sixteen times the bytes that carry it: both must be refused
    before hiredis is fed. Walking every element in Python would cost more than hiredis's
    whole parse, so cheap upper bounds come first. Every line that starts with `*` has its
    length looked at (memchr finds them). Past `COUNT_FROM` bytes, line ends are counted, as
    every element ends at least one line. Only when that count passes twice the budget
    (values holding line ends of their own, or a hostile peer) is the reply walked element
    by element, exactly, from its start.
    """

    COUNT_FROM = 256 * 1024

    __slots__ = ("_edge", "_framing", "_line_ends", "_received", "_seen", "budget")

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._received = 0
        self._line_ends = -1  # not counted yet
        self._edge = b"\n"  # the end of the previous chunk; the reply starts a line
        self._seen: list[bytes] = []
        self._framing: Framing | None = None

    def feed(self, chunk: bytes) -> None:
        if self._framing is None:
            self._seen.append(chunk)
            self._received += len(chunk)
            data = self._edge + chunk
            self._edge = data[-HEADER_BYTES:]
            if not self._may_pass_budget(data, chunk):
                return
            self._framing = Framing(self.budget)
            chunk, self._seen = b"".join(self._seen), []
        self._framing.feed(chunk)

    def _may_pass_budget(self, data: bytes, chunk: bytes) -> bool:
        if _may_announce_more_than(data, self.budget - 1):
            return True
        if self._received < self.COUNT_FROM:
            return False  # too few bytes to hold a harmful number of elements
        if self._line_ends < 0:
            self._line_ends = sum(seen.count(b"\n") for seen in self._seen)
        else:
            self._line_ends += chunk.count(b"\n")
        return self._line_ends > 2 * self.budget + 2


def _may_announce_more_than(data: bytes, most: int) -> bool:
    """Whether a line of `data` that starts with `*` may be an array header of more than
    `most` elements. A header cut by the end of `data` is looked at again with the next
    chunk (`ElementBound` keeps the edge)."""
    pos = data.find(b"*")
    while pos >= 0:
        start = pos + 1
        if pos and data[pos - 1] == _LF:
            end = data.find(b"\r", start, start + HEADER_BYTES)
            if end >= 0:
                try:
                    if int(data[start:end]) > most:
                        return True
                except ValueError:
                    pass  # not a header: part of a value
        pos = data.find(b"*", start)
    return False


class Framing:
    """Follows the framing of one RESP2 reply across chunks without building it, refusing
    more than `max_elements` elements (an array counts as one, and so does each member) and
    an array header of more than `max_array`. A bulk string's payload is skipped by its
    length, so the cost is one step per element, whatever the sizes."""

    __slots__ = ("_line", "_skip", "elements", "max_array", "max_elements")

    def __init__(self, max_elements: int) -> None:
        self.max_elements = max_elements
        self.max_array = max_elements - 1
        self.elements = 0
        self._skip = 0  # payload bytes (and their closing line end) still to pass over
        self._line = b""  # the start of a line that the previous chunk cut

    def feed(self, chunk: bytes) -> None:
        data = self._line + chunk if self._line else chunk
        self._line = b""
        size = len(data)
        pos = 0
        while pos < size:
            if self._skip:
                step = min(self._skip, size - pos)
                pos += step
                self._skip -= step
                continue
            end = data.find(b"\r\n", pos)
            if end < 0:
                if size - pos > _MAX_LINE_BYTES:
                    raise InvalidResponse(f"a reply line of more than {_MAX_LINE_BYTES} bytes")
                self._line = data[pos:]
                return
            kind = data[pos]
            if kind in (BULK, ARRAY):
                length = _length(data[pos + 1 : end])
                if kind == BULK:
                    self._skip = length + 2 if length >= 0 else 0
                elif length > self.max_array:
                    raise ReplyTooLarge(
                        f"an array of {length} elements, where at most {self.max_array} fit"
                    )
            self.elements += 1
            if self.elements > self.max_elements:
                raise ReplyTooLarge(
                    f"a reply of more than {self.max_elements} elements, more than this "
                    "command can get"
                )
            pos = end + 2


def _length(digits: bytes) -> int:
    """The length in a bulk or array header (-1: nil)."""
    if len(digits) < HEADER_BYTES:
        try:
            length = int(digits)
        except ValueError:
            pass
        else:
            if length >= -1:
                return length
    raise InvalidResponse(f"malformed length {digits[:32]!r} in a reply")
