"""Runaway guests: --timeout (epoch interruption) and --max-memory, through the CLI and the
Python API, on the embedded server (which must not outlive the run) and on real servers."""

from __future__ import annotations

import gc
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import kvredis
import servers
from faultkit import embedded_pids, host_crashed, run_script, wait_until
from support import KVREDIS

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def limits(app_guest: Callable[[str], Path]) -> Path:
    return app_guest("limits")


def _run_on_embedded(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """`kvredis run` without a Redis URL; checks the embedded server ran, then went away."""
    data_dir = cwd / ".kvredis"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    process = subprocess.Popen(
        [str(KVREDIS), "run", *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = False
    end = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < end:
        seen = seen or bool(embedded_pids(data_dir))
        time.sleep(0.02)
    out, err = process.communicate(timeout=60)
    assert seen, "the embedded server never ran"
    assert embedded_pids(data_dir) == [], "the embedded server outlived the run"
    assert not host_crashed(err), err
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


# --- the CLI ------------------------------------------------------------------------------


def test_timeout_stops_an_endless_loop(tmp_path: Path, limits: Path) -> None:
    began = time.monotonic()
    done = _run_on_embedded(tmp_path, "--timeout", "1.5", "--invoke", "spin()", limits)
    took = time.monotonic() - began
    assert done.returncode == 1, done.stderr
    assert "limits.wasm: timed out after 1.5 s (spin)" in done.stderr
    assert took < 1.5 + 20, took  # startup and the server's stop, never the loop


def test_max_memory_stops_a_guest_over_it(tmp_path: Path, limits: Path) -> None:
    done = _run_on_embedded(tmp_path, "--max-memory", "64M", "--invoke", "hog(200)", limits)
    assert done.returncode == 1, done.stderr
    assert "limits.wasm: stopped: memory limit 64 MiB reached (in hog: " in done.stderr
    assert done.stdout == ""


def test_max_memory_below_the_guest_s_own_size(tmp_path: Path, limits: Path) -> None:
    done = _run_on_embedded(tmp_path, "--max-memory", "1M", "--invoke", "hog(1)", limits)
    assert done.returncode == 1, done.stderr
    assert "stopped: memory limit 1 MiB reached (in instantiating: " in done.stderr


@pytest.mark.parametrize(("size", "mebibytes"), [("64M", 8), ("1G", 100), ("100m", 20)])
def test_max_memory_accepts_units_and_lets_a_guest_under_it_run(
    server: servers.ServerProcess, cli: Cli, limits: Path, size: str, mebibytes: int
) -> None:
    done = cli(
        "run",
        "--redis-url",
        server.url,
        "--max-memory",
        size,
        "--timeout",
        "60",
        "--invoke",
        f"hog({mebibytes})",
        limits,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(mebibytes)


@pytest.mark.parametrize("size", ["12X", "-5M", "0", "M"])
def test_max_memory_rejects_what_is_not_a_size(cli: Cli, limits: Path, size: str) -> None:
    done = cli("run", "--max-memory", size, "--invoke", "hog(1)", limits)
    assert done.returncode == 2
    assert "--max-memory" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("seconds", ["0", "-1", "soon"])
def test_timeout_rejects_what_is_not_a_duration(cli: Cli, limits: Path, seconds: str) -> None:
    done = cli("run", "--timeout", seconds, "--invoke", "spin()", limits)
    assert done.returncode == 2
    assert "--timeout" in done.stderr and "Traceback" not in done.stderr


# --- the Python API -----------------------------------------------------------------------


def test_api_timeout_and_the_next_call(server: servers.ServerProcess, limits: Path) -> None:
    with kvredis.Host(server.url, timeout=0.5) as host:
        component = host.load(limits)
        began = time.monotonic()
        with pytest.raises(kvredis.GuestTimeout, match=r"timed out after 0\.5 s \(spin\)"):
            component.call("spin")
        assert time.monotonic() - began < 5
        # The trapped instance is replaced: the next call works, with the same limits.
        assert component.call("touch", "b") == "ok"
        with pytest.raises(kvredis.GuestTimeout):
            component.call("spin")


@pytest.mark.parametrize("max_memory", ["64M", 64 * 1024 * 1024])
def test_api_max_memory_and_the_next_call(
    server: servers.ServerProcess, limits: Path, max_memory: str | int
) -> None:
    with kvredis.Host(server.url, max_memory=max_memory) as host:
        component = host.load(limits)
        with pytest.raises(kvredis.GuestOutOfMemory, match="memory limit 64 MiB reached"):
            component.call("hog", 200)
        assert component.call("hog", 8) == 8


def test_api_limits_on_the_embedded_server(tmp_path: Path, limits: Path) -> None:
    data_dir = tmp_path / "data"
    with kvredis.Host(data_dir=data_dir, timeout=0.5, max_memory="64M") as host:
        assert embedded_pids(data_dir)
        component = host.load(limits)
        with pytest.raises(kvredis.GuestTimeout):
            component.call("spin")
        with pytest.raises(kvredis.GuestOutOfMemory):
            component.call("hog", 200)
    assert embedded_pids(data_dir) == []


def test_api_rejects_bad_limits() -> None:
    with pytest.raises(kvredis.ConfigError):
        kvredis.Host("redis://127.0.0.1:1", max_memory="lots")
    with pytest.raises(kvredis.ConfigError):
        kvredis.Host("redis://127.0.0.1:1", timeout=0)
    with pytest.raises(kvredis.ConfigError):
        kvredis.Host("redis://127.0.0.1:1", max_memory=-1)


def test_other_traps_under_a_memory_limit_are_not_called_memory(
    server: servers.ServerProcess, app_guest: Callable[[str], Path]
) -> None:
    with kvredis.Host(server.url, max_memory="256M") as host:
        component = host.load(app_guest("faults"))
        with pytest.raises(kvredis.GuestTrap) as trap:
            run_script(component, "b", [["stale-bucket", "k"]])
        assert not isinstance(trap.value, kvredis.GuestOutOfMemory)
        assert "unknown handle index" in str(trap.value)


def test_guest_stderr_still_reaches_stderr_under_a_memory_limit(
    server: servers.ServerProcess, limits: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with (
        kvredis.Host(server.url, max_memory="64M") as host,
        pytest.raises(kvredis.GuestOutOfMemory),
    ):
        host.load(limits).call("hog", 200)
    assert "MemoryError" in capfd.readouterr().err


def test_memory_limited_instances_release_their_descriptors(
    server: servers.ServerProcess, limits: Path
) -> None:
    def open_descriptors() -> int:
        return len(os.listdir("/proc/self/fd"))

    with kvredis.Host(server.url, max_memory="64M") as host:
        component = host.load(limits)
        component.call("hog", 1)  # the pool's connection and the shared instance exist now
        before = open_descriptors()
        for _ in range(20):
            instance = component.instantiate()
            assert instance.call("hog", 1) == 1
            del instance
        gc.collect()
        wait_until(lambda: open_descriptors() <= before, 10, "descriptors to be released")
