"""`import kvredis` is cheap: wasmtime and redis load when a name that needs them is used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import kvredis

HEAVY = ("wasmtime", "redis", "hiredis")


def heavy_modules_after(code: str) -> list[str]:
    """The heavy modules a fresh interpreter has loaded after running `code`."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    modules: list[str] = json.loads(done.stdout)
    return modules


def test_import_kvredis_loads_neither_wasmtime_nor_redis() -> None:
    assert heavy_modules_after("import kvredis") == []


def test_the_errors_need_nothing_heavy() -> None:
    assert heavy_modules_after("from kvredis import GuestTrap, KvredisError") == []


def test_a_public_name_loads_what_it_needs_on_first_use() -> None:
    loaded = heavy_modules_after("import kvredis; kvredis.Host")
    assert "wasmtime" in loaded and "redis" in loaded


@pytest.mark.parametrize("name", kvredis.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(kvredis, name) is not None
    assert name in dir(kvredis)


def test_star_import_gives_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from kvredis import *", namespace)
    assert set(kvredis.__all__) <= set(namespace)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Hots'"):
        _ = kvredis.Hots  # type: ignore[attr-defined]
