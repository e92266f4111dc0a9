"""The `kvredis` command: a thin face over `kvredis.Host`.

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
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from kvredis.backend.settings import ConnectionSettings
from kvredis.backend.urls import redact_text
from kvredis.embedded import DEFAULT_DATA_DIR, EmbeddedServer
from kvredis.errors import (
    ComponentError,
    ConfigError,
    GuestTrap,
    InvalidArguments,
    KvredisError,
)
from kvredis.host import Host, parse_size
from kvredis.layout import DEFAULT_TEMPLATE
from kvredis.runtime import values
from kvredis.runtime.deadline import run_with_deadline
from kvredis.runtime.inspect import find_export
from kvredis.runtime.instance import WasiOptions

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE

RUN_EXAMPLES = """\
examples:
  kvredis run app.wasm                          embedded server, data in ./.kvredis/
  kvredis run --data-dir /tmp/kv app.wasm       embedded server, data in /tmp/kv
  kvredis run --redis-url redis://:pw@db:6379/2 app.wasm --verbose
                                                words after COMPONENT go to the guest
  REDIS_URL=unix:///run/redis.sock kvredis run app.wasm
  kvredis run --redis-url rediss://db:6380 --tls-ca-cert ca.pem app.wasm
  kvredis run --reconnect-retries 5 --reconnect-max-delay 1000 --connection-timeout 500 \\
              --response-timeout 2000 --op-timeout 5000 app.wasm
  kvredis run --bucket counter --bucket cache=redis://cache:6379 app.wasm
                                                only these buckets; cache on another server
  kvredis run --bucket sessions=redis://db:6379/3 app.wasm   a bucket in database 3
  kvredis run --read-only config --key-prefix 'myapp:{bucket}:' app.wasm
  kvredis run --key-prefix '' app.wasm          raw keys, as wasmCloud's keyvalue-redis does
  kvredis run --max-value-size 1M app.wasm
  kvredis run --invoke 'bump("b", "k", 5)' app.wasm
  kvredis run --invoke 'ops#call("b", "get", ["k"])' app.wasm   a function of an interface
  kvredis run --env MODE=dev --env HOME --dir ./data::/data app.wasm
  kvredis run --inherit-env --dir ./data --timeout 30 --max-memory 256M app.wasm

--invoke prints the result as one line of JSON: records as objects, tuples and lists as
arrays, list<u8> as an array of numbers, none as null, enums as strings, flags as arrays of
names, variants as {"tag": ..., "value": ...}; an err result prints {"err": ...} and exits
with status 1. Name functions of exported interfaces `iface#fn` or `ns:pkg/iface#fn`. A
list<u8> argument is an array of numbers or a string (its UTF-8 bytes).

exit status: the guest's (0 for ok, 1 for err); 1 for a trap or an err from --invoke; 2 for
a usage or setup error (bad flag, missing file, unreachable Redis); 130 on Ctrl-C; 141 when
the reader of the output went away (`| head`).
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def _milliseconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected milliseconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected milliseconds above zero, got {text}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("expected seconds above zero")
    return value


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "Redis connection",
        "the meanings of wasmCloud keyvalue-redis provider settings (see the README table)",
    )
    group.add_argument(
        "--redis-url",
        metavar="URL",
        # An empty REDIS_URL is taken as unset, as shells and CI files often leave it.
        default=os.environ.get("REDIS_URL") or None,
        help="redis://, rediss:// or unix:// URL (default: $REDIS_URL, else the embedded server)",
    )
    d = ConnectionSettings()
    group.add_argument(
        "--reconnect-retries",
        metavar="N",
        type=_positive_int,
        default=d.reconnect_retries,
        help=f"reconnect attempts per operation (default {d.reconnect_retries}; "
        "BACKEND_RECONNECT_NUM_RETRIES)",
    )
    group.add_argument(
        "--reconnect-max-delay",
        metavar="MS",
        type=_positive_int,
        default=d.reconnect_max_delay_ms,
        help="longest wait between reconnect attempts (default "
        f"{d.reconnect_max_delay_ms}; BACKEND_RECONNECT_MAX_DELAY_MS)",
    )
    group.add_argument(
        "--connection-timeout",
        metavar="MS",
        type=_milliseconds,
        default=d.connection_timeout_ms,
        help=f"timeout to establish a connection (default "
        f"{d.connection_timeout_ms}; BACKEND_CONNECTION_TIMEOUT_MS)",
    )
    group.add_argument(
        "--response-timeout",
        metavar="MS",
        type=_milliseconds,
        default=d.response_timeout_ms,
        help=f"timeout for one reply (default {d.response_timeout_ms}; "
        "BACKEND_RESPONSE_TIMEOUT_MS)",
    )
    group.add_argument(
        "--op-timeout",
        metavar="MS",
        type=_milliseconds,
        default=d.op_budget_ms,
        help="budget for one keyvalue operation, retries included; past it "
        f"the guest gets an `other` error (default {d.op_budget_ms})",
    )
    group.add_argument(
        "--tls-ca-cert", metavar="FILE", help="CA certificate to verify a rediss:// server with"
    )
    group.add_argument(
        "--data-dir",
        metavar="DIR",
        default=DEFAULT_DATA_DIR,
        help=f"data directory of the embedded server (default {DEFAULT_DATA_DIR})",
    )


