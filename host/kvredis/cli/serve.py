"""`kvredis serve`: an HTTP component (one exporting `wasi:http/incoming-handler`) on
uvicorn, a fresh instance per request over one compiled component."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import kvredis
from kvredis import (
    MAX_CONCURRENCY,
    Component,
    ComponentLoadError,
    ConfigError,
    Host,
    KvredisError,
    default_concurrency,
    redact_text,
)
from kvredis.cli import hosting, options, watch
from kvredis.cli.console import compiling_note, say
from kvredis.cli.guest_specs import guest_dirs, guest_env

if TYPE_CHECKING:
    # Only types here: the serving code loads when a component is served, not when the
    # parser of every command is built.
    from kvredis import AsgiApp, HttpHandler

DEFAULT_ADDR = "127.0.0.1:8000"
RELOAD_POLL_S = 0.5

EXAMPLES = """\
examples:
  kvredis serve app.wasm                        http://127.0.0.1:8000, embedded server
  kvredis serve --addr 0.0.0.0:8080 --redis-url-file ~/.redis-url app.wasm
  kvredis serve --reload --timeout 10 --max-body-size 1M app.wasm
                                                a new build of app.wasm is served as soon
                                                as it is written
  kvredis serve --config-file config.json --link cache=redis://cache:6379 app.wasm
                                                wasi:config values and a named keyvalue link

Each request gets a fresh instance; a trap or a guest that sets no response answers 500, a
request over --timeout 504, a body over --max-body-size 413. Ctrl-C or SIGTERM stops taking
requests, lets those in flight finish (cut at --timeout) and stops the embedded server.
"""


def add_parser(commands: options.Commands) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve an HTTP component (wasi:http/incoming-handler) on a port",
        description="Serve COMPONENT, which exports wasi:http/incoming-handler, over HTTP: a "
        "fresh instance per request, with wasi:keyvalue on Redis.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hosting.add_host_options(serve)
    http = serve.add_argument_group("serving")
    http.add_argument(
        "--addr",
        metavar="HOST:PORT",
        default=DEFAULT_ADDR,
        help=f"where to listen (default {DEFAULT_ADDR}; port 0 picks a free one)",
    )
    http.add_argument(
        "--workers",
        metavar="N",
        type=_positive,
        default=1,
        help="serve from N processes sharing the port, each running up to --concurrency "
        "guests (default 1; one process runs its host code on one core at a time)",
    )
    http.add_argument(
        "--concurrency",
        metavar="N",
        type=_concurrency,
        default=default_concurrency(),
        help=f"guests running at once, at most {MAX_CONCURRENCY}; more requests wait their "
        "turn (default: 2 per core, %(default)s here)",
    )
    http.add_argument(
        "--max-body-size",
        metavar="SIZE",
        type=options.size,
        help="answer 413 to a request body larger than this (e.g. 10M; default: no limit)",
    )
    http.add_argument(
        "--reload",
        action="store_true",
        help="serve a new build when COMPONENT changes (a failed build keeps the old one)",
    )
    watch.add_watch_options(serve, required=False)
    guest = serve.add_argument_group("the guest")
    hosting.add_instance_options(guest)
    serve.add_argument("component", metavar="COMPONENT", help="the component (.wasm) to serve")
    serve.set_defaults(execute=execute)


def _positive(text: str) -> int:
    value = options.whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError("expected a number >= 1")
    return value


def _concurrency(text: str) -> int:
    value = _positive(text)
    if value > MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to {MAX_CONCURRENCY}")
    return value


def parse_addr(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:PORT` for IPv6) as uvicorn takes it."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"--addr {text}: expected HOST:PORT, e.g. {DEFAULT_ADDR}")
    return host.strip("[]"), int(port)


def listen(host: str, port: int, shared: bool = False) -> socket.socket:
    """A listening socket; `shared`: one of several on the same address (SO_REUSEPORT), among
    which the kernel spreads new connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Named TCP so that accepted connections are too: asyncio then sets TCP_NODELAY on them,
    # without which a keep-alive client waits out a delayed ACK (40 ms) on every response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"--addr {host}:{port}: cannot listen: {exc.strerror or exc}") from None
    sock.listen(2048)
    return sock


def _load(host: Host, args: argparse.Namespace) -> tuple[Component, AsgiApp]:
    component = host.load(args.component, compiling_note(args.component))
    return component, kvredis.AsgiApp(
        _handler(component, args),
        concurrency=args.concurrency,
        max_body_size=args.max_body_size,
        access_log=say,
    )


