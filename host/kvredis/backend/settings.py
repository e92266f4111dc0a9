"""Connection tuning, with the meanings of wasmCloud's keyvalue-redis provider settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectionSettings:
    """How the Redis layer connects, waits and retries. Times are in milliseconds.

    `reconnect_retries` and `reconnect_max_delay_ms` mirror the provider's
    BACKEND_RECONNECT_NUM_RETRIES and BACKEND_RECONNECT_MAX_DELAY_MS; `connection_timeout_ms`
    and `response_timeout_ms` mirror BACKEND_CONNECTION_TIMEOUT_MS and
    BACKEND_RESPONSE_TIMEOUT_MS. `op_budget_ms` bounds one keyvalue operation as a whole,
    retries included, so a guest always gets an answer in bounded time.
    """

    reconnect_retries: int = 3
    reconnect_max_delay_ms: int = 300
    connection_timeout_ms: int = 1000
    response_timeout_ms: int = 1000
    op_budget_ms: int = 2000
    tls_ca_cert: str | None = None

    def __post_init__(self) -> None:
        for name in (
            "reconnect_retries",
            "reconnect_max_delay_ms",
            "connection_timeout_ms",
            "response_timeout_ms",
            "op_budget_ms",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
        if self.op_budget_ms == 0 or self.connection_timeout_ms == 0:
            raise ValueError("timeouts must be above zero")
        if self.response_timeout_ms == 0:
            raise ValueError("response_timeout_ms must be above zero")