def _connection_settings(args: argparse.Namespace) -> ConnectionSettings:
    if args.tls_ca_cert and not Path(args.tls_ca_cert).is_file():
        raise ConfigError(f"--tls-ca-cert {args.tls_ca_cert}: no such file")
    return ConnectionSettings(
        reconnect_retries=args.reconnect_retries,
        reconnect_max_delay_ms=args.reconnect_max_delay,
        connection_timeout_ms=args.connection_timeout,
        response_timeout_ms=args.response_timeout,
        op_budget_ms=args.op_timeout,
        tls_ca_cert=args.tls_ca_cert,
    )


def _add_verbose(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="log what happens, with full error details, on stderr",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kvredis",
        description="Run WebAssembly components that import wasi:keyvalue on a real Redis.",
    )
    _add_verbose(parser, False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="run a component (its wasi:cli/run, or --invoke a function)",
        description="Instantiate COMPONENT with WASI 0.2 and wasi:keyvalue (0.2.0-draft and "
        "0.2.0-draft2) on Redis, then call its wasi:cli/run export (or --invoke).",
        epilog=RUN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_connection_options(run)
    kv = run.add_argument_group("buckets and keys")
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
        default=DEFAULT_TEMPLATE,
        help=f"Redis key prefix; {{bucket}} is the encoded bucket name (default "
        f"'{DEFAULT_TEMPLATE}'); '' keeps keys as given, ignoring the bucket",
    )
    kv.add_argument(
        "--max-value-size",
        metavar="SIZE",
        type=_size,
        default="64M",
        help="largest value a guest may store or read (default 64M)",
    )
    guest = run.add_argument_group("the guest")
    guest.add_argument(
        "--invoke",
        metavar="'NAME(ARGS)'",
        help="call this exported function instead of wasi:cli/run; ARGS are "
        "JSON values separated by commas",
    )
    guest.add_argument(
        "--env",
        metavar="K=V",
        action="append",
        default=[],
        help="set an environment variable for the guest (repeatable; K alone "
        "passes the host's value)",
    )
    guest.add_argument(
        "--inherit-env", action="store_true", help="give the guest the whole host environment"
    )
    guest.add_argument(
        "--dir",
        metavar="HOST[::GUEST]",
        action="append",
        default=[],
        help="give the guest a host directory (repeatable)",
    )
    guest.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_seconds,
        help="stop the guest when a call runs longer than this",
    )
    guest.add_argument(
        "--max-memory",
        metavar="SIZE",
        type=_size,
        help="cap the guest's linear memory (e.g. 64M, 1G)",
    )
    run.add_argument("component", metavar="COMPONENT", help="the component (.wasm) to run")
    guest_args = run.add_argument(
        "args", metavar="ARGS", nargs=argparse.REMAINDER, help="arguments passed to the guest"
    )
    # argparse counts a REMAINDER positional as required in its "required" message.
    guest_args.required = False

    server = sub.add_parser(
        "server",
        help="run the embedded server in the foreground and print its URL",
        description="Start the embedded Valkey server (data in --data-dir) and keep it "
        "running until Ctrl-C; `kvredis run` in the same directory uses it.",
    )
    server.add_argument(
        "--data-dir",
        metavar="DIR",
        default=DEFAULT_DATA_DIR,
        help=f"data directory (default {DEFAULT_DATA_DIR})",
    )

    inspect = sub.add_parser(
        "inspect",
        help="show a component's imports, exports and keyvalue versions",
        description="List what COMPONENT imports and exports, which wasi:keyvalue version(s) "
        "it uses, and whether `kvredis run` can satisfy it (exit status 1 when not).",
    )
    inspect.add_argument("component", metavar="COMPONENT")

    conformance = sub.add_parser(
        "conformance",
        help="check a Redis deployment and this host with the conformance guests",
        description="Run the built-in conformance guests against Redis (the embedded server "
        "by default): one line per case, then `N passed, N failed`; exit status 1 on any "
        "failure.",
    )
    _add_connection_options(conformance)
    conformance.add_argument(
        "--version",
        choices=("draft", "draft2", "all"),
        default="all",
        help="which wasi:keyvalue version's suite to run (default all)",
    )
    conformance.add_argument("--junit", metavar="FILE", help="also write JUnit XML here")
    conformance.add_argument(
        "-k", metavar="SUBSTRING", dest="select", help="only cases whose name contains SUBSTRING"
    )
    for command in (run, server, inspect, conformance):
        # `kvredis run -v ...` as well as `kvredis -v run ...`; SUPPRESS keeps a subcommand
        # from resetting a -v given before it.
        _add_verbose(command, argparse.SUPPRESS)
    return parser


