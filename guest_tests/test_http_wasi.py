"""The rest of kvredis's WASI as an HTTP guest sees it through its language's standard
library: environment variables, a preopened directory to read and write, clocks and sleep."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import kvredis
import servers
from kvredis.runtime.http_handler import GuestSettings
from kvredis.wasi.filesystem.preopens import Preopen
from servekit import handler_for, request


def test_environment_files_and_clocks_reach_the_guest(
    app_guest: Callable[[str], Path], valkey_server: servers.ServerProcess, tmp_path: Path
) -> None:
    (tmp_path / "hello.txt").write_text("hello from the host")
    settings = GuestSettings(
        variables=[("GREETING", "hi")], preopens=[Preopen(str(tmp_path), "/data")]
    )
    with kvredis.Host(valkey_server.url) as host:
        handler = handler_for(app_guest("http-echo"), host, settings)
        try:
            answer = request(handler, "GET", "/wasi")
        finally:
            handler.close()
    assert answer.status == 200, answer.body
    seen = json.loads(answer.body)
    assert seen["env"] == {"GREETING": "hi"}
    assert seen["hello"] == "hello from the host"
    assert seen["files"] == ["hello.txt", "out.txt"]
    assert (tmp_path / "out.txt").read_text() == "HELLO FROM THE HOST"
    assert seen["slept_ms"] >= 50
    assert abs(seen["wall_clock"] - time.time()) < 60
