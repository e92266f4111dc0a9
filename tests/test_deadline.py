"""The pieces that make `--timeout` hold wall-clock, without a guest: the bounded wait for a
worker thread, and the stdin pipe that closes at a call's deadline."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from kvredis.errors import GuestTimeout
from kvredis.runtime.deadline import GRACE_S, run_with_deadline
from kvredis.runtime.stdio import StdinPump

# --- run_with_deadline ------------------------------------------------------------------------


def test_the_worker_s_result_and_errors_come_back() -> None:
    assert run_with_deadline(lambda: 7, 5.0, "app.wasm") == 7
    assert run_with_deadline(lambda: "no limit", None, "app.wasm") == "no limit"

    def fail() -> int:
        raise LookupError("from the worker")

    with pytest.raises(LookupError, match="from the worker"):
        run_with_deadline(fail, 5.0, "app.wasm")


def test_a_worker_blocked_past_the_timeout_is_given_up_on() -> None:
    never = threading.Event()
    began = time.monotonic()
    with pytest.raises(GuestTimeout) as caught:
        run_with_deadline(never.wait, 0.2, "app.wasm")
    took = time.monotonic() - began
    assert str(caught.value) == "app.wasm: timed out after 0.2 s while waiting in a host call"
    assert 0.2 + GRACE_S <= took < 0.2 + GRACE_S + 1.0, took
    never.set()  # lets the abandoned worker end


def test_a_worker_within_the_grace_period_still_answers() -> None:
    def slightly_late() -> str:
        time.sleep(0.2 + GRACE_S / 2)
        return "done"

    assert run_with_deadline(slightly_late, 0.2, "app.wasm") == "done"


_NO_ROOM_FOR_A_THREAD = """
import re, resource
from kvredis.errors import HostResourceError
from kvredis.runtime.deadline import run_with_deadline
status = open("/proc/self/status").read()
used = int(re.search(r"VmSize:\\s+(\\d+) kB", status).group(1)) * 1024
resource.setrlimit(resource.RLIMIT_AS, (used + (1 << 20), used + (1 << 20)))  # no 8 MiB stack
try:
    run_with_deadline(lambda: 1, None, "app.wasm")
except HostResourceError as exc:
    print(exc.resource, exc, sep=": ")
"""


def test_a_worker_the_host_has_no_room_for_is_a_host_resource_error() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _NO_ROOM_FOR_A_THREAD],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.startswith("threads: the host cannot start another thread"), done
    assert "Traceback" not in done.stderr


# --- StdinPump ----------------------------------------------------------------------------------


class Guest:
    """The guest's side of a StdinPump, opened as wasmtime opens it, fed from a pipe of ours."""

    def __init__(self, timeout_s: float) -> None:
        self.source, self.feed = os.pipe()
        self.pump = StdinPump(timeout_s, source=self.source)
        self.stdin = os.open(self.pump.guest_path, os.O_RDONLY)
        self.pump.attached()

    def read(self) -> bytes:
        return os.read(self.stdin, 65536)

    def close(self) -> None:
        for fd in (self.stdin, self.source, self.feed):
            os.close(fd)


@pytest.fixture
def guest() -> Iterator[Guest]:
    guest = Guest(timeout_s=0.3)
    yield guest
    guest.close()


def test_input_reaches_the_guest(guest: Guest) -> None:
    os.write(guest.feed, b"hello\n")
    assert guest.read() == b"hello\n"


def test_an_armed_deadline_ends_the_guest_s_stdin(guest: Guest) -> None:
    guest.pump.arm()
    began = time.monotonic()
    assert guest.read() == b""  # end-of-file, though our feed is still open
    assert 0.25 <= time.monotonic() - began < 2.0
    assert guest.pump.expired


def test_a_disarmed_deadline_ends_nothing(guest: Guest) -> None:
    guest.pump.arm()
    guest.pump.disarm()
    time.sleep(0.5)
    os.write(guest.feed, b"still here")
    assert guest.read() == b"still here"
    assert not guest.pump.expired


def test_the_end_of_the_host_s_stdin_is_the_end_of_the_guest_s(guest: Guest) -> None:
    os.write(guest.feed, b"last")
    os.close(guest.feed)
    guest.feed = os.open(os.devnull, os.O_WRONLY)  # so close() has something to close
    assert guest.read() == b"last"
    assert guest.read() == b""
    assert not guest.pump.expired


def test_the_pump_stops_when_the_guest_s_end_goes() -> None:
    def pumps() -> int:
        return sum(thread.name == "kvredis-stdin" for thread in threading.enumerate())

    before = pumps()
    guest = Guest(timeout_s=30)
    assert pumps() == before + 1
    os.close(guest.stdin)
    guest.stdin = os.open(os.devnull, os.O_RDONLY)
    end = time.monotonic() + 5
    while pumps() > before and time.monotonic() < end:
        time.sleep(0.01)
    assert pumps() == before
    guest.close()
