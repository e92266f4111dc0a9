"""The adapters between kvredis's WASI core and the generated bindings, alone (no guest):
the WIT's parent/child rules, value conversions both ways, futures, and what an instance's
scope releases when it ends."""

from __future__ import annotations

import pytest

from kvredis._wit import Err, Ok, Trap
from kvredis.adapters.wasi.cli import ExitHost, GuestExit
from kvredis.adapters.wasi.filesystem import convert_flags
from kvredis.adapters.wasi.handles import Parent
from kvredis.adapters.wasi.http import (
    FieldsAdapter,
    FutureIncomingResponseAdapter,
    HttpTypesHost,
    IncomingBodyAdapter,
    IncomingRequestAdapter,
    OutgoingBodyAdapter,
)
from kvredis.adapters.wasi.http_values import (
    core_error_code,
    error_code,
    header_error,
    method_name,
    method_of,
    scheme_name,
    scheme_of,
)
from kvredis.adapters.wasi.scope import WasiScope
from kvredis.bindings import wasi_filesystem, wasi_http
from kvredis.canon import registry
from kvredis.canon.c_api import take_error_message
from kvredis.wasi import GuestMisuse, Interrupted
from kvredis.wasi.context import WasiContext
from kvredis.wasi.filesystem import types as filesystem
from kvredis.wasi.http import errors
from kvredis.wasi.http.bodies import IncomingBody, OutgoingBody
from kvredis.wasi.http.client import HttpClient
from kvredis.wasi.http.fields import Fields
from kvredis.wasi.http.futures import HttpFuture
from kvredis.wasi.http.messages import IncomingRequest
from kvredis.wasi.io.poll import Waker
from kvredis.wasi.io.promise import Promise
from kvredis.wasi.io.streams import LastOperationFailed, StreamClosed


def test_a_parent_with_a_live_child_cannot_go_and_a_released_one_can() -> None:
    parent = Parent("incoming-body")
    release = parent.adopt()
    with pytest.raises(Trap, match="incoming-body finished while a child handle"):
        parent.check_childless("finished")
    release()
    release()  # idempotent: the guest drops a handle once, a scope may release it again
    parent.check_childless("finished")


def test_finishing_a_body_with_its_stream_alive_traps_and_still_ends_the_body() -> None:
    waker = Waker()
    types = HttpTypesHost(waker)
    outgoing = OutgoingBodyAdapter(OutgoingBody(waker, for_request=False))
    outgoing.write()
    with pytest.raises(Trap):
        types.outgoing_body_finish(outgoing, None)
    # The body left the guest's hands: the reader sees it break off rather than wait forever.
    with pytest.raises(LastOperationFailed):
        outgoing.core.pipe.read(10)
    incoming = IncomingBodyAdapter(IncomingBody.complete(b"unread", waker))
    incoming.stream()
    with pytest.raises(Trap):
        types.incoming_body_finish(incoming)
    assert incoming.core.pipe.writer_done()  # nobody reads it: a writer stops


def test_headers_are_children_of_their_request() -> None:
    waker = Waker()
    request = IncomingRequestAdapter(
        IncomingRequest(
            method="GET",
            path_with_query="/",
            scheme="http",
            authority=None,
            headers=Fields.from_host([("accept", b"*/*")]),
            body=IncomingBody.complete(b"", waker),
        )
    )
    headers = request.headers()
    assert headers.entries() == [("accept", b"*/*")]
    with pytest.raises(Trap, match="incoming-request dropped"):
        request.drop()
    headers.drop()
    request.drop()


def test_every_error_code_converts_both_ways() -> None:
    payloads: dict[type, object] = {
        errors.DnsErrorPayload: errors.DnsErrorPayload("NXDOMAIN", 3),
        errors.TlsAlertReceivedPayload: errors.TlsAlertReceivedPayload(40, "handshake"),
        errors.FieldSizePayload: errors.FieldSizePayload("x-big", 70_000),
        int: 12,
        str: "why",
    }
    for case in sorted(errors.ERROR_CASES):
        try:
            code = errors.HttpErrorCode(case)
        except TypeError:  # a case whose payload is not optional
            code = next(
                errors.HttpErrorCode(case, p)  # type: ignore[arg-type]
                for kind, p in payloads.items()
                if _accepts(case, p)
            )
        assert core_error_code(error_code(code)) == code, case
    with_payload = errors.HttpErrorCode("HTTP-request-body-size", 9)
    assert error_code(with_payload) == wasi_http.ErrorCodeHttpRequestBodySize(9)


