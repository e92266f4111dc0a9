"""wasi:http values between the core (plain Python) and the bindings: methods, schemes, the
`error-code` variant and `header-error`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from kvredis.bindings import wasi_http as wit
from kvredis.wasi.http import errors as core

_METHODS: dict[type, str] = {
    wit.MethodGet: "GET",
    wit.MethodHead: "HEAD",
    wit.MethodPost: "POST",
    wit.MethodPut: "PUT",
    wit.MethodDelete: "DELETE",
    wit.MethodConnect: "CONNECT",
    wit.MethodOptions: "OPTIONS",
    wit.MethodTrace: "TRACE",
    wit.MethodPatch: "PATCH",
}
_METHOD_CASES = {name: case for case, name in _METHODS.items()}


def method_name(method: wit.Method) -> str:
    if isinstance(method, wit.MethodOther):
        return method.value
    return _METHODS[type(method)]


def method_of(name: str) -> wit.Method:
    case = _METHOD_CASES.get(name)
    return wit.MethodOther(name) if case is None else case()


def scheme_name(scheme: wit.Scheme | None) -> str | None:
    if scheme is None:
        return None
    if isinstance(scheme, wit.SchemeOther):
        return scheme.value
    return "https" if isinstance(scheme, wit.SchemeHttps) else "http"


def scheme_of(name: str | None) -> wit.Scheme | None:
    if name is None:
        return None
    lowered = name.lower()
    if lowered == "http":
        return wit.SchemeHttp()
    if lowered == "https":
        return wit.SchemeHttps()
    return wit.SchemeOther(name)


def _camel(case: str) -> str:
    """A case name as the bindings spell its class: `DNS-timeout` -> `DnsTimeout`."""
    return "".join(part.capitalize() for part in case.split("-"))


# Each `error-code` case: its class in the bindings, by the WIT name the core uses, and back.
_ERROR_CLASSES: dict[str, type] = {
    case: getattr(wit, "ErrorCode" + _camel(case)) for case in core.ERROR_CASES
}
_ERROR_CASES = {cls: case for case, cls in _ERROR_CLASSES.items()}

# Payload records, between the core's dataclasses and the bindings' (same fields).
_TO_WIT: dict[type, Callable[[Any], Any]] = {
    core.DnsErrorPayload: lambda p: wit.DnsErrorPayload(p.rcode, p.info_code),
    core.TlsAlertReceivedPayload: lambda p: wit.TlsAlertReceivedPayload(
        p.alert_id, p.alert_message
    ),
    core.FieldSizePayload: lambda p: wit.FieldSizePayload(p.field_name, p.field_size),
}
_TO_CORE: dict[type, Callable[[Any], Any]] = {
    wit.DnsErrorPayload: lambda p: core.DnsErrorPayload(p.rcode, p.info_code),
    wit.TlsAlertReceivedPayload: lambda p: core.TlsAlertReceivedPayload(
        p.alert_id, p.alert_message
    ),
    wit.FieldSizePayload: lambda p: core.FieldSizePayload(p.field_name, p.field_size),
}


def _payload(value: object, converters: dict[type, Callable[[Any], Any]]) -> Any:
    convert = converters.get(type(value))
    return value if convert is None else convert(value)


def error_code(code: core.HttpErrorCode) -> wit.ErrorCode:
    cls = _ERROR_CLASSES[code.case]
    if not dataclasses.fields(cls):
        return cls()  # type: ignore[no-any-return]
    return cls(_payload(code.payload, _TO_WIT))  # type: ignore[no-any-return]


def core_error_code(code: wit.ErrorCode) -> core.HttpErrorCode:
    case = _ERROR_CASES[type(code)]
    return core.HttpErrorCode(case, _payload(getattr(code, "value", None), _TO_CORE))


def header_error(exc: core.HeaderError) -> wit.HeaderError:
    if isinstance(exc, core.ForbiddenHeader):
        return wit.HeaderErrorForbidden()
    if isinstance(exc, core.ImmutableFields):
        return wit.HeaderErrorImmutable()
    return wit.HeaderErrorInvalidSyntax()
