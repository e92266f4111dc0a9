"""Property-based tests: random sequences of store, batch and atomics operations, issued by a
guest on a real server and compared, result by result, with a model written here. A failure
shrinks to a minimal sequence (hypothesis), which the report shows as the operations list.

draft2 runs a whole sequence in one call of the faults guest (`script`); draft goes through
the conformance guest's `ops#call`, one operation per call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kvredis
import servers
from faultkit import run_script

S64_MIN, S64_MAX = -(2**63), 2**63 - 1
U64_MAX = 2**64 - 1
BUCKET = "p"
SETTINGS = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Redis reads a counter only in its canonical decimal form: no sign but '-', no leading zero.
_CANONICAL = re.compile(rb"0|-?[1-9][0-9]{0,19}")

keys = st.sampled_from(["a", "b", "a:b", "\x00", ""]) | st.text(
    alphabet=st.characters(exclude_categories=["Cs"]), max_size=4
)
# Counter edges: one step from overflowing either way.
_edges = st.sampled_from([S64_MAX, S64_MIN, S64_MAX - 1, S64_MIN + 1, 2**62, -(2**62)])
counters = st.integers(S64_MIN, S64_MAX).map(lambda n: str(n).encode())
# Almost counters: Redis refuses them all, some only for a leading zero or a minus zero.
near_counters = st.sampled_from([b"-0", b"01", b"00", b"-01", b"007"])
not_counters = st.sampled_from([b"+1", b" 1", b"1 ", b"1.0", b"", b"0x1", b"18446744073709551616"])
values = st.one_of(
    st.integers(-5, 5).map(lambda n: str(n).encode()),
    _edges.map(lambda n: str(n).encode()),
    near_counters,
    not_counters,
    counters,
    st.binary(max_size=6),
)
deltas = st.one_of(st.integers(-3, 3), _edges, st.integers(S64_MIN, S64_MAX))
slots = st.sampled_from(["s", "t"])

KINDS = [
    "set",
    "get",
    "delete",
    "exists",
    "increment",
    "get-many",
    "set-many",
    "delete-many",
    "list-all",
    "cas",
    "cas-current",
    "swap",
]


@st.composite
def draft2_sequences(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Swarm style: each sequence uses a few operation kinds on a few keys, so that the
    operations it has meet on the same keys (a CAS snapshot, then a write, then the swap)."""
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5, unique=True))
    key = st.sampled_from(draw(st.lists(keys, min_size=1, max_size=3, unique=True)))
    some_keys = st.lists(key, max_size=4)
    strategies = {
        "set": st.tuples(st.just("set"), key, values),
        "get": st.tuples(st.just("get"), key),
        "delete": st.tuples(st.just("delete"), key),
        "exists": st.tuples(st.just("exists"), key),
        "increment": st.tuples(st.just("increment"), key, deltas),
        "get-many": st.tuples(st.just("get-many"), some_keys),
        "set-many": st.tuples(st.just("set-many"), st.lists(st.tuples(key, values), max_size=4)),
        "delete-many": st.tuples(st.just("delete-many"), some_keys),
        "list-all": st.tuples(st.just("list-all")),
        "cas": st.tuples(st.just("cas"), slots, key),
        "cas-current": st.tuples(st.just("cas-current"), slots),
        "swap": st.tuples(st.just("swap"), slots, values),
    }
    if "swap" in kinds or "cas-current" in kinds:
        kinds.append("cas")  # a slot must be filled before it is used
    # An explicit length: hypothesis' own list sizes stay small; this one shrinks as well.
    length = draw(st.integers(0, 30))
    op = st.one_of([strategies[k] for k in kinds])
    return draw(st.lists(op, min_size=length, max_size=length))


draft2_ops = draft2_sequences()


