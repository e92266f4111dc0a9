"""Input that no component can take is refused with `InvalidArguments` and a short message:
JSON nested past the parser's limit, numbers Python will not read, lone surrogates."""

from __future__ import annotations

from typing import Any

import pytest
from wasmtime.component import Char, String

from kvredis.errors import InvalidArguments
from kvredis.runtime.values import lower, parse_invoke, shown, unicode_text


def nested(depth: int) -> list[Any]:
    """A list `depth` levels deep, built without recursion."""
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def refused(expression: str) -> str:
    with pytest.raises(InvalidArguments) as caught:
        parse_invoke(expression)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300, message
    return message


def test_arguments_nested_past_the_parser_s_limit() -> None:
    message = refused("f(" + "[" * 5000 + "]" * 5000 + ")")
    assert "nested deeper than about" in message


def test_arguments_nested_within_the_limit_still_parse() -> None:
    _, (arg,) = parse_invoke("f(" + "[" * 200 + "]" * 200 + ")")
    assert arg == nested(199)


def test_a_number_python_will_not_read() -> None:
    assert "4300 digits" in refused("f(" + "7" * 5000 + ")")


def test_long_expressions_are_shortened_in_messages() -> None:
    assert "..." in refused("f(" + '"x", ' * 1000 + ")")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("\ud800", "a lone surrogate (U+D800), which is not Unicode text, at position 0"),
        ("ok \udfff", "a lone surrogate (U+DFFF), which is not Unicode text, at position 3"),
        ("caf\udce9", "the byte 0xE9, which is not UTF-8, at position 3"),
    ],
)
def test_lone_surrogates_are_refused(text: str, found: str) -> None:
    with pytest.raises(InvalidArguments) as caught:
        unicode_text(text, "argument 'key'")
    assert f"holds {found}" in str(caught.value)


@pytest.mark.parametrize("text", ["", "plain", "naïve — ok ✓", "\U0001f600"])
def test_valid_text_passes(text: str) -> None:
    assert unicode_text(text, "argument") is text


def test_strings_and_chars_with_a_lone_surrogate_are_not_lowered() -> None:
    with pytest.raises(InvalidArguments, match="argument 'k'"):
        lower(String(), "a\ud800b", "argument 'k'")
    with pytest.raises(InvalidArguments, match="U\\+DBFF"):
        lower(Char(), "\udbff", "argument 'c'")


def test_a_value_nested_past_the_recursion_limit_is_described_not_crashed_on() -> None:
    with pytest.raises(InvalidArguments, match="expected a string, got"):
        lower(String(), nested(100_000), "argument 'k'")


def test_shown_values_stay_short() -> None:
    assert len(shown(nested(100_000))) <= 60
    assert len(shown("x" * 10_000)) <= 60
    assert shown([1, 2]) == "[1, 2]"
