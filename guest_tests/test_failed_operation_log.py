"""`kvredis run -v` logs every keyvalue operation that failed (issue 14): a guest that
swallows an error, or gives up without a word, no longer leaves the user with nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import servers
from clikit import CompletedRun, LineReader, finish, start_kvredis

PASSWORD = "s3cret-pw"


@pytest.mark.parametrize("kind", servers.available())
def test_a_write_refused_for_lack_of_memory_is_logged_under_verbose(
    cli: Callable[..., CompletedRun], tmp_path: Path, cli_wasm: Path, kind: str
) -> None:
    """The cli guest's first write fails (the server is at maxmemory with noeviction) and the
    guest exits 1 without printing anything: only -v says why."""
    full = servers.start(
        kind, tmp_path / kind, config=["maxmemory 1", "maxmemory-policy noeviction"]
    )
    try:
        quiet = cli("run", "--redis-url", full.url, cli_wasm, "wait-then-set", "b")
        verbose = cli("run", "-v", "--redis-url", full.url, cli_wasm, "wait-then-set", "b")
    finally:
        full.stop()
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (1, "", "")
    assert verbose.returncode == 1
    logged = [line for line in verbose.stderr.splitlines() if "failed; the guest gets" in line]
    assert logged == [
        "kvredis: set in bucket 'b' failed; the guest gets: set failed: "
        "command not allowed when used memory > 'maxmemory'."
    ], verbose.stderr


def test_the_log_of_a_failed_operation_hides_the_password(tmp_path: Path, cli_wasm: Path) -> None:
    """The cli guest swallows the error of its second write (the server is gone by then) and
    prints it; the -v log names the server without its password."""
    server = servers.start("valkey", tmp_path / "server", tcp=True, password=PASSWORD)
    process = start_kvredis(
        "run", "-v", "--redis-url", server.url, "--op-timeout", "300",
        cli_wasm, "wait-then-set", "b",
    )  # fmt: skip
    try:
        lines = LineReader(process.stdout)  # type: ignore[arg-type]
        assert lines.next() == "ready"
        server.kill9()
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
        assert '"err": "other"' in lines.next()
    finally:
        _, err = finish(process)
        server.stop()
    assert process.returncode == 0, err
    assert PASSWORD not in err
    logged = [line for line in err.splitlines() if "failed; the guest gets" in line]
    assert len(logged) == 1, err
    assert logged[0].startswith("kvredis: set in bucket 'b' failed; the guest gets: set: Redis at")
    assert ":***@127.0.0.1" in logged[0] and "is unavailable" in logged[0]
