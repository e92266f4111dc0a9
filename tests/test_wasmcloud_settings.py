"""The pure parts of wasmCloud's host interfaces: log lines and their threshold, config
values from mappings, files and flags, link flags, and the choice of link."""

from __future__ import annotations

from pathlib import Path

import pytest

from kvredis import ConfigError
from kvredis.backend.null import NullBackend
from kvredis.cli.wasmcloud_flags import guest_config, link_urls
from kvredis.core import KeyValueCore, StoreConfig, StoreFailure
from kvredis.wasmcloud import LinkTable, LogSink, check_config, read_config_file
from kvredis.wasmcloud.links import KEYVALUE_STORE
from kvredis.wasmcloud.log_sink import log_line


def test_log_line_with_and_without_context() -> None:
    assert log_line("warn", "db", "slow") == "WARN db: slow\n"
    assert log_line("info", "", "hello\n") == "INFO hello\n"


def test_sink_passes_its_level_and_those_above() -> None:
    lines: list[bytes] = []
    sink = LogSink("error", lines.append)
    for level in ("trace", "debug", "info", "warn", "error", "critical"):
        sink.log(level, "c", level)
    assert lines == [b"ERROR c: error\n", b"CRITICAL c: critical\n"]


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ConfigError, match="log level must be one of trace, debug"):
        LogSink("loud", print)


def test_config_values_must_be_strings_and_are_not_shown() -> None:
    with pytest.raises(ConfigError, match=r"the value of 'pw' is a number") as caught:
        check_config({"pw": 12345})
    assert "12345" not in str(caught.value)
    with pytest.raises(ConfigError, match="names are strings"):
        check_config({1: "x"})


def test_config_file_json_and_yaml(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"k": "v"}')
    (tmp_path / "a.yml").write_text("k: 'v'\nempty: ''\n")
    assert read_config_file(tmp_path / "a.json") == {"k": "v"}
    assert read_config_file(tmp_path / "a.yml") == {"k": "v", "empty": ""}


def test_flags_override_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"a": "file", "b": "file"}')
    assert guest_config(["b=flag", "c=x=y"], str(path)) == {"a": "file", "b": "flag", "c": "x=y"}
    assert guest_config([], None) == {}


def test_link_flags_and_their_errors_hide_passwords() -> None:
    assert link_urls(["cache=redis://h:1", "same"]) == {"cache": "redis://h:1", "same": None}
    with pytest.raises(ConfigError, match="given twice"):
        link_urls(["a", "a=redis://h"])
    with pytest.raises(ConfigError) as caught:
        link_urls(["=redis://:hunter2@h"])
    assert "hunter2" not in str(caught.value)


def _core() -> KeyValueCore:
    return KeyValueCore(StoreConfig(), NullBackend())


def test_links_start_on_default_and_follow_set_link_name() -> None:
    default, cache = _core(), _core()
    links = LinkTable({"default": default, "cache": cache})
    assert links.link_of(KEYVALUE_STORE) == "default"
    links.set_link_name("cache", [("wasi", "blobstore", "container")])
    assert links.link_of(KEYVALUE_STORE) == "default"
    links.set_link_name("cache", [KEYVALUE_STORE])
    assert links.link_of(KEYVALUE_STORE) == "cache"
    assert links.open("b").name == "b"


def test_an_unknown_link_fails_the_next_open_not_the_choice() -> None:
    links = LinkTable({"default": _core()})
    links.set_link_name("nowhere", [KEYVALUE_STORE])
    with pytest.raises(StoreFailure, match=r"no keyvalue link named 'nowhere'.*has: default"):
        links.open("b")
