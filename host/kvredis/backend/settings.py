"""Connection tuning, with the meanings of wasmCloud's keyvalue-redis provider settings."""

from __future__ import annotations

import os
from dataclasses import dataclass

from kvredis.errors import ConfigError


@dataclass(frozen=True)
class ConnectionSettings:
    """How the Redis layer connects, waits and retries. Times are in milliseconds.

    `reconnect_retries` and `reconnect_max_delay_ms` mirror the provider's
    BACKEND_RECONNECT_NUM_RETRIES and BACKEND_RECONNECT_MAX_DELAY_MS; `connection_timeout_ms`
    and `response_timeout_ms` mirror BACKEND_CONNECTION_TIMEOUT_MS and
    BACKEND_RESPONSE_TIMEOUT_MS. `op_budget_ms` bounds one keyvalue operation as a whole,
    retries included, so a guest always gets an answer in bounded time.

    A value out of range raises `ConfigError`, naming the setting.
    """

    reconnect_retries: int = 3
    reconnect_max_delay_ms: int = 300
    connection_timeout_ms: int = 1000
    response_timeout_ms: int = 1000
    op_budget_ms: int = 2000
    tls_ca_cert: str | None = None

    def __post_init__(self) -> None:
        for name, least in _LEAST.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"{name} must be an integer, not {value!r}")
            if value < least:
                raise ConfigError(f"{name} must be at least {least}, not {value}")
            if name.endswith("_ms") and value > MAX_MS:
                raise ConfigError(f"{name} must be at most {MAX_MS} (a day), not {value}")
        if self.tls_ca_cert is not None:
            if not isinstance(self.tls_ca_cert, str | os.PathLike):
                raise ConfigError(f"tls_ca_cert must be a file name, not {self.tls_ca_cert!r}")
            if not os.path.isfile(self.tls_ca_cert):
                raise ConfigError(f"tls_ca_cert {self.tls_ca_cert}: no such file")
            object.__setattr__(self, "tls_ca_cert", os.fspath(self.tls_ca_cert))


# The smallest value of each setting: timeouts must leave some time to wait.
_LEAST = {
    "reconnect_retries": 0,
    "reconnect_max_delay_ms": 0,
    "connection_timeout_ms": 1,
    "response_timeout_ms": 1,
    "op_budget_ms": 1,
}
# Longer waits than this are surely a mistake, and sockets cannot take much longer ones.
MAX_MS = 24 * 60 * 60 * 1000
