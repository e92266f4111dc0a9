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

    `wait_replicas`: above zero, every write is followed by `WAIT wait_replicas` on the same
    connection, and a write that fewer replicas confirm within the budget answers an error
    (it stays written on the primary, which may lose it if it fails before replicating).

    A value out of range raises `ConfigError`, naming the setting.
    """

    reconnect_retries: int = 3
    reconnect_max_delay_ms: int = 300
    connection_timeout_ms: int = 1000
    response_timeout_ms: int = 1000
    op_budget_ms: int = 2000
    tls_ca_cert: str | None = None
    wait_replicas: int = 0

    def __post_init__(self) -> None:
        for name, least in _LEAST.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"{name} must be an integer, not {value!r}")
            if value < least:
                raise ConfigError(f"{name} must be at least {least}, not {value}")
            if name.endswith("_ms") and value > MAX_MS:
                raise ConfigError(f"{name} must be at most {MAX_MS} (a day), not {value}")
        if self.wait_replicas > MAX_WAIT_REPLICAS:
            raise ConfigError(
                f"wait_replicas must be at most {MAX_WAIT_REPLICAS}, not {self.wait_replicas}"
            )
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
    "wait_replicas": 0,
}
# Longer waits than this are surely a mistake, and sockets cannot take much longer ones.
MAX_MS = 24 * 60 * 60 * 1000
# More replicas than any deployment has: a larger number is a typo, and WAIT would only time out.
MAX_WAIT_REPLICAS = 100
