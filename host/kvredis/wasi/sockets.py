"""wasi:sockets: instantiable, and nothing reachable.

Components served by kvredis talk to the world through wasi:http and wasi:keyvalue; raw
sockets and name lookups are refused the way a WASI host refuses a capability it was not
given: creating a socket answers `access-denied`, a lookup `permanent-resolver-failure`
(as wasmtime answers when lookups are not allowed).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NoReturn

from kvredis.wasi.errors import CodedError


class SocketErrorCode(StrEnum):
    """`wasi:sockets/network.error-code`; each value is the WIT case name."""

    UNKNOWN = "unknown"
    ACCESS_DENIED = "access-denied"
    NOT_SUPPORTED = "not-supported"
    INVALID_ARGUMENT = "invalid-argument"
    OUT_OF_MEMORY = "out-of-memory"
    TIMEOUT = "timeout"
    CONCURRENCY_CONFLICT = "concurrency-conflict"
    NOT_IN_PROGRESS = "not-in-progress"
    WOULD_BLOCK = "would-block"
    INVALID_STATE = "invalid-state"
    NEW_SOCKET_LIMIT = "new-socket-limit"
    ADDRESS_NOT_BINDABLE = "address-not-bindable"
    ADDRESS_IN_USE = "address-in-use"
    REMOTE_UNREACHABLE = "remote-unreachable"
    CONNECTION_REFUSED = "connection-refused"
    CONNECTION_RESET = "connection-reset"
    CONNECTION_ABORTED = "connection-aborted"
    DATAGRAM_TOO_LARGE = "datagram-too-large"
    NAME_UNRESOLVABLE = "name-unresolvable"
    TEMPORARY_RESOLVER_FAILURE = "temporary-resolver-failure"
    PERMANENT_RESOLVER_FAILURE = "permanent-resolver-failure"


class SocketError(CodedError[SocketErrorCode]):
    """A sockets call answered with `err(code)`."""


class IpAddressFamily(StrEnum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"


class Network:
    """The `network` resource: a handle that grants nothing."""


class NoNetwork:
    """The sockets interfaces of one instance, refusing everything but the network handle."""

    def instance_network(self) -> Network:
        return Network()

    def create_tcp_socket(self, address_family: IpAddressFamily) -> NoReturn:
        raise SocketError(SocketErrorCode.ACCESS_DENIED)

    def create_udp_socket(self, address_family: IpAddressFamily) -> NoReturn:
        raise SocketError(SocketErrorCode.ACCESS_DENIED)

    def resolve_addresses(self, network: Network, name: str) -> NoReturn:
        raise SocketError(SocketErrorCode.PERMANENT_RESOLVER_FAILURE)
