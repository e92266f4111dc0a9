"""wasi:http requests, responses, bodies, futures and error codes alone (no server, no guest)."""

from __future__ import annotations

import threading

import pytest
from wasi_support import later

from kvredis.wasi import GuestMisuse
from kvredis.wasi.filesystem.types import filesystem_error_code
from kvredis.wasi.http.bodies import IncomingBody, OutgoingBody
from kvredis.wasi.http.errors import (
    AlreadyTaken,
    DnsErrorPayload,
    Failed,
    FieldSizePayload,
    HttpError,
    HttpErrorCode,
    ImmutableFields,
    InvalidValue,
    Received,
    http_error_code,
)
from kvredis.wasi.http.fields import Fields
from kvredis.wasi.http.futures import HttpFuture, Outcome
from kvredis.wasi.http.messages import (
    IncomingRequest,
    IncomingResponse,
    OutgoingRequest,
    OutgoingResponse,
    RequestOptions,
    ResponseOutparam,
)
from kvredis.wasi.io.error import IoError
from kvredis.wasi.io.poll import Waker, poll
from kvredis.wasi.io.promise import Promise
from kvredis.wasi.io.streams import MAX_CHUNK, InputStream, LastOperationFailed, StreamClosed


def drain(stream: InputStream) -> bytes:
    data = b""
    try:
        while True:
            data += stream.blocking_read(MAX_CHUNK)
    except StreamClosed:
        return data


def request(body: IncomingBody) -> IncomingRequest:
    return IncomingRequest(
        method="POST",
        path_with_query="/count?by=2",
        scheme="http",
        authority="localhost:8000",
        headers=Fields.from_host([("content-type", b"text/plain")]),
        body=body,
    )


def in_thread(action: object, *args: object) -> threading.Thread:
    assert callable(action)
    thread = threading.Thread(target=action, args=args)
    thread.start()
    return thread


# Incoming requests and bodies.


def test_an_incoming_request_shows_its_parts_and_gives_its_body_once() -> None:
    waker = Waker()
    incoming = request(IncomingBody.complete(b"payload", waker))
    assert (incoming.method, incoming.path_with_query) == ("POST", "/count?by=2")
    assert (incoming.scheme, incoming.authority) == ("http", "localhost:8000")
    with pytest.raises(ImmutableFields):
        incoming.headers.append("x", b"1")
    body = incoming.consume()
    with pytest.raises(AlreadyTaken):
        incoming.consume()
    stream = body.stream()
    with pytest.raises(AlreadyTaken):
        body.stream()
    assert drain(stream) == b"payload"


def test_finish_trades_the_body_for_its_trailers_once() -> None:
    waker = Waker()
    trailers = Fields.from_list([("x-checksum", b"abc")])
    body = IncomingBody.complete(b"data", waker, trailers)
    future = body.finish()
    assert future.subscribe().ready()
    outcome = future.get()
    assert isinstance(outcome, Received)
    assert outcome.value is trailers
    with pytest.raises(ImmutableFields):
        trailers.append("more", b"1")
    with pytest.raises(AlreadyTaken):
        future.get()
    with pytest.raises(GuestMisuse):
        body.finish()


def test_a_streamed_body_arrives_while_the_guest_reads() -> None:
    waker = Waker()
    body = IncomingBody(waker, capacity=1024)
    chunks = [bytes([n]) * 700 for n in range(20)]

    def produce() -> None:
        for chunk in chunks:
            body.pipe.wait_for_room()
            body.pipe.write(chunk)
        body.end()

    producer = in_thread(produce)
    assert drain(body.stream()) == b"".join(chunks)
    producer.join()
    trailers = body.finish()
    assert poll([trailers.subscribe()], waker) == [0]
    assert trailers.get() == Received(None)


def test_trailers_become_ready_when_the_host_resolves_them() -> None:
    waker = Waker()
    body = IncomingBody(waker)
    future = body.finish()
    assert future.get() is None
    assert not future.subscribe().ready()
    with later(0.02, body.end, Fields.from_list([("t", b"1")])):
        assert poll([future.subscribe()], waker) == [0]
    outcome = future.get()
    assert isinstance(outcome, Received)
    assert outcome.value is not None
    assert outcome.value.entries() == [("t", b"1")]


def test_finishing_early_releases_a_host_writer_waiting_for_room() -> None:
    body = IncomingBody(Waker(), capacity=10)
    body.pipe.write(b"0123456789")
    assert not body.pipe.wait_for_room(timeout=0.01)
    body.finish()
    assert body.pipe.wait_for_room(timeout=5)
    assert body.pipe.writer_done()


def test_a_broken_body_fails_its_stream_and_its_trailers() -> None:
    waker = Waker()
    body = IncomingBody(waker)
    stream = body.stream()
    body.pipe.write(b"partial")
    body.fail(HttpErrorCode("connection-terminated"))
    assert stream.read(100) == b"partial"
    with pytest.raises(LastOperationFailed) as failed:
        stream.read(100)
    assert http_error_code(failed.value.error) == HttpErrorCode("connection-terminated")
    assert body.finish().get() == Failed(HttpErrorCode("connection-terminated"))


