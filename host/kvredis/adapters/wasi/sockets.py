"""wasi:sockets adapters: the network handle exists, and every socket or lookup is refused."""

from __future__ import annotations

from typing import NoReturn

from kvredis.adapters.wasi.handles import answering, ours
from kvredis.bindings import wasi_sockets as wit
from kvredis.wasi import sockets as core


class NetworkAdapter:
    __slots__ = ("core",)

    def __init__(self, network: core.Network) -> None:
        self.core = network

    def drop(self) -> None:
        """A network handle grants nothing: nothing to release."""


def error_code(exc: core.SocketError) -> wit.ErrorCode:
    return wit.ErrorCode(exc.code.value)


_socket_errors = answering(core.SocketError, error_code)


class SocketsHost:
    """instance-network, tcp-create-socket, udp-create-socket and ip-name-lookup."""

    def __init__(self, network: core.NoNetwork) -> None:
        self._network = network

    def instance_network(self) -> wit.Network:
        return NetworkAdapter(self._network.instance_network())

    @_socket_errors
    def create_tcp_socket(self, address_family: wit.IpAddressFamily) -> NoReturn:
        self._network.create_tcp_socket(core.IpAddressFamily(address_family.value))

    @_socket_errors
    def create_udp_socket(self, address_family: wit.IpAddressFamily) -> NoReturn:
        self._network.create_udp_socket(core.IpAddressFamily(address_family.value))

    @_socket_errors
    def resolve_addresses(self, network: wit.Network, name: str) -> NoReturn:
        self._network.resolve_addresses(ours(network, NetworkAdapter).core, name)
