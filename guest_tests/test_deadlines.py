"""`--timeout` holds wall-clock whatever the guest waits on: input that never comes on stdin
(`sleep 15 | kvredis run --timeout 1 ...`), or a clock in the host (a WASI sleep), where
epoch interruption alone, which stops only WebAssembly code, waited for the host call."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

import servers
from clikit import LineReader, start_kvredis
from faultkit import embedded_pids, host_crashed
from kvredis.runtime.deadline import GRACE_S
from support import run_kvredis

TIMEOUT_S = 1.0
# Past the guest's first line: the timeout, and stopping the embedded server (≈0.1 s), with
# room for a busy machine. Before the fix a blocked guest took as long as its wait (60 s).
ENOUGH_S = TIMEOUT_S + GRACE_S + 2.5


def run_until_timed_out(cwd: Path, cli_wasm: Path, *guest_args: str) -> tuple[str, float]:
    """`kvredis run --timeout 1` on the embedded server, with a stdin that is never written
    nor closed; kvredis's stderr, and the seconds from the guest's first line to its exit."""
    process = start_kvredis("run", "--timeout", str(TIMEOUT_S), cli_wasm, *guest_args, cwd=cwd)
    try:
        stdout = LineReader(process.stdout)  # type: ignore[arg-type]
        stdout.next()  # the guest is running: its call's deadline has started
        started = time.monotonic()
        try:
            status = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"kvredis outlived --timeout {TIMEOUT_S:g} by a minute")
        took = time.monotonic() - started
        assert process.stderr is not None
        err = process.stderr.read()
    finally:
        process.kill()
        process.wait()
    assert status == 1, err
    assert not host_crashed(err), err
    assert embedded_pids(cwd / ".kvredis") == [], "the embedded server outlived the run"
    return err, took


def test_a_guest_waiting_for_stdin_that_never_comes(tmp_path: Path, cli_wasm: Path) -> None:
    err, took = run_until_timed_out(tmp_path, cli_wasm, "read-stdin")
    assert err == "kvredis: cli.wasm: timed out after 1 s (wasi:cli/run@0.2.0#run)\n"
    assert TIMEOUT_S * 0.8 < took < ENOUGH_S, took


def test_a_guest_sleeping_in_a_host_call(tmp_path: Path, cli_wasm: Path) -> None:
    err, took = run_until_timed_out(tmp_path, cli_wasm, "sleep", "60")
    assert err == "kvredis: cli.wasm: timed out after 1 s while waiting in a host call\n"
    assert TIMEOUT_S < took < ENOUGH_S, took


@pytest.mark.parametrize("size", [6, 300_000])
def test_stdin_still_reaches_a_guest_with_a_timeout(
    valkey_server: servers.ServerProcess, cli_wasm: Path, size: int
) -> None:
    text = ("line of input\n" * (size // 14 + 1))[:size]
    args = ("run", "--redis-url", valkey_server.url, "--timeout", "60", cli_wasm, "read-stdin")
    done = run_kvredis(*args, input_text=text)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "reading\n" + text


def test_a_guest_that_finishes_in_time_is_not_timed_out(
    valkey_server: servers.ServerProcess, cli_wasm: Path
) -> None:
    args = ("run", "--redis-url", valkey_server.url, "--timeout", "30", cli_wasm)
    done = run_kvredis(*args, "sleep", "0.2")
    assert (done.returncode, done.stdout, done.stderr) == (0, "sleeping\n", "")
