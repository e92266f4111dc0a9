"""Redis URLs: the schemes and query parameters we accept, the Redis Cluster parameters
(`?cluster=yes|no`, `?addr=host:port` for more seed nodes, as go-redis reads them), and
redaction of credentials for every message."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from kvredis.errors import ConfigError

SCHEMES = ("redis", "rediss", "unix")
_REDACTED = "***"
_SECRET_PARAMS = frozenset({"password", "pass", "pwd", "token", "auth"})
# Up to the next whitespace: a password may hold quotes or brackets, and what redact() keeps
# of a trailing quote or period is harmless.
_URL_IN_TEXT = re.compile(r"\b(?:redis|rediss|unix|valkey|valkeys)://\S+")
_TRAILING = ":;,.?!)]'\""


class UrlError(ConfigError, ValueError):
    """A Redis URL kvredis cannot use; the message names what is wrong, never the password."""


def check_url(url: str) -> str:
    """Validate a Redis URL; returns it unchanged, or raises `UrlError` (a `ConfigError`) that
    says what is wrong: a query parameter kvredis does not read, or a bad value for one it
    does, included. Messages never contain its password."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UrlError(f"malformed Redis URL {redact(url)}: {exc}") from None
    if not url.strip():
        raise UrlError("empty Redis URL: use redis://, rediss:// or unix://")
    if "://" not in url:
        shown = redact(url)
        hint = f"unix://{shown}" if url.startswith("/") else f"redis://{shown}"
        raise UrlError(
            f"{shown} is not a Redis URL (no scheme); did you mean {hint}? "
            "Use redis://, rediss:// or unix://"
        )
    if parts.scheme not in SCHEMES:
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise UrlError(
            f"unsupported Redis URL scheme ({shown}) in {redact(url)}: "
            "use redis://, rediss:// or unix://"
        )
    problem = _problem(parts)
    if problem is None:
        return url
    rest = url.split("://", 1)[-1]
    if "@" in rest and not rest.startswith("/") and "@" not in parts.netloc:
        problem = "its user or password holds '/', '?' or '#': percent-encode them (%2F, %3F, %23)"
    raise UrlError(f"Redis URL {redact(url)}: {problem}")


def _problem(parts: SplitResult) -> str | None:
    if parts.scheme == "unix":
        return _query_problem(parts) if parts.path else "no socket path"
    if not parts.hostname:
        return "no host"
    try:
        parts.port  # noqa: B018 - parsing validates the port
    except ValueError:
        return "invalid port"
    database = parts.path.strip("/")
    if database and not database.isdigit():
        return f"the path must be a database number, not {database[:20]!r}"
    return _query_problem(parts)


def _query_problem(parts: SplitResult) -> str | None:
    """What is wrong with the URL's query, if anything. Parameters kvredis does not read are
    refused rather than ignored: a typo must not pass for a setting."""
    tls = parts.scheme == "rediss"
    seen: set[str] = set()
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        check = _QUERY_PARAMETERS.get(name) or (_TLS_QUERY_PARAMETERS.get(name) if tls else None)
        if check is None and parts.scheme != "unix":
            check = _CLUSTER_PARAMETERS.get(name)
        if check is None:
            if name in _TLS_QUERY_PARAMETERS:
                return f"?{name} applies only to rediss:// URLs"
            if name in _CLUSTER_PARAMETERS:
                return f"?{name} applies only to redis:// and rediss:// URLs (a cluster speaks TCP)"
            return f"unknown query parameter ?{name[:40]}; {_ACCEPTED}"
        if name in seen and name not in _REPEATABLE:
            return f"?{name} is given twice"
        seen.add(name)
        problem = check(value)
        if problem is not None:
            shown = _REDACTED if name in _SECRET_PARAMS else value[:40]
            return f"?{name}={shown}: {problem}"
    if "db" in seen and parts.scheme != "unix" and parts.path.strip("/"):
        return "the database is given twice, in the path and as ?db"
    if "addr" in seen and ("cluster", "no") in parse_qsl(parts.query):
        return "?addr names more cluster nodes, but ?cluster=no says this is no cluster"
    return None


def _database(value: str) -> str | None:
    return None if value.isascii() and value.isdigit() else "must be a database number"


def _anything(_value: str) -> str | None:
    return None


