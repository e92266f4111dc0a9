"""The plain-value mapping of `--invoke` alone (no guest): NAME(ARGS) text in, JSON out.

Lowering into WIT types needs a component's types, so it is tested end to end with the
`api-values` guest (guest_tests/test_api.py); these are the parts that need none."""

import json
import re

import pytest

from kvredis.errors import InvalidArguments
from kvredis.runtime.values import dumps, parse_invoke, to_json


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("bump()", ("bump", [])),
        ('bump("b", "k", 5)', ("bump", ["b", "k", 5])),
        ('ops#call("b", "get", ["k"])', ("ops#call", ["b", "get", ["k"]])),
        (
            'kvredis:conformance/ops@0.1.0#call("b", "set", ["k", "v"])',
            ("kvredis:conformance/ops@0.1.0#call", ["b", "set", ["k", "v"]]),
        ),
        (
            'f({"tag": "some", "value": null}, true, 1.5)',
            ("f", [{"tag": "some", "value": None}, True, 1.5]),
        ),
    ],
)
def test_invoke_text_is_a_name_and_json_arguments(
    text: str, parsed: tuple[str, list[object]]
) -> None:
    assert parse_invoke(text) == parsed


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("bump", "expected NAME(ARGS)"),
        ("bump(", "expected NAME(ARGS)"),
        ("bump('b')", "as JSON values"),
        ("bump(1,)", "as JSON values"),
    ],
)
def test_malformed_invoke_text_says_what_was_expected(text: str, complaint: str) -> None:
    with pytest.raises(InvalidArguments, match=re.escape(complaint)):
        parse_invoke(text)


def test_results_print_as_plain_json() -> None:
    value = {
        "bytes": b"\x00\xff",
        "tuple": (1, "a"),
        "option": None,
        "flags": frozenset({"write", "read"}),
        "nested": [{"tag": "ok", "value": b"x"}],
        "infinite": float("inf"),
    }
    assert to_json(value) == {
        "bytes": [0, 255],
        "tuple": [1, "a"],
        "option": None,
        "flags": ["read", "write"],
        "nested": [{"tag": "ok", "value": [120]}],
        "infinite": "inf",
    }
    assert json.loads(dumps(value))["flags"] == ["read", "write"]


def test_text_stays_unescaped_in_json() -> None:
    assert dumps("héllo ✓") == '"héllo ✓"'
