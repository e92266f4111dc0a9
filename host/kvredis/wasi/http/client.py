"""`outgoing-handler.handle`: a guest's outgoing request, sent by httpx on a worker thread.

The request body streams from the guest's `outgoing-body` pipe as the guest writes it (it
may write after `handle` returned the future), and the response body streams into an
`incoming-body` pipe with back-pressure: a guest that reads slowly slows the download.

Timeouts come from `request-options` (nanoseconds), else `DEFAULT_TIMEOUT_NS`: connect, first
byte (the response head) and between bytes (each read of the body). What goes wrong becomes
the WIT's `error-code`: DNS failures, refused connections, timeouts, TLS and protocol errors.
"""

from __future__ import annotations

import errno
import socket
import ssl
import threading
from collections.abc import Iterator

import httpx

from kvredis.wasi.http.bodies import IncomingBody, OutgoingBody
from kvredis.wasi.http.errors import (
    DnsErrorPayload,
    Failed,
    HttpError,
    HttpErrorCode,
    Received,
    http_error_code,
)
from kvredis.wasi.http.fields import Fields
from kvredis.wasi.http.futures import HttpFuture, Outcome
from kvredis.wasi.http.messages import IncomingResponse, OutgoingRequest, RequestOptions
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.io.promise import Promise
from kvredis.wasi.io.streams import LastOperationFailed, StreamError

DEFAULT_TIMEOUT_NS = 600 * 1_000_000_000  # wasmtime's default for all three
_NANOS = 1e9
# httpx adds these unless told otherwise; a guest's request carries only its own headers.
_CLIENT_DEFAULTS = ("Accept", "Accept-Encoding", "User-Agent")


