"""Pipes between the host's stdio and a guest's, each kept by a thread of ours: stderr passed
through with its tail remembered, and stdin fed so that a deadline can end it.

wasmtime opens the guest's end by path (`/dev/fd/N`) when the WASI configuration is built; we
then close our copy of that end, so the store holds the last one.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import threading
import time

from kvredis.errors import HostResourceError
from kvredis.runtime.faults import start_thread


class _GuestPipe:
    """A pipe whose one end the guest gets by path; the other end is ours."""

    def __init__(self, guest_reads: bool) -> None:
        read_end, write_end = os.pipe()
        self._guest_end, self._our_end = (
            (read_end, write_end) if guest_reads else (write_end, read_end)
        )
        os.set_blocking(self._our_end, False)
        self.guest_path = f"/dev/fd/{self._guest_end}"

    def attached(self) -> None:
        """wasmtime holds its own descriptor now: drop ours, so the store's end is the last
        and our side sees the pipe end when the store goes."""
        os.close(self._guest_end)

    def _pump(self) -> None:
        raise NotImplementedError

    def _start_pump(self, name: str, *more_fds: int) -> None:
        """Start the thread that keeps our end; if the host cannot, close what was opened."""
        try:
            start_thread(self._pump, name)
        except HostResourceError:
            for fd in (self._guest_end, self._our_end, *more_fds):
                os.close(fd)
            raise


class StderrTap(_GuestPipe):
    """Passes a guest's stderr through unchanged, remembering the tail of the current call.

    With a memory limit, a guest that hits it sees `memory.grow` fail, then traps in a way that
    names no cause (`unreachable`, once its allocator gives up); what it printed on the way
    (CPython's MemoryError, Rust's "memory allocation of N bytes failed") is the evidence.

    (A `stderr_custom` callback would be simpler than a pipe, but wasmtime runs it on its own
    threads, which abort the process when they call into a Python that is shutting down.)
    """

    _KEEP = 4096

    def __init__(self, destination: str | None) -> None:
        super().__init__(guest_reads=False)
        if destination is None:
            self._out, self._own_out = 2, False
        else:
            self._out = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            self._own_out = True
        self.tail = b""
        self._open = True
        self._lock = threading.Lock()
        self._start_pump("kvredis-stderr", *([self._out] if self._own_out else []))

    def drain(self) -> None:
        """Forward what the guest wrote so far (its writes are done when a call returns)."""
        with self._lock:
            if self._open:
                self._forward()

    def write(self, data: bytes) -> None:
        """Write `data` (a host's line about the guest, such as its log call) after what the
        guest wrote so far, so the two keep their order."""
        with self._lock:
            if self._open:
                self._forward()
                self._write_out(data)

    def _pump(self) -> None:
        poller = select.poll()
        poller.register(self._our_end, select.POLLIN)
        while True:
            poller.poll()
            with self._lock:
                if not self._forward():
                    self._open = False
                    os.close(self._our_end)
                    if self._own_out:
                        os.close(self._out)
                    return

    def _forward(self) -> bool:
        """Copy the pipe's pending bytes out; False at end-of-file. Called with the lock."""
        while True:
            try:
                data = os.read(self._our_end, 65536)
            except BlockingIOError:
                return True
            if not data:
                return False
            self.tail = (self.tail + data)[-self._KEEP :]
            self._write_out(data)

    def _write_out(self, data: bytes) -> None:
        view = memoryview(data)
        with contextlib.suppress(OSError):  # a closed stderr must not stop the guest
            while view:
                view = view[os.write(self._out, view) :]


class StdinPump(_GuestPipe):
    """Feeds the host's stdin to a guest through a pipe that is closed when a call's time is up.

    With an inherited stdin, wasmtime reads on a thread of its own that nothing interrupts, so
    a guest waiting for input outlives any timeout: epoch interruption only stops WebAssembly
    code. Here the guest reads a pipe that a thread of ours fills from `source`; once `arm()`ed
    and `timeout_s` later, the thread closes it, the guest sees end-of-file, returns to
    WebAssembly and is stopped there by the epoch deadline (`expired` is set, for a guest that
    finishes first). Input the guest never read is dropped then; a call that ends in time
    `disarm()`s it.
    """

    _CHUNK = 65536

    def __init__(self, timeout_s: float, source: int = 0) -> None:
        super().__init__(guest_reads=True)
        self._timeout_s = timeout_s
        self._source = source
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._deadline: float | None = None
        self._done = False
        self.expired = False  # the pipe was closed because a deadline passed
        self._lock = threading.Lock()
        self._start_pump("kvredis-stdin", self._wake_read, self._wake_write)

    def arm(self) -> None:
        """A call starts: the guest's stdin closes `timeout_s` from now unless disarmed."""
        self._set_deadline(time.monotonic() + self._timeout_s)

    def disarm(self) -> None:
        self._set_deadline(None)

    def _set_deadline(self, deadline: float | None) -> None:
        with self._lock:
            self._deadline = deadline
            if not self._done:
                # The pump recomputes how long to wait; a full wake pipe has woken it already.
                with contextlib.suppress(BlockingIOError):
                    os.write(self._wake_write, b"\0")

    def _pump(self) -> None:
        try:
            self._copy_until_done()
        finally:
            with self._lock:
                self._done = True
                for fd in (self._our_end, self._wake_read, self._wake_write):
                    os.close(fd)

    def _copy_until_done(self) -> None:
        """Copy `source` into the pipe until its end, the guest's end going, or the deadline."""
        pending = b""
        source_open = True
        while pending or source_open:
            with self._lock:
                deadline = self._deadline
            wait_ms = None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.expired = True
                    return  # closing our end gives the guest end-of-file
                wait_ms = math.ceil(left * 1000)
            poller = select.poll()
            poller.register(self._wake_read, select.POLLIN)
            # Registered even with no events: POLLERR says the guest's end was closed.
            poller.register(self._our_end, select.POLLOUT if pending else 0)
            if not pending:
                poller.register(self._source, select.POLLIN)
            events = dict(poller.poll(wait_ms))
            if events.get(self._wake_read, 0) & select.POLLIN:
                os.read(self._wake_read, 4096)
            if events.get(self._our_end, 0) & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
                return
            if pending and events.get(self._our_end, 0) & select.POLLOUT:
                try:
                    pending = pending[os.write(self._our_end, pending) :]
                except BlockingIOError:
                    pass
                except OSError:  # the guest's end went between the poll and the write
                    return
            if not pending and self._source in events:
                try:
                    pending = os.read(self._source, self._CHUNK)
                except BlockingIOError:  # a stdin left non-blocking by whoever shares it
                    continue
                except OSError:  # a closed or unreadable stdin reads as an empty one
                    pending = b""
                source_open = bool(pending)
