"""`kvredis server`: the embedded server in the foreground, until Ctrl-C."""

from __future__ import annotations

import argparse
import signal

from kvredis import DEFAULT_DATA_DIR, EmbeddedCluster, EmbeddedServer, redact
from kvredis.cli import options
from kvredis.cli.console import say


def add_parser(commands: options.Commands) -> None:
    server = commands.add_parser(
        "server",
        help="run the embedded server in the foreground and print its URL",
        description="Start the embedded Valkey server (data in --data-dir) and keep it "
        "running until Ctrl-C; `kvredis run` in the same directory uses it. With --cluster, "
        "a local Redis Cluster of N primaries (default 3), each with one replica, on "
        "loopback ports with a password (data in DIR/cluster/); `kvredis run --cluster` uses it.",
    )
    options.add_data_dir(server, DEFAULT_DATA_DIR, f"data directory (default {DEFAULT_DATA_DIR})")
    server.add_argument(
        "--cluster",
        metavar="N",
        nargs="?",
        type=options.positive,
        const=0,
        help="run the embedded cluster instead: N primaries (default 3, or as many as the "
        "cluster in the data directory has), one replica each",
    )
    server.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    server: EmbeddedServer | EmbeddedCluster
    if args.cluster is None:
        server = EmbeddedServer(args.data_dir)
    else:
        server = EmbeddedCluster(args.data_dir, args.cluster or None)
    server.start()
    try:
        shown = redact(server.url)
        if server.shared:
            say(f"an {server.kind} for {server.data_dir} is already running: {shown}")
            return 1
        print(f"kvredis server: {shown}", flush=True)
        if isinstance(server, EmbeddedCluster):
            say(
                f"{len(server.ports) // 2} primaries with a replica each, data in "
                f"{server.data_dir}; the URL with its password is in {server.url_file} "
                f"(--redis-url-file); `kvredis run --cluster` here uses it; Ctrl-C stops it"
            )
        else:
            say(f"data in {server.data_dir}; `kvredis run` here uses this server; Ctrl-C stops it")
        while True:
            signal.pause()  # Ctrl-C and SIGTERM end it, as KeyboardInterrupt
    finally:
        server.stop()
