"""A component exporting `wasi:http/incoming-handler` as an ASGI 3 application.

Each request gets a fresh instance on a worker thread; at most `concurrency` guests run at
once (the rest wait their turn in the event loop, holding no thread). The request body is
handed to the guest as `receive()` yields it, never read whole first; the response head is
sent when the guest sets it and each chunk of the body as the guest writes it.

A request the guest cannot answer (a trap, a timeout, no response set) gets a 500 or 504 and
one log line; the application keeps serving. The guest's response trailers are forwarded
when the server announces the `http.response.trailers` extension (uvicorn 0.54 does so only
for HTTP/2, so over HTTP/1.1 they are dropped). Requests no guest should see (a bad method
token, bad header bytes, headers too large, a body over `max_body_size`) get a 4xx without
running the guest past that point.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kvredis.errors import ConfigError, GuestTimeout, KvredisError
from kvredis.runtime.http_handler import Exchange, HttpHandler, RequestHead, ResponseHead
from kvredis.serve.defaults import MAX_CONCURRENCY, default_concurrency
from kvredis.wasi.http.errors import HttpErrorCode
from kvredis.wasi.http.syntax import is_field_value, is_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("kvredis.serve")

MAX_HEADER_BYTES = 64 * 1024  # names and values together, as common servers allow
# A path the guest sees as a WIT string: printable ASCII (anything else arrives %-encoded).
_PATH = re.compile(rb"^[\x21-\x7e]*$")
TRAILERS = "http.response.trailers"  # the ASGI extension, and the message it adds


class Rejected(Exception):
    """A request answered by the host, not the guest: its status and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class _Outcome:
    status: int
    note: str = ""


class AsgiApp:
    """An ASGI 3 application serving `handler`'s component, a fresh instance per request.

    `access_log`, if given, gets one line per request (method, path, status, milliseconds,
    and why when the host answered instead of the guest)."""

    def __init__(
        self,
        handler: HttpHandler,
        concurrency: int | None = None,
        max_body_size: int | None = None,
        access_log: Callable[[str], None] | None = None,
    ) -> None:
        self.handler = handler
        self.concurrency = concurrency or default_concurrency()
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise ConfigError(f"concurrency must be from 1 to {MAX_CONCURRENCY}")
        self.max_body_size = max_body_size
        self.access_log = access_log
        # Each admitted request uses at most two threads: its guest and its body feeder.
        self._pool = ThreadPoolExecutor(2 * self.concurrency, thread_name_prefix="kvredis-http")
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None

    def swap(self, handler: HttpHandler) -> HttpHandler:
        """Serve a new build from the next request on; returns the old handler (requests
        already running finish on it)."""
        old, self.handler = self.handler, handler
        return old

    def close(self) -> None:
        """Stop taking guests; those running finish (each is bounded by its timeout)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "http":
            await self._http(scope, receive, send)
        # Anything else (websocket) is not HTTP a component can answer: returning refuses it.

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _slots_for_loop(self) -> asyncio.Semaphore:
        """One semaphore per event loop (a test client may run the app on a loop of its own)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is not loop:
            self._slots, self._slots_loop = asyncio.Semaphore(self.concurrency), loop
        return self._slots

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method = str(scope.get("method", "?"))
        path = _shown_path(scope)

        def completed(outcome: _Outcome) -> None:
            """The response is complete: its log line (the instance may still be ending)."""
            if self.access_log is not None:
                elapsed = (time.perf_counter() - started) * 1000
                note = f" ({outcome.note})" if outcome.note else ""
                self.access_log(f"{method} {path} {outcome.status} {elapsed:.1f} ms{note}")

        try:
            head = self._admit(scope)
            trailers = TRAILERS in (scope.get("extensions") or {})
            async with self._slots_for_loop():
                await self._exchange(head, receive, send, trailers, completed)
        except Rejected as rejected:
            await _answer(send, rejected.status, rejected.reason)
            completed(_Outcome(rejected.status, rejected.reason))

    def _admit(self, scope: Scope) -> RequestHead:
        """The head the guest will see, or `Rejected` before any guest runs."""
        head = request_head(scope)
        declared = _declared_length(scope)
        limit = self.max_body_size
        if limit is not None and declared is not None and declared > limit:
            raise Rejected(413, f"body of {declared} bytes over the limit")
        return head

    async def _exchange(
        self,
        head: RequestHead,
        receive: Receive,
        send: Send,
        trailers: bool,
        completed: Callable[[_Outcome], None],
    ) -> None:
        """Run the guest on a worker thread and send what it answers; `completed` is told
        once the response is complete, before the instance is torn down (which returns its
        pool slot)."""
        loop = asyncio.get_running_loop()
        exchange = self.handler.start(head)
        settled = asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(settled.set)

        exchange.add_listener(wake)
        guest: asyncio.Future[Any] = loop.run_in_executor(self._pool, exchange.run)
        feeder: asyncio.Future[Any] = asyncio.create_task(self._feed(exchange, receive))
        answered: asyncio.Future[Any] = asyncio.create_task(settled.wait())
        try:
            await asyncio.wait({answered, guest, feeder}, return_when=asyncio.FIRST_COMPLETED)
            too_large = feeder.result() if feeder.done() else None
            if too_large is not None and not settled.is_set():
                # The guest has not answered and gets no more of the body: the host does.
                exchange.context.interrupt(too_large.reason)
                await _answer(send, too_large.status, too_large.reason)
                outcome = _Outcome(too_large.status, too_large.reason)
            else:
                # Settled, or the client left (the guest was interrupted and ends soon).
                await asyncio.wait({answered, guest}, return_when=asyncio.FIRST_COMPLETED)
                outcome = await self._respond(exchange, send, trailers)
            completed(outcome)
            await guest
        finally:
            answered.cancel()
            feeder.cancel()

    async def _respond(self, exchange: Exchange, send: Send, trailers: bool) -> _Outcome:
        try:
            response = exchange.response(timeout=0)
        except GuestTimeout as exc:
            return await _failed(send, 504, exc)
        except KvredisError as exc:
            return await _failed(send, 500, exc)
        return await self._stream(exchange, response, send, trailers)

    async def _feed(self, exchange: Exchange, receive: Receive) -> Rejected | None:
        """Hand the request body to the guest as it arrives, up to `max_body_size`; then
        watch for the client going away, which ends the guest's waits."""
        loop = asyncio.get_running_loop()
        received = 0
        body = exchange.request_body
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if not body.pipe.writer_done():
                    body.fail(HttpErrorCode("connection-terminated"))
                exchange.context.interrupt("the client went away")
                return None
            if body.pipe.writer_done():
                continue  # ended (or the guest wants no more): only a disconnect matters now
            chunk = bytes(message.get("body", b""))
            received += len(chunk)
            if self.max_body_size is not None and received > self.max_body_size:
                body.fail(HttpErrorCode("HTTP-request-body-size", received))
                return Rejected(413, f"body over {self.max_body_size} bytes")
            if chunk:
                await loop.run_in_executor(self._pool, exchange.send_body, chunk)
            if not message.get("more_body", False):
                exchange.end_body()

    async def _stream(
        self, exchange: Exchange, response: ResponseHead, send: Send, trailers: bool
    ) -> _Outcome:
        """The response as the guest writes it; with `trailers` (the server takes them), its
        trailers after the body, an empty list when the guest set none."""
        start: Message = {
            "type": "http.response.start",
            "status": response.status,
            "headers": _wire_fields(response.headers),
        }
        if trailers:
            start["trailers"] = True
        await send(start)
        try:
            async for chunk in _body_as_written(exchange):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except KvredisError as exc:
            # The head is gone already: leaving the body unfinished makes the server cut
            # the connection, which is how a client learns the body broke off.
            log.warning("%s", exc)
            return _Outcome(response.status, "body broke off")
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        if trailers:
            fields = _wire_fields(exchange.response_trailers())
            await send({"type": TRAILERS, "headers": fields, "more_trailers": False})
        return _Outcome(response.status)


