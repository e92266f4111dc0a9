"""Input that crashed kvredis ("internal error", status 1) is a usage error now: one line,
status 2 through the CLI, `InvalidArguments` through the API. Values nested deeper than
Python's recursion limit, lone surrogates (a JSON "\\ud800", or bytes that are not UTF-8 in
the guest's arguments and environment), flags and tags that are lists. (The same through
`--invoke`: test_cli.py's BAD_INVOKES.)"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

import kvredis
import servers
from clikit import error_line
from support import KVREDIS, kvredis_env


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


BAD_CALLS = [
    ("make-point", (1, 2, nested(50_000)), "argument 'label': expected a string"),
    ("swap", (("\ud800", 1),), "lone surrogate (U+D800)"),
    ("make-point", (1, 2, "caf\udce9"), "the byte 0xE9, which is not UTF-8"),
    ("reverse-bytes", ("\ud800",), "argument 'data'"),
    ("invert", ([["read"]],), "expected a list of flags"),
    ("grow", ({"tag": ["circle"]},), "expected one of circle, square, dot"),
    ("grow", ({"tag": "square", "value": {"x": 1, "y": 2, "label": None, 3: 4}},), "only"),
]


@pytest.mark.parametrize(("name", "args", "needle"), BAD_CALLS, ids=[n for _, _, n in BAD_CALLS])
def test_api_calls_with_input_no_component_can_take(
    valkey_server: servers.ServerProcess,
    values_wasm: Path,
    name: str,
    args: tuple[Any, ...],
    needle: str,
) -> None:
    with kvredis.Host(valkey_server.url) as host:
        component = host.load(values_wasm)
        with pytest.raises(kvredis.InvalidArguments) as caught:
            component.call(name, *args)
        message = str(caught.value)
        assert needle in message and "\n" not in message and len(message) < 300, message
        assert component.call("successor", 1) == 2  # the instance is still good


def run_with_bytes(*args: bytes, env: dict[bytes, bytes]) -> subprocess.CompletedProcess[str]:
    """`kvredis` with arguments and environment given as bytes, as a shell passes them."""
    full_env = {k.encode(): v.encode() for k, v in kvredis_env().items()}
    full_env.update(env)
    return subprocess.run(
        [bytes(KVREDIS), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("flags", "guest_args", "env", "needle"),
    [
        ((), (b"report", b"caf\xe9"), {}, "a guest argument: 'caf\\udce9' holds the byte 0xE9"),
        ((b"--env", b"MODE=\xff"), (), {}, "variable MODE: '\\udcff' holds the byte 0xFF"),
        ((b"--inherit-env",), (), {b"ODD": b"\xfe"}, "variable ODD"),
    ],
    ids=["argument", "--env", "--inherit-env"],
)
def test_guest_arguments_and_environment_that_are_not_utf8(
    valkey_server: servers.ServerProcess,
    cli_wasm: Path,
    flags: tuple[bytes, ...],
    guest_args: tuple[bytes, ...],
    env: dict[bytes, bytes],
    needle: str,
) -> None:
    url = valkey_server.url.encode()
    done = run_with_bytes(
        b"run", b"--redis-url", url, *flags, bytes(cli_wasm), *guest_args, env=env
    )
    assert needle in error_line(done, 2)


def test_api_run_with_arguments_and_environment_that_are_not_unicode(
    valkey_server: servers.ServerProcess, values_wasm: Path
) -> None:
    with kvredis.Host(valkey_server.url) as host:
        component = host.load(values_wasm)
        with pytest.raises(kvredis.InvalidArguments, match="a guest argument"):
            component.run("\ud800")
        with pytest.raises(kvredis.InvalidArguments, match="variable K"):
            component.run(env={"K": "\udcff"})
        assert component.run("ok").exit_code == 0
