"""Serving a component that exports `wasi:http/incoming-handler`: a fresh instance per request,
over one compiled component and one shared linker (as `wasmtime serve` does).

The pieces a server needs, with no server in them:

- `HttpHandler(component, info, core, ...)`, made once: checks the export, picks the linker;
- `handler.start(head)` -> `Exchange`, one per request: the host writes the request body
  (`send_body`, `end_body`), runs the guest with `run()` on a worker thread, waits for the
  response head (`response()`) and reads the body as the guest writes it (`body_chunks()`);
- `handler.handle(head, body)` does all of that with threads, for callers that just want
  `(status, headers, body iterator)`.

Blocking calls only: an asyncio server runs them on worker threads, or listens on the
pipes and the response promise (`Exchange.add_listener`) to wake its loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from wasmtime import Store, WasmtimeError
from wasmtime.component import Component

from kvredis.adapters.wasi.http import IncomingRequestAdapter, ResponseOutparamAdapter
from kvredis.bindings import wasi_http
from kvredis.core import KeyValueCore
from kvredis.errors import ComponentLoadError, GuestTimeout, GuestTrap, KvredisError
from kvredis.runtime.engine import EngineKind, deadline_ticks, engine
from kvredis.runtime.faults import summarize
from kvredis.runtime.inspect import ComponentInfo, split_version
from kvredis.runtime.linking import WASI_VERSION_PREFIX, StoreState, linker_for
from kvredis.runtime.memory_creator import MemoryBudget, charged_to, stopped_by_limit
from kvredis.wasi.cli import Sink, Stdio
from kvredis.wasi.context import WasiContext
from kvredis.wasi.filesystem.preopens import Preopen
from kvredis.wasi.http.bodies import IncomingBody, OutgoingBody
from kvredis.wasi.http.errors import Failed, HttpErrorCode
from kvredis.wasi.http.fields import Fields
from kvredis.wasi.http.messages import IncomingRequest, OutgoingResponse, ResponseOutparam
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.io.streams import MAX_CHUNK, LastOperationFailed, StreamClosed
from kvredis.wasmcloud.services import HostServices

log = logging.getLogger("kvredis")

INCOMING_HANDLER = "wasi:http/incoming-handler"
_INTERRUPTED = "timed out"


@dataclass(frozen=True)
class RequestHead:
    """What the guest's `incoming-request` shows: method, path and query, scheme, authority
    and headers (forbidden ones, such as `host` or `connection`, are left out)."""

    method: str
    path_with_query: str
    headers: Sequence[tuple[str, bytes]] = ()
    scheme: str = "http"
    authority: str | None = None


@dataclass(frozen=True)
class ResponseHead:
    status: int
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True)
class GuestSettings:
    """What each instance is given: per-request timeout and memory, environment, directories
    and where its stdout and stderr go (default: nowhere)."""

    timeout_s: float | None = None
    max_memory_bytes: int | None = None
    arguments: Sequence[str] = ()
    variables: Sequence[tuple[str, str]] = ()
    preopens: Sequence[Preopen] = ()
    stdout: Sink | None = None
    stderr: Sink | None = None

    @property
    def engine_kind(self) -> EngineKind:
        """The engine an instance with these limits runs on."""
        return EngineKind.of(self.timeout_s, self.max_memory_bytes)

    def wasi_context(self) -> WasiContext:
        """A fresh WASI context for one instance (kvredis's own WASI)."""
        waker = Waker()
        return WasiContext.create(
            arguments=self.arguments,
            variables=self.variables,
            preopens=self.preopens,
            stdio=Stdio.from_bytes(
                waker, stdout=self.stdout or _discard, stderr=self.stderr or _discard
            ),
            waker=waker,
        )


class NoResponse(GuestTrap):
    """The guest's `handle` returned without setting a response."""


class ResponseError(KvredisError):
    """The guest set its response to an `error-code` (see `.code`)."""

    def __init__(self, code: HttpErrorCode) -> None:
        super().__init__(f"the component answered with error-code {code}")
        self.code = code


class BodyError(KvredisError):
    """The response body broke off (the guest trapped, timed out or dropped it unfinished)."""


def incoming_handler_export(info: ComponentInfo) -> str:
    """The name the component exports `wasi:http/incoming-handler` under (any 0.2.x)."""
    for name in info.exports:
        base, version = split_version(name)
        if base == INCOMING_HANDLER and version and version.startswith(WASI_VERSION_PREFIX):
            return name
    raise ComponentLoadError(
        f"the component does not export {INCOMING_HANDLER}@0.2.x; it exports: "
        + (", ".join(info.exports) or "nothing")
    )


def handler_engine_kind(settings: GuestSettings) -> EngineKind:
    """The engine an HTTP handler's instances run on: that of their limits, with instances
    from the pool, since each lives for one request (`instance_pool`)."""
    return settings.engine_kind.with_pool()


@dataclass
class HttpHandler:
    """A component prepared to serve HTTP requests, each with a fresh instance."""

    component: Component
    info: ComponentInfo
    core: KeyValueCore
    settings: GuestSettings = field(default_factory=GuestSettings)
    label: str = "component"
    # Links, configuration and log level; None: the `default` link on `core` only.
    services: HostServices | None = None

    def __post_init__(self) -> None:
        self.export = incoming_handler_export(self.info)
        # `component` must have been compiled for this kind (`load_component(..., kind=...)`).
        self.kind = handler_engine_kind(self.settings)
        self.linker = linker_for(engine(self.kind), self.info)
        from kvredis.wasi.http.client import HttpClient  # noqa: PLC0415 - httpx on demand

        self.client = HttpClient()

    def start(self, head: RequestHead) -> Exchange:
        return Exchange(self, head)

    def handle(
        self, head: RequestHead, body: Iterable[bytes] = ()
    ) -> tuple[ResponseHead, Iterator[bytes]]:
        """Run one request with threads: the body is fed from `body` and the guest runs on
        a thread of its own; returns once the response head is set, with the body to read.
        `GuestTrap` (`NoResponse`, `GuestTimeout`) or `ResponseError` when there is none."""
        exchange = self.start(head)
        # Daemons: a guest stuck without a timeout must not keep the process from exiting.
        feeder = threading.Thread(
            target=exchange.feed, args=(body,), name="kvredis-http-in", daemon=True
        )
        feeder.start()
        threading.Thread(target=exchange.run, name="kvredis-guest", daemon=True).start()
        return exchange.response(), exchange.body_chunks()

    def close(self) -> None:
        self.client.close()


class Exchange:
    """One request and its response, with a fresh instance of the component."""

    def __init__(self, handler: HttpHandler, head: RequestHead) -> None:
        self._handler = handler
        self.context = handler.settings.wasi_context()
        self.request_body = IncomingBody(self.context.waker)
        self.request = IncomingRequest(
            method=head.method,
            path_with_query=head.path_with_query,
            scheme=head.scheme,
            authority=head.authority,
            headers=Fields.from_host(head.headers),
            body=self.request_body,
        )
        self.outparam = ResponseOutparam()
        self._settled = threading.Event()  # a response is set, or the guest is done
        self.outparam.response.add_listener(self._settled.set)
        self.failure: KvredisError | None = None
        self.exit_status: int | None = None

    # --- the request body (host side) ---------------------------------------------------

    def send_body(self, chunk: bytes) -> None:
        """Hand the guest more of the request body, waiting while it has not read enough."""
        pipe = self.request_body.pipe
        pipe.wait_for_room()
        if not pipe.writer_done():
            pipe.write(chunk)

    def end_body(self) -> None:
        self.request_body.end()

    def feed(self, body: Iterable[bytes]) -> None:
        """The whole request body from `body`, then its end (for a feeding thread). If
        `body` fails, so does the guest's request body, as when a client goes away."""
        try:
            for chunk in body:
                if self.request_body.pipe.writer_done():
                    return  # the guest wants no more
                self.send_body(chunk)
        except Exception:
            log.debug("the request body failed", exc_info=True)
            self.request_body.fail(HttpErrorCode("connection-terminated"))
            return
        self.end_body()

    # --- the guest --------------------------------------------------------------------

    def run(self) -> None:
        """Instantiate and call `handle` (blocking, on any thread); guest faults are kept
        in `failure`, never raised. Everything the instance held is released at the end."""
        handler = self._handler
        settings = handler.settings
        store = Store(engine(handler.kind))
        if handler.kind.interruptible:
            store.set_epoch_deadline(deadline_ticks(settings.timeout_s))
        budget = None
        if settings.max_memory_bytes is not None:
            budget = MemoryBudget(settings.max_memory_bytes)
        # The epoch deadline stops guest code; a guest waiting in a host call (poll, a
        # blocking read) is woken by interrupting its context.
        timer = None
        if settings.timeout_s is not None:
            timer = threading.Timer(settings.timeout_s, self.context.interrupt, (_INTERRUPTED,))
            timer.daemon = True
            timer.start()
        state: StoreState = handler.linker.attach(
            store,
            handler.core,
            self.context,
            handler.client,
            handler.services,
            settings.stderr,
        )
        try:
            with charged_to(budget):
                instance = handler.linker.linker.instantiate(store, handler.component)
            assert state.wasi is not None
            exports = wasi_http.IncomingHandlerExports(
                instance, store, state.wasi, interface=handler.export
            )
            exports.handle(
                IncomingRequestAdapter(self.request), ResponseOutparamAdapter(self.outparam)
            )
        except WasmtimeError as exc:
            self.failure = self._classify(exc)
        finally:
            # However the guest ended (a trap, an exit, a return), a refused growth says why.
            self.failure = stopped_by_limit(handler.label, budget, "handle") or self.failure
            if timer is not None:
                timer.cancel()
            if state.wasi is not None:
                self.exit_status = state.wasi.exit_status
            state.detach()
            self._end_bodies()
            self._settled.set()

    def _end_bodies(self) -> None:
        """The instance is gone: nobody reads the rest of the request, and a response body
        it never finished has broken off (whatever handle the guest had left it in)."""
        self.request_body.close()
        if self.outparam.response.done():
            body = self.response_body()
            if body is not None:
                body.abandon()

    def _classify(self, exc: WasmtimeError) -> KvredisError:
        message = str(exc)
        timeout = self._handler.settings.timeout_s
        if timeout is not None and ("wasm trap: interrupt" in message or _INTERRUPTED in message):
            return GuestTimeout(f"{self._handler.label}: timed out after {timeout:g} s")
        return GuestTrap(f"{self._handler.label}: trapped: {summarize(message)}")

    # --- the response (host side) -------------------------------------------------------

    def response(self, timeout: float | None = None) -> ResponseHead:
        """Wait for the guest's response head. Raises the guest's failure, `NoResponse`,
        or `ResponseError` when it answered with an error-code."""
        if not self._settled.wait(timeout):
            raise TimeoutError("no response yet")
        promise = self.outparam.response
        if not promise.done():
            if self.failure is not None:
                raise self.failure
            raise NoResponse(f"{self._handler.label}: handle returned without a response")
        outcome = promise.value()
        if isinstance(outcome, Failed):
            raise ResponseError(outcome.error)
        response: OutgoingResponse = outcome.value
        return ResponseHead(response.status_code, response.headers.entries())

    def response_body(self) -> OutgoingBody | None:
        """The body of the response once set (None: the guest took none, so it is empty)."""
        outcome = self.outparam.response.value()
        return None if isinstance(outcome, Failed) else outcome.value.outgoing_body

    def response_trailers(self) -> list[tuple[str, bytes]]:
        """The trailers the guest finished its response body with (empty: none), once
        `body_chunks` has ended."""
        body = self.response_body()
        return [] if body is None or body.trailers is None else body.trailers.entries()

    def body_chunks(self) -> Iterator[bytes]:
        """The response body as the guest writes it; `BodyError` if it breaks off."""
        body = self.response_body()
        if body is None:
            return
        while True:
            body.pipe.wait_readable()
            chunk = self.take_body()
            if chunk is None:
                return
            if chunk:
                yield chunk

    def take_body(self) -> bytes | None:
        """Without waiting: the response body the guest has written since the last call
        (empty: nothing yet), None once it has ended; `BodyError` if it broke off. Listeners
        of the body's pipe (`response_body().pipe.add_listener`) hear of more."""
        body = self.response_body()
        if body is None:
            return None
        try:
            return body.pipe.read(MAX_CHUNK)
        except StreamClosed:
            return None
        except LastOperationFailed as failed:
            raise BodyError(
                f"{self._handler.label}: the response body broke off: {failed.error.message}"
            ) from None

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from any thread) when the response head is settled."""
        self.outparam.response.add_listener(listener)


def _discard(data: bytes) -> None:
    """Output nobody reads."""
