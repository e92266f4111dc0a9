"""The wasi:http `fields` rules alone: validation, forbidden headers, immutability, order."""

from __future__ import annotations

import time

import pytest

from kvredis.wasi import GuestMisuse
from kvredis.wasi.http.errors import ForbiddenHeader, ImmutableFields, InvalidHeaderSyntax
from kvredis.wasi.http.fields import FORBIDDEN, MAX_FIELDS_SIZE, Fields


def test_names_are_case_insensitive_and_entries_keep_case_and_order() -> None:
    fields = Fields.from_list(
        [("Content-Type", b"text/plain"), ("X-Tag", b"a"), ("x-tag", b"b"), ("Accept", b"*/*")]
    )
    assert fields.get("content-type") == [b"text/plain"]
    assert fields.get("X-TAG") == [b"a", b"b"]
    assert fields.has("ACCEPT")
    assert not fields.has("missing")
    assert fields.get("missing") == []
    assert fields.entries() == [
        ("Content-Type", b"text/plain"),
        ("X-Tag", b"a"),
        ("x-tag", b"b"),
        ("Accept", b"*/*"),
    ]


def test_set_replaces_every_value_where_the_first_was() -> None:
    fields = Fields.from_list([("a", b"1"), ("b", b"2"), ("A", b"3"), ("c", b"4")])
    fields.set("a", [b"x", b"y"])
    assert fields.entries() == [("a", b"x"), ("a", b"y"), ("b", b"2"), ("c", b"4")]
    fields.set("new", [b"z"])
    assert fields.entries()[-1] == ("new", b"z")
    fields.set("b", [])
    assert not fields.has("b")


def test_delete_removes_every_value_and_absent_names_are_fine() -> None:
    fields = Fields.from_list([("a", b"1"), ("b", b"2"), ("A", b"3")])
    fields.delete("A")
    fields.delete("never-there")
    assert fields.entries() == [("b", b"2")]


def every_change_refuses(name: str, error: type[Exception]) -> None:
    fields = Fields()
    with pytest.raises(error):
        fields.append(name, b"v")
    with pytest.raises(error):
        fields.set(name, [b"v"])
    with pytest.raises(error):
        fields.delete(name)
    with pytest.raises(error):
        Fields.from_list([("ok", b"1"), (name, b"v")])


@pytest.mark.parametrize("name", ["", "with space", "colon:", "new\nline", "ünïcode", "(x)"])
def test_an_invalid_name_is_invalid_syntax(name: str) -> None:
    every_change_refuses(name, InvalidHeaderSyntax)
    fields = Fields()
    assert fields.get(name) == []
    assert not fields.has(name)


@pytest.mark.parametrize("value", [b"a\r\nb", b"nul\0", b"del\x7f", b"bell\x07"])
def test_an_invalid_value_is_invalid_syntax(value: bytes) -> None:
    with pytest.raises(InvalidHeaderSyntax):
        Fields().append("x", value)
    with pytest.raises(InvalidHeaderSyntax):
        Fields().set("x", [b"fine", value])


def test_tabs_spaces_empty_and_obs_text_values_are_allowed() -> None:
    fields = Fields.from_list([("x", b"a\tb c"), ("y", b""), ("z", b"caf\xe9")])
    assert fields.get("y") == [b""]
    assert fields.get("z") == [b"caf\xe9"]


@pytest.mark.parametrize("value", [b"abc", b"+5", b"-1", b" 5", b""])
def test_content_length_must_be_digits(value: bytes) -> None:
    with pytest.raises(InvalidHeaderSyntax):
        Fields().append("Content-Length", value)


@pytest.mark.parametrize("name", sorted(FORBIDDEN) + ["Host", "Transfer-Encoding", "CONNECTION"])
def test_forbidden_headers_are_refused_everywhere(name: str) -> None:
    every_change_refuses(name, ForbiddenHeader)


def test_frozen_fields_are_immutable_and_a_clone_is_not() -> None:
    fields = Fields.from_list([("a", b"1")])
    fields.freeze()
    assert not fields.mutable
    with pytest.raises(ImmutableFields):
        fields.append("b", b"2")
    with pytest.raises(ImmutableFields):
        fields.set("a", [b"2"])
    with pytest.raises(ImmutableFields):
        fields.delete("a")
    assert fields.get("a") == [b"1"]
    copy = fields.clone()
    assert copy.mutable
    copy.append("b", b"2")
    assert fields.entries() == [("a", b"1")]
    assert copy.entries() == [("a", b"1"), ("b", b"2")]


def test_a_name_check_comes_before_the_immutability_check() -> None:
    fields = Fields()
    fields.freeze()
    with pytest.raises(ForbiddenHeader):
        fields.set("host", [b"x"])
    with pytest.raises(InvalidHeaderSyntax):
        fields.set("bad name", [b"x"])


def test_fields_from_the_host_hide_forbidden_and_malformed_entries() -> None:
    fields = Fields.from_host(
        [("host", b"example.com"), ("accept", b"*/*"), ("bad name", b"x"), ("x", b"a\r\nb")]
    )
    assert fields.entries() == [("accept", b"*/*")]
    with pytest.raises(ImmutableFields):
        fields.append("y", b"1")


def test_content_length_reading() -> None:
    assert Fields().content_length() is None
    assert Fields.from_list([("Content-Length", b"12")]).content_length() == 12
    assert Fields.from_list([("content-length", b"7"), ("Content-Length", b"7")]).content_length()
    with pytest.raises(ValueError, match="content-length"):
        Fields.from_list([("content-length", b"7"), ("content-length", b"8")]).content_length()


def test_growing_past_the_size_limit_traps() -> None:
    fields = Fields()
    fields.append("big", b"a" * (MAX_FIELDS_SIZE - 3))
    with pytest.raises(GuestMisuse, match="fields grew past"):
        fields.append("x", b"1")
    with pytest.raises(GuestMisuse):
        fields.set("another", [b"12"])


def test_many_appends_take_linear_time() -> None:
    fields = Fields()
    started = time.monotonic()
    for index in range(10_000):
        fields.append("x-n", str(index).encode())
    assert len(fields.get("x-n")) == 10_000
    assert time.monotonic() - started < 2
