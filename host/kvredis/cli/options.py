"""Option parsing the commands share: the parser class, value types, and the option groups
several commands take (verbosity, the Redis connection, the data directory)."""

from __future__ import annotations

import argparse
import difflib
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from kvredis import ConfigError, ConnectionSettings, parse_size, parse_timeout

EXIT_USAGE = 2
# What `add_subparsers` returns, where each command module adds its parser (a private type).
Commands = Any
# A URL is one short line; more than this is not a URL file.
_URL_FILE_LIMIT = 64 * 1024


class CliParser(argparse.ArgumentParser):
    """No abbreviated flags (`--redis-ur` is not taken for `--redis-url`), and status 2 for
    every usage error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    def flags(self) -> list[str]:
        return [flag for action in self._actions for flag in action.option_strings]


def unrecognized(words: Sequence[str], known_flags: Iterable[str]) -> str:
    """The usage error for arguments no parser took: the first unknown flag, and the known
    flag it most resembles, if one does."""
    flags = [word for word in words if word.startswith("-")]
    if not flags:
        return f"unexpected argument {words[0]!r}"
    name = flags[0].split("=", 1)[0]
    close = difflib.get_close_matches(name, [f for f in known_flags if f.startswith("--")], n=1)
    return f"unknown flag {name}" + (f"; did you mean {close[0]}?" if close else "")


# --- value types (argparse reports their errors as usage errors, naming the flag) ----------


def whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def positive(text: str) -> int:
    value = whole_number(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number above zero, got 0")
    return value


def milliseconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected milliseconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected milliseconds above zero, got {text}")
    return value


def seconds(text: str) -> float:
    try:
        return parse_timeout(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def size(text: str) -> int:
    try:
        return parse_size(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# --- option groups -------------------------------------------------------------------------

# Connection tuning: flag, metavar, value type, ConnectionSettings field, help.
_TUNING = (
    ("--reconnect-retries", "N", whole_number, "reconnect_retries",
     "reconnect attempts per operation (default {default}; BACKEND_RECONNECT_NUM_RETRIES)"),
    ("--reconnect-max-delay", "MS", whole_number, "reconnect_max_delay_ms",
     "longest wait between reconnect attempts (default {default}; "
     "BACKEND_RECONNECT_MAX_DELAY_MS)"),
    ("--connection-timeout", "MS", milliseconds, "connection_timeout_ms",
     "timeout to establish a connection (default {default}; BACKEND_CONNECTION_TIMEOUT_MS)"),
    ("--response-timeout", "MS", milliseconds, "response_timeout_ms",
     "timeout for one reply (default {default}; BACKEND_RESPONSE_TIMEOUT_MS)"),
    ("--op-timeout", "MS", milliseconds, "op_budget_ms",
     "budget for one keyvalue operation, retries included; past it the guest gets an "
     "`other` error (default {default})"),
    ("--wait-replicas", "N", whole_number, "wait_replicas",
     "after each write, WAIT until N replicas have it; a write fewer confirm within the "
     "budget answers `other` (still written on the primary). Default {default}: no wait"),
)  # fmt: skip


def add_verbose(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="log what happens, with full error details, on stderr",
    )


def add_data_dir(parser: argparse.ArgumentParser, default: str | None, help_text: str) -> None:
    parser.add_argument("--data-dir", metavar="DIR", default=default, help=help_text)


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "Redis connection",
        "the meanings of wasmCloud keyvalue-redis provider settings (see the README table)",
    )
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--redis-url",
        metavar="URL",
        # An empty REDIS_URL is taken as unset, as shells and CI files often leave it.
        default=os.environ.get("REDIS_URL") or None,
        help="redis://, rediss:// or unix:// URL (default: $REDIS_URL, else the embedded "
        "server); a password here shows in `ps`: prefer --redis-url-file or REDIS_URL",
    )
    where.add_argument(
        "--redis-url-file",
        metavar="FILE",
        help="read the URL from the first line of FILE, which only you may read (chmod 600)",
    )
    where.add_argument(
        "--cluster",
        action="store_true",
        help="use the embedded cluster (3 primaries with a replica each; started, or shared "
        "with a `kvredis server --cluster` of the same data directory) instead of $REDIS_URL "
        "or the embedded server. A URL of your own cluster needs no flag: kvredis asks the "
        "server (?cluster=yes|no in the URL forces it)",
    )
    defaults = ConnectionSettings()
    for flag, metavar, kind, field, meaning in _TUNING:
        default = getattr(defaults, field)
        group.add_argument(
            flag,
            metavar=metavar,
            type=kind,
            default=default,
            help=meaning.format(default=default),
        )
    group.add_argument(
        "--tls-ca-cert", metavar="FILE", help="CA certificate to verify a rediss:// server with"
    )


# --- settings from the connection options --------------------------------------------------


def redis_url(args: argparse.Namespace) -> str | None:
    """The URL of --redis-url-file, else of --redis-url or REDIS_URL; None: embedded (the
    cluster with --cluster, which REDIS_URL does not override)."""
    if args.cluster:
        return None
    if args.redis_url_file is not None:
        return read_url_file(args.redis_url_file)
    url: str | None = args.redis_url
    return url


def read_url_file(path: str) -> str:
    """The first line of a file that only its owner may read or change: a URL with a
    password kept there never shows in `ps`, and nobody else can point kvredis elsewhere."""
    flag = f"--redis-url-file {path}"
    try:
        with open(path, encoding="utf-8") as source:
            mode = stat.S_IMODE(os.fstat(source.fileno()).st_mode)
            if mode & 0o077:
                raise ConfigError(
                    f"{flag}: its permissions {mode:04o} let others read or change it; "
                    f"make it private: chmod 600 {path}"
                )
            first = source.readline(_URL_FILE_LIMIT)
    except UnicodeDecodeError:
        raise ConfigError(f"{flag}: not a text file") from None
    except OSError as exc:
        raise ConfigError(f"{flag}: cannot read it: {exc.strerror or exc}") from None
    url = first.strip()
    if not url:
        raise ConfigError(f"{flag}: its first line is empty; put the Redis URL there")
    return url


def connection_settings(args: argparse.Namespace) -> ConnectionSettings:
    if args.tls_ca_cert and not Path(args.tls_ca_cert).is_file():
        raise ConfigError(f"--tls-ca-cert {args.tls_ca_cert}: no such file")
    tuning = {field: getattr(args, _dest(flag)) for flag, _, _, field, _ in _TUNING}
    return ConnectionSettings(**tuning, tls_ca_cert=args.tls_ca_cert)


def _dest(flag: str) -> str:
    return flag.removeprefix("--").replace("-", "_")