# Outgoing responses and bodies.


def test_an_outgoing_response_is_200_until_set_and_takes_its_headers() -> None:
    headers = Fields.from_list([("content-type", b"text/plain")])
    response = OutgoingResponse(headers, Waker())
    assert response.status_code == 200
    response.set_status_code(204)
    assert response.status_code == 204
    for invalid in (0, 99, 1000, 65535):
        with pytest.raises(InvalidValue):
            response.set_status_code(invalid)
    assert response.status_code == 204
    assert response.headers is headers
    with pytest.raises(ImmutableFields):
        headers.append("x", b"1")


def test_a_body_is_taken_once_and_so_is_its_stream() -> None:
    response = OutgoingResponse(Fields(), Waker())
    body = response.body()
    assert response.outgoing_body is body
    with pytest.raises(AlreadyTaken):
        response.body()
    body.write()
    with pytest.raises(AlreadyTaken):
        body.write()


def test_a_finished_body_ends_the_stream_then_gives_its_trailers() -> None:
    body = OutgoingResponse(Fields(), Waker()).body()
    out = body.write()
    out.blocking_write_and_flush(b"hello ")
    out.blocking_write_and_flush(b"world")
    trailers = Fields.from_list([("x-done", b"yes")])
    body.finish(trailers)
    assert drain_pipe(body) == b"hello world"
    assert body.trailers is trailers
    assert not trailers.mutable
    with pytest.raises(StreamClosed):
        out.check_write()  # finished: nothing more goes in
    with pytest.raises(GuestMisuse):
        body.finish(None)


def drain_pipe(body: OutgoingBody) -> bytes:
    data = b""
    try:
        while True:
            body.pipe.wait_readable()
            data += body.pipe.read(MAX_CHUNK)
    except StreamClosed:
        return data


def test_a_body_dropped_unfinished_fails_for_its_reader() -> None:
    body = OutgoingResponse(Fields(), Waker()).body()
    body.write().blocking_write_and_flush(b"half")
    body.abandon()
    assert body.pipe.read(100) == b"half"
    with pytest.raises(LastOperationFailed) as failed:
        body.pipe.read(100)
    assert http_error_code(failed.value.error) == HttpErrorCode("HTTP-protocol-error")
    body.abandon()  # dropping after the end changes nothing


def test_a_body_shorter_than_its_content_length_does_not_finish() -> None:
    headers = Fields.from_list([("Content-Length", b"10")])
    body = OutgoingResponse(headers, Waker()).body()
    body.write().blocking_write_and_flush(b"short")
    with pytest.raises(HttpError) as refused:
        body.finish()
    assert refused.value.code == HttpErrorCode("HTTP-response-body-size", 5)
    body.pipe.read(100)
    with pytest.raises(LastOperationFailed):
        body.pipe.read(100)


def test_a_write_past_the_content_length_fails_the_stream() -> None:
    headers = Fields.from_list([("Content-Length", b"4")])
    body = OutgoingRequest(headers, Waker()).body()
    out = body.write()
    out.write(b"1234")
    with pytest.raises(LastOperationFailed) as failed:
        out.write(b"5")
    assert http_error_code(failed.value.error) == HttpErrorCode("HTTP-request-body-size", 5)
    with pytest.raises(StreamClosed):
        out.write(b"5")
    body.finish()  # the four declared bytes were written
    assert drain_pipe(body) == b"1234"


def test_conflicting_content_lengths_refuse_the_body() -> None:
    headers = Fields.from_list([("content-length", b"4"), ("content-length", b"5")])
    with pytest.raises(InvalidValue):
        OutgoingResponse(headers, Waker()).body()


def test_a_slow_reader_shrinks_the_body_write_permit() -> None:
    waker = Waker()
    body = OutgoingBody(waker, for_request=False, capacity=1000)
    out = body.write()
    out.write(bytes(1000))
    assert out.check_write() == 0
    assert not out.subscribe().ready()
    with later(0.02, body.pipe.read, 600):
        poll([out.subscribe()], waker)
    assert out.check_write() == 600


# Outgoing requests and options.


def test_an_outgoing_request_starts_as_a_bare_get() -> None:
    outgoing = OutgoingRequest(Fields(), Waker())
    assert (outgoing.method, outgoing.path_with_query) == ("GET", None)
    assert (outgoing.scheme, outgoing.authority) == (None, None)
    with pytest.raises(ImmutableFields):
        outgoing.headers.append("x", b"1")


def check_setter(part: str, value: str | None, valid: bool) -> None:
    """`set_<part>(value)` takes a valid value and refuses an invalid one, keeping the old."""
    outgoing = OutgoingRequest(Fields(), Waker())
    before = getattr(outgoing, part)
    setter = getattr(outgoing, f"set_{part}")
    if valid:
        setter(value)
        assert getattr(outgoing, part) == value
    else:
        with pytest.raises(InvalidValue):
            setter(value)
        assert getattr(outgoing, part) == before


@pytest.mark.parametrize("method", ["GET", "PATCH", "PROPFIND", "get", "M-SEARCH"])
def test_valid_methods(method: str) -> None:
    check_setter("method", method, valid=True)


