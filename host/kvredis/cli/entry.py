"""The `kvredis` command's entry: the parser of every command, and the exit policy.

Exit statuses: the guest's own status for `run` (0 for ok, 1 for err, or what it passed to
exit); 1 when the guest traps, times out or runs out of memory, or an `--invoke` returns err;
2 for a usage or setup error (bad flags, missing file, unreachable Redis...); 130 on Ctrl-C;
141 when whoever reads the output stops reading (`kvredis run ... | head`), as if by SIGPIPE.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

from kvredis import ComponentError, GuestTrap, KvredisError, __version__, redact_text
from kvredis.cli import conformance, inspect, options, run, serve, server, up, watch
from kvredis.cli.console import say

EXIT_FAILED = 1
EXIT_USAGE = options.EXIT_USAGE
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
COMMANDS = (run, serve, watch, up, server, inspect, conformance)


def build_parser() -> options.CliParser:
    parser = options.CliParser(
        prog="kvredis",
        description="Run WebAssembly components that import wasi:keyvalue on a real Redis.",
    )
    options.add_verbose(parser, False)
    parser.add_argument(
        "--version",
        action=_PrintVersion,
        help="print kvredis's version and the wasmtime it runs on, then exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(commands)
    for command_parser in commands.choices.values():
        # `kvredis run -v ...` as well as `kvredis -v run ...`; SUPPRESS keeps a subcommand
        # from resetting a -v given before it.
        options.add_verbose(command_parser, argparse.SUPPRESS)
        command_parser.set_defaults(command_parser=command_parser)
    return parser


class _PrintVersion(argparse.Action):
    """`--version`, whose text is looked up only when asked for: reading package metadata
    costs some 30 ms that every other command would pay."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(version_text())
        parser.exit()


def version_text() -> str:
    """`kvredis 0.1.0 (wasmtime 50.0.1)`: what a bug report needs, read without loading it."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        engine = f"wasmtime {version('wasmtime')}"
    except PackageNotFoundError:
        engine = "wasmtime not installed"
    return f"kvredis {__version__} ({engine})"


def parse(parser: options.CliParser, argv: Sequence[str] | None) -> argparse.Namespace:
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        command_parser: options.CliParser = args.command_parser
        command_parser.error(options.unrecognized(unknown, parser.flags() + command_parser.flags()))
    return args


def exit_status(error: BaseException) -> int:
    """The exit policy for what a command raised."""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, BrokenPipeError):
        return EXIT_BROKEN_PIPE
    if isinstance(error, GuestTrap | ComponentError):
        return EXIT_FAILED  # the guest failed, not the way it was started
    if isinstance(error, KvredisError | MemoryError):
        return EXIT_USAGE
    return EXIT_FAILED  # a bug


def report(error: BaseException) -> None:
    """One line on stderr (none for a reader that went away), never a traceback."""
    if isinstance(error, KeyboardInterrupt):
        say("interrupted")
    elif isinstance(error, BrokenPipeError):
        # Nobody reads our output any more: nothing to say, and nothing left to flush at exit.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    elif isinstance(error, KvredisError):
        say(redact_text(str(error)))
    elif isinstance(error, MemoryError):
        # Python itself could not allocate (under `ulimit -v`, say): the host's shortage, as
        # HostResourceError reports wasmtime's, not a bug.
        say("the host ran out of memory or address space (Python could not allocate)")
    else:
        logging.getLogger("kvredis").debug("unexpected error", exc_info=error)
        say(
            f"internal error: {type(error).__name__}: {redact_text(str(error))} "
            "(run with --verbose for details)"
        )


def _terminate(_signum: int, _frame: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so the embedded server is stopped on the way out.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="kvredis: %(message)s",
    )
    signal.signal(signal.SIGTERM, _terminate)
    try:
        status: int = args.execute(args)
    except (Exception, KeyboardInterrupt) as error:
        report(error)
        return exit_status(error)
    return status
