"""The compiled-code cache, in process and without a server: hits, misses, damaged or planted
artifacts, and a cache directory it must not trust."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import wasmtime

from kvredis.runtime.cache import artifact_name, cache_key, load_component, trailer


@pytest.fixture
def component(tmp_path: Path) -> Path:
    path = tmp_path / "empty.wasm"
    path.write_bytes(wasmtime.wat2wasm("(component)"))
    return path


def compiles(path: Path) -> bool:
    """Whether loading `path` compiled it (a cache miss)."""
    missed: list[bool] = []
    load_component(path, lambda: missed.append(True))
    return bool(missed)


def test_a_component_compiles_once(cache: Path, component: Path) -> None:
    assert compiles(component)
    (artifact,) = cache.iterdir()
    assert artifact.name == artifact_name(cache_key(component.read_bytes()))
    assert artifact.read_bytes().endswith(trailer(cache_key(component.read_bytes())))
    assert not compiles(component)


@pytest.mark.parametrize(
    "damage",
    [
        lambda artifact: artifact.write_bytes(artifact.read_bytes()[:-1]),
        lambda artifact: artifact.write_bytes(b"garbage" + artifact.read_bytes()),
        lambda artifact: artifact.write_bytes(b""),
        lambda artifact: artifact.chmod(0o666),
    ],
    ids=["trailer cut", "artifact damaged", "empty", "writable by others"],
)
def test_a_damaged_or_exposed_artifact_is_compiled_again(
    cache: Path, component: Path, damage: Callable[[Path], object]
) -> None:
    assert compiles(component)
    (artifact,) = cache.iterdir()
    damage(artifact)
    assert compiles(component)
    assert not compiles(component), "the fresh artifact was not stored"


def test_a_planted_link_is_replaced_not_followed(
    cache: Path, component: Path, tmp_path: Path
) -> None:
    cache.mkdir(parents=True, mode=0o700)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    link = cache / artifact_name(cache_key(component.read_bytes()))
    link.symlink_to(victim)
    assert compiles(component)
    assert victim.read_bytes() == b"precious"
    assert not link.is_symlink()
    assert not compiles(component)


def test_an_untrusted_cache_is_named_once_and_left_alone(
    cache: Path, component: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache.mkdir(parents=True)
    cache.chmod(0o777)
    with caplog.at_level(logging.DEBUG, logger="kvredis"):
        assert compiles(component)
        assert compiles(component)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"not using the compiled-code cache: {cache} is writable by group or others "
        f"(mode 0777); run chmod go-w {cache}"
    ]
    assert os.listdir(cache) == []


def test_a_cache_that_cannot_be_made_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, component: Path
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("KVREDIS_CACHE_DIR", str(tmp_path / "file"))
    assert compiles(component)
    assert compiles(component)
