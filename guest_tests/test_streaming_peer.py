"""A peer that streams an endless reply (issue 14, item 6): one operation must still answer
`other` within its budget, and the host's memory must stay flat.

The peer is a fake Redis written here: a socket server on 127.0.0.1 that answers PING and
every other command with a short reply, except the command under test, which it answers with
a reply that never ends (a byte now and then, or as fast as the socket takes). It gives up
by itself after a while, so that a host without the fix fails these tests instead of
hanging them."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import kvredis
from clikit import LineReader, finish, start_kvredis
from faultkit import one, timed

BUDGET_MS = 500
SLACK_S = 0.5  # scheduling on a busy two-core machine
MEMORY_SLACK_MB = 48  # what one operation may add to the host's resident memory
PEER_GIVES_UP_S = 20.0
PEER_MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Stream:
    """An endless reply: `head`, then `chunk` again and again, `every_s` apart (0: flat out).
    With no `chunk`, the reply is `head` alone, and the peer hangs up after it."""

    head: bytes
    chunk: bytes
    every_s: float


TRICKLED_VALUE = Stream(b"$1000000\r\n", b"x", 0.02)
HUGE_VALUE = Stream(b"$4000000000\r\n", b"x" * 65536, 0)
ENDLESS_ARRAY = Stream(b"*4294967295\r\n", b":1\r\n" * 16384, 0)
# Within every header's bounds, but with no end: only the deadline can stop it.
TRICKLED_KEYS = Stream(b"*2\r\n$1\r\n0\r\n*4000\r\n", b"$2\r\nab\r\n", 0.01)
# A page of keys whose every header is plausible, but whose keys are arrays of 4,000 empty
# arrays (64 bytes of Python objects for every 4 bytes received): 16 million elements.
FLOODED_KEYS = Stream(b"*2\r\n$1\r\n0\r\n*4000\r\n", b"*4000\r\n" + b"*0\r\n" * 4000, 0)
NESTED_HUGE_ARRAY = Stream(b"*2\r\n*100000000\r\n", b"*0\r\n" * 16384, 0)
# Not endless, but not an answer to MGET of two keys either.
ONE_VALUE_FOR_TWO_KEYS = Stream(b"*1\r\n$1\r\nx\r\n", b"", 0)


class StreamingPeer:
    """A fake Redis on 127.0.0.1 that streams `stream` in answer to any command holding
    `trigger`, and answers every other command with +PONG or +OK."""

    def __init__(self, stream: Stream, trigger: bytes) -> None:
        self.stream = stream
        self.trigger = trigger
        self.streams_started = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.url = f"redis://127.0.0.1:{self._listener.getsockname()[1]}"
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def close(self) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(10)
        self._listener.close()
        assert not any(thread.is_alive() for thread in self._threads)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        with conn:
            while not self._stop.is_set():
                try:
                    command = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not command:
                    return
                if self.trigger in command:
                    self.streams_started += 1
                    self._stream(conn)
                    return
                conn.sendall(b"+PONG\r\n" if b"PING" in command else b"+OK\r\n")

    def _stream(self, conn: socket.socket) -> None:
        stream = self.stream
        began = time.monotonic()
        sent = 0
        try:
            conn.sendall(stream.head)
            while (
                stream.chunk
                and not self._stop.is_set()
                and time.monotonic() - began < PEER_GIVES_UP_S
                and sent < PEER_MAX_BYTES
            ):
                conn.sendall(stream.chunk)
                sent += len(stream.chunk)
                if stream.every_s:
                    self._stop.wait(stream.every_s)
        except OSError:
            return  # the host hung up: what it should do


@pytest.fixture
def peer() -> Iterator[Callable[[Stream, bytes], StreamingPeer]]:
    started: list[StreamingPeer] = []

    def start(stream: Stream, trigger: bytes) -> StreamingPeer:
        started.append(StreamingPeer(stream, trigger))
        return started[-1]

    yield start
    for each in started:
        each.close()


@pytest.fixture
def faults(app_guest: Callable[[str], Path]) -> Path:
    return app_guest("faults")


def resident_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


class PeakMemory:
    """The highest resident memory of a process while the block runs, sampled every 5 ms."""

    def __init__(self, pid: int | str = "self") -> None:
        self.pid = pid
        self.before = self.peak = resident_mb(pid)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join(5)

    def _sample(self) -> None:
        while not self._done.wait(0.005):
            try:
                self.peak = max(self.peak, resident_mb(self.pid))
            except (OSError, AssertionError):
                return  # the process is gone

    @property
    def growth_mb(self) -> float:
        return self.peak - self.before


# --- through Host, in this process -----------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "trigger", "stream", "says"),
    [
        (["get", "k"], b"GET", TRICKLED_VALUE, "budget"),
        (["get", "k"], b"GET", HUGE_VALUE, "value of 4000000000 bytes is above the limit"),
        (["get", "k"], b"GET", ENDLESS_ARRAY, "4294967295 elements"),
        (["list-page", None], b"SCAN", TRICKLED_KEYS, "budget"),
        (["list-page", None], b"SCAN", FLOODED_KEYS, "more than 4003 elements"),
        (["get-many", ["k", "l"]], b"MGET", NESTED_HUGE_ARRAY, "100000000 elements"),
        (["get-many", ["k", "l"]], b"MGET", ONE_VALUE_FOR_TWO_KEYS, "1 values for 2 keys"),
        (["cas", "s", "k"], b"GET", HUGE_VALUE, "above the limit"),
        (["increment", "n", 1], b"INCRBY", TRICKLED_VALUE, "may or may not have been applied"),
    ],
    ids=[
        "get-trickled",
        "get-huge-value",
        "get-endless-array",
        "list-keys-trickled",
        "list-keys-flooded",
        "get-many-nested",
        "get-many-short",
        "cas-huge-value",
        "increment-trickled",
    ],
)
def test_an_endless_reply_ends_within_the_budget_and_memory_stays_flat(
    peer: Callable[[Stream, bytes], StreamingPeer],
    faults: Path,
    op: list[Any],
    trigger: bytes,
    stream: Stream,
    says: str,
) -> None:
    fake = peer(stream, trigger)
    settings = kvredis.ConnectionSettings(op_budget_ms=BUDGET_MS)
    with kvredis.Host(fake.url, connection=settings) as host:
        instance = host.load(faults).instantiate()
        assert one(instance, "b", "set", "warm", "01") == {"ok": None}
        with PeakMemory() as memory:
            outcome, took = timed(instance, "b", *op)
        assert fake.streams_started == 1
        assert outcome["err"] == "other", outcome
        assert says in outcome["message"], outcome
        assert "Traceback" not in outcome["message"]
        assert took <= BUDGET_MS / 1000 + SLACK_S, f"{took:.2f} s"
        assert memory.growth_mb < MEMORY_SLACK_MB, f"grew by {memory.growth_mb:.0f} MiB"
        # The connection that carried the endless reply is gone; a fresh one works.
        assert one(instance, "b", "set", "after", "01") == {"ok": None}


def test_a_value_limit_below_the_default_cuts_sooner(
    peer: Callable[[Stream, bytes], StreamingPeer], faults: Path
) -> None:
    fake = peer(Stream(b"$5000\r\n", b"x" * 100, 0.05), b"GET")
    with kvredis.Host(fake.url, max_value_size=4096) as host:
        outcome, took = timed(host.load(faults), "b", "get", "k")
    assert outcome["err"] == "other", outcome
    assert "value of 5000 bytes is above the limit of 4096 bytes" in outcome["message"]
    assert took < 1.0


# --- through `kvredis run` ------------------------------------------------------------------


@pytest.mark.parametrize("stream", [TRICKLED_VALUE, HUGE_VALUE], ids=["trickled", "flooded"])
def test_kvredis_run_answers_within_op_timeout_with_flat_memory(
    peer: Callable[[Stream, bytes], StreamingPeer], cli_wasm: Path, stream: Stream
) -> None:
    """The issue's reproduction: `--op-timeout 500` against a peer streaming an endless
    reply took 41 s, and memory grew to ~350 MB. The cli guest times its own write."""
    fake = peer(stream, b"after")
    process = start_kvredis(
        "run", "--redis-url", fake.url, "--op-timeout", str(BUDGET_MS),
        cli_wasm, "wait-then-set", "b",
    )  # fmt: skip
    try:
        lines = LineReader(process.stdout)  # type: ignore[arg-type]
        assert lines.next() == "ready"
        with PeakMemory(process.pid) as memory:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
            outcome = json.loads(lines.next(timeout=PEER_GIVES_UP_S + 10))
    finally:
        _, err = finish(process)
    assert process.returncode == 0, err
    assert fake.streams_started == 1
    assert outcome["err"] == "other", outcome
    assert outcome["ms"] <= BUDGET_MS + SLACK_S * 1000, outcome
    assert memory.growth_mb < MEMORY_SLACK_MB, f"grew by {memory.growth_mb:.0f} MiB"
