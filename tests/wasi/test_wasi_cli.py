"""wasi:cli alone: environment, exit, stdio over bytes, sinks and fds, and no terminals."""

from __future__ import annotations

import os

import pytest

from kvredis.wasi.cli import Environment, Exit, Stdio, exit_instance
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.io.streams import MAX_CHUNK, StreamClosed


def read_to_end(stdio: Stdio) -> bytes:
    stream, data = stdio.get_stdin(), b""
    try:
        while True:
            data += stream.blocking_read(MAX_CHUNK)
    except StreamClosed:
        return data


def test_environment_is_what_was_given() -> None:
    environment = Environment(["app.wasm", "--flag"], [("KEY", "value"), ("EMPTY", "")])
    assert environment.get_arguments() == ["app.wasm", "--flag"]
    assert environment.get_environment() == [("KEY", "value"), ("EMPTY", "")]
    assert environment.initial_cwd() is None
    environment.get_arguments().append("changed")  # a copy: the guest cannot change it
    assert environment.get_arguments() == ["app.wasm", "--flag"]


@pytest.mark.parametrize(("ok", "status"), [(True, 0), (False, 1)])
def test_exit_carries_the_status(ok: bool, status: int) -> None:
    with pytest.raises(Exit) as exited:
        exit_instance(ok)
    assert exited.value.status == status


def test_stdin_views_share_one_position() -> None:
    stdio = Stdio.from_bytes(Waker(), stdin=b"line one\nline two\n")
    first = stdio.get_stdin()
    assert first.read(9) == b"line one\n"
    first.close()
    assert read_to_end(stdio) == b"line two\n"


def test_stdout_and_stderr_reach_their_sinks() -> None:
    out, err = bytearray(), bytearray()
    stdio = Stdio.from_bytes(Waker(), stdout=out.extend, stderr=err.extend)
    stdio.get_stdout().blocking_write_and_flush(b"to out")
    stdio.get_stderr().blocking_write_and_flush(b"to err")
    stdio.get_stdout().blocking_write_and_flush(b" again")
    assert (bytes(out), bytes(err)) == (b"to out again", b"to err")


def test_without_sinks_output_goes_nowhere() -> None:
    stdio = Stdio.from_bytes(Waker())
    stdio.get_stdout().blocking_write_and_flush(b"dropped")
    assert read_to_end(stdio) == b""


def test_stdio_over_fds() -> None:
    stdin_read, stdin_write = os.pipe()
    out_read, out_write = os.pipe()
    try:
        stdio = Stdio.from_fds(Waker(), stdin=stdin_read, stdout=out_write, stderr=out_write)
        os.write(stdin_write, b"typed")
        os.close(stdin_write)
        stdin_write = -1
        assert read_to_end(stdio) == b"typed"
        stdio.get_stdout().blocking_write_and_flush(b"shown")
        assert os.read(out_read, 100) == b"shown"
    finally:
        for fd in (stdin_read, stdin_write, out_read, out_write):
            if fd >= 0:
                os.close(fd)


def test_stdin_from_an_fd_is_not_read_until_the_guest_asks() -> None:
    stdin_read, stdin_write = os.pipe()
    try:
        Stdio.from_fds(Waker(), stdin=stdin_read)
        os.write(stdin_write, b"for someone else")
        assert os.read(stdin_read, 100) == b"for someone else"
    finally:
        os.close(stdin_read)
        os.close(stdin_write)


def test_there_are_no_terminals() -> None:
    stdio = Stdio.from_bytes(Waker())
    assert stdio.get_terminal_stdin() is None
    assert stdio.get_terminal_stdout() is None
    assert stdio.get_terminal_stderr() is None
