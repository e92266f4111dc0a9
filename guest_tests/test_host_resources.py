"""A host that runs out of memory or address space (`ulimit -v`) is told apart from a guest
that traps: `HostResourceError`, and through the CLI one line and exit status 2."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import kvredis
import servers
from clikit import error_line
from conftest import KVREDIS, kvredis_env

# Enough for Python, wasmtime and a mapped component, too little for the ~4 GiB of address
# space wasmtime reserves for each linear memory: instantiation is what fails.
ADDRESS_SPACE = 2 << 30


def limit_address_space(size: int) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return limit


def test_cli_under_an_address_space_limit_blames_the_host(
    valkey_server: servers.ServerProcess, values_wasm: Path
) -> None:
    args = ["run", "--redis-url", valkey_server.url, "--invoke", "successor(1)", values_wasm]
    done = subprocess.run(
        [str(KVREDIS), *map(str, args)],
        capture_output=True,
        text=True,
        env=kvredis_env(),
        timeout=120,
        check=False,
        preexec_fn=limit_address_space(ADDRESS_SPACE),
    )
    line = error_line(done, 2)
    assert line.startswith(
        "kvredis: api-values.wasm: the host ran out of memory or address space while "
        "instantiating (mmap failed to reserve"
    ), line
    assert "ulimit -v" in line and "trapped" not in line
    assert done.stdout == ""


# Run in a fresh interpreter: once everything is imported and the engine exists, leave room
# to read and hash the component (twice its size, and a little more) but not, beside it, to
# map its compiled code, which is about twice as large.
_LOAD_WITH_NO_ROOM = """
import json, os, re, resource, sys
import kvredis
from kvredis.host import Host
from kvredis.runtime.engine import engine
engine()
status = open("/proc/self/status").read()
used = int(re.search(r"VmSize:\\s+(\\d+) kB", status).group(1)) * 1024
room = 2 * os.path.getsize(sys.argv[1]) + (8 << 20)
resource.setrlimit(resource.RLIMIT_AS, (used + room, used + room))
try:
    Host("redis://127.0.0.1:1").load(sys.argv[1])
    print(json.dumps({"loaded": True}))
except kvredis.KvredisError as exc:
    print(json.dumps({"type": type(exc).__name__, "message": str(exc),
                      "resource": getattr(exc, "resource", None)}))
"""


def test_api_load_without_room_to_map_the_cached_code_keeps_the_cache(values_wasm: Path) -> None:
    host = kvredis.Host("redis://127.0.0.1:1")  # loading connects to nothing
    host.load(values_wasm)  # compiled and cached, if it was not already
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_WITH_NO_ROOM, str(values_wasm)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome = json.loads(done.stdout)
    assert outcome["type"] == "HostResourceError", outcome
    assert outcome["resource"] == "memory"
    assert (
        "the host ran out of memory or address space while loading it from the cache"
        in (outcome["message"])
    )
    # The artifact was not taken for a damaged one: the next load finds it compiled.
    compiled: list[str] = []
    host.load(values_wasm, lambda: compiled.append("compiled"))
    assert compiled == []
