"""Named keyvalue links: which server (which keyvalue core) a component's `open` goes to.

wasmCloud links a component to a provider under a name (`default` unless given); a component
linked more than once on the same interface picks one with `wasmcloud:bus/lattice`'s
`set-link-name(name, interfaces)`, which holds for its following calls. Here a link is a
keyvalue core, and the choice is the instance's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kvredis.core import Bucket, KeyValueCore, StoreFailure
from kvredis.errors import ConfigError

DEFAULT_LINK = "default"
# The interface whose link decides where `open` goes: a bucket keeps the link it was opened
# on, so its atomics, batch and cas calls follow it.
KEYVALUE_STORE = ("wasi", "keyvalue", "store")


def check_link_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ConfigError(f"link names are non-empty strings, not {name!r}")
    return name


class LinkTable:
    """One instance's links and its choice among them; opens buckets like a keyvalue core."""

    def __init__(self, cores: Mapping[str, KeyValueCore]) -> None:
        self._cores = dict(cores)
        self._chosen: dict[tuple[str, str, str], str] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self._cores)

    def set_link_name(self, name: str, interfaces: Iterable[tuple[str, str, str]]) -> None:
        """Use link `name` for these (namespace, package, interface) from now on. An unknown
        name is accepted here, as wasmcloud:bus@1.0.0 has no error to give; the next `open`
        answers with an error naming it."""
        for interface in interfaces:
            self._chosen[interface] = name

    def link_of(self, interface: tuple[str, str, str]) -> str:
        return self._chosen.get(interface, DEFAULT_LINK)

    def open(self, identifier: str) -> Bucket:
        name = self.link_of(KEYVALUE_STORE)
        core = self._cores.get(name)
        if core is None:
            raise StoreFailure(
                f"no keyvalue link named {name!r} (chosen with set-link-name); "
                f"this host has: {', '.join(self.names)}"
            )
        return core.open(identifier)
