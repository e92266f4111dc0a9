"""wasi:io/streams alone: the WIT's read, permit, blocking and error rules over memory and pipes."""

from __future__ import annotations

import os
import threading

import pytest
from wasi_support import later

from kvredis.wasi import GuestMisuse
from kvredis.wasi.io.error import IoError
from kvredis.wasi.io.memory import (
    BufferOutputStream,
    BytesInputStream,
    SinkOutputStream,
    write_all_to,
)
from kvredis.wasi.io.pipe import Pipe, PipeInputStream, PipeOutputStream
from kvredis.wasi.io.poll import Waker, block
from kvredis.wasi.io.streams import (
    BLOCKING_WRITE_LIMIT,
    MAX_CHUNK,
    LastOperationFailed,
    StreamClosed,
)

U64_MAX = 2**64 - 1


def failing_sink(data: bytes) -> None:
    raise BrokenPipeError(32, "Broken pipe")


# Input streams.


def test_reads_return_at_most_what_was_asked_then_closed() -> None:
    stream = BytesInputStream(b"hello world", Waker())
    assert stream.read(5) == b"hello"
    assert stream.read(0) == b""  # still open: an empty read is fine
    assert stream.blocking_read(100) == b" world"
    with pytest.raises(StreamClosed):
        stream.read(1)
    with pytest.raises(StreamClosed):
        stream.read(0)


def test_a_huge_read_length_is_capped() -> None:
    stream = BytesInputStream(bytes(3 * MAX_CHUNK), Waker())
    assert len(stream.read(U64_MAX)) == MAX_CHUNK


def test_skip_counts_what_it_dropped() -> None:
    stream = BytesInputStream(b"abcdef", Waker())
    assert stream.skip(4) == 4
    assert stream.blocking_skip(10) == 2
    with pytest.raises(StreamClosed):
        stream.skip(1)


def test_a_pipe_read_is_empty_while_open_and_blocking_read_waits() -> None:
    pipe, waker = Pipe(), Waker()
    stream = PipeInputStream(pipe, waker)
    assert stream.read(10) == b""
    assert not stream.subscribe().ready()
    with later(0.02, pipe.write, b"late bytes"):
        assert stream.blocking_read(100) == b"late bytes"


def test_a_pipe_ends_after_its_last_byte() -> None:
    pipe = Pipe()
    stream = PipeInputStream(pipe, Waker())
    pipe.write(b"tail")
    pipe.close()
    assert stream.subscribe().ready()
    assert stream.read(2) == b"ta"
    assert stream.read(10) == b"il"
    with pytest.raises(StreamClosed):
        stream.read(10)


def test_a_failure_is_reported_once_then_closed() -> None:
    pipe = Pipe()
    stream = PipeInputStream(pipe, Waker())
    pipe.write(b"x")
    pipe.close(IoError("connection reset"))
    assert stream.read(10) == b"x"
    with pytest.raises(LastOperationFailed) as failed:
        stream.read(10)
    assert failed.value.error.to_debug_string() == "connection reset"
    with pytest.raises(StreamClosed):
        stream.read(10)


# Output streams: permits.


def test_check_write_permits_a_bounded_chunk_and_more_traps() -> None:
    out = BufferOutputStream(Waker())
    assert out.check_write() == MAX_CHUNK
    out.write(b"a" * MAX_CHUNK)
    with pytest.raises(GuestMisuse, match="exceeds"):
        out.write(b"a" * (MAX_CHUNK + 1))
    assert out.getvalue() == b"a" * MAX_CHUNK


def test_write_zeroes_checks_the_permit_before_making_zeroes() -> None:
    out = BufferOutputStream(Waker())
    out.write_zeroes(3)
    with pytest.raises(GuestMisuse):
        out.write_zeroes(U64_MAX)
    assert out.getvalue() == b"\0\0\0"


def test_blocking_write_and_flush_takes_at_most_4096_bytes() -> None:
    out = BufferOutputStream(Waker())
    out.blocking_write_and_flush(b"b" * BLOCKING_WRITE_LIMIT)
    out.blocking_write_zeroes_and_flush(2)
    with pytest.raises(GuestMisuse, match="4096"):
        out.blocking_write_and_flush(b"b" * (BLOCKING_WRITE_LIMIT + 1))
    with pytest.raises(GuestMisuse, match="4096"):
        out.blocking_write_zeroes_and_flush(BLOCKING_WRITE_LIMIT + 1)
    assert out.getvalue() == b"b" * BLOCKING_WRITE_LIMIT + b"\0\0"


def test_a_failing_sink_fails_once_then_stays_closed() -> None:
    out = SinkOutputStream(failing_sink, Waker())
    with pytest.raises(LastOperationFailed) as failed:
        out.write(b"x")
    assert "Broken pipe" in failed.value.error.to_debug_string()
    assert out.subscribe().ready()  # ready: the next call reports the end
    with pytest.raises(StreamClosed):
        out.check_write()
    with pytest.raises(StreamClosed):
        out.flush()


def test_a_sink_to_an_fd_writes_everything() -> None:
    read_end, write_end = os.pipe()
    try:
        out = SinkOutputStream(write_all_to(write_end), Waker())
        out.blocking_write_and_flush(b"to the fd")
        assert os.read(read_end, 100) == b"to the fd"
    finally:
        os.close(read_end)
        os.close(write_end)


