"""`kvredis inspect`: what a component imports and exports, and whether `run` can run it."""

from __future__ import annotations

import argparse

from kvredis import Host
from kvredis.cli import options
from kvredis.cli.console import compiling_note


def add_parser(commands: options.Commands) -> None:
    inspect = commands.add_parser(
        "inspect",
        help="show a component's imports, exports and keyvalue versions",
        description="List what COMPONENT imports and exports, which wasi:keyvalue version(s) "
        "it uses, and whether `kvredis run` can satisfy it (exit status 1 when not). "
        "Exports a build toolchain adds for itself are marked, not spelled out.",
    )
    inspect.add_argument("component", metavar="COMPONENT")
    inspect.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    info = Host.inspect(args.component, compiling_note(args.component))
    print(f"component: {args.component}")
    print(f"wasi:keyvalue: {', '.join(info.keyvalue_packages) or 'none'}")
    print("imports:")
    for name in info.imports:
        mark = "   <- not provided by kvredis" if name in info.missing else ""
        print(f"  {name}{mark}")
    print("exports:")
    for sig in info.public_functions:
        print(f"  {sig}")
    for sig in info.internal_functions:
        print(f"  {sig.name}(...)   <- added by {sig.internal_to} for its own use")
    if info.missing:
        print(f"kvredis run: cannot run it: missing {', '.join(info.missing)}")
        return 1
    if info.serves_http:
        print("kvredis serve: can serve it (it exports wasi:http/incoming-handler)")
    if info.watches:
        command = "kvredis serve --watch" if info.serves_http else "kvredis watch"
        print(f"{command}: can tell it of key changes (it exports wasi:keyvalue/watcher)")
    if info.cli_run_export or not (info.serves_http or info.watches):
        entry = "wasi:cli/run" if info.cli_run_export else "no wasi:cli/run; use --invoke"
        print(f"kvredis run: can run it ({entry})")
    return 0
