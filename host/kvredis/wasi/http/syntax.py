"""What HTTP allows as a field name or value, method, scheme, authority, path and status."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Visible ASCII, space, tab and obs-text: everything but other controls and DEL.
_FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
_DIGITS = re.compile(r"[0-9]+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_SCHEME_MAX = 64
# Visible ASCII without '#': a fragment is never sent, and spaces and controls never allowed.
_PATH_WITH_QUERY = re.compile(r"[\x21-\x22\x24-\x7e]*")
_REG_NAME = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_IP_LITERAL = re.compile(r"\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+\]")
_USERINFO = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*")
_PORT_MAX = 65535

STANDARD_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)


def is_token(text: str) -> bool:
    """A field name or a method: RFC 9110's `token`."""
    return _TOKEN.fullmatch(text) is not None


def is_field_value(value: bytes) -> bool:
    return _FIELD_VALUE.fullmatch(value) is not None


def is_content_length(value: bytes) -> bool:
    """`Content-Length = 1*DIGIT` (no sign, no spaces)."""
    return value.isdigit()


def is_scheme(text: str) -> bool:
    return len(text) <= _SCHEME_MAX and _SCHEME.fullmatch(text) is not None


def is_path_with_query(text: str) -> bool:
    return _PATH_WITH_QUERY.fullmatch(text) is not None


def is_authority(text: str) -> bool:
    """`[userinfo@]host[:port]`: a registered name or an IP literal, and a port in range
    when a `:` announces one."""
    _, at, host_and_port = text.rpartition("@")
    if at and _USERINFO.fullmatch(text[: -len(host_and_port) - 1]) is None:
        return False
    if host_and_port.startswith("["):
        host, bracket, rest = host_and_port.partition("]")
        host, port_part = host + bracket, rest
        if not port_part.startswith(":") and port_part:
            return False
        if _IP_LITERAL.fullmatch(host) is None:
            return False
    else:
        host, colon, port = host_and_port.partition(":")
        port_part = colon + port
        if not host or _REG_NAME.fullmatch(host) is None:
            return False
    if not port_part:
        return True
    port = port_part[1:]
    return _DIGITS.fullmatch(port) is not None and int(port) <= _PORT_MAX


def is_status(code: int) -> bool:
    """A status code as HTTP libraries accept it: three digits, 100 to 999."""
    return 100 <= code <= 999
