"""The conformance guests, run through the `kvredis` command against every available server,
with what they did checked on the Redis side."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

import servers
from support import CONFORMANCE_CASES as PARAMS
from support import VERSIONS, invoke_ops, run_kvredis

LINE = re.compile(r"^(PASS|FAIL) (draft2?) ([\w-]+): (.*)$")

_runs: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}


def suite_output(
    server: servers.ServerProcess, version: str, guest: Path
) -> dict[str, tuple[str, str]]:
    """Run the whole suite once per (server, version) via `kvredis run`; case -> (status, note)."""
    key = (server.name, version)
    if key not in _runs:
        server.client().flushall()
        done = run_kvredis("run", "--redis-url", server.url, guest)
        results = {}
        for line in done.stdout.splitlines():
            match = LINE.match(line)
            if match:
                results[match.group(3)] = (match.group(1), match.group(4))
        assert results, f"no case ran: {done.stdout}\n{done.stderr}"
        assert (done.returncode == 0) == all(s == "PASS" for s, _ in results.values())
        # Every case cleans up after itself: nothing may be left in the server.
        assert server.client().dbsize() == 0, "the conformance cases left keys behind"
        _runs[key] = results
    return _runs[key]


@pytest.mark.parametrize(("version", "case"), PARAMS, ids=[f"{v}-{c}" for v, c in PARAMS])
def test_case(
    server: servers.ServerProcess,
    conformance_guest: Callable[[str], Path],
    version: str,
    case: str,
) -> None:
    results = suite_output(server, version, conformance_guest(version))
    assert case in results, f"the {version} guest did not run {case}"
    status, note = results[case]
    assert status == "PASS", note


@pytest.mark.parametrize("version", VERSIONS)
def test_guest_runs_exactly_the_declared_cases(
    server: servers.ServerProcess, conformance_guest: Callable[[str], Path], version: str
) -> None:
    results = suite_output(server, version, conformance_guest(version))
    assert sorted(results) == sorted(name for v, name in PARAMS if v == version)


def test_suite_on_the_embedded_default_server(
    tmp_path: Path, conformance_guest: Callable[[str], Path]
) -> None:
    """No --redis-url, no REDIS_URL: the embedded Valkey serves the whole suite."""
    for version in VERSIONS:
        done = run_kvredis("run", conformance_guest(version), cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "0 failed" in done.stdout
        assert (tmp_path / ".kvredis").is_dir()


# --- what the guest's operations did in Redis -----------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_key_layout_is_bucket_colon_key(
    server: servers.ServerProcess,
    db: redis.Redis,
    conformance_guest: Callable[[str], Path],
    version: str,
) -> None:
    guest = conformance_guest(version)
    assert invoke_ops(server.url, guest, "counter", "set", "hits", "x") == {"ok": None}
    assert invoke_ops(server.url, guest, "p:q", "set", "r", "1") == {"ok": None}
    assert invoke_ops(server.url, guest, "p", "set", "q:r", "2") == {"ok": None}
    assert invoke_ops(server.url, guest, "a%b", "set", "k", "3") == {"ok": None}
    assert sorted(db.keys()) == sorted([b"counter:hits", b"p%3Aq:r", b"p:q:r", b"a%25b:k"])
    assert db.get(b"p%3Aq:r") == b"1"
    assert db.get(b"p:q:r") == b"2"


@pytest.mark.parametrize("version", VERSIONS)
def test_counters_are_decimal_strings(
    server: servers.ServerProcess,
    db: redis.Redis,
    conformance_guest: Callable[[str], Path],
    version: str,
) -> None:
    guest = conformance_guest(version)
    assert invoke_ops(server.url, guest, "counter", "increment", "hits", "5") == {"ok": 5}
    assert invoke_ops(server.url, guest, "counter", "increment", "hits", "1") == {"ok": 6}
    assert db.get(b"counter:hits") == b"6"
    db.set(b"counter:other", b"41")  # written by another client, read by the guest
    assert invoke_ops(server.url, guest, "counter", "increment", "other", "1") == {"ok": 42}


@pytest.mark.parametrize("version", VERSIONS)
def test_guest_never_sees_keys_outside_its_prefix(
    server: servers.ServerProcess,
    db: redis.Redis,
    conformance_guest: Callable[[str], Path],
    version: str,
) -> None:
    guest = conformance_guest(version)
    db.mset({b"other:key": b"1", b"plain": b"2", b"b": b"3", b"bx:k": b"4", b"b\\:k": b"5"})
    assert invoke_ops(server.url, guest, "b", "set", "mine", "v") == {"ok": None}
    listed = invoke_ops(server.url, guest, "b", "list-all")
    assert listed["ok"]["keys"] == ["mine"]
    assert invoke_ops(server.url, guest, "b", "get", "key") == {"ok": None}
    assert db.get(b"b:mine") == b"v"


@pytest.mark.parametrize("version", VERSIONS)
def test_raw_layout_keeps_keys_as_given(
    server: servers.ServerProcess,
    db: redis.Redis,
    conformance_guest: Callable[[str], Path],
    version: str,
) -> None:
    guest = conformance_guest(version)
    flags = ("--key-prefix", "")
    assert invoke_ops(server.url, guest, "ignored", "set", "k1", "v", flags=flags) == {"ok": None}
    assert db.get(b"k1") == b"v"
    db.set(b"foreign", b"f")
    listed = invoke_ops(server.url, guest, "any", "list-all", flags=flags)
    assert listed["ok"]["keys"] == ["foreign", "k1"]


@pytest.mark.parametrize("version", VERSIONS)
def test_custom_prefix_template(
    server: servers.ServerProcess,
    db: redis.Redis,
    conformance_guest: Callable[[str], Path],
    version: str,
) -> None:
    guest = conformance_guest(version)
    flags = ("--key-prefix", "app/{bucket}/")
    assert invoke_ops(server.url, guest, "a/b", "set", "k", "v", flags=flags) == {"ok": None}
    assert invoke_ops(server.url, guest, "a", "set", "b/k", "w", flags=flags) == {"ok": None}
    # '/' surrounds the bucket in this template, so it is escaped in bucket names
    assert sorted(db.keys()) == [b"app/a%2Fb/k", b"app/a/b/k"]


@pytest.mark.parametrize("version", VERSIONS)
def test_wrong_type_keys_are_other_errors_not_traps(
    server: servers.ServerProcess,
    db: redis.Redis,
    conformance_guest: Callable[[str], Path],
    version: str,
) -> None:
    """Another client left a list where the guest expects a string."""
    guest = conformance_guest(version)
    db.rpush(b"b:k", b"not a string")
    for op, args in [("get", ["k"]), ("increment", ["k", "1"])]:
        outcome = invoke_ops(server.url, guest, "b", op, *args)
        assert outcome["err"] == "other", (op, outcome)
        assert "WRONGTYPE" in outcome["message"] or "wrong kind" in outcome["message"], outcome
    # get-many is one MGET, which answers nil for a key that holds no string.
    assert invoke_ops(server.url, guest, "b", "get-many", "k") == {"ok": [None]}
    assert db.lrange(b"b:k", 0, -1) == [b"not a string"]
