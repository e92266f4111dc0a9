"""Fixtures shared by the fast tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A compiled-code cache of the test's own; the path of its compiled/ directory."""
    monkeypatch.setenv("KVREDIS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "compiled"
