"""The README's examples, run as written.

Every ```console block is a shell session: each `$ ` line (with `\\` continuations) runs in
bash, and the lines up to the next `$ ` are its expected output (stdout and stderr together);
a line `...` stands for any number of lines. Every ```python block runs as a script and must
exit 0. A block runs in a fresh directory that holds the checkout's `examples/` (the counter
example built), so `.kvredis/` and other files the example makes stay out of the checkout.

A block preceded by `<!-- example: REDIS_URL -->` runs with REDIS_URL set to a real server
the suite started, as the prose around it tells the reader to have. A block preceded by
`<!-- example: PATH -->` shows the file at PATH in the checkout, which must match it to the
letter (the file is run by its own suite). Other fences (yaml, sh) are illustrations, not
examples, and are not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import servers
from support import ROOT, kvredis_env

READMES = [ROOT / "README.md", *sorted((ROOT / "examples").glob("*/README.md"))]
_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"^<!-- example: (\S+) -->$")


@dataclass(frozen=True)
class Example:
    source: Path
    line: int
    language: str
    text: str
    marker: str | None  # REDIS_URL, or the checkout file the block shows

    @property
    def needs_redis(self) -> bool:
        return self.marker == "REDIS_URL"

    @property
    def shown_file(self) -> Path | None:
        return ROOT / self.marker if self.marker and "/" in self.marker else None

    @property
    def name(self) -> str:
        return f"{self.source.relative_to(ROOT)}:{self.line}"


def examples(path: Path) -> list[Example]:
    found: list[Example] = []
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if fence is None or not fence.group(1):
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        before = next((lines[i].strip() for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = _MARKER.match(before)
        if fence.group(1) in ("console", "python"):
            found.append(
                Example(
                    path,
                    index + 1,
                    fence.group(1),
                    "\n".join(lines[index + 1 : end]),
                    marker.group(1) if marker else None,
                )
            )
        index = end + 1
    return found


ALL = [example for readme in READMES for example in examples(readme)]


def session(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each `$ ` command of a console block."""
    steps: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        assert line.startswith("$ "), f"output before any command: {line!r}"
        command = line[2:]
        while command.endswith("\\"):
            index += 1
            command = command[:-1] + "\n" + lines[index]
        index += 1
        expected = []
        while index < len(lines) and not lines[index].startswith("$ "):
            expected.append(lines[index])
            index += 1
        steps.append((command, expected))
    return steps


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line equality, where an expected `...` takes any number of actual lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(matches(rest, actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0].rstrip() == head.rstrip() and matches(rest, actual[1:])


@pytest.fixture
def workdir(tmp_path: Path, counter_wasm: Path) -> Path:
    """A user's directory holding the checkout's examples, the counter built."""
    assert counter_wasm.exists()
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    return tmp_path


@pytest.fixture(scope="module")
def example_server(tmp_path_factory: pytest.TempPathFactory) -> servers.ServerProcess:
    server = servers.start("valkey", tmp_path_factory.mktemp("readme"), tcp=True)
    yield server
    server.stop()


def test_the_readmes_have_examples_to_run() -> None:
    assert any(e.language == "console" for e in ALL)
    assert any(e.language == "python" for e in ALL)


@pytest.mark.parametrize("example", ALL, ids=[e.name for e in ALL])
def test_example_runs_as_written(
    example: Example, workdir: Path, example_server: servers.ServerProcess
) -> None:
    if example.shown_file is not None:
        assert example.text + "\n" == example.shown_file.read_text(), example.name
        return
    env = kvredis_env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if example.needs_redis:
        example_server.client().flushall()
        env["REDIS_URL"] = example_server.url
    if example.language == "python":
        done = subprocess.run(
            [sys.executable, "-c", example.text],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"{example.name}\n{done.stdout}{done.stderr}"
        return
    for command, expected in session(example.text):
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
            check=False,
        )
        actual = done.stdout.splitlines()
        assert matches(expected, actual), (
            f"{example.name}: $ {command}\nexpected:\n"
            + "\n".join(expected)
            + "\ngot:\n"
            + done.stdout
        )
