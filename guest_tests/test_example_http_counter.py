"""The HTTP counter example (examples/http-counter): built as its README says, and its own
tests, which use the fixture's `kvredis.http`, pass against each real server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import guests
import servers
from support import ROOT

EXAMPLE = ROOT / "examples" / "http-counter"


def test_the_examples_tests_pass_through_kvredis_http(server: servers.ServerProcess) -> None:
    built: Path = guests.build_example("http-counter")
    assert built == EXAMPLE / "build" / "http-counter.wasm"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(EXAMPLE)],
        capture_output=True,
        text=True,
        env={**os.environ, "REDIS_URL": server.url},
        cwd=EXAMPLE,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout
