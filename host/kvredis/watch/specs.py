"""What to watch: the wasmCloud provider's `SET@key` / `DEL@key` forms, with a bucket.

A spec is `OP@[BUCKET/]KEY`: `OP` is `SET` or `DEL` (any case); `KEY` is a Redis glob
(`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\\` before a character takes it literally); the text
before the first `/` names the bucket, which is literal. Without a `/` the bucket is the
empty identifier `""` (so `SET@/a/b` watches key `a/b` of bucket `""`). Several specs may be
given at once, separated by commas, as the provider's `watch` setting does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from kvredis.errors import ConfigError

FORMS = "OP@[BUCKET/]KEY with OP SET or DEL, e.g. SET@counter/hits or DEL@session:*"


class Op(Enum):
    """What happened to a key, as the watcher export names it."""

    SET = "SET"
    DEL = "DEL"


@dataclass(frozen=True)
class WatchSpec:
    op: Op
    bucket: str
    pattern: str
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(glob_regex(self.pattern), re.DOTALL))

    def matches(self, op: Op, bucket: str, key: str) -> bool:
        return op is self.op and bucket == self.bucket and self._regex.fullmatch(key) is not None

    def __str__(self) -> str:
        return f"{self.op.value}@{self.bucket}/{self.pattern}"


def parse_watch_specs(texts: Iterable[str] | str) -> list[WatchSpec]:
    """Every spec in `texts` (each may hold several, comma-separated), duplicates dropped;
    `ConfigError` naming the first that is malformed, or when there is none at all."""
    if isinstance(texts, str):
        texts = [texts]
    specs: list[WatchSpec] = []
    for text in texts:
        if not isinstance(text, str):
            raise ConfigError(f"watch: a spec is a string ({FORMS}), not {text!r}")
        for part in text.split(","):
            spec = parse_spec(part.strip())
            if spec not in specs:
                specs.append(spec)
    if not specs:
        raise ConfigError(f"watch: nothing to watch; give at least one {FORMS}")
    return specs


def parse_spec(text: str) -> WatchSpec:
    op_text, at, target = text.partition("@")
    try:
        op = Op(op_text.strip().upper())
    except ValueError:
        op = None
    if not at or op is None or not target:
        raise ConfigError(f"watch: cannot read {text!r}; expected {FORMS}")
    bucket, slash, pattern = target.partition("/")
    if not slash:
        bucket, pattern = "", target
    if not pattern:
        raise ConfigError(f"watch: {text!r} names no key; expected {FORMS}")
    glob_regex(pattern)  # a malformed pattern fails here, with its text
    return WatchSpec(op, bucket, pattern)


def glob_regex(pattern: str) -> str:
    """The regular expression of a Redis glob pattern (as KEYS and PSUBSCRIBE read it)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "\\" and i < len(pattern):
            out.append(re.escape(pattern[i]))
            i += 1
        elif char == "[":
            end = _class_end(pattern, i)
            out.append(_char_class(pattern[i:end]))
            i = end + 1
        else:
            out.append(re.escape(char))
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    i = start + 1 if pattern[start : start + 1] in ("^", "!") else start
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "]":
            return i
        i += 1
    raise ConfigError(f"watch: unclosed '[' in the key pattern {pattern!r}")


def _char_class(body: str) -> str:
    negate = body[:1] in ("^", "!")
    if negate:
        body = body[1:]
    if not body:
        raise ConfigError("watch: an empty [] in a key pattern matches nothing")
    parts: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            char = body[i + 1]
            i += 1
        if i + 2 < len(body) and body[i + 1] == "-":
            low, high = sorted((char, body[i + 2]))
            parts.append(f"{re.escape(low)}-{re.escape(high)}")
            i += 3
            continue
        parts.append(re.escape(char))
        i += 1
    return f"[{'^' if negate else ''}{''.join(parts)}]"
