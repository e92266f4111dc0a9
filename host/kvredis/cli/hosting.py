"""The flags `kvredis run` and `kvredis serve` share: where the data lives and under which
rules (the Redis connection, buckets and keys), and what each guest instance gets (its
environment, directories, timeout and memory); and the `Host` they describe."""

from __future__ import annotations

import argparse

from kvredis import DEFAULT_DATA_DIR, DEFAULT_KEY_PREFIX, DEFAULT_LOG_LEVEL, LOG_LEVELS, Host
from kvredis.cli import options
from kvredis.cli.guest_specs import bucket_routes
from kvredis.cli.wasmcloud_flags import guest_config, link_urls


def add_host_options(parser: argparse.ArgumentParser) -> None:
    options.add_connection_options(parser)
    options.add_data_dir(
        parser,
        DEFAULT_DATA_DIR,
        f"data directory of the embedded server (default {DEFAULT_DATA_DIR})",
    )
    kv = parser.add_argument_group("buckets and keys")
    kv.add_argument(
        "--bucket",
        metavar="NAME[=URL]",
        action="append",
        default=[],
        help="allow this bucket (repeatable; once given, other identifiers get "
        "no-such-store); =URL sends it to another server or database",
    )
    kv.add_argument(
        "--read-only",
        metavar="NAME",
        action="append",
        default=[],
        help="every write to this bucket gets access-denied (repeatable)",
    )
    kv.add_argument(
        "--key-prefix",
        metavar="TEMPLATE",
        default=DEFAULT_KEY_PREFIX,
        help=f"Redis key prefix; {{bucket}} is the encoded bucket name (default "
        f"'{DEFAULT_KEY_PREFIX}'); '' keeps keys as given, ignoring the bucket; "
        "{{bucket}} makes the bucket a Redis Cluster hash tag (one slot per bucket)",
    )
    kv.add_argument(
        "--max-value-size",
        metavar="SIZE",
        type=options.size,
        default="64M",
        help="largest value a guest may store or read (default 64M)",
    )
    add_wasmcloud_options(parser)


def add_wasmcloud_options(parser: argparse.ArgumentParser) -> None:
    wasmcloud = parser.add_argument_group(
        "wasmCloud host interfaces (wasi:config, wasmcloud:bus links, wasi:logging)"
    )
    wasmcloud.add_argument(
        "--config",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a value wasi:config gives the guest (repeatable; overrides --config-file)",
    )
    wasmcloud.add_argument(
        "--config-file",
        metavar="FILE",
        help="wasi:config values from a JSON (.json) or YAML file holding one object of strings",
    )
    wasmcloud.add_argument(
        "--link",
        metavar="NAME[=URL]",
        action="append",
        default=[],
        help="a named keyvalue link the guest may pick with wasmcloud:bus set-link-name "
        "(repeatable); =URL puts it on another server, NAME alone on the default one; "
        "every guest starts on the link 'default'",
    )
    add_log_level_option(wasmcloud)


def add_log_level_option(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=DEFAULT_LOG_LEVEL,
        help=f"least severe wasi:logging level printed to stderr (default {DEFAULT_LOG_LEVEL})",
    )


def add_instance_options(guest: argparse._ArgumentGroup) -> None:
    guest.add_argument(
        "--env",
        metavar="K=V",
        action="append",
        default=[],
        help="set an environment variable for the guest (repeatable; K alone "
        "passes the host's value)",
    )
    guest.add_argument(
        "--inherit-env",
        action="store_true",
        help="give the guest the host environment, except kvredis's own settings "
        "(REDIS_URL, KVREDIS_*)",
    )
    guest.add_argument(
        "--dir",
        metavar="HOST[::GUEST]",
        action="append",
        default=[],
        help="give the guest a host directory (repeatable; each GUEST path once)",
    )
    guest.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=options.seconds,
        help="stop the guest when a call runs longer than this (at most a week)",
    )
    guest.add_argument(
        "--max-memory",
        metavar="SIZE",
        type=options.size,
        help="cap the guest's linear memory (e.g. 64M, 1G)",
    )


def host_from_args(args: argparse.Namespace) -> Host:
    """The host the flags describe (not started yet)."""
    return Host(
        options.redis_url(args),
        buckets=bucket_routes(args.bucket),
        read_only=args.read_only,
        key_prefix=args.key_prefix,
        timeout=args.timeout,
        max_memory=args.max_memory,
        max_value_size=args.max_value_size,
        connection=options.connection_settings(args),
        data_dir=args.data_dir,
        cluster=args.cluster,
        config=guest_config(args.config, args.config_file),
        links=link_urls(args.link),
        log_level=args.log_level,
    )
