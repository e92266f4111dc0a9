"""What a host gives every instance besides keyvalue: its links, configuration and log level;
and the per-instance state built from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kvredis.core import KeyValueCore
from kvredis.wasmcloud.links import DEFAULT_LINK, LinkTable
from kvredis.wasmcloud.log_sink import DEFAULT_LOG_LEVEL, LogSink, Write


@dataclass(frozen=True)
class HostServices:
    """`cores`: the keyvalue core of each link name (`default` among them)."""

    cores: Mapping[str, KeyValueCore]
    config: Mapping[str, str] = field(default_factory=dict)
    log_level: str = DEFAULT_LOG_LEVEL

    @classmethod
    def default_only(cls, core: KeyValueCore) -> HostServices:
        """One link (`default`, on `core`), no configuration, logs at `info`."""
        return cls({DEFAULT_LINK: core})

    def links(self) -> LinkTable:
        """A fresh link choice for one instance (each starts on `default`)."""
        return LinkTable(self.cores)

    def log_sink(self, write: Write) -> LogSink:
        return LogSink(self.log_level, write)