def _accepts(case: str, payload: object) -> bool:
    try:
        errors.HttpErrorCode(case, payload)  # type: ignore[arg-type]
    except TypeError:
        return False
    return True


def test_methods_schemes_and_header_errors_convert() -> None:
    for name in ("GET", "POST", "PATCH", "PROPFIND"):
        assert method_name(method_of(name)) == name
    assert isinstance(method_of("GET"), wasi_http.MethodGet)
    assert method_of("PROPFIND") == wasi_http.MethodOther("PROPFIND")
    for scheme in ("http", "https", "ftp", None):
        assert scheme_name(scheme_of(scheme)) == scheme
    assert isinstance(header_error(errors.ForbiddenHeader("host")), wasi_http.HeaderErrorForbidden)
    assert isinstance(header_error(errors.ImmutableFields("x")), wasi_http.HeaderErrorImmutable)
    assert isinstance(
        header_error(errors.InvalidHeaderSyntax("x")), wasi_http.HeaderErrorInvalidSyntax
    )


def test_fields_answer_header_errors_as_the_wit_variant() -> None:
    fields = FieldsAdapter(Fields())
    with pytest.raises(Err) as raised:
        fields.delete("connection")
    assert isinstance(raised.value.value, wasi_http.HeaderErrorForbidden)


def test_flags_convert_by_member_name() -> None:
    core = filesystem.DescriptorFlags.READ | filesystem.DescriptorFlags.MUTATE_DIRECTORY
    wit = convert_flags(core, wasi_filesystem.DescriptorFlags)
    assert (
        wit
        == wasi_filesystem.DescriptorFlags.READ | wasi_filesystem.DescriptorFlags.MUTATE_DIRECTORY
    )
    assert convert_flags(wit, filesystem.DescriptorFlags) == core


def test_a_future_dropped_before_its_response_was_taken_cancels_the_request() -> None:
    waker = Waker()
    cancelled: list[str] = []
    promise: Promise[errors.Received[object] | errors.Failed] = Promise()
    future = FutureIncomingResponseAdapter(
        HttpFuture(promise, waker),  # type: ignore[arg-type]
        waker,
        lambda: cancelled.append("cancel"),
    )
    assert future.get() is None
    future.drop()
    assert cancelled == ["cancel"]
    taken: list[str] = []
    promise = Promise()
    future = FutureIncomingResponseAdapter(
        HttpFuture(promise, waker),  # type: ignore[arg-type]
        waker,
        lambda: taken.append("cancel"),
    )
    promise.resolve(errors.Failed(errors.HttpErrorCode("connection-refused")))
    outcome = future.get()
    assert isinstance(outcome, Ok) and isinstance(outcome.value, Err)
    assert outcome.value.value == wasi_http.ErrorCodeConnectionRefused()
    again = future.get()  # a future's value is taken once
    assert isinstance(again, Err) and again.value is None
    future.drop()
    assert taken == []


def test_an_ended_instance_releases_children_before_their_parents() -> None:
    scope = WasiScope(WasiContext.create(), HttpClient())
    waker = scope.context.waker
    body = IncomingBodyAdapter(IncomingBody(waker))
    stream = body.stream()
    response_body = OutgoingBodyAdapter(OutgoingBody(waker, for_request=False))
    scope.incoming_body.insert(body)
    scope.input_stream.insert(stream)
    scope.outgoing_body.insert(response_body)
    scope.close()
    assert body.core.pipe.writer_done()
    with pytest.raises(LastOperationFailed):
        response_body.core.pipe.read(1)
    with pytest.raises(StreamClosed):
        body.core.pipe.read(1)


def test_the_cores_misuse_and_interruptions_trap_with_their_message() -> None:
    for exc in (GuestMisuse("poll: the list of pollables is empty"), Interrupted("timed out")):
        trap = registry._trap_for(exc, "wasi:io/poll@0.2.0#poll")
        assert take_error_message(trap) == f"wasi:io/poll@0.2.0#poll: {exc}"


def test_exit_records_its_status_and_ends_the_instance() -> None:
    statuses: list[int] = []
    host = ExitHost(statuses.append)
    with pytest.raises(GuestExit, match="exited with status 1"):
        host.exit(Err(None))
    with pytest.raises(GuestExit, match="exited with status 0"):
        host.exit(Ok(None))
    assert statuses == [1, 0]
