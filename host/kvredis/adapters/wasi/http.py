"""wasi:http/types adapters: fields, requests, responses, bodies and futures over the core.

The core keeps the rules of each object; these adapters add the WIT's rules between handles:
a request's or response's `headers` and a body's stream are children that must be dropped
before their parent is dropped, finished or handed on (a trap otherwise, as in wasmtime).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from kvredis import canon
from kvredis._wit import Err, Ok, Trap
from kvredis.adapters.wasi.handles import NO_PARENT, Parent, answering, ours
from kvredis.adapters.wasi.http_values import (
    core_error_code,
    error_code,
    header_error,
    method_name,
    method_of,
    scheme_name,
    scheme_of,
)
from kvredis.adapters.wasi.io import (
    InputStreamAdapter,
    OutputStreamAdapter,
    PollableAdapter,
    io_error,
)
from kvredis.bindings import wasi_http as wit
from kvredis.bindings import wasi_io
from kvredis.wasi.http import errors as core_errors
from kvredis.wasi.http.bodies import FutureTrailers, IncomingBody, OutgoingBody
from kvredis.wasi.http.errors import Failed, HttpError, Received, UnitError
from kvredis.wasi.http.fields import Fields
from kvredis.wasi.http.futures import HttpFuture
from kvredis.wasi.http.messages import (
    IncomingRequest,
    IncomingResponse,
    OutgoingRequest,
    OutgoingResponse,
    RequestOptions,
    ResponseOutparam,
)
from kvredis.wasi.io.poll import Waker

T = TypeVar("T")

_header_errors = answering(core_errors.HeaderError, header_error)
_unit_errors = answering(UnitError, lambda _: None)
http_errors = answering(HttpError, lambda exc: error_code(exc.code))


class FieldsAdapter:
    """`fields`: headers or trailers; `release` tells the message it belongs to it is gone."""

    __slots__ = ("core", "release")

    def __init__(self, core: Fields, release: Callable[[], None] = NO_PARENT) -> None:
        self.core = core
        self.release = release

    def get(self, name: str) -> list[bytes]:
        return self.core.get(name)

    def has(self, name: str) -> bool:
        return self.core.has(name)

    @_header_errors
    def set(self, name: str, value: list[bytes]) -> None:
        self.core.set(name, value)

    @_header_errors
    def delete(self, name: str) -> None:
        self.core.delete(name)

    @_header_errors
    def append(self, name: str, value: canon.Blob) -> None:
        self.core.append(name, value.read())

    def entries(self) -> list[tuple[str, bytes]]:
        return self.core.entries()

    def clone(self) -> wit.Fields:
        return FieldsAdapter(self.core.clone())

    def drop(self) -> None:
        self.release()


def take_fields(fields: object) -> Fields:
    """The core fields of an owned `fields` handle the guest hands over (a constructor's
    headers, a body's trailers): the handle is gone, so a parent no longer waits for it."""
    adapter = ours(fields, FieldsAdapter)
    adapter.release()
    return adapter.core


class _Message:
    """What requests and responses share: headers handed out as children of the message."""

    __slots__ = ("family",)
    core: IncomingRequest | IncomingResponse | OutgoingRequest | OutgoingResponse

    def __init__(self, what: str) -> None:
        self.family = Parent(what)

    def headers(self) -> wit.Fields:
        return FieldsAdapter(self.core.headers, self.family.adopt())

    def drop(self) -> None:
        self.family.check_childless("dropped")


class _IncomingMessage(_Message):
    """An incoming request or response: its body is taken once; dropped, it reads no more."""

    __slots__ = ()
    core: IncomingRequest | IncomingResponse

    @_unit_errors
    def consume(self) -> wit.IncomingBody:
        return IncomingBodyAdapter(self.core.consume())

    def drop(self) -> None:
        super().drop()
        self.core.close()


class IncomingRequestAdapter(_IncomingMessage):
    __slots__ = ("core",)
    core: IncomingRequest

    def __init__(self, core: IncomingRequest) -> None:
        super().__init__("incoming-request")
        self.core = core

    def method(self) -> wit.Method:
        return method_of(self.core.method)

    def path_with_query(self) -> str | None:
        return self.core.path_with_query

    def scheme(self) -> wit.Scheme | None:
        return scheme_of(self.core.scheme)

    def authority(self) -> str | None:
        return self.core.authority


class IncomingResponseAdapter(_IncomingMessage):
    __slots__ = ("core",)
    core: IncomingResponse

    def __init__(self, core: IncomingResponse) -> None:
        super().__init__("incoming-response")
        self.core = core

    def status(self) -> int:
        return self.core.status


class IncomingBodyAdapter:
    __slots__ = ("core", "family")

    def __init__(self, core: IncomingBody) -> None:
        self.core = core
        self.family = Parent("incoming-body")

    @_unit_errors
    def stream(self) -> wasi_io.InputStream:
        return InputStreamAdapter(self.core.stream(), self.family.adopt())

    def drop(self) -> None:
        self.family.check_childless("dropped")
        self.core.close()


class OutgoingRequestAdapter(_Message):
    __slots__ = ("core",)
    core: OutgoingRequest

    def __init__(self, core: OutgoingRequest) -> None:
        super().__init__("outgoing-request")
        self.core = core

    @_unit_errors
    def body(self) -> wit.OutgoingBody:
        return OutgoingBodyAdapter(self.core.body())

    def method(self) -> wit.Method:
        return method_of(self.core.method)

    @_unit_errors
    def set_method(self, method: wit.Method) -> None:
        self.core.set_method(method_name(method))

    def path_with_query(self) -> str | None:
        return self.core.path_with_query

    @_unit_errors
    def set_path_with_query(self, path_with_query: str | None) -> None:
        self.core.set_path_with_query(path_with_query)

    def scheme(self) -> wit.Scheme | None:
        return scheme_of(self.core.scheme)

    @_unit_errors
    def set_scheme(self, scheme: wit.Scheme | None) -> None:
        self.core.set_scheme(scheme_name(scheme))

    def authority(self) -> str | None:
        return self.core.authority

    @_unit_errors
    def set_authority(self, authority: str | None) -> None:
        self.core.set_authority(authority)


class OutgoingResponseAdapter(_Message):
    __slots__ = ("core",)
    core: OutgoingResponse

    def __init__(self, core: OutgoingResponse) -> None:
        super().__init__("outgoing-response")
        self.core = core

    def status_code(self) -> int:
        return self.core.status_code

    @_unit_errors
    def set_status_code(self, status_code: int) -> None:
        self.core.set_status_code(status_code)

    @_unit_errors
    def body(self) -> wit.OutgoingBody:
        return OutgoingBodyAdapter(self.core.body())


class OutgoingBodyAdapter:
    __slots__ = ("core", "family")

    def __init__(self, core: OutgoingBody) -> None:
        self.core = core
        self.family = Parent("outgoing-body")

    @_unit_errors
    def write(self) -> wasi_io.OutputStream:
        return OutputStreamAdapter(self.core.write(), self.family.adopt())

    def drop(self) -> None:
        self.family.check_childless("dropped")
        self.core.abandon()


class RequestOptionsAdapter:
    __slots__ = ("core",)

    def __init__(self, core: RequestOptions) -> None:
        self.core = core

    def connect_timeout(self) -> int | None:
        return self.core.connect_timeout

    def set_connect_timeout(self, duration: int | None) -> None:
        self.core.set_connect_timeout(duration)

    def first_byte_timeout(self) -> int | None:
        return self.core.first_byte_timeout

    def set_first_byte_timeout(self, duration: int | None) -> None:
        self.core.set_first_byte_timeout(duration)

    def between_bytes_timeout(self) -> int | None:
        return self.core.between_bytes_timeout

    def set_between_bytes_timeout(self, duration: int | None) -> None:
        self.core.set_between_bytes_timeout(duration)

    def drop(self) -> None:
        """Options are plain values: nothing to release."""


class ResponseOutparamAdapter:
    __slots__ = ("core",)

    def __init__(self, core: ResponseOutparam) -> None:
        self.core = core

    def drop(self) -> None:
        """Dropped unset: the host sees no response when `handle` returns."""


def _future_value(
    future: HttpFuture[T], wrap: Callable[[T], object]
) -> Ok[Ok[object] | Err[wit.ErrorCode]] | Err[None] | None:
    """`get` of a wasi:http future: not yet, the outcome once, then an error."""
    try:
        outcome = future.get()
    except core_errors.AlreadyTaken:
        return Err(None)
    if outcome is None:
        return None
    if isinstance(outcome, Received):
        return Ok(Ok(wrap(outcome.value)))
    return Ok(Err(error_code(outcome.error)))


class FutureTrailersAdapter:
    __slots__ = ("core", "waker")

    def __init__(self, core: FutureTrailers, waker: Waker) -> None:
        self.core = core
        self.waker = waker

    def subscribe(self) -> wasi_io.Pollable:
        return PollableAdapter(self.core.subscribe(), self.waker)

    def get(self) -> Ok[Ok[wit.Fields | None] | Err[wit.ErrorCode]] | Err[None] | None:
        return _future_value(  # type: ignore[return-value]
            self.core, lambda trailers: None if trailers is None else FieldsAdapter(trailers)
        )

    def drop(self) -> None:
        """Nothing to release: the body it waits on is gone already."""


class FutureIncomingResponseAdapter:
    """`future-incoming-response`: dropped before its response was taken, the request is
    abandoned (`cancel`); after, the response and its body live on by themselves."""

    __slots__ = ("cancel", "core", "taken", "waker")

    def __init__(
        self, core: HttpFuture[IncomingResponse], waker: Waker, cancel: Callable[[], None]
    ) -> None:
        self.core = core
        self.waker = waker
        self.cancel = cancel
        self.taken = False

    def subscribe(self) -> wasi_io.Pollable:
        return PollableAdapter(self.core.subscribe(), self.waker)

    def get(self) -> Ok[Ok[wit.IncomingResponse] | Err[wit.ErrorCode]] | Err[None] | None:
        value = _future_value(self.core, IncomingResponseAdapter)
        self.taken = self.taken or value is not None
        return value  # type: ignore[return-value]

    def drop(self) -> None:
        if not self.taken:
            self.cancel()


def _check_before_consuming(family: Parent, action: str, release: Callable[[], None]) -> None:
    """The WIT's child rule for a handle the guest hands over: when it traps, the object is
    out of the guest's tables already, so it is released here (a body nobody would end
    leaves its reader waiting)."""
    try:
        family.check_childless(action)
    except Trap:
        release()
        raise


class HttpTypesHost:
    """The functions of `wasi:http/types` itself: constructors, statics, downcasts."""

    def __init__(self, waker: Waker) -> None:
        self._waker = waker

    def http_error_code(self, err: wasi_io.Error) -> wit.ErrorCode | None:
        code = core_errors.http_error_code(io_error(err))
        return None if code is None else error_code(code)

    def fields_new(self) -> wit.Fields:
        return FieldsAdapter(Fields())

    @_header_errors
    def fields_from_list(self, entries: list[tuple[str, bytes]]) -> wit.Fields:
        return FieldsAdapter(Fields.from_list(entries))

    def outgoing_request_new(self, headers: wit.Fields) -> wit.OutgoingRequest:
        return OutgoingRequestAdapter(OutgoingRequest(take_fields(headers), self._waker))

    def request_options_new(self) -> wit.RequestOptions:
        return RequestOptionsAdapter(RequestOptions())

    def response_outparam_set(
        self,
        param: wit.ResponseOutparam,
        response: Ok[wit.OutgoingResponse] | Err[wit.ErrorCode],
    ) -> None:
        outparam = ours(param, ResponseOutparamAdapter).core
        if isinstance(response, Err):
            outparam.set(Failed(core_error_code(response.value)))
            return
        outgoing = ours(response.value, OutgoingResponseAdapter)
        outgoing.family.check_childless("sent")
        outparam.set(Received(outgoing.core))

    def incoming_body_finish(self, this: wit.IncomingBody) -> wit.FutureTrailers:
        body = ours(this, IncomingBodyAdapter)
        _check_before_consuming(body.family, "finished", body.core.close)
        return FutureTrailersAdapter(body.core.finish(), self._waker)

    def outgoing_response_new(self, headers: wit.Fields) -> wit.OutgoingResponse:
        return OutgoingResponseAdapter(OutgoingResponse(take_fields(headers), self._waker))

    @http_errors
    def outgoing_body_finish(self, this: wit.OutgoingBody, trailers: wit.Fields | None) -> None:
        body = ours(this, OutgoingBodyAdapter)
        _check_before_consuming(body.family, "finished", body.core.abandon)
        body.core.finish(None if trailers is None else take_fields(trailers))