# Output streams over a pipe: back-pressure.


def test_the_permit_shrinks_while_the_consumer_lags() -> None:
    pipe, waker = Pipe(capacity=100_000), Waker()
    out = PipeOutputStream(pipe, waker)
    assert out.check_write() == MAX_CHUNK
    out.write(bytes(MAX_CHUNK))
    assert out.check_write() == 100_000 - MAX_CHUNK
    out.write(bytes(100_000 - MAX_CHUNK))
    assert out.check_write() == 0
    assert not out.subscribe().ready()
    with pytest.raises(GuestMisuse):
        out.write(b"x")
    assert len(pipe.read(10_000)) == 10_000
    assert out.subscribe().ready()
    assert out.check_write() == 10_000


def test_a_blocked_writer_wakes_when_the_consumer_drains() -> None:
    pipe, waker = Pipe(capacity=4096), Waker()
    out = PipeOutputStream(pipe, waker)
    out.write(bytes(4096))
    drained: list[bytes] = []
    with later(0.02, lambda: drained.append(pipe.read(4096))):
        out.blocking_write_and_flush(b"after")
    assert drained == [bytes(4096)]
    assert pipe.read(100) == b"after"


def test_a_host_writer_waits_for_room_until_the_guest_reads() -> None:
    pipe = Pipe(capacity=10)
    stream = PipeInputStream(pipe, Waker())
    pipe.write(b"0123456789")
    assert not pipe.wait_for_room(timeout=0.01)
    with later(0.02, stream.read, 4):
        assert pipe.wait_for_room(timeout=5)
    assert pipe.room() == 4


def test_when_the_reader_goes_writes_are_closed() -> None:
    pipe = Pipe()
    out = PipeOutputStream(pipe, Waker())
    pipe.close_reader()
    assert out.subscribe().ready()
    with pytest.raises(StreamClosed):
        out.check_write()
    with pytest.raises(StreamClosed):
        out.write(b"")


def test_a_reader_failure_reaches_the_writer_once() -> None:
    pipe = Pipe()
    out = PipeOutputStream(pipe, Waker())
    pipe.close_reader(IoError("client disconnected"))
    with pytest.raises(LastOperationFailed, match="client disconnected"):
        out.write(b"x")
    with pytest.raises(StreamClosed):
        out.write(b"x")


def test_writes_after_the_owner_closed_the_pipe_are_closed() -> None:
    pipe = Pipe()
    out = PipeOutputStream(pipe, Waker())
    pipe.close()
    with pytest.raises(StreamClosed):
        out.check_write()


def test_ten_mebibytes_cross_a_small_pipe_intact() -> None:
    """A guest writing as permitted and a host thread reading: every byte, in order."""
    payload = os.urandom(10 * 1024 * 1024)
    pipe, waker = Pipe(capacity=256 * 1024), Waker()
    out = PipeOutputStream(pipe, waker)
    received = bytearray()

    def consume() -> None:
        while True:
            pipe.wait_readable()
            try:
                received.extend(pipe.read(MAX_CHUNK))
            except StreamClosed:
                return

    consumer = threading.Thread(target=consume)
    consumer.start()
    view = memoryview(payload)
    while view:
        block(out.subscribe(), waker)
        permit = out.check_write()
        out.write(bytes(view[:permit]))
        view = view[permit:]
    pipe.close()
    consumer.join(timeout=30)
    assert bytes(received) == payload


# Splice.


def test_splice_moves_at_most_the_permit_and_the_length() -> None:
    source = BytesInputStream(b"x" * 100_000, Waker())
    pipe = Pipe(capacity=1000)
    out = PipeOutputStream(pipe, Waker())
    assert out.splice(source, 10) == 10
    assert out.splice(source, U64_MAX) == 990
    assert out.splice(source, 10) == 0  # full
    assert pipe.read(2000) == b"x" * 1000


def test_splice_from_an_ended_source_reports_closed() -> None:
    source = BytesInputStream(b"", Waker())
    out = BufferOutputStream(Waker())
    with pytest.raises(StreamClosed):
        out.splice(source, 10)


def test_blocking_splice_waits_for_the_source() -> None:
    pipe, waker = Pipe(), Waker()
    source = PipeInputStream(pipe, waker)
    out = BufferOutputStream(waker)
    with later(0.02, pipe.write, b"spliced"):
        assert out.blocking_splice(source, 100) == 7
    assert out.getvalue() == b"spliced"


def test_a_view_reads_closed_once_the_reader_side_is_closed() -> None:
    pipe = Pipe()
    stream = PipeInputStream(pipe, Waker())
    pipe.write(b"dropped")
    pipe.close_reader()
    assert stream.subscribe().ready()
    with pytest.raises(StreamClosed):
        stream.read(10)


def test_closing_a_view_keeps_the_pipe_for_its_owner() -> None:
    pipe, waker = Pipe(), Waker()
    PipeInputStream(pipe, waker).close()
    PipeOutputStream(pipe, waker).close()
    pipe.write(b"still open")
    assert pipe.read(100) == b"still open"