def request_head(scope: Scope) -> RequestHead:
    """What the guest is shown of an ASGI request; `Rejected` (4xx) for what it must not see."""
    method = str(scope.get("method", ""))
    if not is_token(method):
        raise Rejected(400, "invalid method")
    raw_path = scope.get("raw_path") or str(scope.get("path", "/")).encode("utf-8")
    if not _PATH.match(raw_path):
        raise Rejected(400, "invalid path")
    query = bytes(scope.get("query_string", b""))
    if not _PATH.match(query):
        raise Rejected(400, "invalid query")
    path_with_query = raw_path.decode("ascii") + ("?" + query.decode("ascii") if query else "")
    headers: list[tuple[str, bytes]] = []
    size = 0
    authority = None
    for raw_name, value in scope.get("headers", ()):
        size += len(raw_name) + len(value)
        if size > MAX_HEADER_BYTES:
            raise Rejected(431, "request headers too large")
        name = bytes(raw_name).decode("latin-1")
        if not is_token(name) or not is_field_value(bytes(value)):
            raise Rejected(400, "invalid header")
        if name.lower() == "host":
            authority = bytes(value).decode("latin-1")
        headers.append((name, bytes(value)))
    return RequestHead(
        method,
        path_with_query,
        headers,
        scheme=str(scope.get("scheme", "http")),
        authority=authority,
    )


def _wire_fields(fields: list[tuple[str, bytes]]) -> list[tuple[bytes, bytes]]:
    """Header or trailer fields as ASGI sends them: lower-case byte names."""
    return [(name.lower().encode("latin-1"), value) for name, value in fields]


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if bytes(name).lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                raise Rejected(400, "invalid content-length") from None
    return None


def _shown_path(scope: Scope) -> str:
    """The path for a log line: printable, never the query (it may carry secrets)."""
    path = str(scope.get("path", "?"))
    return path if path.isprintable() else repr(path)


async def _body_as_written(exchange: Exchange) -> AsyncIterator[bytes]:
    """The response body read on the event loop as the guest writes it (no thread: the
    body's pipe wakes the loop when there is more, and only while it is awaited)."""
    body = exchange.response_body()
    if body is None:
        return
    loop = asyncio.get_running_loop()
    more = asyncio.Event()
    awaiting = False

    def wake() -> None:
        if awaiting and not loop.is_closed():
            loop.call_soon_threadsafe(more.set)

    body.pipe.add_listener(wake)
    try:
        while True:
            chunk = exchange.take_body()
            if chunk is None:
                return
            if chunk:
                yield chunk
                continue
            more.clear()
            awaiting = True  # from here on a write wakes the loop; one just before shows:
            if not body.pipe.readable():
                await more.wait()
            awaiting = False
    finally:
        body.pipe.remove_listener(wake)


async def _failed(send: Send, status: int, exc: KvredisError) -> _Outcome:
    log.warning("%s", exc)
    await _answer(send, status, _reason(status))
    return _Outcome(status, str(exc))


def _reason(status: int) -> str:
    return {500: "the component failed", 504: "the component timed out"}.get(status, "error")


async def _answer(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