def _handler(component: Component, args: argparse.Namespace) -> HttpHandler:
    try:
        return kvredis.http_handler(
            component,
            dict(guest_env(args.env, args.inherit_env, os.environ)),
            guest_dirs(args.dir),
        )
    except ComponentLoadError as exc:
        raise ConfigError(
            f"{args.component}: cannot serve it: {exc}; `kvredis run` runs a command"
        ) from None


def base_url(sock: socket.socket) -> str:
    """`http://HOST:PORT/` of a listening socket (the port it got when asked for 0)."""
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return f"http://{shown}:{bound_port}/"


def serve_until_stopped(
    app: Callable[..., Awaitable[None]],
    sockets: list[socket.socket],
    graceful_timeout: float | None,
) -> None:
    """Serve `app` (ASGI) on `sockets` with uvicorn until Ctrl-C or SIGTERM; requests in
    flight get `graceful_timeout` seconds to finish."""
    import uvicorn  # noqa: PLC0415 - only the serving commands need a web server

    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="on",
        # Typed int, but uvicorn waits that many seconds with asyncio, fractions included.
        timeout_graceful_shutdown=graceful_timeout,  # type: ignore[arg-type]
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=sockets)


def execute(args: argparse.Namespace) -> int:
    host = hosting.host_from_args(args)
    addr = parse_addr(args.addr)
    if args.watch:
        kvredis.parse_watch_specs(args.watch)  # a typo costs no server start
    # A component that serves no HTTP fails before any server starts.
    component, app = _load(host, args)
    status = 0
    with host, listen(*addr, shared=args.workers > 1) as sock, _watching(component, args):
        print(f"kvredis serve: {base_url(sock)}", flush=True)
        say(f"serving {Path(args.component).name}; keyvalue on {redact_text(host.url)}")
        if args.workers == 1:
            _serve(host, args, app, sock)
        else:
            app.close()  # the workers load their own (from the compiled-code cache)
            say(f"{args.workers} worker processes, up to {args.concurrency} guests each")
            # The parser that made `args` stays here: it cannot be sent to another process.
            # Watching stays here too: one watcher for the whole server.
            settings = argparse.Namespace(**{**vars(args), "command_parser": None, "watch": []})
            status = kvredis.run_workers(
                args.workers, _worker, (settings, host.redis_url, sock), args.timeout, say
            )
    say("stopped")
    return status


def _worker(number: int, args: argparse.Namespace, redis_url: str, sock: socket.socket) -> None:
    """Worker `number` of `--workers`: the same serving, on the supervisor's server. The first
    accepts on the supervisor's socket (connections made before the others are up wait there);
    each other one on a socket of its own at the same address, so that the kernel spreads
    connections among them (on one shared socket, whichever worker woke first would take all
    the connections waiting)."""
    args.redis_url, args.redis_url_file, args.cluster = redis_url, None, False
    try:
        address, port = sock.getsockname()[:2]
        own = sock if number == 1 else listen(address, port, shared=True)
        host = hosting.host_from_args(args)
        with host, own:
            _serve(host, args, _load(host, args)[1], own)
    except KvredisError as exc:
        say(f"worker {number}: {redact_text(str(exc))}")
        raise SystemExit(1) from None


def _serve(host: Host, args: argparse.Namespace, app: AsgiApp, sock: socket.socket) -> None:
    """Serve `app` on `sock` until Ctrl-C or SIGTERM, then let requests in flight finish."""
    stop_watching = threading.Event()
    if args.reload:
        threading.Thread(
            target=_watch,
            args=(host, args, app, stop_watching),
            name="kvredis-reload",
            daemon=True,
        ).start()
    try:
        serve_until_stopped(app, [sock], args.timeout)
    finally:
        stop_watching.set()
        app.close()


def _watching(
    component: Component, args: argparse.Namespace
) -> contextlib.AbstractContextManager[object]:
    """With --watch, the component's watcher told of changes while it serves (the build it
    started with, even under --reload)."""
    if not args.watch:
        return contextlib.nullcontext()
    return watch.start_watching(component, args)


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size


def _watch(host: Host, args: argparse.Namespace, app: AsgiApp, stop: threading.Event) -> None:
    """Swap in a new build when the file changes; a build that fails to load is reported and
    the previous one keeps serving."""
    seen = _stamp(args.component)
    while not stop.wait(RELOAD_POLL_S):
        now = _stamp(args.component)
        if now is None or now == seen:
            continue
        seen = now
        try:
            handler = _handler(host.load(args.component), args)
        except KvredisError as exc:
            say(f"reload failed, still serving the previous build: {redact_text(str(exc))}")
            continue
        app.swap(handler)
        say(f"reloaded {Path(args.component).name}")
