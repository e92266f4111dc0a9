"""Usage errors in a Redis URL's query (issue 14, item 7): `kvredis run` exits 2 with one line
naming the parameter, and `Host(...)` raises ConfigError, before anything connects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import kvredis
import servers
from clikit import CompletedRun, error_line

BAD_QUERIES = [
    ("?foo=bar", "unknown query parameter ?foo"),
    ("?max_connections=0", "unknown query parameter ?max_connections"),
    ("?db=x", "?db=x: must be a database number"),
]


def _connections(server: servers.ServerProcess) -> int:
    return int(server.client().info("stats")["total_connections_received"])


@pytest.mark.parametrize(("query", "says"), BAD_QUERIES)
def test_kvredis_run_says_which_parameter_and_exits_2(
    cli: Callable[..., CompletedRun],
    valkey_server: servers.ServerProcess,
    cli_wasm: Path,
    query: str,
    says: str,
) -> None:
    before = _connections(valkey_server)
    line = error_line(cli("run", "--redis-url", f"{valkey_server.url}{query}", cli_wasm))
    assert says in line and "internal error" not in line, line
    assert "kvredis reads db" in line or "must be" in line
    assert _connections(valkey_server) == before + 1  # only this test's own INFO


def test_a_bad_query_in_redis_url_or_a_bucket_url_is_a_usage_error(
    cli: Callable[..., CompletedRun], valkey_server: servers.ServerProcess, cli_wasm: Path
) -> None:
    tls_only = error_line(cli("run", cli_wasm, env={"REDIS_URL": "redis://h/?ssl_cert_reqs=x"}))
    assert "?ssl_cert_reqs applies only to rediss:// URLs" in tls_only
    routed = error_line(
        cli("run", "--redis-url", valkey_server.url, "--bucket", "c=redis://h/?foo=1", cli_wasm)
    )
    assert "unknown query parameter ?foo" in routed


@pytest.mark.parametrize(("query", "says"), BAD_QUERIES)
def test_host_raises_config_error_before_connecting(
    valkey_server: servers.ServerProcess, query: str, says: str
) -> None:
    before = _connections(valkey_server)
    with pytest.raises(kvredis.ConfigError) as refused:
        kvredis.Host(f"{valkey_server.url}{query}")
    assert says in str(refused.value)
    with pytest.raises(kvredis.ConfigError) as routed:
        kvredis.Host(valkey_server.url, buckets={"c": f"{valkey_server.url}{query}"})
    assert says in str(routed.value)
    assert _connections(valkey_server) == before + 1


def test_bad_connection_settings_are_config_errors() -> None:
    with pytest.raises(kvredis.ConfigError, match="op_budget_ms must be at least 1"):
        kvredis.Host("redis://h", connection=kvredis.ConnectionSettings(op_budget_ms=0))
