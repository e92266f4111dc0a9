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
from support import KVREDIS, kvredis_env

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


def with_room_left(setup: str, room: str, then: str) -> str:
    """Python code that runs `setup`, limits its own address space to what it uses by then
    plus `room` (an expression, in bytes), then runs `then`."""
    limit = (
        "import re, resource\n"
        "_status = open('/proc/self/status').read()\n"
        "_used = int(re.search(r'VmSize:\\s+(\\d+) kB', _status).group(1)) * 1024\n"
        f"resource.setrlimit(resource.RLIMIT_AS, (_used + {room}, _used + {room}))\n"
    )
    return f"{setup.strip()}\n{limit}{then.strip()}\n"


# Once everything is imported and the engine and a Host exist: room to read and hash the
# component (twice its size, and a little more) but not, beside it, to map its compiled code,
# which is about twice as large.
_LOAD_WITH_NO_ROOM = with_room_left(
    setup="""
import json, os, sys, threading
import kvredis
from kvredis.runtime.engine import engine
engine()
host = kvredis.Host("redis://127.0.0.1:1")
for thread in threading.enumerate():  # the Redis client's import in the background
    if thread.name == "kvredis-import":
        thread.join()
""",
    room="(2 * os.path.getsize(sys.argv[1]) + (8 << 20))",
    then="""
try:
    host.load(sys.argv[1])
    print(json.dumps({"loaded": True}))
except kvredis.KvredisError as exc:
    print(json.dumps({"type": type(exc).__name__, "message": str(exc),
                      "resource": getattr(exc, "resource", None)}))
""",
)


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


# The CLI, everything imported, with less room than reading and hashing the component takes:
# Python's own MemoryError, not wasmtime's.
_CLI_WITH_NO_ROOM = with_room_left(
    setup="import sys\nimport kvredis.backend.redis, kvredis.cli",
    room="(16 << 20)",
    then="sys.exit(kvredis.cli.main(sys.argv[1:]))",
)


def test_cli_when_python_itself_cannot_allocate(values_wasm: Path) -> None:
    args = ["run", "--redis-url", "redis://127.0.0.1:1", "--invoke", "successor(1)", values_wasm]
    done = subprocess.run(
        [sys.executable, "-c", _CLI_WITH_NO_ROOM, *map(str, args)],
        capture_output=True,
        text=True,
        env=kvredis_env(),
        timeout=120,
        check=False,
    )
    line = error_line(done, 2)
    assert (
        line == "kvredis: the host ran out of memory or address space (Python could not allocate)"
    )
