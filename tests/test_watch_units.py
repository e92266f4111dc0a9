"""Watching keys, the pure parts: specs, globs, mapping Redis keys back to buckets, the
notification flags, and what the dispatcher hands the guest (with a fake guest and store)."""

from __future__ import annotations

from typing import Any

import pytest

from kvredis.errors import ConfigError, GuestTrap
from kvredis.layout import KeyLayout
from kvredis.watch.dispatcher import Delivery, Dispatcher, Outcome
from kvredis.watch.keys import Change, KeyMap
from kvredis.watch.notifications import channels, missing_flags, needed_flags
from kvredis.watch.specs import Op, WatchSpec, parse_watch_specs


def test_specs_name_an_operation_a_bucket_and_a_key_pattern() -> None:
    assert parse_watch_specs(["SET@counter/hits", "del@k", "SET@/a/b"]) == [
        WatchSpec(Op.SET, "counter", "hits"),
        WatchSpec(Op.DEL, "", "k"),
        WatchSpec(Op.SET, "", "a/b"),
    ]


def test_comma_separated_specs_are_split_and_duplicates_dropped() -> None:
    assert parse_watch_specs("SET@b/k, DEL@b/k,SET@b/k") == [
        WatchSpec(Op.SET, "b", "k"),
        WatchSpec(Op.DEL, "b", "k"),
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("PUT@k", "cannot read 'PUT@k'"),
        ("SET", "cannot read 'SET'"),
        ("SET@", "cannot read 'SET@'"),
        ("SET@bucket/", "'SET@bucket/' names no key"),
        ("SET@b/k[ab", "unclosed '['"),
        ("SET@b/k[]", "an empty []"),
        ("", "cannot read ''"),
    ],
)
def test_malformed_specs_are_refused_naming_them(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=r"^watch: ") as refused:
        parse_watch_specs(text)
    assert says in str(refused.value)


def test_no_spec_at_all_is_refused() -> None:
    with pytest.raises(ConfigError, match="nothing to watch"):
        parse_watch_specs([])


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("k*", ["k", "k1", "k:a:b", "k\n"], ["xk", "K1"]),
        ("a?c", ["abc", "a*c"], ["ac", "abbc"]),
        ("user:[0-9]", ["user:0", "user:9"], ["user:a", "user:10"]),
        ("[^a]x", ["bx"], ["ax"]),
        ("[!a]x", ["bx"], ["ax"]),
        ("a\\*c", ["a*c"], ["abc"]),
        ("[\\]]", ["]"], ["\\"]),
        ("a.b+(c)", ["a.b+(c)"], ["aab+(c)"]),
    ],
)
def test_key_patterns_are_redis_globs(
    pattern: str, matching: list[str], not_matching: list[str]
) -> None:
    spec = WatchSpec(Op.SET, "b", pattern)
    for key in matching:
        assert spec.matches(Op.SET, "b", key), key
    for key in not_matching:
        assert not spec.matches(Op.SET, "b", key), key
    assert not spec.matches(Op.DEL, "b", matching[0])
    assert not spec.matches(Op.SET, "other", matching[0])


def test_redis_keys_map_back_to_the_watched_bucket_only() -> None:
    keymap = KeyMap(KeyLayout(), parse_watch_specs("SET@p/*,SET@p:q/*"))
    assert keymap.changes(Op.SET, b"p:q:r") == [Change(Op.SET, "p", "q:r")]
    assert keymap.changes(Op.SET, b"p%3Aq:r") == [Change(Op.SET, "p:q", "r")]
    assert keymap.changes(Op.SET, b"other:r") == []
    assert keymap.changes(Op.SET, b"pq:r") == []
    assert keymap.changes(Op.DEL, b"p:r") == []  # DEL is not watched
    assert keymap.changes(Op.SET, b"p:\xff") == []  # no guest names a key that is not UTF-8
    assert keymap.ops == {Op.SET}


def test_a_prefix_template_keeps_other_prefixes_out() -> None:
    keymap = KeyMap(KeyLayout("app:{bucket}:"), parse_watch_specs("DEL@b/k"))
    assert keymap.changes(Op.DEL, b"app:b:k") == [Change(Op.DEL, "b", "k")]
    assert keymap.changes(Op.DEL, b"b:k") == []
    assert keymap.changes(Op.DEL, b"other:b:k") == []


