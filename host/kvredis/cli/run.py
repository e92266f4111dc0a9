"""`kvredis run`: instantiate a component on Redis and call its wasi:cli/run (or --invoke)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from kvredis import (
    ComponentError,
    ConfigError,
    WasiOptions,
    parse_invoke,
    run_with_deadline,
    to_json,
)
from kvredis.cli import hosting, options
from kvredis.cli.console import compiling_note, say
from kvredis.cli.guest_specs import guest_dirs, guest_env

EXAMPLES = """\
examples:
  kvredis run app.wasm                          embedded server, data in ./.kvredis/
  kvredis run --redis-url-file ~/.redis-url app.wasm
                                                the URL (password included) from a file only
                                                you can read, so it never shows in `ps`
  REDIS_URL=redis://:pw@db:6379/2 kvredis run app.wasm
                                                the same from the environment
  kvredis run --redis-url unix:///run/redis.sock app.wasm --verbose
                                                words after COMPONENT go to the guest
  kvredis run --data-dir /tmp/kv app.wasm       embedded server, data in /tmp/kv
  kvredis run --cluster app.wasm                embedded cluster, data in ./.kvredis/cluster/
  kvredis run --redis-url 'redis://db1:6379?addr=db2:6379' --wait-replicas 1 app.wasm
                                                a Redis Cluster (found out by asking db1; more
                                                seed nodes as ?addr=), each write on a replica
  kvredis run --redis-url rediss://db:6380 --tls-ca-cert ca.pem app.wasm
  kvredis run --reconnect-retries 5 --reconnect-max-delay 1000 --connection-timeout 500 \\
              --response-timeout 2000 --op-timeout 5000 app.wasm
  kvredis run --bucket counter --bucket cache=redis://cache:6379 app.wasm
                                                only these buckets; cache on another server
  kvredis run --bucket sessions=redis://db:6379/3 app.wasm   a bucket in database 3
  kvredis run --read-only config --key-prefix 'myapp:{bucket}:' app.wasm
  kvredis run --key-prefix '' app.wasm          raw keys, as wasmCloud's keyvalue-redis does
  kvredis run --key-prefix '{{bucket}}:' app.wasm
                                                each bucket on one cluster slot ({b}:k)
  kvredis run --max-value-size 1M app.wasm
  kvredis run --invoke 'bump("b", "k", 5)' app.wasm
  kvredis run --invoke 'ops#call("b", "get", ["k"])' app.wasm   a function of an interface
  kvredis run --env MODE=dev --env HOME --dir ./data::/data app.wasm
  kvredis run --inherit-env --dir ./data --timeout 30 --max-memory 256M app.wasm
                                                the host's environment, except REDIS_URL and
                                                KVREDIS_* (pass those with --env)
  kvredis run --config-file config.yaml --config greeting=hi --log-level debug app.wasm
                                                wasi:config values (flags over the file), and
                                                wasi:logging lines from debug up on stderr
  kvredis run --link cache=redis://cache:6379 --link replica app.wasm
                                                links the guest picks with wasmcloud:bus
                                                set-link-name; `replica` is the default server

--invoke prints the result as one line of JSON: records as objects, tuples and lists as
arrays, list<u8> as an array of numbers, none as null, enums as strings, flags as arrays of
names, variants as {"tag": ..., "value": ...}; an err result prints {"err": ...} and exits
with status 1. Name functions of exported interfaces `iface#fn` or `ns:pkg/iface#fn`. A
list<u8> argument is an array of numbers or a string (its UTF-8 bytes).

exit status: the guest's (0 for ok, 1 for err); 1 for a trap or an err from --invoke; 2 for
a usage or setup error (bad flag, missing file, unreachable Redis); 130 on Ctrl-C; 141 when
the reader of the output went away (`| head`).
"""


def add_parser(commands: options.Commands) -> None:
    run = commands.add_parser(
        "run",
        help="run a component (its wasi:cli/run, or --invoke a function)",
        description="Instantiate COMPONENT with WASI 0.2 and wasi:keyvalue (0.2.0-draft and "
        "0.2.0-draft2) on Redis, then call its wasi:cli/run export (or --invoke).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hosting.add_host_options(run)
    guest = run.add_argument_group("the guest")
    guest.add_argument(
        "--invoke",
        metavar="'NAME(ARGS)'",
        help="call this exported function instead of wasi:cli/run; ARGS are "
        "JSON values separated by commas",
    )
    hosting.add_instance_options(guest)
    run.add_argument("component", metavar="COMPONENT", help="the component (.wasm) to run")
    guest_args = run.add_argument(
        "args", metavar="ARGS", nargs=argparse.REMAINDER, help="arguments passed to the guest"
    )
    # argparse counts a REMAINDER positional as required in its "required" message.
    guest_args.required = False
    run.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    host = hosting.host_from_args(args)
    wasi = WasiOptions(
        program=Path(args.component).name,
        args=list(args.args),
        env=guest_env(args.env, args.inherit_env, os.environ),
        dirs=guest_dirs(args.dir),
        inherit_stdin=True,
    )
    invoke = parse_invoke(args.invoke) if args.invoke else None
    component = host.load(args.component, compiling_note(args.component))
    # Settle what to call before any server starts, so a typo costs no server start.
    if invoke is not None:
        component.find_export(invoke[0])
    elif component.info.cli_run_export is None:
        if component.info.serves_http:
            raise ConfigError(
                f"{args.component} is an HTTP component (it exports "
                "wasi:http/incoming-handler): serve it with `kvredis serve`"
            )
        listing = ", ".join(sig.name for sig in component.info.public_functions) or "none"
        raise ConfigError(
            f"{args.component} has no wasi:cli/run export to run; call one of its functions "
            f"with --invoke (its exports: {listing})"
        )
    with host:
        if args.verbose:
            say(f"redis: {host.url}; keyvalue: {', '.join(component.info.keyvalue_packages)}")

        def work() -> int:
            instance = component.instantiate(wasi)
            if invoke is None:
                return instance.run()
            name, call_args = invoke
            try:
                result = instance.call(name, *call_args)
            except ComponentError as err:
                _print_json({"err": err.value})
                return 1
            _print_json(result)
            return 0

        return run_with_deadline(work, args.timeout, component.name)


def _print_json(value: Any) -> None:
    print(json.dumps(to_json(value), ensure_ascii=False), flush=True)
