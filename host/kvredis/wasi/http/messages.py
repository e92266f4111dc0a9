"""Requests, responses, request options and the response outparam of wasi:http/types.

Values are plain Python: a method is its HTTP token (`"GET"`, or any other valid token for
`method::other`), a scheme is `"http"`, `"https"` or another valid scheme, durations are
nanoseconds. Headers handed to a constructor become the message's own, immutable fields.
"""

from __future__ import annotations

from collections.abc import Callable

from kvredis.wasi.errors import GuestMisuse
from kvredis.wasi.http.bodies import IncomingBody, OutgoingBody
from kvredis.wasi.http.errors import AlreadyTaken, InvalidValue
from kvredis.wasi.http.fields import Fields
from kvredis.wasi.http.futures import HttpFuture, Outcome
from kvredis.wasi.http.syntax import (
    STANDARD_METHODS,
    is_authority,
    is_path_with_query,
    is_scheme,
    is_status,
    is_token,
)
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.io.promise import Promise


def _check(value: str | None, valid: Callable[[str], bool], what: str) -> None:
    if value is not None and not valid(value):
        raise InvalidValue(f"not a valid {what}: {value!r}")


def _is_method(method: str) -> bool:
    return method in STANDARD_METHODS or is_token(method)


class _Incoming:
    """What incoming requests and responses share: immutable headers and a body taken once."""

    def __init__(self, headers: Fields, body: IncomingBody) -> None:
        headers.freeze()
        self.headers = headers
        self._body: IncomingBody | None = body

    def consume(self) -> IncomingBody:
        if self._body is None:
            raise AlreadyTaken("the body was taken before")
        body, self._body = self._body, None
        return body

    def close(self) -> None:
        """Dropped: a body never consumed is not read any more."""
        if self._body is not None:
            self._body.close()


class IncomingRequest(_Incoming):
    """A request the host received, for the guest's `incoming-handler.handle`."""

    def __init__(
        self,
        *,
        method: str,
        path_with_query: str | None,
        scheme: str | None,
        authority: str | None,
        headers: Fields,
        body: IncomingBody,
    ) -> None:
        super().__init__(headers, body)
        self.method = method
        self.path_with_query = path_with_query
        self.scheme = scheme
        self.authority = authority


class IncomingResponse(_Incoming):
    """A response an outgoing request received."""

    def __init__(self, *, status: int, headers: Fields, body: IncomingBody) -> None:
        super().__init__(headers, body)
        self.status = status


FutureIncomingResponse = HttpFuture[IncomingResponse]


class _Outgoing:
    """What outgoing requests and responses share: immutable headers and a body taken once."""

    def __init__(self, headers: Fields, waker: Waker, *, for_request: bool) -> None:
        headers.freeze()
        self.headers = headers
        self.waker = waker
        self._for_request = for_request
        self.outgoing_body: OutgoingBody | None = None

    def body(self) -> OutgoingBody:
        if self.outgoing_body is not None:
            raise AlreadyTaken("the body was taken before")
        try:
            length = self.headers.content_length()
        except ValueError:
            raise InvalidValue("the content-length header is malformed") from None
        self.outgoing_body = OutgoingBody(
            self.waker, for_request=self._for_request, content_length=length
        )
        return self.outgoing_body


class OutgoingRequest(_Outgoing):
    """A request the guest builds for `outgoing-handler.handle`: GET, no path, scheme or
    authority until set. Whether the combination can be sent is the handler's to judge."""

    def __init__(self, headers: Fields, waker: Waker) -> None:
        super().__init__(headers, waker, for_request=True)
        self.method = "GET"
        self.path_with_query: str | None = None
        self.scheme: str | None = None
        self.authority: str | None = None

    def set_method(self, method: str) -> None:
        _check(method, _is_method, "method")
        self.method = method

    def set_path_with_query(self, path_with_query: str | None) -> None:
        _check(path_with_query, is_path_with_query, "path and query")
        self.path_with_query = path_with_query

    def set_scheme(self, scheme: str | None) -> None:
        _check(scheme, is_scheme, "scheme")
        self.scheme = scheme

    def set_authority(self, authority: str | None) -> None:
        _check(authority, is_authority, "authority")
        self.authority = authority


class OutgoingResponse(_Outgoing):
    """A response the guest builds; status 200 until set."""

    def __init__(self, headers: Fields, waker: Waker) -> None:
        super().__init__(headers, waker, for_request=False)
        self.status_code = 200

    def set_status_code(self, status_code: int) -> None:
        if not is_status(status_code):
            raise InvalidValue(f"not a valid status code: {status_code}")
        self.status_code = status_code


class RequestOptions:
    """Timeouts (nanoseconds, None for the handler's default) for one outgoing request."""

    def __init__(self) -> None:
        self.connect_timeout: int | None = None
        self.first_byte_timeout: int | None = None
        self.between_bytes_timeout: int | None = None

    def set_connect_timeout(self, duration: int | None) -> None:
        self.connect_timeout = duration

    def set_first_byte_timeout(self, duration: int | None) -> None:
        self.first_byte_timeout = duration

    def set_between_bytes_timeout(self, duration: int | None) -> None:
        self.between_bytes_timeout = duration


class ResponseOutparam:
    """Where the guest's `incoming-handler.handle` puts its answer, once; the host waits on
    (or listens to) `response`. Never set by the time `handle` returns means no response."""

    def __init__(self) -> None:
        self.response: Promise[Outcome[OutgoingResponse]] = Promise()

    def set(self, response: Outcome[OutgoingResponse]) -> None:
        if self.response.done():
            raise GuestMisuse("response-outparam.set called twice")
        self.response.resolve(response)
