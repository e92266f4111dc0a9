"""`kvredis serve`: HTTP components on uvicorn, on a real port, against real servers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

import kvredis
import servers
from clikit import LineReader, error_line, finish, server_processes, start_kvredis
from support import KVREDIS, kvredis_env, run_kvredis


@contextmanager
def serving_process(
    *args: str | Path, cwd: Path
) -> Iterator[tuple[subprocess.Popen[str], str, LineReader]]:
    """`kvredis serve --addr 127.0.0.1:0 ARGS`: its process, base URL and log; stopped with
    SIGTERM at the end, which must end it cleanly."""
    process = start_kvredis("serve", "--addr", "127.0.0.1:0", *args, cwd=cwd)
    assert process.stdout is not None and process.stderr is not None
    log = LineReader(process.stderr)
    try:
        first = LineReader(process.stdout).next()
        assert first.startswith("kvredis serve: http://127.0.0.1:"), first
        yield process, first.split(": ", 1)[1].rstrip("/"), log
    finally:
        process.send_signal(signal.SIGTERM)
        finish(process)
    assert process.returncode == 0, log.seen


@contextmanager
def serving(*args: str | Path, cwd: Path) -> Iterator[tuple[str, LineReader]]:
    """`serving_process` for tests that need only the URL and the log."""
    with serving_process(*args, cwd=cwd) as (_process, url, log):
        yield url, log


def concurrent_gets(url: str, path: str, count: int) -> list[httpx.Response]:
    """`count` GETs of `path`, 50 at a time over keep-alive connections."""
    limits = httpx.Limits(max_connections=50)
    with (
        httpx.Client(base_url=url, limits=limits, timeout=60) as client,
        ThreadPoolExecutor(50) as pool,
    ):
        return list(pool.map(lambda _: client.get(path), range(count)))


def duplex_post(url: str, path: str, pieces: Iterator[bytes], length: int) -> tuple[int, bytes]:
    """POST a body while reading the answer at the same time, as an echo needs: a client
    that writes the whole body first would wait on a server that waits on it."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        head = f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-length: {length}\r\n"
        sock.sendall((head + "connection: close\r\n\r\n").encode())

        def write() -> None:
            for piece in pieces:
                sock.sendall(piece)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        received = bytearray()
        while chunk := sock.recv(1 << 20):
            received += chunk
        writer.join(60)
    head_bytes, _, chunked = bytes(received).partition(b"\r\n\r\n")
    return int(head_bytes.split(b" ")[1]), _dechunk(chunked)


def _dechunk(data: bytes) -> bytes:
    body = bytearray()
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return bytes(body)
        body += data[:size]
        data = data[size + 2 :]


def crowd_counts(url: str) -> list[int]:
    """GET /crowd 200 times over 50 connections at once: the counts answered."""
    return [int(answer.text) for answer in concurrent_gets(url, "/crowd", 200)]


def refusal(cwd: Path, *args: str | Path) -> str:
    """The one error line of `kvredis serve ARGS`, which must exit with status 2."""
    done = run_kvredis("serve", *args, cwd=cwd, timeout=120)
    return error_line(done)


def line_with(log: LineReader, text: str) -> str:
    """The next log line containing `text` (the lines before it are kept in `log.seen`)."""
    while True:
        line = log.next()
        if text in line:
            return line


def test_the_counter_is_served_on_a_port_with_one_log_line_per_request(
    app_guest: Callable[[str], Path], server: servers.ServerProcess, db: redis.Redis, tmp_path: Path
) -> None:
    wasm = app_guest("http-counter")
    with serving("--redis-url", server.url, wasm, cwd=tmp_path) as (url, log):
        with httpx.Client(base_url=url) as client:
            counts = [client.get("/hits").text for _ in range(3)]
            assert client.get("/").status_code == 404
        assert counts == ["1\n", "2\n", "3\n"]
        assert log.next().startswith("kvredis: serving http-counter.wasm")
        lines = [log.next() for _ in range(4)]
    assert db.get(b"counter:hits") == b"3"
    assert [line.rsplit(" ", 2)[0] for line in lines] == [
        "kvredis: GET /hits 200",
        "kvredis: GET /hits 200",
        "kvredis: GET /hits 200",
        "kvredis: GET / 404",
    ]
    assert all(line.endswith(" ms") for line in lines)


def test_200_concurrent_requests_through_the_server_count_exactly(
    app_guest: Callable[[str], Path], server: servers.ServerProcess, db: redis.Redis, tmp_path: Path
) -> None:
    wasm = app_guest("http-counter")
    with serving("--redis-url", server.url, wasm, cwd=tmp_path) as (url, _log):
        counts = crowd_counts(url)
    assert sorted(counts) == list(range(1, 201))
    assert db.get(b"counter:crowd") == b"200"


