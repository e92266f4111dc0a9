"""The Redis layer: one small backend protocol, each backend in a file of its own."""

from kvredis.backend.base import Backend, BackendError
from kvredis.backend.settings import ConnectionSettings

__all__ = ["Backend", "BackendError", "ConnectionSettings"]
