"""The pytest plugin, used as a user uses it: test files of their own, run by pytest in a
process of its own; and, once, the built wheel in a fresh virtual environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

import servers
from kvredis.conformance import guest_path
from support import ROOT

pytest_plugins = ["pytester"]

EXAMPLE_TEST = ROOT / "examples" / "testing" / "test_counter.py"
# pytester points HOME at a temporary directory; the runs it starts keep the real cache of
# compiled components, or every run would compile each guest again (seconds each).
CACHE_HOME = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")


@pytest.fixture
def user(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs see no REDIS_URL unless a test sets one."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", CACHE_HOME)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # A process of its own, as a user's `pytest` run is: the plugin comes from the entry point.
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args, timeout=300)


def test_the_plugin_is_registered_by_its_entry_point(user: pytest.Pytester) -> None:
    result = run(user, "--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*--kvredis-url=URL*"])


def test_fixture_attributes(user: pytest.Pytester, counter_wasm: Path) -> None:
    user.makepyfile(
        test_attrs=f"""
        import json
        import kvredis as kvredis_package
        import redis

        COUNTER = {str(counter_wasm)!r}
        CONFORMANCE = {str(guest_path("draft2"))!r}

        def test_attributes(kvredis):
            assert kvredis.url.startswith("unix://")
            assert isinstance(kvredis.redis, redis.Redis) and kvredis.redis.ping()
            assert isinstance(kvredis.host, kvredis_package.Host)
            assert kvredis.key("counter", "hits") == b"counter:hits"

            result = kvredis.run(COUNTER)
            assert result == kvredis_package.RunResult(0, "1\\n", "")
            assert kvredis.redis.get("counter:hits") == b"1"

            component = kvredis.load(CONFORMANCE)
            assert isinstance(component, kvredis_package.Component)
            outcome = component.call("ops#call", "counter", "get", ["hits"])
            assert json.loads(outcome) == {{"ok": "1"}}
            assert "overwrite" in component.call("conformance#cases")

        def test_new_host_with_other_rules(kvredis):
            host = kvredis.new_host(buckets=["only"], key_prefix="app:{{bucket}}:")
            component = host.load(CONFORMANCE)
            stored = component.call("ops#call", "only", "set", ["k", "v"])
            assert json.loads(stored) == {{"ok": None}}
            assert kvredis.redis.get("app:only:k") == b"v"
            refused = json.loads(component.call("ops#call", "other", "open", []))
            assert refused["err"] == "no-such-store"

        def test_load_errors_are_kvredis_errors(kvredis, tmp_path):
            import pytest
            with pytest.raises(kvredis_package.ComponentLoadError):
                kvredis.load(tmp_path / "missing.wasm")
        """
    )
    result = run(user)
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=3)


def test_every_test_gets_an_empty_database(user: pytest.Pytester, counter_wasm: Path) -> None:
    user.makepyfile(
        test_empty=f"""
        COUNTER = {str(counter_wasm)!r}

        def test_first(kvredis):
            assert kvredis.run(COUNTER).stdout == "1\\n"
            kvredis.redis.set("left:behind", "x")
            kvredis.redis.set("counter:hits", "99")

        def test_second(kvredis):
            assert kvredis.redis.dbsize() == 0
            assert kvredis.run(COUNTER).stdout == "1\\n"
        """
    )
    result = run(user)
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=2)


def test_one_embedded_server_per_session(user: pytest.Pytester) -> None:
    urls = user.path / "urls.txt"
    body = f"""
        def test_url(kvredis):
            with open({str(urls)!r}, "a") as out:
                out.write(kvredis.url + "\\n")
    """
    user.makepyfile(test_one=body, test_two=body.replace("test_url", "test_url_again"))
    result = run(user)
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=2)
    seen = urls.read_text().split()
    assert len(seen) == 2 and seen[0] == seen[1]
    assert seen[0].startswith("unix://")
    # The embedded server lived in the session's temporary directory and stopped with it.
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(seen[0], socket_timeout=1).ping()
    assert not (user.path / ".kvredis").exists()


SERVER_CHECK = """
    import os

    def test_server(kvredis):
        assert kvredis.url == os.environ["EXPECTED_URL"]
        assert kvredis.redis.get("before") is None  # emptied before the test
        kvredis.redis.set("written", "by the test")
