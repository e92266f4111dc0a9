"""One instance's WASI state built in one place, the promise behind futures, the asyncio
hand-off a server uses, and the boundary: nothing in kvredis.wasi imports wasmtime."""

from __future__ import annotations

import ast
import asyncio
import threading
from pathlib import Path

import pytest

import kvredis.wasi
from kvredis.wasi import Interrupted, WasiContext
from kvredis.wasi.cli import Stdio
from kvredis.wasi.filesystem.preopens import Preopen
from kvredis.wasi.filesystem.types import DescriptorType, PathFlags
from kvredis.wasi.io.pipe import Pipe, PipeOutputStream
from kvredis.wasi.io.poll import Readiness, Waker, poll
from kvredis.wasi.io.promise import Promise
from kvredis.wasi.io.streams import StreamClosed


def test_a_context_holds_what_the_instance_was_given(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("x")
    context = WasiContext.create(
        arguments=["app.wasm", "one"],
        variables=[("MODE", "test")],
        preopens=[Preopen(str(tmp_path), "/data", writable=False)],
    )
    try:
        assert context.environment.get_arguments() == ["app.wasm", "one"]
        assert context.environment.get_environment() == [("MODE", "test")]
        [(directory, guest_path)] = context.preopens.get_directories()
        assert guest_path == "/data"
        assert directory.stat_at(PathFlags(0), "data.txt").type is DescriptorType.REGULAR_FILE
        with pytest.raises(StreamClosed):
            context.stdio.get_stdin().read(10)  # no stdin given: empty
        assert context.monotonic_clock.now() > 0
        assert len(context.random.get_random_bytes(8)) == 8
        assert context.stdio.waker is context.waker
    finally:
        context.close()
    assert context.preopens.get_directories() == []


def test_a_context_uses_the_waker_its_stdio_was_built_with() -> None:
    waker = Waker()
    context = WasiContext.create(stdio=Stdio.from_bytes(waker, stdin=b"in"))
    assert context.waker is waker


def test_a_missing_preopen_fails_the_context(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        WasiContext.create(preopens=[Preopen(str(tmp_path / "gone"), "/")])


def test_interrupting_a_context_ends_its_waits() -> None:
    context = WasiContext.create()
    timer = threading.Timer(0.02, context.interrupt, args=("deadline reached",))
    timer.start()
    with pytest.raises(Interrupted, match="deadline reached"):
        poll([Readiness(lambda: False)], context.waker)
    timer.join()


def test_a_promise_is_resolved_once() -> None:
    promise: Promise[int | None] = Promise()
    with pytest.raises(RuntimeError, match="not resolved"):
        promise.value()
    assert not promise.wait(timeout=0.01)
    promise.resolve(None)
    assert promise.done()
    assert promise.value() is None
    with pytest.raises(RuntimeError, match="already"):
        promise.resolve(1)


def test_an_asyncio_reader_hears_a_guest_writing_on_another_thread() -> None:
    """What a server does with a response body: a listener hands each change to its loop."""
    pipe, waker = Pipe(), Waker()

    def guest() -> None:
        out = PipeOutputStream(pipe, waker)
        for word in (b"streamed ", b"as ", b"written"):
            out.blocking_write_and_flush(word)
        pipe.close()

    async def read_body() -> bytes:
        loop, changed = asyncio.get_running_loop(), asyncio.Event()
        pipe.add_listener(lambda: loop.call_soon_threadsafe(changed.set))
        threading.Thread(target=guest).start()
        body = b""
        while True:
            changed.clear()
            try:
                body += pipe.read(1024)
            except StreamClosed:
                return body
            if not pipe.readable():
                await asyncio.wait_for(changed.wait(), timeout=5)

    assert asyncio.run(read_body()) == b"streamed as written"


def test_nothing_in_the_wasi_core_imports_wasmtime() -> None:
    package = Path(kvredis.wasi.__file__).parent
    for source in package.rglob("*.py"):
        tree = ast.parse(source.read_text(), str(source))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("wasmtime"), f"{source.name} imports {name}"
                assert name.startswith("kvredis.wasi") or not name.startswith("kvredis"), (
                    f"{source.name} reaches outside the WASI core: {name}"
                )
