"""Helpers for the suites that serve HTTP components: a handler over a built guest, one
request run to its end, and a small web server on a free loopback port for guests to call."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import kvredis
from kvredis.runtime.cache import load_component
from kvredis.runtime.http_handler import (
    GuestSettings,
    HttpHandler,
    RequestHead,
    handler_engine_kind,
)
from kvredis.runtime.inspect import describe


def handler_for(
    path: Path, host: kvredis.Host, settings: GuestSettings | None = None
) -> HttpHandler:
    settings = settings or GuestSettings()
    kind = handler_engine_kind(settings)
    component = load_component(path, kind=kind)
    return HttpHandler(component, describe(component, kind), host.core, settings, path.name)


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, bytes]]
    body: bytes

    def header(self, name: str) -> bytes | None:
        found = [v for n, v in self.headers if n.lower() == name.lower()]
        return found[0] if found else None


def request(handler: HttpHandler, method: str, path: str, body: Iterable[bytes] = ()) -> Answer:
    """Send one request through a fresh instance and read the whole answer."""
    head, chunks = handler.handle(RequestHead(method, path, authority="localhost"), body)
    return Answer(head.status, head.headers, b"".join(chunks))


class _Routes(BaseHTTPRequestHandler):
    """GET /hold waits until the test releases it; other GETs answer 201 with a header and
    their path; POST answers how many body bytes it read (chunked or not)."""

    server: WebServer

    def do_GET(self) -> None:
        if self.path.startswith("/hold"):
            self.server.release.wait(60)
        self._answer(201, f"hello from {self.path}".encode(), [("x-test", "yes")])

    def do_POST(self) -> None:
        length = self.headers.get("content-length")
        data = self.rfile.read(int(length)) if length else b"".join(self._chunked())
        self._answer(200, f"got {len(data)} bytes ending {data[-8:].hex()}".encode(), [])

    def _chunked(self) -> Iterator[bytes]:
        while True:
            size = int(self.rfile.readline().split(b";")[0], 16)
            if size == 0:
                self.rfile.readline()
                return
            yield self.rfile.read(size)
            self.rfile.readline()

    def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read answers, not logs."""


class WebServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Routes)
        self.release = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def web_server() -> Iterator[WebServer]:
    """A web server on a free loopback port, stopped (held requests released) at the end."""
    server = WebServer()
    thread = threading.Thread(target=server.serve_forever, name="test-web", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(10)
