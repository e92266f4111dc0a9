"""What kvredis says a component exports: the component's own functions apart from those its
build toolchain adds for itself (componentize-py's `exports#init`), which stay callable."""

from __future__ import annotations

from pathlib import Path

import pytest

import kvredis
import servers
from clikit import error_line
from support import run_kvredis

MARKED_INIT = "  exports#init(...)   <- added by componentize-py for its own use"


def test_inspect_marks_the_toolchain_s_export_in_one_short_line(counter_wasm: Path) -> None:
    done = run_kvredis("inspect", counter_wasm)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    exports = lines[lines.index("exports:") + 1 : -1]
    assert exports == [
        "  bump(bucket: string, key: string, by: u64) -> result<u64, string>",
        "  wasi:cli/run@0.2.0#run() -> result<_, _>",
        MARKED_INIT,
    ]
    assert max(map(len, lines)) < 120, "a signature of the toolchain's export was printed"


def test_api_tells_the_component_s_functions_from_the_toolchain_s(
    valkey_server: servers.ServerProcess, values_wasm: Path
) -> None:
    with kvredis.Host(valkey_server.url) as host:
        info = host.load(values_wasm).info
    internal = info.internal_functions
    assert [(sig.name, sig.internal_to) for sig in internal] == [
        ("exports#init", "componentize-py")
    ]
    public = [sig.name for sig in info.public_functions]
    assert "successor" in public and "exports#init" not in public
    assert {sig.name for sig in info.functions} == set(public) | {"exports#init"}


def test_the_toolchain_s_export_stays_callable_by_its_full_name(
    valkey_server: servers.ServerProcess, values_wasm: Path
) -> None:
    with kvredis.Host(valkey_server.url) as host:
        component = host.load(values_wasm)
        # Found, not ExportNotFound: its parameters are checked (calling it for real would
        # set the guest's interpreter up a second time).
        with pytest.raises(kvredis.InvalidArguments, match=r"exports#init takes 3 argument"):
            component.call("exports#init")


def test_listings_of_exports_leave_the_toolchain_s_out(values_wasm: Path, tmp_path: Path) -> None:
    line = error_line(run_kvredis("run", "--invoke", "nope()", values_wasm, cwd=tmp_path), 2)
    assert "successor" in line and "exports#init" not in line