def test_a_10_mib_body_streams_through_the_server_both_ways(
    app_guest: Callable[[str], Path], server: servers.ServerProcess, tmp_path: Path
) -> None:
    data = bytes(range(256)) * (10 * 4096)
    pieces = (data[i : i + 256 * 1024] for i in range(0, len(data), 256 * 1024))
    with serving("--redis-url", server.url, app_guest("http-echo"), cwd=tmp_path) as (url, _):
        status, body = duplex_post(url, "/echo", pieces, len(data))
    assert status == 200
    assert body == data


def test_a_streaming_response_shows_its_first_bytes_before_it_ends(
    app_guest: Callable[[str], Path], server: servers.ServerProcess, tmp_path: Path
) -> None:
    wasm = app_guest("http-faults")
    with serving("--redis-url", server.url, wasm, cwd=tmp_path) as (url, _log):
        started = time.monotonic()
        with httpx.stream("GET", f"{url}/drip?n=5&ms=1000", timeout=30) as answer:
            chunks = answer.iter_raw()
            first = next(chunks)
            first_at = time.monotonic() - started
            rest = b"".join(chunks)
            ended_at = time.monotonic() - started
    assert first == b"line 0\n"
    assert rest == b"".join(f"line {i}\n".encode() for i in range(1, 5))
    assert first_at < 2.0, first_at
    assert ended_at >= 4.0, ended_at


def test_faults_answer_500_or_504_and_the_server_keeps_serving(
    app_guest: Callable[[str], Path], server: servers.ServerProcess, tmp_path: Path
) -> None:
    wasm = app_guest("http-faults")
    args = ("--redis-url", server.url, "--timeout", "1", "--max-body-size", "1K", wasm)
    with serving(*args, cwd=tmp_path) as (url, log), httpx.Client(base_url=url) as client:
        assert client.get("/trap").status_code == 500
        assert client.get("/spin").status_code == 504
        assert client.get("/silent").status_code == 500
        assert client.post("/size", content=b"x" * 2000).status_code == 413
        assert client.get("/fine").text == "ok\n"
        line_with(log, "GET /fine 200")
    assert any("GET /spin 504" in line for line in log.seen)
    assert any("POST /size 413" in line for line in log.seen)
    # The guest's own traceback is its stderr, passed on; the host's never shows.
    assert not any('.py", line' in line and "/app.py" not in line for line in log.seen)


