"""The `kvredis` command: a thin face over the public API of `kvredis`.

`entry` parses the command line and holds the exit policy; `options` and `guest_specs` read
flags into settings; each command is a module of its own (`run`, `server`, `inspect`,
`conformance`). Like the pytest plugin, they import from the package root only.
"""

from kvredis.cli.entry import main

__all__ = ["main"]
