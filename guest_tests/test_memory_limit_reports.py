"""A guest stopped by `--max-memory` is reported as such, whatever it says itself: kvredis's
own linear memories (kvredis.runtime.memory_creator) record the growth the limit refused.
componentize-js guests give up quietly (StarlingMonkey's run answers err, with no message);
componentize-py guests raise MemoryError. Through `kvredis run` and `kvredis serve`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import jsguests
import servers
from clikit import error_line
from support import run_kvredis
from test_serve import line_with, serving

LIMIT = ("--max-memory", "64M")
STOPPED = "stopped: memory limit 64 MiB reached"


@pytest.fixture(scope="module")
def js_guest(build_dir: Path) -> Callable[[str], Path]:
    return lambda name: jsguests.build_app(name, build_dir)


def test_run_reports_a_js_guest_that_allocates_past_the_limit(
    js_guest: Callable[[str], Path], valkey_server: servers.ServerProcess, tmp_path: Path
) -> None:
    wasm = js_guest("hog-js")
    done = run_kvredis("run", "--redis-url", valkey_server.url, *LIMIT, wasm, cwd=tmp_path)
    line = error_line(done, status=1)
    assert line.startswith(f"kvredis: hog-js.wasm: {STOPPED} (in wasi:cli/run@0.2.0#run: "), line


def test_a_request_that_stays_under_the_limit_is_answered_and_not_reported(
    js_guest: Callable[[str], Path], valkey_server: servers.ServerProcess, tmp_path: Path
) -> None:
    wasm = js_guest("http-hog-js")
    with serving("--redis-url", valkey_server.url, *LIMIT, wasm, cwd=tmp_path) as (url, log):
        assert httpx.get(f"{url}/fine").text == "ok\n"
        assert STOPPED not in line_with(log, "GET /fine 200")


@pytest.mark.parametrize("toolchain", ["js", "py"])
def test_serve_answers_500_and_logs_the_limit_then_keeps_serving(
    toolchain: str,
    js_guest: Callable[[str], Path],
    app_guest: Callable[[str], Path],
    valkey_server: servers.ServerProcess,
    tmp_path: Path,
) -> None:
    wasm = js_guest("http-hog-js") if toolchain == "js" else app_guest("http-faults")
    with serving("--redis-url", valkey_server.url, *LIMIT, wasm, cwd=tmp_path) as (url, log):
        with httpx.Client(base_url=url, timeout=60) as client:
            assert client.get("/hog").status_code == 500
            reason = line_with(log, STOPPED)
            assert client.get("/fine").status_code == 200
        line_with(log, "GET /fine 200")
    assert f"{wasm.name}: {STOPPED} (in handle: " in reason
    assert any("GET /hog 500" in line for line in log.seen)
