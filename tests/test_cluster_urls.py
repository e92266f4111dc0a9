"""What a Redis URL says about a cluster (kvredis.backend.urls): `?cluster=yes|no`, more seed
nodes as go-redis's `?addr=host:port`, a node's URL made from the seed's, and
`--wait-replicas` as a connection setting. Pure logic, no server."""

from __future__ import annotations

import pytest

from kvredis.backend.settings import MAX_WAIT_REPLICAS, ConnectionSettings
from kvredis.backend.urls import (
    UrlError,
    check_url,
    cluster_options,
    redact,
    with_address,
)
from kvredis.errors import ConfigError


@pytest.mark.parametrize(
    ("url", "mode", "seeds", "base"),
    [
        ("redis://h:7000", None, (), "redis://h:7000"),
        ("redis://h:7000?cluster=yes", True, (), "redis://h:7000"),
        ("redis://h:7000?cluster=no", False, (), "redis://h:7000"),
        (
            "redis://:p%3Fw@h:7000/0?addr=h2:7001&password=x%26y&addr=[::1]:7002",
            True,
            (("h2", 7001), ("::1", 7002)),
            "redis://:p%3Fw@h:7000/0?password=x%26y",
        ),
        ("rediss://h?addr=h2:1&cluster=yes", True, (("h2", 1),), "rediss://h"),
        ("unix:///run/r.sock?db=1", None, (), "unix:///run/r.sock?db=1"),
    ],
)
def test_cluster_parameters_are_read_and_taken_out_of_the_url(
    url: str, mode: bool | None, seeds: tuple[tuple[str, int], ...], base: str
) -> None:
    assert check_url(url) == url
    options = cluster_options(url)
    assert (options.mode, options.seeds, options.url) == (mode, seeds, base)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis://h?cluster=maybe", "?cluster=maybe: must be one of yes, no"),
        ("redis://h?cluster=yes&cluster=no", "?cluster is given twice"),
        ("redis://h?addr=h2", "?addr=h2: must be host:port"),
        ("redis://h?addr=h2:0", "the port must be 1 to 65535"),
        ("redis://h?addr=:7000", "must be host:port"),
        ("redis://h?addr=h2:x", "must be host:port"),
        ("redis://h?addr=h2:1&cluster=no", "?cluster=no says this is no cluster"),
        ("unix:///s.sock?cluster=yes", "applies only to redis:// and rediss:// URLs"),
        ("unix:///s.sock?addr=h:1", "a cluster speaks TCP"),
    ],
)
def test_bad_cluster_parameters_are_refused_by_name(url: str, says: str) -> None:
    with pytest.raises(UrlError) as refused:
        check_url(url)
    assert says in str(refused.value)


def test_the_list_of_accepted_parameters_names_the_cluster_ones() -> None:
    with pytest.raises(UrlError, match="cluster, addr"):
        check_url("redis://h?nodes=h2:1")


def test_a_node_url_keeps_the_credentials_database_and_query() -> None:
    seed = "rediss://user:p%40ss@seed:7000/0?ssl_cert_reqs=none"
    assert with_address(seed, "10.0.0.2", 7005) == (
        "rediss://user:p%40ss@10.0.0.2:7005/0?ssl_cert_reqs=none"
    )
    assert with_address("redis://seed:1", "::1", 7005) == "redis://[::1]:7005"


def test_seed_nodes_stay_readable_and_the_password_does_not() -> None:
    shown = redact("redis://:s3cret@h:1?addr=h2:2&addr=[::1]:3")
    assert shown == "redis://:***@h:1?addr=h2:2&addr=[::1]:3"


def test_wait_replicas_is_a_connection_setting_within_bounds() -> None:
    assert ConnectionSettings().wait_replicas == 0
    assert ConnectionSettings(wait_replicas=2).wait_replicas == 2
    for bad in (-1, MAX_WAIT_REPLICAS + 1, True, "1"):
        with pytest.raises(ConfigError, match="wait_replicas"):
            ConnectionSettings(wait_replicas=bad)  # type: ignore[arg-type]
