"""The compiled-code cache holds native code that kvredis runs, so it is used only in a
directory of the user's that nobody else can write, and an artifact runs only for the
component it was compiled from."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
import wasmtime
from wasmtime.component import Component

import servers
from kvredis.runtime.cache import artifact_name, cache_key, trailer
from kvredis.runtime.engine import engine
from support import run_kvredis

OTHER_UID = 65534


def answering(n: int) -> bytes:
    """A component whose `answer()` returns n: two of them differ only in their code."""
    return wasmtime.wat2wasm(
        f"""(component
          (core module $m (func (export "answer") (result i32) i32.const {n}))
          (core instance $i (instantiate $m))
          (func $answer (result u32) (canon lift (core func $i "answer")))
          (export "answer" (func $answer)))"""
    )


@pytest.fixture
def one_and_two(tmp_path: Path) -> tuple[Path, Path]:
    paths = []
    for n in (1, 2):
        path = tmp_path / f"answer-{n}.wasm"
        path.write_bytes(answering(n))
        paths.append(path)
    return paths[0], paths[1]


def answer(server: servers.ServerProcess, component: Path, cache: Path) -> str:
    done = run_kvredis(
        "run",
        "--redis-url",
        server.url,
        "--invoke",
        "answer()",
        component,
        env={"KVREDIS_CACHE_DIR": str(cache)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip() + "".join(f"\n{line}" for line in done.stderr.splitlines())


def artifacts(cache: Path) -> set[Path]:
    return set((cache / "compiled").glob("*.cwasm"))


def test_an_artifact_copied_under_another_components_key_is_not_run(
    valkey_server: servers.ServerProcess, one_and_two: tuple[Path, Path], tmp_path: Path
) -> None:
    one, two = one_and_two
    cache = tmp_path / "cache"
    assert answer(valkey_server, one, cache) == "1"
    (one_artifact,) = artifacts(cache)
    assert answer(valkey_server, two, cache) == "2"
    (two_artifact,) = artifacts(cache) - {one_artifact}
    shutil.copyfile(one_artifact, two_artifact)
    assert answer(valkey_server, two, cache) == "2"
    # The swapped file was replaced by two's own artifact, which the next run loads.
    assert two_artifact.read_bytes() != one_artifact.read_bytes()
    assert answer(valkey_server, two, cache) == "2"


def test_the_cache_is_private_to_the_user(
    valkey_server: servers.ServerProcess, one_and_two: tuple[Path, Path], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    assert answer(valkey_server, one_and_two[0], cache) == "1"
    assert stat.S_IMODE((cache / "compiled").stat().st_mode) == 0o700
    (artifact,) = artifacts(cache)
    assert stat.S_IMODE(artifact.stat().st_mode) == 0o600
    assert list((cache / "compiled").iterdir()) == [artifact], "a temporary file was left"


@pytest.mark.parametrize("flaw", ["group-writable", "world-writable", "another user's"])
def test_a_cache_others_could_write_to_is_not_used(
    valkey_server: servers.ServerProcess,
    one_and_two: tuple[Path, Path],
    tmp_path: Path,
    flaw: str,
) -> None:
    one, two = one_and_two
    compiled = tmp_path / "cache" / "compiled"
    compiled.mkdir(parents=True, mode=0o700)
    # Planted under two's key: one's code, sealed as two's. A cache that is trusted runs it
    # (only who can write there can plant it, hence the rule about who can write there).
    key = cache_key(two.read_bytes())
    planted = compiled / artifact_name(key)
    planted.write_bytes(bytes(Component(engine(), one.read_bytes()).serialize()) + trailer(key))
    planted.chmod(0o600)
    assert answer(valkey_server, two, tmp_path / "cache") == "1"
    before = planted.read_bytes()

    if flaw == "another user's":
        if os.geteuid() != 0:
            pytest.skip("changing a directory's owner needs root")
        os.chown(compiled, OTHER_UID, OTHER_UID)
    else:
        compiled.chmod(0o770 if flaw == "group-writable" else 0o707)
    said = answer(valkey_server, two, tmp_path / "cache").splitlines()
    assert said[0] == "2"
    assert len(said) == 2, said
    assert said[1].startswith(f"kvredis: not using the compiled-code cache: {compiled} "), said
    assert list(compiled.iterdir()) == [planted], "it wrote into the untrusted cache"
    assert planted.read_bytes() == before
