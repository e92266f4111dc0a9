"""Which exports a build toolchain adds for itself (no server, no component)."""

from __future__ import annotations

import pytest

from kvredis.runtime.inspect import toolchain_of


@pytest.mark.parametrize(
    "params",
    [("app-name", "symbols", "stub-wasi"), ("app-name", "symbols")],
    ids=["componentize-py 0.25", "earlier componentize-py"],
)
def test_componentize_py_s_init(params: tuple[str, ...]) -> None:
    assert toolchain_of("exports#init", params) == "componentize-py"


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("exports#init", ()),  # a component's own `init` in an interface named `exports`
        ("exports#init", ("config",)),
        ("my:app/exports#init", ("app-name", "symbols")),
        ("init", ("app-name", "symbols")),
        ("wasi:cli/run@0.2.0#run", ()),
    ],
)
def test_a_component_s_own_functions_are_not_internal(name: str, params: tuple[str, ...]) -> None:
    assert toolchain_of(name, params) is None
