"""The outgoing side of wasi:http without a network: where a guest's request may go, and which
error-code each failure of httpx (or the socket under it) becomes."""

from __future__ import annotations

import socket

import httpx
import pytest

from kvredis.wasi.http.client import error_code_for, request_url
from kvredis.wasi.http.errors import DnsErrorPayload, HttpError, HttpErrorCode
from kvredis.wasi.http.fields import Fields
from kvredis.wasi.http.messages import OutgoingRequest
from kvredis.wasi.io.poll import Waker


def outgoing(scheme: str | None, authority: str | None, path: str | None) -> OutgoingRequest:
    request = OutgoingRequest(Fields(), Waker())
    request.set_scheme(scheme)
    request.set_authority(authority)
    request.set_path_with_query(path)
    return request


def test_a_request_goes_over_http_to_slash_unless_it_says_otherwise() -> None:
    assert (
        str(request_url(outgoing(None, "example.test:8080", None))) == "http://example.test:8080/"
    )
    assert (
        str(request_url(outgoing("https", "example.test", "/a?b=1")))
        == "https://example.test/a?b=1"
    )


@pytest.mark.parametrize(("scheme", "authority"), [("ftp", "example.test"), ("http", None)])
def test_a_request_without_an_http_url_is_refused_at_once(
    scheme: str, authority: str | None
) -> None:
    with pytest.raises(HttpError) as raised:
        request_url(outgoing(scheme, authority, "/"))
    assert raised.value.code == HttpErrorCode("HTTP-request-URI-invalid")


def caused_by(exc: httpx.HTTPError, cause: BaseException) -> httpx.HTTPError:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("exc", "before", "case"),
    [
        (httpx.ConnectTimeout("slow"), True, "connection-timeout"),
        (httpx.ReadTimeout("slow"), True, "connection-read-timeout"),
        (httpx.WriteTimeout("slow"), True, "connection-write-timeout"),
        (
            caused_by(httpx.ConnectError("no"), ConnectionRefusedError(111, "refused")),
            True,
            "connection-refused",
        ),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            True,
            "connection-terminated",
        ),
        (
            httpx.RemoteProtocolError("peer closed connection (incomplete chunked read)"),
            False,
            "HTTP-response-incomplete",
        ),
        (httpx.RemoteProtocolError("illegal header line"), True, "HTTP-protocol-error"),
        (httpx.ReadError("reset"), False, "connection-terminated"),
    ],
)
def test_each_failure_becomes_its_error_code(exc: httpx.HTTPError, before: bool, case: str) -> None:
    assert error_code_for(exc, before_response=before).case == case


def test_a_name_that_does_not_resolve_is_a_dns_error_with_the_resolver_message() -> None:
    lookup = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    code = error_code_for(caused_by(httpx.ConnectError("dns"), lookup), before_response=True)
    assert code == HttpErrorCode("DNS-error", DnsErrorPayload(rcode="Name or service not known"))


def test_anything_else_is_an_internal_error_that_names_it() -> None:
    code = error_code_for(RuntimeError("surprise"), before_response=True)
    assert code == HttpErrorCode.internal_error("RuntimeError: surprise")
