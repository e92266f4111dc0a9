"""What the `kvredis` command makes of its flags, without running anything: suggestions for
unknown flags, timeouts, URL files, the guest's environment and directories, the exit
policy and what `inspect` hides."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import kvredis
from kvredis import ComponentError, ConfigError, GuestTimeout, RedisUnavailable
from kvredis.cli import entry, options
from kvredis.cli.guest_specs import guest_dirs, guest_env
from kvredis.cli.run import EXAMPLES

PARSER = entry.build_parser()
RUN_FLAGS = PARSER.flags() + PARSER.parse_args(["run", "app.wasm"]).command_parser.flags()


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["--redis-ur", "x"], "unknown flag --redis-ur; did you mean --redis-url?"),
        (["--readonly"], "unknown flag --readonly; did you mean --read-only?"),
        (["--redis-ur=redis://h"], "unknown flag --redis-ur; did you mean --redis-url?"),
        (
            ["--inherit-environment"],
            "unknown flag --inherit-environment; did you mean --inherit-env?",
        ),
        (["--frobnicate"], "unknown flag --frobnicate"),
        (["stray"], "unexpected argument 'stray'"),
    ],
)
def test_unknown_flags_get_the_closest_known_one(words: list[str], expected: str) -> None:
    assert options.unrecognized(words, RUN_FLAGS) == expected


def test_no_parser_takes_abbreviations() -> None:
    args, unknown = PARSER.parse_known_args(["run", "--redis-ur", "redis://h", "app.wasm"])
    assert unknown == ["--redis-ur"]
    assert (args.component, args.args) == ("redis://h", ["app.wasm"])
    _, unknown = PARSER.parse_known_args(["conformance", "--jun", "r.xml"])
    assert unknown == ["--jun", "r.xml"]


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "1e308", "604801", "0", "-1", "soon"])
def test_bad_timeouts(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        options.seconds(text)


@pytest.mark.parametrize(("text", "value"), [("1.5", 1.5), ("604800", 604800.0), ("1e-3", 0.001)])
def test_good_timeouts(text: str, value: float) -> None:
    assert options.seconds(text) == value


def private_file(path: Path, text: str, mode: int = 0o600) -> str:
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def test_url_file_gives_its_first_line(tmp_path: Path) -> None:
    path = private_file(tmp_path / "url", "  redis://:pw@db:6379/2  \nsecond line\n")
    assert options.read_url_file(path) == "redis://:pw@db:6379/2"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_url_file_others_may_access_is_refused(tmp_path: Path, mode: int) -> None:
    path = private_file(tmp_path / "url", "redis://:pw-in-file@db\n", mode)
    with pytest.raises(ConfigError) as caught:
        options.read_url_file(path)
    message = str(caught.value)
    assert f"permissions {mode:04o}" in message and f"chmod 600 {path}" in message
    assert "pw-in-file" not in message


@pytest.mark.parametrize(
    ("content", "needle"),
    [("\nredis://db\n", "first line is empty"), ("", "first line is empty"), (None, "cannot read")],
)
def test_url_file_problems(tmp_path: Path, content: str | None, needle: str) -> None:
    path = tmp_path / "url"
    if content is not None:
        private_file(path, content)
    with pytest.raises(ConfigError, match=needle):
        options.read_url_file(str(path))


def test_url_file_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir(mode=0o700)
    with pytest.raises(ConfigError, match="cannot read"):
        options.read_url_file(str(tmp_path / "d"))


HOST_ENV = {
    "PATH": "/bin",
    "REDIS_URL": "redis://:secret@db",
    "KVREDIS_CACHE_DIR": "/cache",
    "MY_KVREDIS_NOTE": "not ours",
}


def test_inherited_environment_leaves_out_kvredis_settings() -> None:
    assert dict(guest_env([], True, HOST_ENV)) == {"PATH": "/bin", "MY_KVREDIS_NOTE": "not ours"}


def test_env_flags_pass_kvredis_settings_on_purpose() -> None:
    env = dict(guest_env(["REDIS_URL", "KVREDIS_CACHE_DIR=/other", "PATH=/x"], True, HOST_ENV))
    assert env == {
        "PATH": "/x",
        "MY_KVREDIS_NOTE": "not ours",
        "REDIS_URL": "redis://:secret@db",
        "KVREDIS_CACHE_DIR": "/other",
    }
    assert guest_env([], False, HOST_ENV) == []


def test_dirs_map_host_directories(tmp_path: Path) -> None:
    specs = [f"{tmp_path}::/data", str(tmp_path), f"{tmp_path}::."]
    assert guest_dirs(specs) == [(str(tmp_path), "/data"), (str(tmp_path), str(tmp_path)),
                                 (str(tmp_path), ".")]  # fmt: skip


@pytest.mark.parametrize(
    ("specs", "needle"),
    [
        (["{d}:::/x"], "ambiguous '::'"),
        (["{d}::/x::y"], "ambiguous '::'"),
        (["{d}::"], "expected HOST or HOST::GUEST"),
        (["::/x"], "expected HOST or HOST::GUEST"),
        (["{d}/missing::/x"], "is not a directory"),
        (["{d}::/data", "{d}::/data"], "the guest path /data is already given by"),
        (["{d}::/data", "{d}::/data/"], "already given by"),
        (["{d}::/data", "{d}::/x/../data"], "already given by"),
        (["{d}", "{d}"], "already given by"),
    ],
)
def test_bad_dirs(tmp_path: Path, specs: list[str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        guest_dirs([spec.format(d=tmp_path) for spec in specs])


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (KeyboardInterrupt(), 130),
        (BrokenPipeError(), 141),
        (GuestTimeout("timed out"), 1),
        (ComponentError("f", "payload"), 1),
        (ConfigError("bad flag"), 2),
        (RedisUnavailable("down"), 2),
        (RuntimeError("a bug"), 1),
    ],
)
def test_exit_policy(error: BaseException, status: int) -> None:
    assert entry.exit_status(error) == status


def test_the_examples_in_help_do_not_put_a_password_on_the_command_line() -> None:
    for line in EXAMPLES.splitlines():
        if "--redis-url " in line:
            assert "@" not in line.split("--redis-url ", 1)[1].split()[0], line


def test_version_names_kvredis_and_its_wasmtime(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        entry.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"kvredis {kvredis.__version__} (wasmtime 50.0.1)\n"
