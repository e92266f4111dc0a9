"""Redis URLs: the schemes we accept, and redaction of credentials for every message."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SCHEMES = ("redis", "rediss", "unix")
_REDACTED = "***"
_SECRET_PARAMS = frozenset({"password", "pass", "pwd", "token", "auth"})
_URL_IN_TEXT = re.compile(r"\b(?:redis|rediss|unix|valkey|valkeys)://[^\s'\"<>]+")


class UrlError(ValueError):
    pass


def check_url(url: str) -> str:
    """Validate a Redis URL; returns it unchanged. Messages never contain its password."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UrlError(f"malformed Redis URL {redact(url)}: {exc}") from None
    if parts.scheme not in SCHEMES:
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise UrlError(
            f"unsupported Redis URL scheme ({shown}) in {redact(url)}: "
            "use redis://, rediss:// or unix://"
        )
    if parts.scheme == "unix" and not parts.path:
        raise UrlError(f"unix:// URL without a socket path: {redact(url)}")
    if parts.scheme != "unix":
        if not parts.hostname:
            raise UrlError(f"Redis URL without a host: {redact(url)}")
        try:
            parts.port  # noqa: B018 - parsing validates the port
        except ValueError:
            raise UrlError(f"Redis URL with an invalid port: {redact(url)}") from None
    return url


def redact(url: str) -> str:
    """The URL with any password (in the authority or the query) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{_REDACTED}@{host}"
        elif userinfo:
            # redis://secret@host: a lone userinfo is taken as the password.
            netloc = f"{_REDACTED}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, _REDACTED if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*"
        )
    if not netloc and url.startswith(f"{parts.scheme}://"):
        # urlunsplit would shorten unix:///path to unix:/path
        text = f"{parts.scheme}://{parts.path}"
        text += f"?{query}" if query else ""
        return text + (f"#{parts.fragment}" if parts.fragment else "")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str, *secrets: str) -> str:
    """Redact every Redis URL found in free text, and any of the given secret strings."""
    text = _URL_IN_TEXT.sub(lambda m: redact(m.group(0)), text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text
