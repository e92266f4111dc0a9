"""Hostile input, each case issued by a guest: keys and bucket names made of NUL, glob
characters, `%` and `:`, 64 KiB keys, malformed list-keys cursors, values above the limit,
get-many of 100,000 keys, CAS handles dropped or outliving their bucket, and handles used
after they are gone. The guest may get an error or trap; the host never breaks."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

import kvredis
import servers
from faultkit import host_crashed, one, run_script
from support import run_kvredis

KEYS = [
    "nul\x00inside",
    "\x00",
    "*",
    "?",
    "[a-z]",
    "\\",
    "a*b?c[d]\\e",
    "%",
    "%3A",
    ":",
    "a:b",
    "::",
    "%25:%3A",
    "",
    " ",
    "\n\r\t",
    "é☃🦀",
    "k" * 65536,
]
BUCKETS = [
    "nul\x00",
    "*",
    "g*",
    "g",
    "g?",
    "[g]",
    "g\\",
    "%",
    "%3A",
    ":",
    "p:q",
    "p",
    "a%b",
    "",
    "b" * 65536,
]


@pytest.fixture
def faults(app_guest: Callable[[str], Path]) -> Path:
    return app_guest("faults")


@pytest.fixture
def host(server: servers.ServerProcess) -> Any:
    with kvredis.Host(server.url) as started:
        yield started


def _hex(text: str) -> str:
    return text.encode().hex()


# --- keys and buckets ---------------------------------------------------------------------


def test_hostile_keys_round_trip_and_stay_in_their_bucket(
    host: kvredis.Host, db: redis.Redis, faults: Path
) -> None:
    component = host.load(faults)
    values = {key: _hex(f"value of {key[:20]!r}") for key in KEYS}
    outcomes = run_script(
        component,
        "b",
        [["set", key, value] for key, value in values.items()]
        + [["get", key] for key in KEYS]
        + [["exists", key] for key in KEYS]
        + [["list-all"], ["get-many", KEYS]],
    )
    n = len(KEYS)
    assert outcomes[:n] == [{"ok": None}] * n
    assert [o["ok"] for o in outcomes[n : 2 * n]] == list(values.values())
    assert outcomes[2 * n : 3 * n] == [{"ok": True}] * n
    assert outcomes[3 * n] == {"ok": sorted(KEYS)}
    assert outcomes[3 * n + 1] == {"ok": [[key, values[key]] for key in KEYS]}
    assert sorted(db.keys()) == sorted(b"b:" + key.encode() for key in KEYS)
    assert run_script(component, "b", [["delete-many", KEYS], ["list-all"]])[1] == {"ok": []}
    assert db.dbsize() == 0


def test_hostile_bucket_names_never_see_each_other(
    host: kvredis.Host, db: redis.Redis, faults: Path
) -> None:
    component = host.load(faults)
    for bucket in BUCKETS:
        assert one(component, bucket, "set", "k", _hex(bucket)) == {"ok": None}
        assert one(component, bucket, "set", "*", "00") == {"ok": None}
    for bucket in BUCKETS:
        listed, got = run_script(component, bucket, [["list-all"], ["get", "k"]])
        assert listed == {"ok": ["*", "k"]}, f"bucket {bucket[:20]!r} listed {listed}"
        assert got == {"ok": _hex(bucket)}
    expected = {host.key_for(b, k) for b in BUCKETS for k in ("k", "*")}
    assert set(db.keys()) == expected
    assert len(expected) == 2 * len(BUCKETS), "two (bucket, key) pairs share a Redis key"


def test_keys_that_are_prefixes_of_other_buckets(
    host: kvredis.Host, db: redis.Redis, faults: Path
) -> None:
    """Bucket `p` key `q:r` and bucket `p:q` key `r` are different keys; `p`'s listing does
    not include `p:q`'s keys even though the raw Redis keys start alike."""
    component = host.load(faults)
    assert one(component, "p", "set", "q:r", "01") == {"ok": None}
    assert one(component, "p:q", "set", "r", "02") == {"ok": None}
    assert one(component, "p", "list-all") == {"ok": ["q:r"]}
    assert one(component, "p:q", "list-all") == {"ok": ["r"]}
    assert one(component, "p", "get", "q:r") == {"ok": "01"}
    assert sorted(db.keys()) == [b"p%3Aq:r", b"p:q:r"]


# --- list-keys cursors --------------------------------------------------------------------

MALFORMED = ["abc", "-1", "", " 1", "1 ", "1.5", "0x10", "+7", "١٢", "18446744073709551616"]


