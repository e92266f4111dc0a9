"""Concurrency: component instances in threads of one host, sharing its connection pool (as
the wasmCloud provider's tasks do), and several host processes on one server. Increments
and CAS loops must add up exactly, and no thread may ever see another one's reply."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

import kvredis
import servers
from faultkit import host_crashed, run_script
from support import KVREDIS, run_threads

THREADS = 4
ROUNDS = 300


@pytest.fixture
def faults(app_guest: Callable[[str], Path]) -> Path:
    return app_guest("faults")


def _thread_ops(thread: int) -> list[list[Any]]:
    """Per round: an increment, a write and read-back of this thread's own key, a CAS bump."""
    ops: list[list[Any]] = []
    for round_ in range(ROUNDS):
        own = f"t{thread}"
        value = f"{thread}:{round_}".encode().hex()
        ops += [["increment", "n", 1], ["set", own, value], ["get", own], ["cas-bump", "m", 1]]
    return ops


def _check_thread(thread: int, outcomes: list[dict[str, Any]]) -> None:
    last = 0
    for round_ in range(ROUNDS):
        incr, wrote, read, bump = outcomes[4 * round_ : 4 * round_ + 4]
        assert incr["ok"] > last, f"thread {thread}: counter went {last} -> {incr}"
        last = incr["ok"]
        assert wrote == {"ok": None}
        assert read == {"ok": f"{thread}:{round_}".encode().hex()}, (
            f"thread {thread} read another reply: {read}"
        )
        assert "ok" in bump, bump


def _host_connections(db: redis.Redis) -> int:
    return sum(1 for c in db.client_list() if c.get("cmd") not in ("client|list", "client"))


def test_threads_sharing_one_host_add_up_exactly(
    server: servers.ServerProcess, db: redis.Redis, faults: Path
) -> None:
    with kvredis.Host(server.url) as host:
        component = host.load(faults)
        instances = [component.instantiate() for _ in range(THREADS)]
        results = run_threads(lambda i: run_script(instances[i], "c", _thread_ops(i)), THREADS)
        for i, outcomes in enumerate(results):
            _check_thread(i, outcomes)
        assert db.get(b"c:n") == str(THREADS * ROUNDS).encode()
        assert db.get(b"c:m") == str(THREADS * ROUNDS).encode()
        # One pool: at most a connection per thread that was inside Redis at the same time.
        assert _host_connections(db) <= THREADS


def test_both_keyvalue_versions_increment_one_counter_from_threads(
    server: servers.ServerProcess,
    db: redis.Redis,
    faults: Path,
    conformance_guest: Callable[[str], Path],
) -> None:
    """draft2 increments (INCRBY) and draft increments (a script that refuses going below
    zero) race on one counter from threads; none may be lost."""
    per_thread = 300
    with kvredis.Host(server.url) as host:
        draft2 = host.load(faults)
        draft = host.load(conformance_guest("draft"))
        instances = [(draft2 if i % 2 else draft).instantiate() for i in range(THREADS)]

        def work(i: int) -> Any:
            if i % 2:
                return run_script(instances[i], "c", [["incr-loop", "n", per_thread]])
            return instances[i].call("ops#call", "c", "incr-loop", ["n", str(per_thread)])

        results = run_threads(work, THREADS)
    assert db.get(b"c:n") == str(THREADS * per_thread).encode(), results


def test_processes_on_one_server_add_up_exactly(
    server: servers.ServerProcess, db: redis.Redis, faults: Path
) -> None:
    processes = 3
    increments, bumps = 200, 50
    ops = json.dumps([["incr-loop", "n", increments], ["cas-bump", "m", bumps]])
    call = f"script({json.dumps('c')}, {json.dumps(ops)})"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    running = [
        subprocess.Popen(
            [str(KVREDIS), "run", "--redis-url", server.url, "--invoke", call, str(faults)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(processes)
    ]
    for process in running:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert not host_crashed(err), err
        incr, bump = json.loads(json.loads(out))
        assert "ok" in incr and "ok" in bump, (incr, bump)
    assert db.get(b"c:n") == str(processes * increments).encode()
    assert db.get(b"c:m") == str(processes * bumps).encode()
