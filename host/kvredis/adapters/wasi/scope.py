"""One instance's view of kvredis's WASI: its context, every handle table, a host per
interface; and what is left to release when the instance is gone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kvredis._wit import HandleTable, Trap
from kvredis.adapters.wasi.cli import EnvironmentHost, ExitHost, StdioHost
from kvredis.adapters.wasi.clocks import MonotonicClockHost, WallClockHost
from kvredis.adapters.wasi.filesystem import FilesystemTypesHost, PreopensHost
from kvredis.adapters.wasi.http import HttpTypesHost
from kvredis.adapters.wasi.io import PollHost
from kvredis.adapters.wasi.outgoing import OutgoingHandlerHost
from kvredis.adapters.wasi.random import RandomHost
from kvredis.adapters.wasi.sockets import SocketsHost
from kvredis.bindings import wasi_cli, wasi_filesystem, wasi_http, wasi_io, wasi_sockets
from kvredis.wasi.context import WasiContext

if TYPE_CHECKING:  # httpx takes ~150 ms to import: only a served request needs it
    from kvredis.wasi.http.client import HttpClient

# Children before the parents that must outlive them (a body's stream before the body, a
# message's headers before the message), so releasing in this order breaks no WIT rule.
_RELEASE_FIRST = ("pollable", "error", "input_stream", "output_stream", "fields")


class WasiTables(
    wasi_io.Tables, wasi_cli.Tables, wasi_filesystem.Tables, wasi_sockets.Tables, wasi_http.Tables
):
    """Every handle table of kvredis's WASI, for one instance."""


class WasiScope(WasiTables):
    """What one instance's WASI imports work with. `exit_status` is set when the guest
    called `exit` (the call then ends as a trap)."""

    def __init__(self, context: WasiContext, client: HttpClient) -> None:
        super().__init__()
        self.context = context
        waker = context.waker
        self.io_poll = PollHost(waker)
        self.clocks_monotonic_clock = MonotonicClockHost(context.monotonic_clock, waker)
        self.clocks_wall_clock = WallClockHost(context.wall_clock)
        random = RandomHost(context.random)
        self.random_random = random
        self.random_insecure = random
        self.random_insecure_seed = random
        self.cli_environment = EnvironmentHost(context.environment)
        self.exit_status: int | None = None
        self.cli_exit = ExitHost(self._exited)
        stdio = StdioHost(context.stdio)
        self.cli_stdin = stdio
        self.cli_stdout = stdio
        self.cli_stderr = stdio
        self.cli_terminal_stdin = stdio
        self.cli_terminal_stdout = stdio
        self.cli_terminal_stderr = stdio
        self.filesystem_types = FilesystemTypesHost()
        self.filesystem_preopens = PreopensHost(context.preopens)
        sockets = SocketsHost(context.network)
        self.sockets_instance_network = sockets
        self.sockets_tcp_create_socket = sockets
        self.sockets_udp_create_socket = sockets
        self.sockets_ip_name_lookup = sockets
        self.http_types = HttpTypesHost(waker)
        self.http_outgoing_handler = OutgoingHandlerHost(client, waker)

    def _exited(self, status: int) -> None:
        self.exit_status = status

    def close(self) -> None:
        """The instance is gone: drop every handle it still held (a body it never finished
        fails for whoever reads it), then release the context's directories."""
        tables = {name: t for name, t in vars(self).items() if isinstance(t, HandleTable)}
        order = [n for n in _RELEASE_FIRST if n in tables] + sorted(set(tables) - {*_RELEASE_FIRST})
        for name in order:
            for obj in tables[name].take_all():
                try:
                    obj.drop()
                except Trap:  # a parent whose child was handed back and never dropped
                    continue
        self.context.close()