@pytest.mark.parametrize("cursor", MALFORMED)
def test_malformed_cursors_are_other_errors(host: kvredis.Host, faults: Path, cursor: str) -> None:
    outcome = one(host.load(faults), "b", "list-page", cursor)
    assert outcome["err"] == "other", outcome
    assert "malformed list-keys cursor" in outcome["message"]


def test_a_cursor_of_five_thousand_digits_is_an_other_error(
    host: kvredis.Host, faults: Path
) -> None:
    outcome = one(host.load(faults), "b", "list-page", "9" * 5000)
    assert outcome["err"] == "other", outcome


@pytest.mark.parametrize("cursor", ["12345", "18446744073709551615", "1"])
def test_cursors_the_server_never_gave_do_not_break_anything(
    host: kvredis.Host, faults: Path, conformance_guest: Callable[[str], Path], cursor: str
) -> None:
    """Both versions: a well-formed cursor the server never handed out (draft2 as a string,
    draft as a u64) answers a page or `other`, and the bucket still works afterwards."""
    draft2 = host.load(faults)
    outcome = one(draft2, "b", "list-page", cursor)
    assert "ok" in outcome or outcome["err"] == "other", outcome
    draft = host.load(conformance_guest("draft"))
    answer = draft.call("ops#call", "b", "list-page", [cursor])
    assert '"ok"' in answer or '"other"' in answer, answer
    assert one(draft2, "b", "set", "k", "01") == {"ok": None}
    assert one(draft2, "b", "list-all") == {"ok": ["k"]}


# --- values above the limit ---------------------------------------------------------------


def test_values_above_a_configured_limit_are_refused(
    server: servers.ServerProcess, db: redis.Redis, faults: Path
) -> None:
    limit = 1 << 20
    with kvredis.Host(server.url, max_value_size="1M") as host:
        component = host.load(faults)
        outcomes = run_script(
            component,
            "b",
            [
                ["set-size", "fits", limit],
                ["set-size", "big", limit + 1],
                ["set-many", [["a", "01"], ["big", "00" * (limit + 1)]]],
                ["cas", "s", "fits"],
                ["swap", "s", "00" * (limit + 1)],
            ],
        )
        fits, big, many, cas, swap = outcomes
        assert fits == {"ok": None}
        for outcome in (big, many, swap):
            assert outcome["err"] == "other", outcome
            assert f"above the limit of {limit} bytes" in outcome["message"]
        assert cas["ok"] is not None
        assert sorted(db.keys()) == [b"b:fits"], "a refused value reached Redis"
        assert db.strlen(b"b:fits") == limit
        # Values written by someone else above the limit are refused on the way in, too.
        db.set(b"b:huge", b"h" * (limit + 1))
        for op in (["get", "huge"], ["get-many", ["fits", "huge"]], ["cas", "t", "huge"]):
            outcome = one(component, "b", *op)
            assert outcome["err"] == "other", (op, outcome)


def test_a_refused_value_is_never_copied_into_python(
    server: servers.ServerProcess, faults: Path
) -> None:
    """The limit is checked on the argument's length, before its bytes are read: no Python
    object of the refused value's size is ever made (tracemalloc sees every such copy)."""
    size = 2 << 20  # under wasmtime's own per-call copy ceiling (about 2.6 MiB)
    with kvredis.Host(server.url, max_value_size="64K") as host:
        component = host.load(faults)
        assert one(component, "b", "set-size", "warm", 1)["ok"] is None
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            outcome = one(component, "b", "set-size", "big", size)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert outcome["err"] == "other", outcome
    assert peak < size // 4, f"{peak} bytes of Python objects for a refused {size}-byte value"


def test_values_above_the_default_limit_are_refused_on_read(
    host: kvredis.Host, db: redis.Redis, faults: Path
) -> None:
    db.set(b"b:huge", b"h" * (64 * 1024 * 1024 + 1))
    outcome = one(host.load(faults), "b", "get-len", "huge")
    assert outcome["err"] == "other", outcome
    assert "above the limit of 67108864 bytes" in outcome["message"]


def test_values_above_wasmtimes_copy_ceiling(
    host: kvredis.Host, db: redis.Redis, faults: Path
) -> None:
    """wasmtime caps what a guest may pass to one host call (128 MiB of "hostcall fuel",
    48 of it per list<u8> element: about 2.6 MiB). A bigger value, under the 64 MiB default,
    traps the guest before kvredis sees it; the host goes on. Reading bigger values works."""
    component = host.load(faults)
    with pytest.raises(kvredis.GuestTrap) as trap:
        one(component, "b", "set-size", "w", 3 << 20)
    assert "too much data is being copied between the host and the guest" in str(trap.value)
    assert one(component, "b", "set-size", "fits", 2 << 20) == {"ok": None}
    db.set(b"b:big", b"b" * (5 << 20))
    assert one(component, "b", "get-len", "big") == {"ok": 5 << 20}


