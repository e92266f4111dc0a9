"""What `kvredis run`'s repeatable flags (--bucket, --env, --dir) say, as settings for the
host and the guest, checked before anything starts."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path

from kvredis import ConfigError

# kvredis's own settings: the guest gets them only when --env names them. REDIS_URL may hold
# a password, and the guest talks to Redis through kvredis, never directly.
_HOST_SETTINGS_EXACT = frozenset({"REDIS_URL"})
_HOST_SETTINGS_PREFIX = "KVREDIS_"


def bucket_routes(specs: Sequence[str]) -> dict[str, str | None] | None:
    """--bucket NAME[=URL]: the allowed buckets and where each lives (None: every bucket,
    on the default server)."""
    if not specs:
        return None
    routes: dict[str, str | None] = {}
    for spec in specs:
        name, sep, url = spec.partition("=")
        if sep and not url:
            raise ConfigError(f"--bucket {spec!r}: empty URL after '='")
        routes[name] = url if sep else None
    return routes


def is_host_setting(name: str) -> bool:
    return name in _HOST_SETTINGS_EXACT or name.startswith(_HOST_SETTINGS_PREFIX)


def guest_env(
    specs: Sequence[str], inherit: bool, environ: Mapping[str, str]
) -> list[tuple[str, str]]:
    """The guest's environment: with `inherit`, the host's without kvredis's own settings;
    then each --env K=V, or K alone for the host's value of K (any K, those included)."""
    env = {k: v for k, v in environ.items() if not is_host_setting(k)} if inherit else {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        if not key:
            raise ConfigError(f"--env {spec!r}: expected K=V")
        if not sep:
            if key not in environ:
                raise ConfigError(f"--env {key}: not set in this environment")
            value = environ[key]
        env[key] = value
    return list(env.items())


def guest_dirs(specs: Sequence[str]) -> list[tuple[str, str]]:
    """--dir HOST[::GUEST]: (host path, guest path) pairs, each guest path given once."""
    dirs: list[tuple[str, str]] = []
    given_by: dict[str, str] = {}
    for spec in specs:
        host_path, guest_path = _dir_spec(spec)
        if not Path(host_path).is_dir():
            raise ConfigError(f"--dir {spec!r}: {host_path} is not a directory")
        same = posixpath.normpath(guest_path)
        if same in given_by:
            raise ConfigError(
                f"--dir {spec!r}: the guest path {guest_path} is already given by "
                f"--dir {given_by[same]!r}; give each guest path once"
            )
        given_by[same] = spec
        dirs.append((host_path, guest_path))
    return dirs


def _dir_spec(spec: str) -> tuple[str, str]:
    host_path, sep, guest_path = spec.partition("::")
    if ":::" in spec or "::" in guest_path:
        # `a:::/x` could be `a:` at `/x` or `a` at `:/x`: refused rather than guessed.
        raise ConfigError(f"--dir {spec!r}: ambiguous '::'; expected HOST or HOST::GUEST")
    if not host_path or (sep and not guest_path):
        raise ConfigError(f"--dir {spec!r}: expected HOST or HOST::GUEST")
    return host_path, guest_path if sep else host_path