class Model:
    """What a bucket holds and what each operation answers, by the WIT and Redis rules."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.cas: dict[str, tuple[str, bytes | None]] = {}

    @staticmethod
    def _hex(value: bytes | None) -> str | None:
        return None if value is None else value.hex()

    def counter(self, key: str) -> int | None:
        """The counter's current value, or None when Redis would not read it as one."""
        current = self.data.get(key)
        if current is None:
            return 0
        if not _CANONICAL.fullmatch(current) or not S64_MIN <= int(current) <= S64_MAX:
            return None
        return int(current)

    def increment(self, key: str, delta: int, floor: int | None = None) -> dict[str, Any]:
        base = self.counter(key)
        if base is None:
            return {"err": "other"}
        result = base + delta
        if not S64_MIN <= result <= S64_MAX or (floor is not None and result < floor):
            return {"err": "other"}
        self.data[key] = str(result).encode()
        return {"ok": result}

    def apply(self, op: tuple[Any, ...]) -> dict[str, Any]:
        name, args = op[0], op[1:]
        data = self.data
        if name == "set":
            data[args[0]] = args[1]
            return {"ok": None}
        if name == "get":
            return {"ok": self._hex(data.get(args[0]))}
        if name == "delete":
            data.pop(args[0], None)
            return {"ok": None}
        if name == "exists":
            return {"ok": args[0] in data}
        if name == "increment":
            return self.increment(args[0], args[1])
        if name == "get-many":
            return {"ok": [None if k not in data else [k, data[k].hex()] for k in args[0]]}
        if name == "set-many":
            data.update(dict(args[0]))
            return {"ok": None}
        if name == "delete-many":
            for key in args[0]:
                data.pop(key, None)
            return {"ok": None}
        if name == "list-all":
            return {"ok": sorted(data)}
        if name == "cas":
            self.cas[args[0]] = (args[1], data.get(args[1]))
            return {"ok": self._hex(data.get(args[1]))}
        if name == "cas-current":
            return {"ok": self._hex(self.cas[args[0]][1])}
        if name == "swap":
            key, snapshot = self.cas.pop(args[0])
            if data.get(key) == snapshot:
                data[key] = args[1]
                return {"ok": None}
            self.cas[args[0]] = (key, data.get(key))
            return {"err": "cas-failed"}
        raise AssertionError(f"no model for {name}")


