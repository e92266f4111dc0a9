"""wasi:http errors: the `error-code` variant, `header-error`, and the payload-less `err`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from kvredis.wasi.errors import CodedError
from kvredis.wasi.io.error import IoError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DnsErrorPayload:
    rcode: str | None = None
    info_code: int | None = None


@dataclass(frozen=True, slots=True)
class TlsAlertReceivedPayload:
    alert_id: int | None = None
    alert_message: str | None = None


@dataclass(frozen=True, slots=True)
class FieldSizePayload:
    field_name: str | None = None
    field_size: int | None = None


Payload = None | int | str | DnsErrorPayload | TlsAlertReceivedPayload | FieldSizePayload

_NONE = frozenset(
    {
        "DNS-timeout",
        "destination-not-found",
        "destination-unavailable",
        "destination-IP-prohibited",
        "destination-IP-unroutable",
        "connection-refused",
        "connection-terminated",
        "connection-timeout",
        "connection-read-timeout",
        "connection-write-timeout",
        "connection-limit-reached",
        "TLS-protocol-error",
        "TLS-certificate-error",
        "HTTP-request-denied",
        "HTTP-request-length-required",
        "HTTP-request-method-invalid",
        "HTTP-request-URI-invalid",
        "HTTP-request-URI-too-long",
        "HTTP-response-incomplete",
        "HTTP-response-timeout",
        "HTTP-upgrade-failed",
        "HTTP-protocol-error",
        "loop-detected",
        "configuration-error",
    }
)
# The cases with a payload: its type, and whether the WIT wraps it in an `option`.
_WITH_PAYLOAD: dict[str, tuple[type, bool]] = {
    "DNS-error": (DnsErrorPayload, False),
    "TLS-alert-received": (TlsAlertReceivedPayload, False),
    "HTTP-request-body-size": (int, True),
    "HTTP-request-header-section-size": (int, True),
    "HTTP-request-header-size": (FieldSizePayload, True),
    "HTTP-request-trailer-section-size": (int, True),
    "HTTP-request-trailer-size": (FieldSizePayload, False),
    "HTTP-response-header-section-size": (int, True),
    "HTTP-response-header-size": (FieldSizePayload, False),
    "HTTP-response-body-size": (int, True),
    "HTTP-response-trailer-section-size": (int, True),
    "HTTP-response-trailer-size": (FieldSizePayload, False),
    "HTTP-response-transfer-coding": (str, True),
    "HTTP-response-content-coding": (str, True),
    "internal-error": (str, True),
}
ERROR_CASES = _NONE | frozenset(_WITH_PAYLOAD)


@dataclass(frozen=True, slots=True)
class HttpErrorCode:
    """A case of the `error-code` variant, spelled as in the WIT (`HTTP-request-denied`),
    with its payload (None for the cases without one, or for an `option` that is `none`)."""

    case: str
    payload: Payload = None

    def __post_init__(self) -> None:
        if self.case in _NONE:
            if self.payload is not None:
                raise TypeError(f"error-code {self.case} carries no payload")
            return
        if self.case not in _WITH_PAYLOAD:
            raise ValueError(f"no error-code case {self.case!r}")
        kind, optional = _WITH_PAYLOAD[self.case]
        if self.payload is None and optional:
            return
        if not isinstance(self.payload, kind) or isinstance(self.payload, bool):
            raise TypeError(f"error-code {self.case} carries a {kind.__name__}")

    @classmethod
    def internal_error(cls, message: str | None = None) -> HttpErrorCode:
        return cls("internal-error", message)

    def __str__(self) -> str:
        return self.case if self.payload is None else f"{self.case}({self.payload!r})"


class HttpError(CodedError[HttpErrorCode]):
    """An http call answered with `err(error-code)`."""


def http_error_code(error: IoError) -> HttpErrorCode | None:
    """`http-error-code`: the code behind a body stream's error, when HTTP caused it."""
    return error.code if isinstance(error.code, HttpErrorCode) else None


class HeaderError(Exception):
    """A `header-error`; the subclasses are its cases."""


class InvalidHeaderSyntax(HeaderError):
    """`header-error::invalid-syntax`: a name or value HTTP does not allow."""


class ForbiddenHeader(HeaderError):
    """`header-error::forbidden`: a header the host manages (connection, host, ...)."""


class ImmutableFields(HeaderError):
    """`header-error::immutable`: these fields belong to a request, response or trailers."""


class UnitError(Exception):
    """A `result` whose `err` carries nothing; the subclasses say why, for logs and tests."""


class AlreadyTaken(UnitError):
    """What may be taken once (a body, its stream, a future's value) was taken before."""


class InvalidValue(UnitError):
    """A setter got a value HTTP does not allow (a method, path, scheme, authority, status)."""


@dataclass(frozen=True, slots=True)
class Received(Generic[T]):
    """The `ok` of an inner `result<T, error-code>`: what arrived."""

    value: T


@dataclass(frozen=True, slots=True)
class Failed:
    """The `err` of an inner `result<T, error-code>`."""

    error: HttpErrorCode
