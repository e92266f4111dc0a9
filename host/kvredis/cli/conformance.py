"""`kvredis conformance`: the built-in conformance guests against a Redis deployment."""

from __future__ import annotations

import argparse

import kvredis
from kvredis.cli import options


def add_parser(commands: options.Commands) -> None:
    conformance = commands.add_parser(
        "conformance",
        help="check a Redis deployment and this host with the conformance guests",
        description="Run the built-in conformance guests against Redis (the embedded server "
        "by default): one line per case, then `N passed, N failed`; exit status 1 on any "
        "failure. What a case could not delete (during an outage) is removed at the end "
        "of the run, or else at the start of a later one.",
    )
    options.add_connection_options(conformance)
    options.add_data_dir(
        conformance,
        None,
        "data directory of the embedded server (default: a throwaway temporary directory)",
    )
    conformance.add_argument(
        "--version",
        choices=("draft", "draft2", "all"),
        default="all",
        help="which wasi:keyvalue version's suite to run (default all)",
    )
    conformance.add_argument(
        "--junit",
        metavar="FILE",
        help="also write JUnit XML here (also when setup fails: one failed `setup` case)",
    )
    conformance.add_argument(
        "-k", metavar="SUBSTRING", dest="select", help="only cases whose name contains SUBSTRING"
    )
    conformance.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    # Through the package root at call time: the runner loads wasmtime, which no other
    # command should pay for when the parser is built.
    return kvredis.run_conformance(
        redis_url=options.redis_url(args),
        connection=options.connection_settings(args),
        data_dir=args.data_dir,
        cluster=args.cluster,
        version=args.version,
        junit=args.junit,
        select=args.select,
    )