# --- helpers -------------------------------------------------------------------------------


def _say(message: str) -> None:
    print(f"kvredis: {message}", file=sys.stderr, flush=True)


def _compiling_note(path: str) -> Callable[[], None] | None:
    if not sys.stderr.isatty():
        return None
    return lambda: _say(f"compiling {Path(path).name} (cached for next time)...")


def _buckets(specs: Sequence[str]) -> dict[str, str | None] | None:
    if not specs:
        return None
    routes: dict[str, str | None] = {}
    for spec in specs:
        name, sep, url = spec.partition("=")
        if sep and not url:
            raise ConfigError(f"--bucket {spec!r}: empty URL after '='")
        routes[name] = url if sep else None
    return routes


def _env(specs: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for spec in specs:
        key, sep, value = spec.partition("=")
        if not key:
            raise ConfigError(f"--env {spec!r}: expected K=V")
        if not sep:
            if key not in os.environ:
                raise ConfigError(f"--env {key}: not set in this environment")
            value = os.environ[key]
        pairs.append((key, value))
    return pairs


def _dirs(specs: Sequence[str]) -> list[tuple[str, str]]:
    dirs = []
    for spec in specs:
        host_path, sep, guest_path = spec.partition("::")
        if not host_path or (sep and not guest_path):
            raise ConfigError(f"--dir {spec!r}: expected HOST or HOST::GUEST")
        if not Path(host_path).is_dir():
            raise ConfigError(f"--dir {spec!r}: {host_path} is not a directory")
        dirs.append((host_path, guest_path if sep else host_path))
    return dirs


# --- commands ------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    host = Host(
        args.redis_url,
        buckets=_buckets(args.bucket),
        read_only=args.read_only,
        key_prefix=args.key_prefix,
        timeout=args.timeout,
        max_memory=args.max_memory,
        max_value_size=args.max_value_size,
        connection=_connection_settings(args),
        data_dir=args.data_dir,
    )
    wasi = WasiOptions(
        program=Path(args.component).name,
        args=list(args.args),
        env=_env(args.env),
        inherit_env=args.inherit_env,
        dirs=_dirs(args.dir),
        inherit_stdin=True,
    )
    invoke = values.parse_invoke(args.invoke) if args.invoke else None
    component = host.load(args.component, _compiling_note(args.component))
    # Settle what to call before any server starts, so a typo costs no server start.
    if invoke is not None:
        find_export(component.info, invoke[0])
    elif component.info.cli_run_export is None:
        listing = ", ".join(sig.name for sig in component.info.public_functions) or "none"
        raise ConfigError(
            f"{args.component} has no wasi:cli/run export to run; call one of its functions "
            f"with --invoke (its exports: {listing})"
        )
    with host:
        if args.verbose:
            _say(f"redis: {host.url}; keyvalue: {', '.join(component.info.keyvalue_packages)}")

        def work() -> int:
            instance = component.instantiate(wasi)
            if invoke is None:
                return instance.run()
            name, call_args = invoke
            try:
                result = instance.call(name, *call_args)
            except ComponentError as err:
                print(values.dumps({"err": err.value}), flush=True)
                return 1
            print(values.dumps(result), flush=True)
            return 0

        return run_with_deadline(work, args.timeout, component.name)


