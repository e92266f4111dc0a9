"""The `fields` resource (headers and trailers) with the WIT's rules.

- Names are compared without regard to case, and kept as given; entries keep their order.
- A name or value HTTP does not allow is `invalid-syntax`; a header the host manages
  (`FORBIDDEN`) is `forbidden`, whether set, appended or deleted.
- Fields attached to a request, response or trailers are `immutable` from then on;
  `clone` gives a mutable copy.
- Fields that come from the host (an incoming request or response) are immutable and never
  show a forbidden header to the guest.
- A guest growing fields past `MAX_FIELDS_SIZE` traps, as in wasmtime.
"""

from __future__ import annotations

from collections.abc import Iterable

from kvredis.wasi.errors import GuestMisuse
from kvredis.wasi.http.errors import ForbiddenHeader, ImmutableFields, InvalidHeaderSyntax
from kvredis.wasi.http.syntax import is_content_length, is_field_value, is_token

FORBIDDEN = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "host",
        "http2-settings",
    }
)
MAX_FIELDS_SIZE = 128 * 1024  # bytes of names and values together
CONTENT_LENGTH = "content-length"


def _checked_name(name: str) -> str:
    """The name's lowercase form, once it is a valid name the guest may use."""
    if not is_token(name):
        raise InvalidHeaderSyntax(f"invalid field name {name!r}")
    key = name.lower()
    if key in FORBIDDEN:
        raise ForbiddenHeader(f"the host manages the {key} header")
    return key


def _checked_value(key: str, value: bytes) -> bytes:
    valid = is_content_length(value) if key == CONTENT_LENGTH else is_field_value(value)
    if not valid:
        raise InvalidHeaderSyntax(f"invalid value for field {key!r}")
    return bytes(value)


class Fields:
    """An ordered list of (name, value) with case-insensitive names."""

    def __init__(self) -> None:
        self._entries: list[tuple[str, bytes]] = []
        self._size = 0
        self._mutable = True

    @classmethod
    def from_list(cls, entries: Iterable[tuple[str, bytes]]) -> Fields:
        """`fields.from-list`: every entry validated as `append` would."""
        fields = cls()
        for name, value in entries:
            fields.append(name, value)
        return fields

    @classmethod
    def from_host(cls, entries: Iterable[tuple[str, bytes]]) -> Fields:
        """Immutable fields from the host's side of HTTP: forbidden and malformed entries
        are left out (a server or client library has already checked the rest)."""
        fields = cls()
        for name, value in entries:
            key = name.lower()
            if key not in FORBIDDEN and is_token(name) and is_field_value(value):
                fields._entries.append((name, bytes(value)))
        fields._size = _size_of(fields._entries)
        fields.freeze()
        return fields

    @property
    def mutable(self) -> bool:
        return self._mutable

    def freeze(self) -> None:
        """Attached to a request, response or trailers: no more changes."""
        self._mutable = False

    def get(self, name: str) -> list[bytes]:
        key = name.lower()
        return [value for entry, value in self._entries if entry.lower() == key]

    def has(self, name: str) -> bool:
        key = name.lower()
        return any(entry.lower() == key for entry, _ in self._entries)

    def set(self, name: str, values: Iterable[bytes]) -> None:
        """Replace every value of `name`, where its first value was (else at the end)."""
        key = self._check_change(name)
        new = [(name, _checked_value(key, value)) for value in values]
        kept: list[tuple[str, bytes]] = []
        for entry in self._entries:
            if entry[0].lower() != key:
                kept.append(entry)
            elif new:
                kept.extend(new)
                new = []
        self._replace(kept + new)

    def delete(self, name: str) -> None:
        key = self._check_change(name)
        self._replace([entry for entry in self._entries if entry[0].lower() != key])

    def append(self, name: str, value: bytes) -> None:
        key = self._check_change(name)
        entry = (name, _checked_value(key, value))
        self._check_size(self._size + _size_of([entry]))
        self._entries.append(entry)
        self._size += _size_of([entry])

    def entries(self) -> list[tuple[str, bytes]]:
        return list(self._entries)

    def clone(self) -> Fields:
        """A mutable copy."""
        copy = Fields()
        copy._entries = list(self._entries)
        copy._size = self._size
        return copy

    def content_length(self) -> int | None:
        """The declared body length; `ValueError` when it is malformed or contradicts itself."""
        values = {value.strip() for value in self.get(CONTENT_LENGTH)}
        if not values:
            return None
        if len(values) > 1 or not is_content_length(next(iter(values))):
            raise ValueError("conflicting or malformed content-length")
        return int(next(iter(values)))

    def _check_change(self, name: str) -> str:
        key = _checked_name(name)
        if not self._mutable:
            raise ImmutableFields("these fields belong to a request, response or trailers")
        return key

    def _replace(self, entries: list[tuple[str, bytes]]) -> None:
        size = _size_of(entries)
        self._check_size(size)
        self._entries = entries
        self._size = size

    @staticmethod
    def _check_size(size: int) -> None:
        if size > MAX_FIELDS_SIZE:
            raise GuestMisuse(f"fields grew past {MAX_FIELDS_SIZE} bytes")


def _size_of(entries: list[tuple[str, bytes]]) -> int:
    return sum(len(name) + len(value) for name, value in entries)