def test_sigterm_stops_the_server_and_the_embedded_server(
    app_guest: Callable[[str], Path], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    wasm = app_guest("http-counter")
    with serving("--data-dir", data_dir, wasm, cwd=tmp_path) as (url, _log):
        assert httpx.get(f"{url}/hits").text == "1\n"
        assert server_processes(data_dir)
    servers.wait_until(lambda: not server_processes(data_dir), 10, "embedded server gone")


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _workers(pid: int) -> list[int]:
    """The worker processes `kvredis serve --workers` started (spawned Python processes)."""
    return [
        child
        for child in _children(pid)
        if "multiprocessing.spawn" in Path(f"/proc/{child}/cmdline").read_text()
    ]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_share_the_port_count_exactly_and_stop_with_the_server(
    app_guest: Callable[[str], Path], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    wasm = app_guest("http-counter")
    args = ("--workers", "2", "--data-dir", data_dir, wasm)
    with serving_process(*args, cwd=tmp_path) as (process, url, log):
        line_with(log, "2 worker processes")
        with httpx.Client(base_url=url, timeout=60) as client:
            assert client.get("/warm").text == "1\n"
        workers = _workers(process.pid)
        assert len(workers) == 2, workers
        before = [_cpu_ticks(pid) for pid in workers]
        assert sorted(crowd_counts(url)) == list(range(1, 201))
        busy = [_cpu_ticks(pid) - ticks for pid, ticks in zip(workers, before, strict=True)]
        assert min(busy) > 0, busy  # both workers answered some of them
    assert not [pid for pid in workers if _alive(pid)]
    servers.wait_until(lambda: not server_processes(data_dir), 10, "embedded server gone")


def test_a_worker_that_dies_stops_the_others_and_the_server_with_status_1(
    app_guest: Callable[[str], Path], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    wasm = app_guest("http-counter")
    process = start_kvredis(
        "serve", "--addr", "127.0.0.1:0", "--workers", "2", "--data-dir", data_dir, wasm,
        cwd=tmp_path,
    )  # fmt: skip
    assert process.stderr is not None
    log = LineReader(process.stderr)
    try:
        line_with(log, "2 worker processes")
        servers.wait_until(lambda: len(_workers(process.pid)) == 2, 60, "two workers")
        doomed, other = _workers(process.pid)
        os.kill(doomed, signal.SIGKILL)
        assert process.wait(60) == 1
    finally:
        if process.poll() is None:
            process.kill()
    assert "stopping the others" in line_with(log, "ended (exit status -9)")
    assert not _alive(other)
    servers.wait_until(lambda: not server_processes(data_dir), 10, "embedded server gone")


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("background", [False, True], ids=["foreground", "background-job"])
def test_ctrl_c_to_the_process_group_stops_every_worker_and_the_server_with_status_0(
    app_guest: Callable[[str], Path], tmp_path: Path, background: bool
) -> None:
    """A shell's background job ignores SIGINT: then only the workers hear it, and their
    ending cleanly is what stops the server."""
    data_dir = tmp_path / "data"
    wasm = app_guest("http-counter")
    command = [KVREDIS, "serve", "--addr", "127.0.0.1:0", "--workers", "2", "--data-dir"]
    process = subprocess.Popen(
        [*map(str, command), str(data_dir), str(wasm)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=kvredis_env(),
        start_new_session=True,  # a terminal of its own: Ctrl-C reaches its group only
        preexec_fn=_ignore_sigint if background else None,  # noqa: PLW1509 - before threads
    )
    assert process.stdout is not None and process.stderr is not None
    log = LineReader(process.stderr)
    try:
        url = LineReader(process.stdout).next().split(": ", 1)[1].rstrip("/")
        assert httpx.get(f"{url}/hits", timeout=60).text == "1\n"
        servers.wait_until(lambda: len(_workers(process.pid)) == 2, 60, "two workers")
        workers = _workers(process.pid)
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(60) == 0, log.seen
    finally:
        if process.poll() is None:
            process.kill()
    line_with(log, "stopped")
    assert not [line for line in log.seen if "ended" in line or "Traceback" in line]
    assert not [pid for pid in workers if _alive(pid)]
    servers.wait_until(lambda: not server_processes(data_dir), 10, "embedded server gone")


def test_reload_serves_a_new_build_and_keeps_the_old_one_when_it_breaks(
    app_guest: Callable[[str], Path], server: servers.ServerProcess, tmp_path: Path
) -> None:
    wasm = tmp_path / "app.wasm"
    shutil.copyfile(app_guest("http-faults"), wasm)
    with serving("--redis-url", server.url, "--reload", wasm, cwd=tmp_path) as (url, log):
        assert httpx.get(f"{url}/n").text == "ok\n"
        shutil.copyfile(app_guest("http-counter"), tmp_path / "next.wasm")
        (tmp_path / "next.wasm").replace(wasm)
        line_with(log, "reloaded app.wasm")
        assert httpx.get(f"{url}/n").text == "1\n"
        (tmp_path / "broken.wasm").write_bytes(b"not wasm at all")
        (tmp_path / "broken.wasm").replace(wasm)
        assert "still serving the previous build" in line_with(log, "reload failed")
        assert httpx.get(f"{url}/n").text == "2\n"


def test_a_component_without_an_http_export_is_refused(cli_wasm: Path, tmp_path: Path) -> None:
    line = refusal(tmp_path, "--addr", "127.0.0.1:0", cli_wasm)
    assert "does not export wasi:http/incoming-handler" in line
    assert "wasi:cli/run" in line


@pytest.mark.parametrize("addr", ["8000", "localhost:", "host:99999"])
def test_a_bad_addr_is_a_usage_error(addr: str, cli_wasm: Path, tmp_path: Path) -> None:
    assert f"--addr {addr}: expected HOST:PORT" in refusal(tmp_path, "--addr", addr, cli_wasm)


def test_the_most_guests_concurrency_allows_are_alive_at_once_and_all_answer(
    app_guest: Callable[[str], Path], server: servers.ServerProcess, tmp_path: Path
) -> None:
    """`--concurrency` at its maximum, each guest keeping its instance (from the pool) for
    a second and a half: every one of them answers."""
    count = kvredis.MAX_CONCURRENCY
    wasm = app_guest("http-faults")
    args = ("--redis-url", server.url, "--concurrency", str(count), wasm)
    with (
        serving(*args, cwd=tmp_path) as (url, _log),
        httpx.Client(base_url=url, limits=httpx.Limits(max_connections=count), timeout=120) as c,
        ThreadPoolExecutor(count) as pool,
    ):
        answers = list(pool.map(lambda _: c.get("/drip?n=1&ms=1500"), range(count)))
    assert [a.status_code for a in answers] == [200] * count
    assert {a.text for a in answers} == {"line 0\n"}


@pytest.mark.parametrize("count", ["0", "501"])
def test_a_concurrency_outside_the_instance_pool_is_a_usage_error(
    count: str, cli_wasm: Path, tmp_path: Path
) -> None:
    line = refusal(tmp_path, "--concurrency", count, cli_wasm)
    assert "--concurrency" in line
    assert "expected a number" in line


def test_inspect_says_serve_serves_an_http_component(app_guest: Callable[[str], Path]) -> None:
    done = run_kvredis("inspect", app_guest("http-counter"))
    assert done.returncode == 0, done.stderr
    assert "kvredis serve: can serve it (it exports wasi:http/incoming-handler)" in done.stdout
    assert "kvredis run:" not in done.stdout


def test_run_points_an_http_component_to_serve(app_guest: Callable[[str], Path]) -> None:
    line = error_line(run_kvredis("run", app_guest("http-counter")))
    assert line.endswith("serve it with `kvredis serve`"), line