def cmd_server(args: argparse.Namespace) -> int:
    server = EmbeddedServer(args.data_dir)
    server.start()
    try:
        if server.shared:
            _say(f"a server for {server.data_dir} is already running: {server.url}")
            return 1
        print(f"kvredis server: {server.url}", flush=True)
        _say(f"data in {server.data_dir}; `kvredis run` here uses this server; Ctrl-C stops it")
        while True:
            time.sleep(3600)
    finally:
        server.stop()


def cmd_inspect(args: argparse.Namespace) -> int:
    from kvredis.runtime.engine import load_component  # noqa: PLC0415
    from kvredis.runtime.inspect import describe  # noqa: PLC0415

    info = describe(load_component(args.component, _compiling_note(args.component)))
    print(f"component: {args.component}")
    versions = ", ".join(info.keyvalue_packages) or "none"
    print(f"wasi:keyvalue: {versions}")
    print("imports:")
    for name in info.imports:
        mark = "" if name not in info.missing else "   <- not provided by kvredis"
        print(f"  {name}{mark}")
    print("exports:")
    for sig in info.public_functions:
        print(f"  {sig}")
    for sig in info.internal_functions:
        print(f"  {sig.name}(...)   <- added by {sig.internal_to} for its own use")
    if info.missing:
        print(f"kvredis run: cannot run it: missing {', '.join(info.missing)}")
        return 1
    entry = "wasi:cli/run" if info.cli_run_export else "no wasi:cli/run; use --invoke"
    print(f"kvredis run: can run it ({entry})")
    return 0


def cmd_conformance(args: argparse.Namespace) -> int:
    from kvredis.conformance import run_conformance  # noqa: PLC0415

    return run_conformance(
        redis_url=args.redis_url,
        connection=_connection_settings(args),
        data_dir=args.data_dir,
        version=args.version,
        junit=args.junit,
        select=args.select,
    )


def _terminate(_signum: int, _frame: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so the embedded server is stopped on the way out.
    raise KeyboardInterrupt


COMMANDS = {
    "run": cmd_run,
    "server": cmd_server,
    "inspect": cmd_inspect,
    "conformance": cmd_conformance,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="kvredis: %(message)s",
    )
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Nobody reads our output any more: nothing to say, and nothing left to flush at exit.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (GuestTrap, ComponentError) as exc:
        _say(redact_text(str(exc)))
        return 1
    except MemoryError:
        # Python itself could not allocate (under `ulimit -v`, say): the host's shortage, as
        # HostResourceError reports wasmtime's, not a bug.
        _say("the host ran out of memory or address space (Python could not allocate)")
        return EXIT_USAGE
    except InvalidArguments as exc:
        _say(redact_text(str(exc)))
        return EXIT_USAGE
    except KvredisError as exc:
        _say(redact_text(str(exc)))
        return EXIT_USAGE
    except Exception as exc:  # a bug: one line for the user, the traceback with --verbose
        logging.getLogger("kvredis").debug("unexpected error", exc_info=True)
        _say(
            f"internal error: {type(exc).__name__}: {redact_text(str(exc))} "
            "(run with --verbose for details)"
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
