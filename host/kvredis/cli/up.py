"""`kvredis up`: a wadm manifest (`wadm.yaml`) run locally, kvredis standing in for the
keyvalue-redis and http-server providers, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING

import kvredis
from kvredis import ConfigError
from kvredis.cli import hosting, options, serve
from kvredis.cli.console import compiling_note, say
from kvredis.cli.guest_specs import guest_dirs, guest_env

if TYPE_CHECKING:
    # Only types here: the manifest reader, wasmtime and Redis load when `up` runs, not
    # when the parser of every command is built.
    from kvredis import Plan

EXAMPLES = """\
examples:
  kvredis up --check wadm.yaml                  what would run, without running it
  kvredis up wadm.yaml                          serve it, Redis from each link's url (the
                                                embedded server for links without one)
  kvredis up --image counter-app=build/counter.wasm --addr counter-app=127.0.0.1:0 wadm.yaml

The keyvalue-redis provider is kvredis itself: each link to it gives its component the Redis
of its `url` (target config, or a secret read from $KVREDIS_SECRET_<KEY>), keys as given
(the provider's layout; --bucket-layout for kvredis's). A link from the http-server provider
serves the component on its `address`. Anything else is refused before anything starts.
"""


def add_parser(commands: options.Commands) -> None:
    up = commands.add_parser(
        "up",
        help="run a wadm manifest locally (components, keyvalue-redis, http-server)",
        description="Run the wadm Application in MANIFEST without a lattice: its HTTP "
        "components served, its keyvalue links on Redis, until Ctrl-C or SIGTERM.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_connection_options(up)
    options.add_data_dir(
        up,
        kvredis.DEFAULT_DATA_DIR,
        "data directory of the embedded server, for links that name no Redis "
        f"(default {kvredis.DEFAULT_DATA_DIR})",
    )
    manifest = up.add_argument_group("the manifest")
    manifest.add_argument(
        "--check",
        action="store_true",
        help="only check the manifest and print what would run",
    )
    manifest.add_argument(
        "--image",
        metavar="NAME=PATH",
        action="append",
        default=[],
        help="run this file as component NAME, whatever image the manifest names (repeatable)",
    )
    manifest.add_argument(
        "--addr",
        metavar="NAME=HOST:PORT",
        action="append",
        default=[],
        help="serve component NAME here instead of its http-server link's address; port 0 "
        "picks a free one (repeatable)",
    )
    manifest.add_argument(
        "--bucket-layout",
        action="store_true",
        help=f"lay keys out as kvredis does ('{kvredis.DEFAULT_KEY_PREFIX}key') instead of "
        "as the provider does (keys as given, bucket ignored)",
    )
    manifest.add_argument(
        "--configure-notifications",
        action="store_true",
        help="turn on the keyspace notifications a watcher link needs (CONFIG SET "
        "notify-keyspace-events) when its server has them off",
    )
    guest = up.add_argument_group("the guests")
    hosting.add_instance_options(guest)
    hosting.add_log_level_option(guest)
    up.add_argument("manifest", metavar="MANIFEST", help="the wadm manifest (wadm.yaml)")
    up.set_defaults(execute=execute)


def named_values(flag: str, specs: Sequence[str]) -> dict[str, str]:
    """`NAME=VALUE` flags as a mapping; a usage error names a malformed one."""
    values: dict[str, str] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name or not value:
            raise ConfigError(f"{flag} {spec}: expected NAME=VALUE")
        if name in values:
            raise ConfigError(f"{flag} {name}: given twice")
        values[name] = value
    return values


def bound_addresses(plan: Plan) -> dict[str, list[tuple[str, int]]]:
    """Each served component's addresses, parsed; one port serves one component."""
    owners: dict[int, str] = {}
    found: dict[str, list[tuple[str, int]]] = {}
    for item in plan.components:
        for address in item.addresses:
            try:
                host, port = serve.parse_addr(address)
            except ConfigError:
                raise ConfigError(
                    f"component {item.name}: address {address}: expected HOST:PORT"
                ) from None
            owner = owners.setdefault(port, item.name)
            if port != 0 and owner != item.name:
                raise ConfigError(
                    f"component {item.name}: port {port} is {owner}'s already; one port "
                    "serves one component"
                )
            found.setdefault(item.name, []).append((host, port))
    return found


def execute(args: argparse.Namespace) -> int:
    try:
        plan = kvredis.plan_manifest(
            kvredis.read_manifest(args.manifest),
            images=named_values("--image", args.image),
            addresses=named_values("--addr", args.addr),
            environ=os.environ,
            bucket_layout=args.bucket_layout,
        )
    except kvredis.PlanError as error:
        for problem in error.problems:
            say(problem)
        return options.EXIT_USAGE
    addresses = bound_addresses(plan)
    if args.check:
        print("\n".join(plan.describe()), flush=True)
        return 0
    deployment = kvredis.Deployment(
        plan,
        default_url=options.redis_url(args),
        cluster=args.cluster,
        data_dir=args.data_dir,
        connection=options.connection_settings(args),
        guest=kvredis.GuestOptions(
            timeout=args.timeout,
            max_memory=args.max_memory,
            env=dict(guest_env(args.env, args.inherit_env, os.environ)),
            dirs=guest_dirs(args.dir),
            log_level=args.log_level,
        ),
        configure_notifications=args.configure_notifications,
        access_log=say,
        on_compile=compiling_note,
    )
    with deployment, contextlib.ExitStack() as listening:
        ports: dict[int, str] = {}
        sockets = []
        for name, bound in addresses.items():
            for host, port in bound:
                sock = listening.enter_context(serve.listen(host, port))
                sockets.append(sock)
                ports[sock.getsockname()[1]] = name
                print(f"kvredis up: {name} {serve.base_url(sock)}", flush=True)
        redis = ", ".join(sorted({host.url for host in deployment.hosts}))
        count = f"{len(plan.components)} component{'' if len(plan.components) == 1 else 's'}"
        say(f"up: {plan.application}, {count}; keyvalue on {redis}")
        if sockets:
            serve.serve_until_stopped(deployment.router(ports), sockets, args.timeout)
        else:
            _wait_for_stop()
    say("stopped")
    return 0


def _wait_for_stop() -> None:
    """Until Ctrl-C or SIGTERM (which the entry turns into KeyboardInterrupt): watchers
    work on their own threads meanwhile."""
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            signal.pause()