"""


def test_kvredis_url_option(
    user: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, server: servers.ServerProcess
) -> None:
    client = server.client()
    client.set("before", "x")
    monkeypatch.setenv("EXPECTED_URL", server.url)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1")  # the option wins over the env
    user.makepyfile(test_server=SERVER_CHECK)
    result = run(user, f"--kvredis-url={server.url}")
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=1)
    assert client.get("written") == b"by the test"


def test_redis_url_environment_variable(
    user: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, server: servers.ServerProcess
) -> None:
    client = server.client()
    client.set("before", "x")
    monkeypatch.setenv("EXPECTED_URL", server.url)
    monkeypatch.setenv("REDIS_URL", server.url)
    user.makepyfile(test_server=SERVER_CHECK)
    result = run(user)
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=1)
    assert client.get("written") == b"by the test"


def test_unreachable_server_is_a_one_line_setup_error(user: pytest.Pytester) -> None:
    user.makepyfile(
        test_down="""
        def test_a(kvredis):
            pass

        def test_b(kvredis):
            pass
        """
    )
    port = servers.free_port()
    result = run(user, f"--kvredis-url=redis://:pw-secret@127.0.0.1:{port}")
    assert result.ret == 1
    result.assert_outcomes(errors=2)
    output = result.stdout.str()
    assert "kvredis fixture: cannot reach Redis at redis://:***@127.0.0.1" in output
    assert "pw-secret" not in output
    assert "Traceback" not in output and "kvredis/host.py" not in output


def test_tests_that_do_not_use_the_fixture_start_no_server(user: pytest.Pytester) -> None:
    user.makepyfile(
        test_plain="""
        def test_plain():
            assert True
        """
    )
    result = run(user, "--kvredis-url=redis://127.0.0.1:1")
    assert result.ret == 0
    result.assert_outcomes(passed=1)


def test_a_session_that_does_not_use_the_fixture_loads_no_kvredis_runtime(
    user: pytest.Pytester,
) -> None:
    user.makepyfile(
        test_plain="""
        import sys

        def test_loaded_modules():
            assert "kvredis.pytest_plugin" in sys.modules  # the plugin itself is loaded...
            heavy = ["wasmtime", "redis", "kvredis.host", "kvredis._canon"]
            assert [name for name in heavy if name in sys.modules] == []  # ...and no more
        """
    )
    result = run(user)
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=1)


def test_the_example_passes_from_the_repository(user: pytest.Pytester, counter_wasm: Path) -> None:
    assert counter_wasm == ROOT / "examples" / "counter" / "build" / "counter.wasm"
    result = run(user, str(EXAMPLE_TEST))
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=3)


# --- the installed wheel, in a fresh virtual environment -------------------------------------

# Everything of the checkout that is not source: the wheel is built from a copy without these.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".kvredis", "bench"
)


class FreshVenv:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "venv" / "bin"
        self.python = self.bin / "python"

    def run(
        self, *args: str | Path, cwd: Path, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("REDIS_URL", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
        }
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshVenv]:
    """The wheel built from a copy of the source, installed with pytest (from the package
    index or pip's cache) into a new virtual environment: nothing of the checkout."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    wheelhouse = root / "wheelhouse"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(wheelhouse)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = wheelhouse.glob("kvredis-*.whl")
    shutil.rmtree(source)
    venv.EnvBuilder(with_pip=True).create(root / "venv")
    fresh = FreshVenv(root)
    pytest_pin = next(
        line.strip().strip('",')
        for line in (ROOT / "pyproject.toml").read_text().splitlines()
        if line.strip().startswith('"pytest==')
    )
    installed = fresh.run(fresh.python, "-m", "pip", "install", wheel, pytest_pin, cwd=root)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    yield fresh


def test_installed_wheel_in_a_fresh_venv(
    fresh_venv: FreshVenv, counter_wasm: Path, valkey_server: servers.ServerProcess, tmp_path: Path
) -> None:
    # The user's project: their test file and their built component, outside the checkout.
    project = tmp_path / "project"
    (project / "examples" / "testing").mkdir(parents=True)
    shutil.copy(EXAMPLE_TEST, project / "examples" / "testing" / "test_counter.py")
    (project / "examples" / "counter" / "build").mkdir(parents=True)
    shutil.copy(counter_wasm, project / "examples" / "counter" / "build" / "counter.wasm")

    # kvredis comes from the wheel, and componentize-py is nowhere to be found.
    where = fresh_venv.run(
        fresh_venv.python,
        "-c",
        "import importlib.util, kvredis; "
        "print(kvredis.__file__); print(importlib.util.find_spec('componentize_py'))",
        cwd=project,
    )
    assert where.returncode == 0, where.stderr
    location, componentize = where.stdout.split()
    assert Path(location).is_relative_to(fresh_venv.root / "venv"), location
    assert componentize == "None"
    assert not (fresh_venv.bin / "componentize-py").exists()

    tests = fresh_venv.run(
        fresh_venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout

    junit = project / "report.xml"
    embedded = fresh_venv.run(
        fresh_venv.bin / "kvredis", "conformance", "--junit", junit, cwd=project
    )
    assert embedded.returncode == 0, embedded.stdout + embedded.stderr
    assert embedded.stdout.splitlines()[-1].endswith(" passed, 0 failed")
    assert "<testsuites" in junit.read_text()

    on_server = fresh_venv.run(
        fresh_venv.bin / "kvredis", "conformance", "--redis-url", valkey_server.url, cwd=project
    )
    assert on_server.returncode == 0, on_server.stdout + on_server.stderr
    assert on_server.stdout.splitlines()[-1].endswith(" passed, 0 failed")


def test_the_example_in_a_checkout_needs_no_more_than_kvredis_and_pytest(
    fresh_venv: FreshVenv, counter_wasm: Path
) -> None:
    # As the README says: `pip install kvredis pytest`, then pytest in the checkout, where
    # the repository's own pytest settings (pytest-timeout's) must not apply.
    assert counter_wasm.is_relative_to(ROOT)
    tests = fresh_venv.run(
        fresh_venv.python, "-m", "pytest", "-p", "no:cacheprovider", "examples/testing/", cwd=ROOT
    )
    output = tests.stdout + tests.stderr
    assert tests.returncode == 0, output
    assert "3 passed" in tests.stdout
    assert "Unknown config option" not in output and "warning" not in output.lower()
