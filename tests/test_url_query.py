"""Redis URL queries and connection settings are checked before anything connects
(kvredis.backend.urls, kvredis.backend.settings): pure logic, no server. A parameter kvredis
does not read, or a bad value, is a ConfigError that names it, never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest

from kvredis.backend.settings import ConnectionSettings
from kvredis.backend.urls import UrlError, check_url
from kvredis.errors import ConfigError

ACCEPTED = "kvredis reads db, username, password"


@pytest.mark.parametrize(
    "url",
    [
        "redis://h:6379/0?password=p%3Fw&username=u",
        "redis://h/?db=15",
        "unix:///run/redis.sock?db=2&password=x",
        "rediss://h/?ssl_cert_reqs=none&ssl_check_hostname=false",
        "rediss://h/?ssl_cert_reqs=required&ssl_check_hostname=1",
        "redis://h/?password=",
    ],
)
def test_urls_with_parameters_kvredis_reads_are_accepted(url: str) -> None:
    assert check_url(url) == url


UNKNOWN = ["?foo=bar", "?max_connections=0", "?socket_timeout=5", "?DB=1", "?foo"]


def refusal(url: str) -> str:
    with pytest.raises(UrlError) as refused:
        check_url(url)
    return str(refused.value)


@pytest.mark.parametrize("query", UNKNOWN)
def test_a_parameter_kvredis_does_not_read_is_refused_by_name(query: str) -> None:
    for url in (f"redis://h/{query}", f"unix:///s.sock{query}"):
        message = refusal(url)
        assert f"unknown query parameter {query.partition('=')[0]}" in message
        assert ACCEPTED in message and "ssl_cert_reqs" in message


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "rediss://h/?ssl_cert_reqs=x",
            "?ssl_cert_reqs=x: must be one of none, optional, required",
        ),
        ("rediss://h/?ssl_check_hostname=maybe", "?ssl_check_hostname=maybe: must be one of"),
        (
            "rediss://h/?ssl_ca_certs=/nonexistent/ca.pem",
            "?ssl_ca_certs=/nonexistent/ca.pem: no such",
        ),
        ("redis://h/?db=x", "?db=x: must be a database number"),
        ("unix:///s.sock?db=-1", "?db=-1: must be a database number"),
        ("redis://h/?ssl_cert_reqs=none", "?ssl_cert_reqs applies only to rediss:// URLs"),
        ("redis://h/?db=1&db=2", "?db is given twice"),
        ("redis://h/2?db=3", "the database is given twice"),
    ],
)
def test_a_bad_value_is_refused_naming_the_parameter(url: str, says: str) -> None:
    assert says in refusal(url)


def test_url_errors_are_config_errors_that_never_show_the_password() -> None:
    assert issubclass(UrlError, ConfigError)
    assert "s3cret" not in refusal("redis://:s3cret@h/?password=s3cret&foo=1")
    twice = refusal("unix:///s.sock?password=s3cret&password=s3cret")
    assert "?password is given twice" in twice and "s3cret" not in twice


def test_a_ca_file_that_exists_is_accepted(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here")
    assert check_url(f"rediss://h/?ssl_ca_certs={ca}")


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"reconnect_retries": -1}, "reconnect_retries must be at least 0, not -1"),
        ({"reconnect_retries": 1.5}, "reconnect_retries must be an integer"),
        ({"op_budget_ms": True}, "op_budget_ms must be an integer"),
        ({"connection_timeout_ms": 0}, "connection_timeout_ms must be at least 1"),
        ({"response_timeout_ms": 0}, "response_timeout_ms must be at least 1"),
        ({"op_budget_ms": 10**15}, "op_budget_ms must be at most 86400000"),
        ({"reconnect_max_delay_ms": -5}, "reconnect_max_delay_ms must be at least 0"),
        ({"tls_ca_cert": "/nonexistent/ca.pem"}, "tls_ca_cert /nonexistent/ca.pem: no such file"),
        ({"tls_ca_cert": 7}, "tls_ca_cert must be a file name"),
    ],
)
def test_bad_connection_settings_raise_config_error(settings: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        ConnectionSettings(**settings)  # type: ignore[arg-type]
    assert says in str(refused.value)


def test_connection_settings_take_a_path_for_the_ca(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here")
    assert ConnectionSettings(tls_ca_cert=ca).tls_ca_cert == str(ca)  # type: ignore[arg-type]
    assert ConnectionSettings(reconnect_retries=0, reconnect_max_delay_ms=0).reconnect_retries == 0
