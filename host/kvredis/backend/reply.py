"""Reading one reply within the operation's deadline, and never more of it than can be used.

redis-py bounds each recv by the response timeout, not the reply as a whole: a peer that
trickles an endless reply (a huge `$` length, then a byte now and then) keeps every recv
short and the operation running for ever, and hiredis keeps all of it in memory. This parser
is redis-py's hiredis parser with bounds on every reply:

- an array reply is checked chunk by chunk, before hiredis sees it, against the elements
  the command can get back (`ElementBound`);
- a reply that needs more than one recv must be complete by the operation's deadline
  (`deadline`, set by the pool for each attempt), whatever the per-recv timeout; it is cut
  at once when its first line announces a value above the value limit, and as soon as it
  holds more bytes than its `ReplyBound` allows. The connection, with the rest of the reply,
  is then dropped.

A reply that is no array and arrives in one recv costs what it did, plus one compare.
"""

from __future__ import annotations

import math
import time
from typing import Any

from redis._parsers.hiredis import NOT_ENOUGH_DATA, _HiredisParser
from redis._parsers.socket import SERVER_CLOSED_CONNECTION_ERROR
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.utils import SENTINEL

from kvredis.backend.framing import (
    ARRAY,
    BULK,
    HEADER_BYTES,
    ElementBound,
    ReplyBound,
    ReplyTooLarge,
)

__all__ = ["BoundedReplyParser", "ReplyBound", "ReplyTooLarge"]


class BoundedReplyParser(_HiredisParser):
    """redis-py's hiredis parser with a deadline and bounds on each reply."""

    def __init__(self, socket_read_size: int, *, max_value_bytes: int) -> None:
        super().__init__(socket_read_size)  # type: ignore[no-untyped-call]
        self.max_value_bytes = max_value_bytes
        self.deadline = math.inf  # time.monotonic() by which the reply must be complete
        self.bound = ReplyBound(elements=2, data_bytes=max_value_bytes)  # set by the pool

    def read_response(
        self, disable_decoding: bool = False, push_request: bool = False, timeout: Any = SENTINEL
    ) -> Any:
        if timeout is not SENTINEL:
            # A caller with a timeout of its own (not the pool): redis-py's reading.
            return super().read_response(disable_decoding, push_request, timeout)
        reader = self._reader
        if reader is None:
            raise RedisConnectionError(SERVER_CLOSED_CONNECTION_ERROR)
        decode = not disable_decoding
        try:
            reply = reader.gets(decode)
            if reply is NOT_ENOUGH_DATA:
                reply = self._receive(decode)
        except MemoryError:
            # hiredis makes room for a whole array as soon as it has read its length.
            raise ReplyTooLarge("a reply too large to hold in memory") from None
        if isinstance(reply, RedisConnectionError):
            raise reply
        return reply

    def _receive(self, decode: bool) -> Any:
        buffer, reader = self._buffer, self._reader
        # The first recv waits up to the socket's own timeout, as redis-py's does.
        got = self._sock.recv_into(buffer)
        if not got:
            raise RedisConnectionError(SERVER_CLOSED_CONNECTION_ERROR)
        counter = None
        if buffer[0] == ARRAY:
            counter = ElementBound(self.bound.elements)
            counter.feed(bytes(buffer[:got]))
        # hiredis reads any buffer; its type stub names only str and bytes.
        reader.feed(buffer, 0, got)  # type: ignore[arg-type]
        reply = reader.gets(decode)
        if reply is NOT_ENOUGH_DATA:
            reply = self._read_rest(got, decode, counter)
        return reply

    def _read_rest(self, first: int, decode: bool, counter: ElementBound | None) -> Any:
        """The rest of a reply whose first `first` bytes are in the buffer."""
        buffer, reader, sock = self._buffer, self._reader, self._sock
        self._check_value_header(bytes(buffer[: min(first, HEADER_BYTES)]))
        limit = self.bound.byte_limit
        received = first
        per_recv = sock.gettimeout()
        shortened = False
        try:
            while True:
                if received > limit:
                    raise ReplyTooLarge(
                        f"a reply of more than {limit} bytes, more than any answer to this "
                        "command may hold"
                    )
                remaining = self.deadline - time.monotonic()
                last_wait = per_recv is None or remaining < per_recv
                if remaining <= 0:
                    raise _out_of_budget()
                if last_wait:
                    sock.settimeout(remaining)
                    shortened = True
                try:
                    got = sock.recv_into(buffer)
                except TimeoutError:
                    if last_wait:
                        raise _out_of_budget() from None
                    raise
                if not got:
                    raise RedisConnectionError(SERVER_CLOSED_CONNECTION_ERROR)
                received += got
                if counter is not None:
                    counter.feed(bytes(buffer[:got]))
                reader.feed(buffer, 0, got)  # type: ignore[arg-type]
                reply = reader.gets(decode)
                if reply is not NOT_ENOUGH_DATA:
                    return reply
        finally:
            if shortened:
                sock.settimeout(per_recv)

    def _check_value_header(self, head: bytes) -> None:
        """Cut at once a reply whose first line announces a value above the limit."""
        end = head.find(b"\r\n")
        if end < 2 or head[0] != BULK:
            return
        try:
            length = int(head[1:end])
        except ValueError:
            return  # hiredis reports the protocol error
        if length > self.max_value_bytes:
            raise ReplyTooLarge(
                f"value of {length} bytes is above the limit of {self.max_value_bytes} bytes"
            )


def _out_of_budget() -> RedisTimeoutError:
    return RedisTimeoutError("the reply was still incomplete at the end of the operation's budget")
