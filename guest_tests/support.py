"""Helpers shared by the guest suites: running the `kvredis` command as a user would, running
work on threads, and the keyvalue versions under test. Fixtures live in conftest.py; tests
import helpers from here, never from conftest."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The `kvredis` console script of the environment running the tests.
KVREDIS = Path(sys.executable).parent / "kvredis"
# Both published wasi:keyvalue versions; every suite that runs per version uses these.
VERSIONS = ("draft", "draft2")


def kvredis_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the tests give `kvredis`: ours, without REDIS_URL."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(extra or {})
    return env


def run_threads(work: Callable[[int], Any], count: int) -> list[Any]:
    """Run work(0)...work(count - 1) on threads released together; their results, or the
    first failure re-raised here."""
    results: list[Any] = [None] * count
    failures: list[BaseException] = []
    start = threading.Barrier(count)

    def target(i: int) -> None:
        try:
            start.wait()
            results[i] = work(i)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)
    return results


def run_kvredis(
    *args: str | Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `kvredis` command as a user would."""
    full_env = kvredis_env(env)
    return subprocess.run(
        [str(KVREDIS), *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        input=input_text,
        check=False,
    )


def invoke_ops(
    url: str, guest: Path, bucket: str, op: str, *args: str, flags: tuple[str, ...] = ()
) -> Any:
    """Call the conformance guest's `ops#call` through `kvredis run --invoke`; returns the
    decoded outcome ({"ok": ...} or {"err": ..., "message": ...})."""
    call = f"ops#call({json.dumps(bucket)}, {json.dumps(op)}, {json.dumps(list(args))})"
    done = run_kvredis("run", "--redis-url", url, *flags, "--invoke", call, guest)
    assert done.returncode == 0, done.stderr
    return json.loads(json.loads(done.stdout))


# The conformance guest's source, read (not imported: it runs only inside the guest).
CASES_SOURCE = ROOT / "guests" / "conformance" / "cases.py"


def declared_cases() -> dict[str, tuple[str, ...]]:
    """Case names and versions, read from the guest's source (the guest is not importable)."""
    found: dict[str, tuple[str, ...]] = {}
    for node in ast.parse(CASES_SOURCE.read_text()).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if isinstance(deco, ast.Call) and getattr(deco.func, "id", "") == "case":
                versions = tuple(a.value for a in deco.args if isinstance(a, ast.Constant))
                found[node.name.replace("_", "-")] = versions or VERSIONS
    return found


# (version, case) for every case the guests declare.
CONFORMANCE_CASES = [
    (v, name) for v in VERSIONS for name, vs in declared_cases().items() if v in vs
]
