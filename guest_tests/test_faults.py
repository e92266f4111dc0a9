"""Redis outages under a running guest: servers killed with SIGKILL and restarted, or frozen
with SIGSTOP, while the `faults` guest increments and swaps. Every operation must give up
within its budget with `other`, nothing may be applied twice, and the host must live on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import kvredis
import servers
from faultkit import (
    DURABLE,
    host_crashed,
    kinds,
    one,
    restart,
    run_script,
    start_server,
    timed,
    wait_until,
)
from support import KVREDIS

SLACK_S = 0.5  # scheduling on a busy two-core machine; the bounds themselves are the budgets


@pytest.fixture
def faults(app_guest: Callable[[str], Path]) -> Path:
    return app_guest("faults")


@pytest.fixture(params=kinds())
def durable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[servers.ServerProcess]:
    """A server of each kind that writes every acknowledged write to disk before answering."""
    server = start_server(request.param, tmp_path / "server", config=DURABLE)
    try:
        yield server
    finally:
        _resume(server)
        server.stop()


def _freeze(server: servers.ServerProcess) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)


def _resume(server: servers.ServerProcess) -> None:
    if server.process is not None:
        server.process.send_signal(signal.SIGCONT)


def _counter(server: servers.ServerProcess, key: bytes) -> int:
    return int(server.client(socket_timeout=5).get(key) or 0)


def _loop(url: str, guest: Path, millis: int, *flags: str) -> subprocess.Popen[str]:
    """`kvredis run` of the guest's increment loop, as a separate host process."""
    call = f'incr-for("loop", "n", 1000000000, {millis})'
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return subprocess.Popen(
        [str(KVREDIS), "run", "--redis-url", url, *flags, "--invoke", call, str(guest)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, f"the host process failed ({process.returncode}): {err}"
    assert not host_crashed(err), err
    report: dict[str, Any] = json.loads(json.loads(out))
    return report


def _check_count(report: dict[str, Any], stored: int) -> None:
    acknowledged, errors = report["acknowledged"], report["errors"]
    assert acknowledged <= stored <= acknowledged + errors, (
        f"stored {stored}, acknowledged {acknowledged}, errors {errors}: "
        + ("an acknowledged increment was lost" if stored < acknowledged else "applied twice")
    )


# --- kill -9 under a running guest ----------------------------------------------------------


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_kill9_during_an_increment_loop_loses_and_repeats_nothing(
    tmp_path: Path, faults: Path, transport: str
) -> None:
    kind = kinds()[-1]  # Redis 7 when installed: the server the issue names
    server = start_server(kind, tmp_path / "server", tcp=transport == "tcp", config=DURABLE)
    try:
        loop = _loop(server.url, faults, 7000)
        wait_until(lambda: _counter(server, b"loop:n") > 100, 60, "the guest's loop to start")
        server.kill9()
        time.sleep(1.0)  # the guest keeps going: every increment now fails
        back = restart(server)
        report = _finish(loop)
        stored = _counter(server, b"loop:n")
    finally:
        server.stop()

    _check_count(report, stored)
    assert report["errors"] > 0, "the outage went unnoticed"
    assert report["slowest_error_s"] <= 2.0 + SLACK_S, "a failing increment outlived the budget"
    for text in report["messages"]:
        assert "unavailable" in text or "may or may not have been applied" in text, text
    ok_after = [run for run in report["runs"] if run[0] and run[3] > back]
    assert ok_after, "no increment succeeded after the server came back"
    for ok, count, first_start, last_start, _ in report["runs"]:
        assert ok or last_start <= back, (
            f"{count} increment(s) that started after the server was back failed "
            f"(first at {first_start - back:+.3f} s, last at {last_start - back:+.3f} s)"
        )


@pytest.mark.parametrize(("kind", "transport"), [(k, t) for k in kinds() for t in ("unix", "tcp")])
def test_first_operation_after_a_restart_succeeds_on_stale_connections(
    tmp_path: Path, faults: Path, kind: str, transport: str
) -> None:
    """The pool holds connections to the killed server; the first operation after the
    restart, of every kind, must still succeed (a stale connection is not an outage).

    Over TCP a write to a connection the dead server left behind still succeeds, and only the
    reply fails: without a look at idle connections first, an increment would be lost."""
    server = start_server(kind, tmp_path / "server", tcp=transport == "tcp", config=DURABLE)
    try:
        _first_operations_after_restarts(server, faults)
    finally:
        server.stop()


def _first_operations_after_restarts(durable: servers.ServerProcess, faults: Path) -> None:
    cases: list[tuple[str, list[list[Any]], Callable[[list[dict[str, Any]]], bool]]] = [
        ("increment", [["increment", "n", 1]], lambda r: r[0] == {"ok": 2}),
        ("swap", [["cas", "s", "c"], ["swap", "s", "aa"]], lambda r: r[1] == {"ok": None}),
        ("get", [["get", "c"]], lambda r: r[0] == {"ok": "aa"}),
        ("set", [["set", "d", "01"]], lambda r: r[0] == {"ok": None}),
        ("list", [["list-all"]], lambda r: r[0] == {"ok": ["c", "d", "n"]}),
        ("batch", [["get-many", ["c", "x"]]], lambda r: r[0] == {"ok": [["c", "aa"], None]}),
    ]
    with kvredis.Host(durable.url) as host:
        instance = host.load(faults).instantiate()
        assert one(instance, "b", "increment", "n", 1) == {"ok": 1}
        for name, ops, expected in cases:
            # Leave several idle connections in the pool, all of them to the old server.
            threads = [
                threading.Thread(target=one, args=(host.load(faults), "b", "exists", "n"))
                for _ in range(2)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            durable.kill9()
            restart(durable)
            outcomes = run_script(instance, "b", ops)
            assert expected(outcomes), f"{name} after a restart: {outcomes}"


def test_down_then_back(durable: servers.ServerProcess, faults: Path) -> None:
    with kvredis.Host(durable.url) as host:
        instance = host.load(faults).instantiate()
        assert one(instance, "b", "set", "k", "01") == {"ok": None}
        durable.kill9()
        for op in (["get", "k"], ["set", "k", "02"], ["increment", "n", 1]):
            outcome, took = timed(instance, "b", *op)
            assert outcome["err"] == "other", (op, outcome)
            assert "unavailable" in outcome["message"] or "may or may not" in outcome["message"]
            assert took <= 2.0 + SLACK_S, (op, took)
        restart(durable)
        assert one(instance, "b", "get", "k") == {"ok": "01"}
        assert one(instance, "b", "increment", "n", 5) == {"ok": 5}


# --- a frozen server: every operation is bounded by its budget ------------------------------


def test_default_budget_bounds_each_operation_on_a_frozen_server(
    durable: servers.ServerProcess, faults: Path
) -> None:
    """Default settings: one operation, retries included, answers within 2 s."""
    with kvredis.Host(durable.url) as host:
        instance = host.load(faults).instantiate()
        assert one(instance, "b", "set", "k", "01") == {"ok": None}
        _freeze(durable)
        try:
            get, get_took = timed(instance, "b", "get", "k")
            incr, incr_took = timed(instance, "b", "increment", "n", 1)
        finally:
            _resume(durable)
        assert get["err"] == "other" and "unavailable" in get["message"], get
        assert get_took <= 2.0 + SLACK_S, get_took
        assert incr["err"] == "other", incr
        assert "may or may not have been applied" in incr["message"], incr
        assert incr_took <= 2.0 + SLACK_S, incr_took
        # The increment reached the frozen server, which runs it once it thaws: once only.
        wait_until(lambda: _counter(durable, b"b:n") == 1, 10, "the sent increment to land")
        time.sleep(0.3)
        assert _counter(durable, b"b:n") == 1
        assert one(instance, "b", "get", "k") == {"ok": "01"}


def test_a_configured_budget_bounds_every_kind_of_operation(
    durable: servers.ServerProcess, faults: Path
) -> None:
    budget_s = 0.5
    settings = kvredis.ConnectionSettings(op_budget_ms=int(budget_s * 1000))
    ops: list[list[Any]] = [
        ["get", "k"],
        ["set", "k", "02"],
        ["delete", "k"],
        ["exists", "k"],
        ["list-page", None],
        ["increment", "n", 1],
        ["get-many", ["k", "l"]],
        ["set-many", [["k", "03"]]],
        ["delete-many", ["k"]],
        ["cas", "s", "k"],
    ]
    with kvredis.Host(durable.url, connection=settings) as host:
        instance = host.load(faults).instantiate()
        assert one(instance, "b", "set", "k", "01") == {"ok": None}
        _freeze(durable)
        try:
            results = [(op[0], *timed(instance, "b", *op)) for op in ops]
        finally:
            _resume(durable)
        for name, outcome, took in results:
            assert outcome.get("err") == "other", (name, outcome)
            assert took <= budget_s + SLACK_S, f"{name} took {took:.2f} s"
        assert one(instance, "b", "exists", "n")["ok"] in (True, False)


def test_op_timeout_flag_bounds_a_running_loop(tmp_path: Path, faults: Path) -> None:
    """`kvredis run --op-timeout` with the server frozen under the loop, then thawed."""
    server = start_server(kinds()[0], tmp_path / "server", config=DURABLE)
    try:
        flags = ("--op-timeout", "600", "--response-timeout", "200", "--connection-timeout", "200")
        loop = _loop(server.url, faults, 5000, *flags)
        wait_until(lambda: _counter(server, b"loop:n") > 100, 60, "the guest's loop to start")
        _freeze(server)
        time.sleep(1.5)
        _resume(server)
        report = _finish(loop)
        # Increments sent to the frozen server ran when it thawed; wait for them to land.
        time.sleep(0.3)
        stored = _counter(server, b"loop:n")
    finally:
        _resume(server)
        server.stop()
    _check_count(report, stored)
    assert report["errors"] > 0
    assert report["slowest_error_s"] <= 0.6 + SLACK_S, report["slowest_error_s"]


# --- replies lost: a swap or an increment is reported, never sent again ---------------------


def test_lost_replies_are_errors_and_never_resent(
    durable: servers.ServerProcess, faults: Path
) -> None:
    """The server receives a swap and an increment but cannot answer them in time (it is
    frozen after receiving them). Each must come back as `other` and run exactly once."""
    settings = kvredis.ConnectionSettings(response_timeout_ms=300)
    db = durable.client()
    with kvredis.Host(durable.url, connection=settings) as host:
        instance = host.load(faults).instantiate()
        # A first swap loads the CAS script, so the frozen server can run the next one.
        warm = run_script(instance, "b", [["cas", "s", "c"], ["swap", "s", "3330"]])
        assert warm[1] == {"ok": None}
        when = time.time() + 2.0
        ops = [
            ["cas", "s", "c"],
            ["set", "ready", "01"],
            ["sleep-until", when],
            ["swap", "s", "3939"],
            ["increment", "n", 1],
        ]
        outcomes: list[list[dict[str, Any]]] = []
        worker = threading.Thread(target=lambda: outcomes.append(run_script(instance, "b", ops)))
        worker.start()
        try:
            wait_until(lambda: db.get(b"b:ready") is not None, 10, "the guest's CAS snapshot")
            _freeze(durable)
            assert time.time() < when - 0.5, "the machine was too slow to freeze the server"
            worker.join(30)
        finally:
            _resume(durable)
        assert not worker.is_alive()
        cas, _, _, swap, incr = outcomes[0]
        assert cas == {"ok": "3330"}
        for outcome in (swap, incr):
            assert outcome["err"] == "other", outcome
            assert "may or may not have been applied" in outcome["message"], outcome
        wait_until(lambda: db.get(b"b:c") == b"99", 10, "the sent swap to land")
        wait_until(lambda: _counter(durable, b"b:n") >= 1, 10, "the sent increment to land")
        time.sleep(0.5)
        assert _counter(durable, b"b:n") == 1, "the increment ran twice"
        # The host goes on: a fresh swap works.
        assert run_script(instance, "b", [["cas", "s", "c"], ["swap", "s", "41"]])[1] == {
            "ok": None
        }
