"""The embedded cluster from the command line, as a new user tries it: `kvredis server
--cluster`, then `kvredis conformance` and `kvredis run --cluster` against it; `kvredis run
--cluster` alone; and the mistakes a user can make with the flags and the data directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
import redis

import servers
from faultkit import socket_inodes, tcp_listeners
from servers import wait_until
from support import CONFORMANCE_CASES, KVREDIS, kvredis_env, run_kvredis


def cluster_processes(data_dir: Path) -> dict[int, str]:
    return servers.embedded_processes(data_dir / "cluster")


def test_server_cluster_serves_conformance_and_run_then_stops(
    tmp_path: Path, counter_wasm: Path
) -> None:
    server = subprocess.Popen(
        [str(KVREDIS), "server", "--cluster"],
        cwd=tmp_path,
        env=kvredis_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url_file = tmp_path / ".kvredis" / "cluster" / "server.url"
    try:
        wait_until(url_file.exists, 60, "the cluster's URL file")
        password = url_file.read_text().split("@", 1)[0].rsplit(":", 1)[1]
        checked = run_kvredis(
            "conformance", "--redis-url-file", url_file, cwd=tmp_path, timeout=600
        )
        assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr
        assert f"{len(CONFORMANCE_CASES)} passed, 0 failed" in checked.stdout
        counted = run_kvredis("run", "--cluster", counter_wasm, cwd=tmp_path)
        assert (counted.returncode, counted.stdout) == (0, "1\n"), counted.stderr
        again = run_kvredis("server", "--cluster", cwd=tmp_path)
        assert again.returncode == 1
        assert "an embedded cluster for" in again.stderr and "is already running" in again.stderr
        assert password not in again.stdout + again.stderr
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=60)
    assert server.returncode == 130, err
    assert out.startswith("kvredis server: redis://:***@127.0.0.1:")
    assert "--redis-url-file" in err and password not in out + err
    assert not url_file.exists()
    assert cluster_processes(tmp_path / ".kvredis") == {}


def test_run_cluster_starts_the_embedded_cluster_keeps_its_data_and_stops_it(
    tmp_path: Path, counter_wasm: Path
) -> None:
    for expected in ("1\n", "2\n"):
        done = run_kvredis("run", "--cluster", "-v", counter_wasm, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (0, expected), done.stderr
        assert "is a Redis Cluster of 3 primaries and 3 replicas" in done.stderr
        assert cluster_processes(tmp_path / ".kvredis") == {}
    state = json.loads((tmp_path / ".kvredis" / "cluster" / "cluster.json").read_text())
    assert state["primaries"] == 3 and len(state["ports"]) == 6
    other_size = run_kvredis("server", "--cluster", "2", cwd=tmp_path)
    assert other_size.returncode == 2
    assert "has 3 primaries, not 2; remove that directory" in other_size.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "--cluster", "--redis-url", "redis://h:1"], "not allowed with argument"),
        (["server", "--cluster", "0"], "expected a number above zero"),
        (["server", "--cluster", "40"], "an embedded cluster has 1 to 32 primaries, not 40"),
        (["run", "--wait-replicas", "-1"], "expected a number >= 0"),
    ],
)
def test_cluster_flag_mistakes_are_usage_errors(
    tmp_path: Path, counter_wasm: Path, args: list[str], says: str
) -> None:
    done = run_kvredis(*args, *([counter_wasm] if args[0] == "run" else []), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / ".kvredis" / "cluster").exists()


def test_redis_url_does_not_override_an_explicit_cluster_flag(
    tmp_path: Path, counter_wasm: Path
) -> None:
    done = run_kvredis(
        "run", "--cluster", counter_wasm, cwd=tmp_path, env={"REDIS_URL": "redis://nowhere:1"}
    )
    assert (done.returncode, done.stdout) == (0, "1\n"), done.stderr


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda state: state.chmod(0o666), "is writable by group or others"),
        (lambda state: state.write_text("{not json"), "is damaged"),
        (lambda state: state.write_text('{"primaries": 3, "ports": [], "password": "x"}'),
         "0 nodes for 3 primaries"),
    ],
    ids=["writable", "not-json", "no-ports"],
)  # fmt: skip
def test_a_cluster_directory_that_breaks_the_rules_is_refused(
    tmp_path: Path, counter_wasm: Path, damage: object, says: str
) -> None:
    cluster_dir = tmp_path / ".kvredis" / "cluster"
    cluster_dir.mkdir(parents=True, mode=0o700)
    state = cluster_dir / "cluster.json"
    state.write_text("{}")
    state.chmod(0o600)
    damage(state)  # type: ignore[operator]
    done = run_kvredis("run", "--cluster", counter_wasm, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "cluster.json" in done.stderr
    assert "Traceback" not in done.stderr
    assert cluster_processes(tmp_path / ".kvredis") == {}


def test_the_cluster_listens_on_loopback_only_and_wants_its_password(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [str(KVREDIS), "server", "--cluster", "1"],
        cwd=tmp_path,
        env=kvredis_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url_file = tmp_path / ".kvredis" / "cluster" / "server.url"
        wait_until(url_file.exists, 60, "the cluster's URL file")
        assert oct(url_file.stat().st_mode & 0o777) == "0o600"
        state = json.loads((tmp_path / ".kvredis" / "cluster" / "cluster.json").read_text())
        listeners = {
            address for pid in cluster_processes(tmp_path / ".kvredis")
            for address in tcp_addresses(pid)
        }  # fmt: skip
        ports = {port for pair in state["ports"] for port in pair}
        assert {port for _, port in listeners} == ports
        assert {host for host, _ in listeners} == {"127.0.0.1"}
        anonymous = redis.Redis(port=state["ports"][0][0], socket_timeout=5)
        with pytest.raises(redis.AuthenticationError):
            anonymous.get("k")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)


def tcp_addresses(pid: int) -> set[tuple[str, int]]:
    """(host, port) of each listening TCP socket of process `pid`."""
    found = set()
    for inode, local in tcp_listeners().items():
        if inode in socket_inodes(pid):
            address, port = local.rsplit(":", 1)
            host = ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
            found.add((host if len(address) == 8 else f"v6:{address}", int(port, 16)))
    return found


def test_conformance_cluster_runs_on_a_throwaway_embedded_cluster(tmp_path: Path) -> None:
    done = run_kvredis(
        "conformance", "--cluster", "--version", "draft2", "-k", "list-keys", cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "against redis://:***@127.0.0.1:" in done.stdout
    assert " 0 failed" in done.stdout
    assert not (tmp_path / ".kvredis").exists()
    assert os.listdir(tmp_path) == []
