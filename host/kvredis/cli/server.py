"""`kvredis server`: the embedded server in the foreground, until Ctrl-C."""

from __future__ import annotations

import argparse
import signal

from kvredis import DEFAULT_DATA_DIR, EmbeddedServer
from kvredis.cli import options
from kvredis.cli.console import say


def add_parser(commands: options.Commands) -> None:
    server = commands.add_parser(
        "server",
        help="run the embedded server in the foreground and print its URL",
        description="Start the embedded Valkey server (data in --data-dir) and keep it "
        "running until Ctrl-C; `kvredis run` in the same directory uses it.",
    )
    options.add_data_dir(server, DEFAULT_DATA_DIR, f"data directory (default {DEFAULT_DATA_DIR})")
    server.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    server = EmbeddedServer(args.data_dir)
    server.start()
    try:
        if server.shared:
            say(f"a server for {server.data_dir} is already running: {server.url}")
            return 1
        print(f"kvredis server: {server.url}", flush=True)
        say(f"data in {server.data_dir}; `kvredis run` here uses this server; Ctrl-C stops it")
        while True:
            signal.pause()  # Ctrl-C and SIGTERM end it, as KeyboardInterrupt
    finally:
        server.stop()