def test_under_the_raw_layout_every_watched_bucket_sees_the_key() -> None:
    keymap = KeyMap(KeyLayout(""), parse_watch_specs("SET@k*,SET@cache/k1"))
    assert keymap.changes(Op.SET, b"k1") == [
        Change(Op.SET, "", "k1"),
        Change(Op.SET, "cache", "k1"),
    ]
    assert keymap.changes(Op.SET, b"k2") == [Change(Op.SET, "", "k2")]


@pytest.mark.parametrize(
    ("current", "ops", "missing"),
    [
        ("", {Op.SET, Op.DEL}, "E$g"),
        ("", {Op.SET}, "E$"),
        ("", {Op.DEL}, "Eg"),
        ("KEA", {Op.SET, Op.DEL}, ""),
        ("AK", {Op.SET, Op.DEL}, "E"),
        ("Kg$", {Op.SET, Op.DEL}, "E"),
        ("gE", {Op.SET, Op.DEL}, "$"),
        ("E$g", {Op.SET, Op.DEL}, ""),
    ],
)
def test_the_notification_flags_watching_needs(current: str, ops: set[Op], missing: str) -> None:
    assert missing_flags(current, ops) == missing


def test_channels_are_the_keyevents_of_the_watched_operations() -> None:
    assert needed_flags([Op.DEL, Op.SET]) == "E$g"
    assert channels(3, [Op.DEL]) == ["__keyevent@3__:del"]
    assert "__keyevent@0__:set" in channels(0, [Op.SET])
    assert "__keyevent@0__:incrby" in channels(0, [Op.SET])


class FakeStore:
    """A keyvalue core of one dict, for the dispatcher."""

    def __init__(self, values: dict[str, bytes]) -> None:
        self.values = values

    def open(self, bucket: str) -> FakeStore:
        return self

    def get(self, key: str) -> bytes | None:
        return self.values.get(key)


class FakeGuest:
    """Records its calls; traps on keys starting with "trap"; changes the store on its
    first call, as if a writer were quicker than the deliveries."""

    def __init__(self, store: FakeStore) -> None:
        self.calls: list[tuple[Change, bytes | None]] = []
        self.store = store
        self.running = 0

    def deliver(self, change: Change, value: bytes | None) -> None:
        self.running += 1
        assert self.running == 1, "two calls at once"
        self.calls.append((change, value))
        if len(self.calls) == 1:
            self.store.values["a"] = b"newer"
            del self.store.values["b"]
        self.running -= 1
        if change.key.startswith("trap"):
            raise GuestTrap("watcher: trapped in on-set: unreachable")

    def shutdown(self) -> None:
        pass


def test_the_dispatcher_delivers_in_order_with_the_value_at_delivery_time() -> None:
    store = FakeStore({"first": b"1", "a": b"old", "b": b"gone soon", "trap": b"x"})
    guest = FakeGuest(store)
    done: list[Delivery] = []
    fakes: tuple[Any, Any] = (guest, store)
    dispatcher = Dispatcher(*fakes, done.append)
    changes = [
        Change(Op.SET, "w", "first"),
        Change(Op.SET, "w", "a"),
        Change(Op.SET, "w", "b"),
        Change(Op.SET, "w", "trap"),
        Change(Op.DEL, "w", "b"),
        Change(Op.SET, "w", "missing"),
    ]
    for change in changes:
        dispatcher.submit(change)
    dispatcher.close()  # delivers what was queued first
    assert [(d.change.key, d.outcome, d.value) for d in done] == [
        ("first", Outcome.DELIVERED, b"1"),
        ("a", Outcome.DELIVERED, b"newer"),  # changed again before its turn: the newer value
        ("b", Outcome.SKIPPED, None),  # deleted before its turn: skipped, its DEL follows
        ("trap", Outcome.FAILED, b"x"),
        ("b", Outcome.DELIVERED, None),  # the DEL after the trap still arrives
        ("missing", Outcome.SKIPPED, None),
    ]
    assert done[3].error == "watcher: trapped in on-set: unreachable"
    assert [call[0] for call in guest.calls] == [changes[i] for i in (0, 1, 3, 4)]