def _one_of(*choices: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _file(value: str) -> str | None:
    return None if os.path.isfile(value) else "no such file"


def _address(value: str) -> str | None:
    try:
        parse_address(value)
    except ValueError as exc:
        return str(exc)
    return None


def parse_address(text: str) -> tuple[str, int]:
    """`host:port` (`[v6]:port` for IPv6) as (host, port); ValueError says what is wrong."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isascii() or not port.isdigit():
        raise ValueError("must be host:port")
    if not 0 < int(port) < 65536:
        raise ValueError("the port must be 1 to 65535")
    return host, int(port)


# The query parameters kvredis reads (redis-py applies them), and how each is checked.
_QUERY_PARAMETERS: dict[str, Callable[[str], str | None]] = {
    "db": _database,
    "username": _anything,
    "password": _anything,
}
_TLS_QUERY_PARAMETERS: dict[str, Callable[[str], str | None]] = {
    "ssl_cert_reqs": _one_of("none", "optional", "required"),
    "ssl_check_hostname": _one_of("true", "false", "yes", "no", "1", "0"),
    "ssl_ca_certs": _file,
    "ssl_certfile": _file,
    "ssl_keyfile": _file,
}
# Redis Cluster: force the cluster backend on or off, and more seed nodes (go-redis's names).
_CLUSTER_PARAMETERS: dict[str, Callable[[str], str | None]] = {
    "cluster": _one_of("yes", "no"),
    "addr": _address,
}
_REPEATABLE = frozenset({"addr"})
_ACCEPTED = (
    f"kvredis reads {', '.join(_QUERY_PARAMETERS)}, {', '.join(_CLUSTER_PARAMETERS)} and, in "
    f"rediss:// URLs, {', '.join(_TLS_QUERY_PARAMETERS)}"
)


@dataclass(frozen=True)
class ClusterOptions:
    """What a URL says about Redis Cluster. `url` is the URL without `?cluster` and `?addr`
    (a connection to any node uses it); `mode` is True for `?cluster=yes`, False for
    `?cluster=no`, None to find out from the server (also True when `?addr` is given);
    `seeds` are the `?addr` nodes, in order."""

    url: str
    mode: bool | None
    seeds: tuple[tuple[str, int], ...]


def cluster_options(url: str) -> ClusterOptions:
    """The cluster parameters of a URL that `check_url` accepted."""
    parts = urlsplit(url)
    kept, seeds = [], []
    mode: bool | None = None
    for pair in parts.query.split("&") if parts.query else []:
        name, _, value = pair.partition("=")
        name, value = unquote_plus(name), unquote_plus(value)
        if name == "addr":
            seeds.append(parse_address(value))
        elif name == "cluster":
            mode = value == "yes"
        else:
            kept.append(pair)  # byte-exact: a password keeps its encoding
    if seeds and mode is None:
        mode = True
    base = urlunsplit(parts._replace(query="&".join(kept)))
    if not parts.netloc and url.startswith(f"{parts.scheme}://"):
        base = url.split("?", 1)[0] + (f"?{'&'.join(kept)}" if kept else "")
    return ClusterOptions(base, mode, tuple(seeds))


def with_address(url: str, host: str, port: int) -> str:
    """`url` (redis:// or rediss://, no cluster parameters) pointed at another node: the
    same credentials, database and query."""
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    shown_host = f"[{host}]" if ":" in host else host
    return urlunsplit(parts._replace(netloc=f"{userinfo}{at}{shown_host}:{port}"))


def _hide_userinfo(userinfo: str) -> str:
    if ":" in userinfo:
        return f"{userinfo.split(':', 1)[0]}:{_REDACTED}"
    # redis://secret@host: a lone userinfo may be a password (or a token).
    return _REDACTED if userinfo else ""


def redact(url: str) -> str:
    """The URL with any password (in the authority or the query) replaced by ***.

    Errs on the side of hiding: a password with an unencoded `/`, `?` or `#` (which URL
    parsers take for the start of the path, query or fragment) is hidden too.
    """
    scheme, sep, rest = url.partition("://")
    try:
        parts = urlsplit(url)
        if sep and "@" in rest and not rest.startswith("/") and "@" not in parts.netloc:
            # The parser ended the authority early, inside the password: everything up to
            # the last '@' is the userinfo.
            userinfo, _, after = rest.rpartition("@")
            parts = urlsplit(f"{scheme}://{_hide_userinfo(userinfo)}@{after}")
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{_hide_userinfo(userinfo)}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, _REDACTED if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*:[]"
        )
    # Redis URLs have no use for a fragment; it can only be the tail of a password with '#'.
    fragment = _REDACTED if parts.fragment else ""
    if not netloc and url.startswith(f"{parts.scheme}://"):
        # urlunsplit would shorten unix:///path to unix:/path
        text = f"{parts.scheme}://{parts.path}"
        text += f"?{query}" if query else ""
        return text + (f"#{fragment}" if fragment else "")
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def _redact_match(match: re.Match[str]) -> str:
    # Punctuation that ends the sentence around a URL ("... at redis://h:1: refused") is
    # not part of the URL.
    found = match.group(0)
    url = found.rstrip(_TRAILING)
    return redact(url) + found[len(url) :]


def redact_text(text: str, *secrets: str) -> str:
    """Redact every Redis URL found in free text, and any of the given secret strings."""
    text = _URL_IN_TEXT.sub(_redact_match, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text
