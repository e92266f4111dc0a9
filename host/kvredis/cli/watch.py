"""`kvredis watch`: a component that exports `wasi:keyvalue/watcher`, told of the changes of
the keys it watches until Ctrl-C or SIGTERM. Also the `--watch` flags `kvredis serve` shares."""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from kvredis import parse_watch_specs, redact_text
from kvredis.cli import hosting, options
from kvredis.cli.console import compiling_note, say
from kvredis.cli.guest_specs import guest_dirs, guest_env

if TYPE_CHECKING:
    from kvredis import Component, Delivery, Watch

EXAMPLES = """\
examples:
  kvredis watch --watch SET@counter/hits app.wasm
                                    on-set for each SET of key hits of bucket counter
  kvredis watch --watch 'SET@jobs/*,DEL@jobs/*' app.wasm
                                    every SET and DEL in bucket jobs
  kvredis watch --key-prefix '' --watch SET@session:* app.wasm
                                    raw keys, as wasmCloud's keyvalue-redis provider
  kvredis watch --redis-url redis://db:6379 --configure-notifications --watch DEL@cache/* app.wasm
                                    let kvredis turn on the server's keyspace notifications

SPEC is OP@[BUCKET/]KEY: OP is SET or DEL; KEY a Redis glob (*, ?, [a-z], \\ quotes one
character); without BUCKET/ the bucket is "" (so SET@/a/b is key a/b of bucket ""). The
guest gets one call at a time, in the order Redis told the changes; on-set gets the value
the key holds when its turn comes, and a SET of a key deleted before then is skipped. A line
on stderr says what became of each change. Changes made while Redis is unreachable are lost
(pub/sub is at-most-once); watching resumes by itself when it is back. Ctrl-C or SIGTERM
stops it.
"""


def add_parser(commands: options.Commands) -> None:
    watch = commands.add_parser(
        "watch",
        help="tell a component (wasi:keyvalue/watcher) of changes to the keys it watches",
        description="Call COMPONENT's wasi:keyvalue/watcher export (on-set, on-delete) for "
        "every change of the watched keys, from Redis keyspace notifications, until Ctrl-C.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hosting.add_host_options(watch)
    add_watch_options(watch, required=True)
    guest = watch.add_argument_group("the guest")
    hosting.add_instance_options(guest)
    watch.add_argument("component", metavar="COMPONENT", help="the component (.wasm) to run")
    watch.set_defaults(execute=execute)


def add_watch_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    group = parser.add_argument_group("watching keys")
    group.add_argument(
        "--watch",
        metavar="SPEC",
        action="append",
        default=[],
        required=required,
        help="call the component's watcher for these changes: OP@[BUCKET/]KEY, OP SET or "
        "DEL, KEY a Redis glob (repeatable, or comma-separated)",
    )
    group.add_argument(
        "--configure-notifications",
        action="store_true",
        help="turn on the keyspace notifications watching needs (CONFIG SET "
        "notify-keyspace-events) when the server has them off",
    )


def start_watching(component: Component, args: argparse.Namespace) -> Watch:
    """The watch the flags describe (the host must be started)."""
    watch = component.watch(
        args.watch,
        configure_notifications=args.configure_notifications,
        env=dict(guest_env(args.env, args.inherit_env, os.environ)),
        dirs=guest_dirs(args.dir),
        report=report,
    )
    say(f"watching {', '.join(str(spec) for spec in watch.specs)}")
    return watch


def report(delivery: Delivery) -> None:
    say(f"watch: {redact_text(str(delivery))}")


def execute(args: argparse.Namespace) -> int:
    parse_watch_specs(args.watch)  # a typo costs no component load and no server start
    host = hosting.host_from_args(args)
    component = host.load(args.component, compiling_note(args.component))
    with host, start_watching(component, args):
        say(f"{Path(args.component).name}; keyvalue on {redact_text(host.url)}; Ctrl-C stops")
        # SIGTERM arrives as a KeyboardInterrupt too (cli.entry); changes told before it
        # are still delivered as the watch closes.
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    say("stopped")
    return 0
