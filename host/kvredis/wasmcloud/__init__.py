"""The host interfaces wasmCloud gives every component, served by kvredis too: a log sink
(`wasi:logging`), configuration values (`wasi:config`) and named keyvalue links
(`wasmcloud:bus/lattice.set-link-name`). Plain Python: the adapters in
`kvredis.adapters.wasmcloud` connect them to the generated bindings."""

from kvredis.wasmcloud.config import check_config, read_config_file
from kvredis.wasmcloud.links import DEFAULT_LINK, LinkTable, check_link_name
from kvredis.wasmcloud.log_sink import DEFAULT_LOG_LEVEL, LOG_LEVELS, LogSink, check_log_level
from kvredis.wasmcloud.services import HostServices

__all__ = [
    "DEFAULT_LINK",
    "DEFAULT_LOG_LEVEL",
    "LOG_LEVELS",
    "HostServices",
    "LinkTable",
    "LogSink",
    "check_config",
    "check_link_name",
    "check_log_level",
    "read_config_file",
]
