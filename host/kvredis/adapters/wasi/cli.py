"""wasi:cli adapters: environment, exit, stdio and terminals (there are none), over the core."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from kvredis._wit import Err, Ok, Trap
from kvredis.adapters.wasi.io import InputStreamAdapter, OutputStreamAdapter
from kvredis.bindings import wasi_cli, wasi_io
from kvredis.wasi.cli import Environment, Exit, Stdio, exit_instance


class GuestExit(Trap):
    """The guest called `exit`: the call ends as a trap, and `status` says how it exited."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the guest exited with status {status}")
        self.status = status


class EnvironmentHost:
    def __init__(self, environment: Environment) -> None:
        self._environment = environment

    def get_environment(self) -> list[tuple[str, str]]:
        return self._environment.get_environment()

    def get_arguments(self) -> list[str]:
        return self._environment.get_arguments()

    def initial_cwd(self) -> str | None:
        # The core gives no working directory: guests resolve paths against their preopens.
        return None


class ExitHost:
    """`exit`: `on_exit` hears the status, then the call traps, ending the instance."""

    def __init__(self, on_exit: Callable[[int], None]) -> None:
        self._on_exit = on_exit

    def exit(self, status: Ok[None] | Err[None]) -> NoReturn:
        try:
            exit_instance(isinstance(status, Ok))
        except Exit as done:
            self._on_exit(done.status)
            raise GuestExit(done.status) from None


class StdioHost:
    """stdin, stdout, stderr and the terminal queries (there are no terminals)."""

    def __init__(self, stdio: Stdio) -> None:
        self._stdio = stdio

    def get_stdin(self) -> wasi_io.InputStream:
        return InputStreamAdapter(self._stdio.get_stdin())

    def get_stdout(self) -> wasi_io.OutputStream:
        return OutputStreamAdapter(self._stdio.get_stdout())

    def get_stderr(self) -> wasi_io.OutputStream:
        return OutputStreamAdapter(self._stdio.get_stderr())

    # kvredis's stdio is never a terminal (the core's Stdio answers none to all three).

    def get_terminal_stdin(self) -> wasi_cli.TerminalInput | None:
        return None

    def get_terminal_stdout(self) -> wasi_cli.TerminalOutput | None:
        return None

    def get_terminal_stderr(self) -> wasi_cli.TerminalOutput | None:
        return None