@pytest.mark.parametrize("method", ["", "BAD METHOD", "GET\r\n", "(x)"])
def test_invalid_methods(method: str) -> None:
    check_setter("method", method, valid=False)


@pytest.mark.parametrize(
    ("path", "valid"),
    [
        ("/", True),
        ("/a/b?c=d&e=%20", True),
        ("*", True),
        (None, True),
        ("", True),
        ("/with space", False),
        ("/frag#ment", False),
        ("/new\nline", False),
        ("/ünï", False),
    ],
)
def test_path_with_query(path: str | None, valid: bool) -> None:
    check_setter("path_with_query", path, valid)


@pytest.mark.parametrize(
    ("scheme", "valid"),
    [("http", True), ("https", True), ("git+ssh", True), (None, True), ("", False)]
    + [("1http", False), ("ht tp", False), ("a" * 65, False)],
)
def test_scheme(scheme: str | None, valid: bool) -> None:
    check_setter("scheme", scheme, valid)


@pytest.mark.parametrize(
    ("authority", "valid"),
    [
        ("example.com", True),
        ("example.com:443", True),
        ("127.0.0.1:80", True),
        ("[::1]", True),
        ("[2001:db8::1]:8080", True),
        ("user:pass@example.com", True),
        (None, True),
        ("", False),
        ("example.com:", False),
        ("example.com:abc", False),
        ("example.com:65536", False),
        ("[::1]:abc", False),
        ("[::1]x", False),
        ("exa mple.com", False),
        ("a/b", False),
        ("bad user@host", False),
    ],
)
def test_authority(authority: str | None, valid: bool) -> None:
    check_setter("authority", authority, valid)


def test_request_options_hold_timeouts_in_nanoseconds() -> None:
    options = RequestOptions()
    assert (options.connect_timeout, options.first_byte_timeout) == (None, None)
    options.set_connect_timeout(1_000_000_000)
    options.set_first_byte_timeout(2_000_000_000)
    options.set_between_bytes_timeout(3_000_000_000)
    options.set_connect_timeout(None)
    assert options.connect_timeout is None
    assert (options.first_byte_timeout, options.between_bytes_timeout) == (2 * 10**9, 3 * 10**9)


# The response outparam and the response future.


def test_the_outparam_is_set_once_and_the_host_hears_of_it() -> None:
    outparam = ResponseOutparam()
    response = OutgoingResponse(Fields(), Waker())
    waiter_saw: list[bool] = []
    waiter = in_thread(lambda: waiter_saw.append(outparam.response.wait(timeout=5)))
    outparam.set(Received(response))
    waiter.join()
    assert waiter_saw == [True]
    assert outparam.response.value() == Received(response)
    with pytest.raises(GuestMisuse, match="twice"):
        outparam.set(Failed(HttpErrorCode.internal_error("late")))


def test_a_response_future_resolves_from_the_client_thread() -> None:
    waker = Waker()
    promise: Promise[Outcome[IncomingResponse]] = Promise()
    future = HttpFuture(promise, waker)
    assert future.get() is None
    answer = IncomingResponse(
        status=201, headers=Fields.from_host([]), body=IncomingBody.complete(b"made", waker)
    )
    with later(0.02, promise.resolve, Received(answer)):
        assert poll([future.subscribe()], waker) == [0]
    outcome = future.get()
    assert isinstance(outcome, Received)
    assert outcome.value.status == 201
    assert drain(outcome.value.consume().stream()) == b"made"
    with pytest.raises(AlreadyTaken):
        future.get()


def test_a_failed_response_future() -> None:
    promise: Promise[Outcome[IncomingResponse]] = Promise()
    future = HttpFuture(promise, Waker())
    promise.resolve(Failed(HttpErrorCode("connection-refused")))
    assert future.get() == Failed(HttpErrorCode("connection-refused"))


# Error codes.


def test_error_codes_check_their_case_and_payload() -> None:
    assert str(HttpErrorCode("DNS-timeout")) == "DNS-timeout"
    assert HttpErrorCode.internal_error("boom").payload == "boom"
    assert HttpErrorCode("HTTP-request-body-size").payload is None  # option<u64>: none
    HttpErrorCode("DNS-error", DnsErrorPayload(rcode="NXDOMAIN"))
    HttpErrorCode("HTTP-response-header-size", FieldSizePayload("x-big", 10_000))
    with pytest.raises(ValueError, match="no error-code case"):
        HttpErrorCode("teapot")
    with pytest.raises(TypeError):
        HttpErrorCode("DNS-timeout", "unexpected")
    with pytest.raises(TypeError):
        HttpErrorCode("DNS-error")  # its payload is not optional
    with pytest.raises(TypeError):
        HttpErrorCode("HTTP-request-body-size", "ten")


def test_io_errors_downcast_to_their_own_interface_only() -> None:
    http = IoError("cut", HttpErrorCode("connection-terminated"))
    plain = IoError("plain")
    assert http_error_code(http) == HttpErrorCode("connection-terminated")
    assert http_error_code(plain) is None
    assert filesystem_error_code(http) is None
