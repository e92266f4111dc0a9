"""Errors kvredis raises for expected failures. `str()` of each is one line, safe to show:
URLs inside are redacted, and the CLI prints them without a traceback."""

from __future__ import annotations

from typing import Any


class KvredisError(Exception):
    """Base of every expected failure."""


class ConfigError(KvredisError):
    """A bad option, flag or URL."""


class ComponentLoadError(KvredisError):
    """The file is missing, not a component, or does not compile."""


class UnsatisfiedImports(ComponentLoadError):
    """The component imports something this host does not provide."""

    def __init__(self, path: str, missing: list[str]) -> None:
        super().__init__(
            f"{path}: cannot run: it imports {', '.join(missing)}, which kvredis does not provide"
        )
        self.missing = missing


class RedisUnavailable(KvredisError):
    """The Redis server could not be reached."""


class ExportNotFound(KvredisError):
    def __init__(self, name: str, available: list[str]) -> None:
        listing = ", ".join(available) if available else "none"
        super().__init__(f"the component exports no function {name!r}; its exports: {listing}")
        self.available = available


class InvalidArguments(KvredisError):
    """Arguments that do not match an exported function's parameters."""


class GuestTrap(KvredisError):
    """The guest trapped (its own misuse, a host bug, or a limit)."""


class GuestTimeout(GuestTrap):
    pass


class GuestOutOfMemory(GuestTrap):
    pass


class HostResourceError(KvredisError):
    """The host ran out of a resource that running a component needs (memory or address
    space, for one): not the guest's doing. `.resource` says which ("memory")."""

    def __init__(self, message: str, resource: str) -> None:
        super().__init__(message)
        self.resource = resource


class ComponentError(KvredisError):
    """An exported function answered with the `err` case of its `result`; see `.value`."""

    def __init__(self, function: str, value: Any) -> None:
        super().__init__(f"{function} returned err: {value!r}")
        self.function = function
        self.value = value


class EmbeddedServerError(KvredisError):
    """The embedded Valkey server could not start."""
