"""The embedded server's config file, written so that no path is ever read as config.

The server runs with the data directory as its working directory, so its data and its log
are named relative to it and the directory's path (which may hold quotes, newlines, anything)
never appears in the file. The one path that must appear, the socket's, is written as a
double-quoted token of Valkey's config grammar with every byte that could end or escape it
spelled as `\\xHH`.
"""

from __future__ import annotations

import os
from pathlib import Path

from kvredis.embedded._supervisor import CONF

__all__ = ["AOF_DIR", "CONF", "LOG", "quote", "server_config"]

LOG = "server.log"
AOF_DIR = "appendonlydir"

_LITERAL = frozenset(range(0x20, 0x7F)) - {ord('"'), ord("\\")}


def quote(value: bytes) -> str:
    """`value` as one double-quoted config token: printable ASCII as is, the rest as \\xHH.

    Raises ValueError for a NUL byte, which the server would take for the end of the value.
    """
    if b"\0" in value:
        raise ValueError("a NUL byte cannot be written in the server's config")
    return '"' + "".join(chr(b) if b in _LITERAL else f"\\x{b:02x}" for b in value) + '"'


def server_config(socket_path: Path, *, persist: bool) -> str:
    """The config text: a unix socket only (no TCP port at all), data in the working directory."""
    lines = [
        "port 0",
        f"unixsocket {quote(os.fsencode(socket_path))}",
        "unixsocketperm 700",
        f"logfile {LOG}",
        "daemonize no",
        'save ""',
        f"appendonly {'yes' if persist else 'no'}",
        f"appenddirname {AOF_DIR}",
        "appendfsync everysec",
        # The server acts on SIGTERM at its next timer tick: 10 ms at hz 100, not the
        # default hz 10's 100 ms, which every run waited for when it stopped the server.
        "hz 100",
        # Keyevent notifications of string (SET) and generic (DEL) commands: what watching
        # keys listens to (kvredis.watch.notifications).
        'notify-keyspace-events "E$g"',
    ]
    return "\n".join(lines) + "\n"


# A cluster node that answers nothing for this long is failed over to its replica.
CLUSTER_NODE_TIMEOUT_MS = 2000


def node_files(index: int) -> dict[str, str]:
    """The names of cluster node `index`'s files in the cluster's directory; `aof` is a
    directory. Each node has its own, as all of them work in the one directory."""
    return {
        "conf": f"node-{index}.conf",
        "nodes": f"nodes-{index}.conf",
        "log": f"node-{index}.log",
        "rdb": f"dump-{index}.rdb",
        "aof": f"appendonlydir-{index}",
    }


def cluster_node_config(
    index: int, port: int, bus_port: int, password: str, *, persist: bool
) -> str:
    """The config text of node `index`: TCP on the loopback interface only (the cluster bus
    needs TCP), a password, and its files named apart from the other nodes'."""
    files = node_files(index)
    secret = quote(password.encode())
    lines = [
        f"port {port}",
        "bind 127.0.0.1",
        "protected-mode yes",
        "cluster-enabled yes",
        f"cluster-port {bus_port}",
        f"cluster-config-file {files['nodes']}",
        f"cluster-node-timeout {CLUSTER_NODE_TIMEOUT_MS}",
        # The other shards keep serving while one fails over.
        "cluster-require-full-coverage no",
        # A replica takes over however long ago it last heard from its primary.
        "cluster-replica-validity-factor 0",
        "repl-diskless-sync-delay 0",
        # Redis 7.0 lists a replica to clients only once its replication offset moved, which
        # an idle primary's pings to it do every period (10 s by default).
        "repl-ping-replica-period 1",
        f"requirepass {secret}",
        f"masterauth {secret}",
        f"logfile {files['log']}",
        "daemonize no",
        'save ""',
        f"dbfilename {files['rdb']}",
        f"appendonly {'yes' if persist else 'no'}",
        f"appenddirname {files['aof']}",
        "appendfsync everysec",
    ]
    return "\n".join(lines) + "\n"