# --- batches ------------------------------------------------------------------------------


def test_get_many_of_a_hundred_thousand_keys(
    host: kvredis.Host, db: redis.Redis, faults: Path
) -> None:
    component = host.load(faults)
    present = [[f"p{i}", "01"] for i in range(0, 100_000, 100)]
    assert one(component, "b", "set-many", present) == {"ok": None}
    outcome = one(component, "b", "get-many-count", "p", 100_000)
    assert outcome == {"ok": {"asked": 100_000, "answers": 100_000, "found": 1000}}


def test_empty_and_duplicate_batches(host: kvredis.Host, db: redis.Redis, faults: Path) -> None:
    outcomes = run_script(
        host.load(faults),
        "b",
        [
            ["get-many", []],
            ["set-many", []],
            ["delete-many", []],
            ["set-many", [["k", "01"], ["k", "02"]]],
            ["get-many", ["k", "k", "x", "k"]],
        ],
    )
    assert outcomes[:4] == [{"ok": []}, {"ok": None}, {"ok": None}, {"ok": None}]
    assert outcomes[4] == {"ok": [["k", "02"], ["k", "02"], None, ["k", "02"]]}


# --- CAS and handles ----------------------------------------------------------------------


def _host_connections(db: redis.Redis) -> int:
    return sum(1 for c in db.client_list() if c.get("cmd") != "client|list")


def test_cas_handles_dropped_without_swap_leak_nothing(
    host: kvredis.Host, db: redis.Redis, faults: Path
) -> None:
    component = host.load(faults)
    assert one(component, "b", "set", "k", "01") == {"ok": None}
    before = _host_connections(db)
    assert one(component, "b", "cas-drop-many", "k", 5000) == {"ok": None}
    assert _host_connections(db) <= before + 1, "dropped CAS handles pinned connections"
    outcomes = run_script(component, "b", [["cas", "s", "k"], ["swap", "s", "02"]])
    assert outcomes == [{"ok": "01"}, {"ok": None}]


def test_cas_handles_outlive_their_bucket(
    host: kvredis.Host, db: redis.Redis, faults: Path
) -> None:
    outcomes = run_script(
        host.load(faults),
        "b",
        [
            ["set", "k", _hex("old")],
            ["cas", "a", "k"],
            ["cas", "b", "k"],
            ["drop-bucket"],
            ["cas-current", "a"],
            ["swap", "b", _hex("new")],
            ["swap", "a", _hex("lost")],
            ["cas-current", "a"],
        ],
    )
    assert outcomes[4:] == [
        {"ok": _hex("old")},
        {"ok": None},
        {"err": "cas-failed", "message": ""},
        {"ok": _hex("new")},  # the handle the failed swap gave back
    ]
    assert db.get(b"b:k") == b"new"


MISUSE: list[tuple[list[Any], str]] = [
    (["use-dropped-bucket", "k"], "unreachable"),  # componentize-py's own guard
    (["stale-bucket", "k"], "unknown handle index"),
    (["forged-bucket", 77, "k"], "unknown handle index 77"),
    (["forged-bucket", 0, "k"], "unknown handle index 0"),
    (["cas-as-bucket", "k"], "used with the wrong type"),
    (["stale-cas", "k"], "unknown handle index"),
]


@pytest.mark.parametrize(("op", "message"), MISUSE, ids=[op[0] for op, _ in MISUSE])
def test_dropped_and_forged_handles_trap_the_guest_only(
    host: kvredis.Host, faults: Path, op: list[Any], message: str
) -> None:
    component = host.load(faults)
    ops = [["drop-bucket"], op] if op[0] == "use-dropped-bucket" else [op]
    with pytest.raises(kvredis.GuestTrap, match=message):
        run_script(component, "b", ops)
    # The component gets a fresh instance; the host and its connections are fine.
    assert one(component, "b", "set", "after", "01") == {"ok": None}


def test_a_trapping_guest_exits_cleanly_from_the_cli(
    server: servers.ServerProcess, faults: Path
) -> None:
    call = 'script("b", "[[\\"stale-bucket\\", \\"k\\"]]")'
    done = run_kvredis("run", "--redis-url", server.url, "--invoke", call, faults)
    assert done.returncode == 1
    assert "trapped in script: unknown handle index" in done.stderr
    assert not host_crashed(done.stderr), done.stderr