class HttpClient:
    """Sends the outgoing requests of any number of instances over one connection pool."""

    def __init__(self) -> None:
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _pool(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                client = httpx.Client(follow_redirects=False, trust_env=False)
                for name in _CLIENT_DEFAULTS:
                    del client.headers[name]
                self._client = client
            return self._client

    def send(
        self, request: OutgoingRequest, options: RequestOptions | None, waker: Waker
    ) -> OutgoingCall:
        """Start sending `request`; `HttpError` at once when it cannot be sent at all."""
        url = request_url(request)
        call = OutgoingCall(waker)
        worker = threading.Thread(
            target=call.run,
            args=(self._pool(), request, url, _Timeouts.of(options)),
            name="kvredis-http-out",
            daemon=True,
        )
        worker.start()
        return call

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def request_url(request: OutgoingRequest) -> httpx.URL:
    """Where the request goes: http unless the guest said https; an authority is required."""
    scheme = request.scheme or "http"
    if scheme.lower() not in ("http", "https"):
        raise HttpError(HttpErrorCode("HTTP-request-URI-invalid"))
    if not request.authority:
        raise HttpError(HttpErrorCode("HTTP-request-URI-invalid"))
    try:
        return httpx.URL(f"{scheme}://{request.authority}{request.path_with_query or '/'}")
    except httpx.InvalidURL:
        raise HttpError(HttpErrorCode("HTTP-request-URI-invalid")) from None


class _Timeouts:
    def __init__(self, connect: float, first_byte: float, between_bytes: float) -> None:
        self.connect = connect
        self.first_byte = first_byte
        self.between_bytes = between_bytes

    @classmethod
    def of(cls, options: RequestOptions | None) -> _Timeouts:
        def seconds(value: int | None) -> float:
            return (DEFAULT_TIMEOUT_NS if value is None else value) / _NANOS

        if options is None:
            return cls(seconds(None), seconds(None), seconds(None))
        return cls(
            seconds(options.connect_timeout),
            seconds(options.first_byte_timeout),
            seconds(options.between_bytes_timeout),
        )


class _BodyFailed(Exception):
    """The guest's request body broke off (dropped unfinished, or longer than declared)."""

    def __init__(self, code: HttpErrorCode) -> None:
        super().__init__(str(code))
        self.code = code


class OutgoingCall:
    """One request in flight: `future` is what the guest polls; `cancel` when it stops caring."""

    def __init__(self, waker: Waker) -> None:
        self._waker = waker
        self._promise: Promise[Outcome[IncomingResponse]] = Promise()
        self.future = HttpFuture(self._promise, waker)
        self._cancelled = threading.Event()
        self._response: httpx.Response | None = None

    def cancel(self) -> None:
        """The guest dropped the future before taking the response: stop (a connect under
        way runs out first). Once taken, the response's body lives on by itself."""
        self._cancelled.set()
        response = self._response
        if response is not None:
            response.close()

    def run(
        self, client: httpx.Client, request: OutgoingRequest, url: httpx.URL, timeouts: _Timeouts
    ) -> None:
        body = request.outgoing_body
        try:
            sent = client.build_request(
                request.method,
                url,
                headers=[(name.encode(), value) for name, value in request.headers.entries()],
                content=None if body is None else _body_chunks(body),
                timeout=httpx.Timeout(
                    connect=timeouts.connect,
                    read=timeouts.first_byte,
                    write=timeouts.between_bytes,
                    pool=timeouts.connect,
                ),
            )
            response = client.send(sent, stream=True)
        except _BodyFailed as failed:
            self._promise.resolve(Failed(failed.code))
            return
        except (httpx.HTTPError, OSError) as exc:
            self._promise.resolve(Failed(error_code_for(exc, before_response=True)))
            return
        self._response = response
        if self._cancelled.is_set():
            response.close()
            return
        # The body's reads wait `between_bytes`: httpcore reads this when the body starts.
        timeout_extension = sent.extensions.get("timeout")
        if isinstance(timeout_extension, dict):
            timeout_extension["read"] = timeouts.between_bytes
        incoming_body = IncomingBody(self._waker)
        self._promise.resolve(
            Received(
                IncomingResponse(
                    status=response.status_code,
                    headers=Fields.from_host(
                        (name.decode("latin-1"), value) for name, value in response.headers.raw
                    ),
                    body=incoming_body,
                )
            )
        )
        _download(response, incoming_body)


def _body_chunks(body: OutgoingBody) -> Iterator[bytes]:
    """The guest's request body as it writes it, until it finishes (or the body fails)."""
    try:
        yield from body.pipe.chunks()
    except LastOperationFailed as failed:
        raise _BodyFailed(
            http_error_code(failed.error) or HttpErrorCode("HTTP-protocol-error")
        ) from None


def _download(response: httpx.Response, body: IncomingBody) -> None:
    """Copy the response body into `body`, no faster than the guest reads it."""
    pipe = body.pipe
    try:
        for chunk in response.iter_raw():
            pipe.wait_for_room()
            pipe.write(chunk)
        body.end()
    except StreamError:
        pass  # the guest stopped reading: nobody wants the rest
    except (httpx.HTTPError, OSError) as exc:
        body.fail(error_code_for(exc, before_response=False))
    finally:
        response.close()


def error_code_for(exc: BaseException, *, before_response: bool) -> HttpErrorCode:
    """The WIT's `error-code` for what httpx (or the socket under it) raised."""
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return HttpErrorCode("connection-timeout")
    if isinstance(exc, httpx.ReadTimeout):
        return HttpErrorCode("connection-read-timeout")
    if isinstance(exc, httpx.WriteTimeout):
        return HttpErrorCode("connection-write-timeout")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return HttpErrorCode("HTTP-request-URI-invalid")
    cause = _os_error_in(exc)
    if isinstance(cause, socket.gaierror):
        return HttpErrorCode("DNS-error", DnsErrorPayload(rcode=cause.strerror or str(cause)))
    if isinstance(cause, ssl.SSLCertVerificationError):
        return HttpErrorCode("TLS-certificate-error")
    if isinstance(cause, ssl.SSLError):
        return HttpErrorCode("TLS-protocol-error")
    if isinstance(cause, ConnectionRefusedError):
        return HttpErrorCode("connection-refused")
    if cause is not None and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return HttpErrorCode("destination-unavailable")
    if isinstance(exc, httpx.ConnectError):
        return HttpErrorCode("connection-refused")
    if isinstance(exc, httpx.RemoteProtocolError):
        incomplete = "incomplete" in str(exc).lower() or "disconnected" in str(exc).lower()
        if incomplete:
            return HttpErrorCode(
                "connection-terminated" if before_response else "HTTP-response-incomplete"
            )
        return HttpErrorCode("HTTP-protocol-error")
    if isinstance(exc, httpx.ReadError | httpx.WriteError | ConnectionError):
        return HttpErrorCode("connection-terminated")
    return HttpErrorCode.internal_error(f"{type(exc).__name__}: {exc}")


def _os_error_in(exc: BaseException) -> OSError | None:
    """The OS error behind an httpx error, following its chain of causes."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
