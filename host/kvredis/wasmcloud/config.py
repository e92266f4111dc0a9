"""`wasi:config`: the values a component reads, from a mapping or a JSON or YAML file."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kvredis.errors import ConfigError


def check_config(config: object, source: str = "config") -> dict[str, str]:
    """A copy of `config`, a mapping of strings to strings; anything else is a `ConfigError`
    naming `source` and the offending key (never its value: it may be a secret)."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"{source}: expected an object of names to strings")
    checked: dict[str, str] = {}
    for key, value in config.items():
        if not isinstance(key, str):
            raise ConfigError(f"{source}: names are strings, got {key!r}")
        if not isinstance(value, str):
            raise ConfigError(
                f"{source}: the value of {key!r} is {_kind(value)}, not a string (quote it)"
            )
        checked[key] = value
    return checked


def read_config_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """The values of a JSON (`.json`) or YAML file holding one object of strings."""
    shown = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"config file {shown}: cannot read it: {reason}") from None
    return check_config(_parse(text, shown), f"config file {shown}")


def _parse(text: str, shown: str) -> Any:
    if shown.lower().endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config file {shown}: not JSON: {exc}") from None
    import yaml  # noqa: PLC0415 - only a run with a YAML config file needs it

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ConfigError(f"config file {shown}: not YAML{line}") from None


def _kind(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