def _runnable(ops: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The operations without those naming a CAS slot that holds no handle at that point
    (the guest would fail on its own there); the model tells when a swap consumed one."""
    model = Model()
    kept = []
    for op in ops:
        if op[0] in ("cas-current", "swap") and op[1] not in model.cas:
            continue
        model.apply(op)
        kept.append(op)
    return kept


def _wire(op: tuple[Any, ...]) -> list[Any]:
    """The operation as the guest's script takes it: values as hex."""
    name = op[0]
    if name in ("set", "swap"):
        return [name, op[1], op[2].hex()]
    if name == "set-many":
        return [name, [[k, v.hex()] for k, v in op[1]]]
    if name in ("get-many", "delete-many"):
        return [name, list(op[1])]
    return list(op)


def _comparable(outcome: dict[str, Any]) -> dict[str, Any]:
    return {"err": outcome["err"]} if "err" in outcome else outcome


@pytest.fixture(scope="module", params=servers.available())
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[servers.ServerProcess]:
    started = servers.start(request.param, tmp_path_factory.mktemp("props"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def host(server: servers.ServerProcess) -> Iterator[kvredis.Host]:
    with kvredis.Host(server.url) as started:
        yield started


@pytest.fixture(scope="module")
def faults(host: kvredis.Host, app_guest: Callable[[str], Path]) -> kvredis.Component:
    return host.load(app_guest("faults"))


@pytest.fixture(scope="module")
def draft(host: kvredis.Host, conformance_guest: Callable[[str], Path]) -> kvredis.Component:
    return host.load(conformance_guest("draft"))


def _differences(
    component: kvredis.Component, db: redis.Redis, ops: list[tuple[Any, ...]], model: Model
) -> list[str]:
    db.flushall()
    outcomes = run_script(component, BUCKET, [_wire(op) for op in ops])
    problems = []
    for i, (op, outcome) in enumerate(zip(ops, outcomes, strict=True)):
        expected = model.apply(op)
        if _comparable(outcome) != expected:
            problems.append(f"op {i} {op!r}: guest {outcome}, model {expected}")
    stored = {k: db.get(k) for k in db.scan_iter()}
    wanted = {f"{BUCKET}:{k}".encode(): v for k, v in model.data.items()}
    if stored != wanted:
        problems.append(f"Redis holds {stored}, the model {wanted}")
    return problems


@SETTINGS
@given(ops=draft2_ops)
def test_draft2_sequences_match_the_model(
    faults: kvredis.Component, server: servers.ServerProcess, ops: list[tuple[Any, ...]]
) -> None:
    runnable = _runnable(ops)
    problems = _differences(faults, server.client(), runnable, Model())
    assert not problems, "\n".join(problems)


class _OffByOne(Model):
    """A wrong model (an absent counter starts at 1), to see what a failure shrinks to."""

    def counter(self, key: str) -> int | None:
        return 1 if key not in self.data else super().counter(key)


def test_a_failure_shrinks_to_a_minimal_sequence(
    faults: kvredis.Component, server: servers.ServerProcess
) -> None:
    db = server.client()
    tried: list[list[tuple[Any, ...]]] = []

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(ops=draft2_ops)
    def against_a_wrong_model(ops: list[tuple[Any, ...]]) -> None:
        tried.append(ops)
        assert not _differences(faults, db, _runnable(ops), _OffByOne())

    with pytest.raises(AssertionError):
        against_a_wrong_model()
    smallest = tried[-1]  # hypothesis replays the shrunk failure last
    assert len(smallest) == 1 and smallest[0][0] == "increment", smallest
    assert smallest[0][2] == 0, smallest


# --- draft, through the conformance guest -----------------------------------------------

draft_values = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=5),
    st.integers(-5, 5).map(str),
    _edges.map(str),
    near_counters.map(bytes.decode),
    st.integers(S64_MIN, S64_MAX).map(str),
)


@st.composite
def draft_sequences(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    key = st.sampled_from(draw(st.lists(keys, min_size=1, max_size=3, unique=True)))
    op = st.one_of(
        st.tuples(st.just("set"), key, draft_values),
        st.tuples(st.just("get"), key),
        st.tuples(st.just("delete"), key),
        st.tuples(st.just("exists"), key),
        st.tuples(
            st.just("increment"),
            key,
            st.one_of(st.integers(0, 3), _edges.filter(lambda n: n >= 0), st.integers(0, U64_MAX)),
        ),
        st.tuples(st.just("get-many"), st.lists(key, max_size=3)),
        st.tuples(st.just("list-all")),
    )
    length = draw(st.integers(0, 12))
    return draw(st.lists(op, min_size=length, max_size=length))


draft_ops = draft_sequences()


def _draft_expected(model: Model, op: tuple[Any, ...]) -> dict[str, Any]:
    name = op[0]
    if name == "set":
        model.data[op[1]] = op[2].encode()
        return {"ok": None}
    if name == "get":
        value = model.data.get(op[1])
        return {"ok": None if value is None else value.decode()}
    if name == "increment":
        if op[2] > S64_MAX:
            return {"err": "other"}
        return model.increment(op[1], op[2], floor=0)
    if name == "get-many":
        return {"ok": [None if k not in model.data else [k, model.data[k].decode()] for k in op[1]]}
    if name == "list-all":
        return {"ok": {"keys": sorted(model.data)}}
    return model.apply(op)


def _draft_args(op: tuple[Any, ...]) -> list[str]:
    if op[0] == "get-many":
        return list(op[1])
    return [str(arg) for arg in op[1:]]


@settings(max_examples=200, deadline=None, database=None)
@given(ops=draft_ops)
def test_draft_sequences_match_the_model(
    draft: kvredis.Component, server: servers.ServerProcess, ops: list[tuple[Any, ...]]
) -> None:
    db = server.client()
    db.flushall()
    model = Model()
    for i, op in enumerate(ops):
        outcome = json.loads(draft.call("ops#call", BUCKET, op[0], _draft_args(op)))
        if op[0] == "list-all" and "ok" in outcome:
            outcome = {"ok": {"keys": outcome["ok"]["keys"]}}
        expected = _draft_expected(model, op)
        assert _comparable(outcome) == expected, f"op {i} {op!r} of {ops!r}"
    stored = {k: db.get(k) for k in db.scan_iter()}
    assert stored == {f"{BUCKET}:{k}".encode(): v for k, v in model.data.items()}
