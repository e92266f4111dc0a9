"""The embedded server's data directory and socket are trusted only when they are safe: no path
is read as server config, a directory or file another user could have planted or changed is
refused (as ssh refuses a loose ~/.ssh), the server dies with its supervisor and never shares
its data directory with a second server, and every setup failure is one line with status 2."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
import redis

import servers
from clikit import LineReader, error_line, finish, start_kvredis
from faultkit import embedded_pids, embedded_server, socket_inodes, tcp_listeners
from servers import free_port, wait_until
from support import run_kvredis

OTHER_UID = 65534  # nobody: "another user" for tests that run as root
AS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not AS_ROOT, reason="changing a file's owner needs root")


@contextlib.contextmanager
def foreground_server(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`kvredis server ARGS` in `cwd`; yields the process and its URL, stops it with Ctrl-C."""
    process = start_kvredis("server", *args, cwd=cwd, env=env)
    try:
        first = LineReader(process.stdout).next()  # type: ignore[arg-type]
        assert first.startswith("kvredis server: unix://"), first
        yield process, first.removeprefix("kvredis server: ")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            finish(process)


def count(counter_wasm: Path, cwd: Path, *flags: str) -> str:
    """One `kvredis run` of the counter example: the count it printed."""
    done = run_kvredis("run", *flags, counter_wasm, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def refused(done: subprocess.CompletedProcess[str], *words: str) -> str:
    """The one line of a setup error (status 2), checked to contain every word."""
    line = error_line(done, 2)
    for word in words:
        assert word in line, line
    return line


def supervisor_pid(data_dir: Path) -> int:
    pids = [
        pid for pid, cmd in servers.embedded_processes(data_dir).items() if "_supervisor" in cmd
    ]
    assert len(pids) == 1, servers.embedded_processes(data_dir)
    return pids[0]


# --- 1. no path is read as server config ------------------------------------------------------

AWKWARD_DIRS = {
    "quote": 'a"b',
    "backslash": "a\\b",
    "newline": "a\nb",
    "space": "a b",
    # The reproduction: it made the unix-socket-only server listen on TCP, unguarded.
    "injection": 'inj"\nport {port}\nbind 127.0.0.1\nlogfile ""\n#',
}


@pytest.mark.parametrize("kind", list(AWKWARD_DIRS))
def test_an_awkward_working_directory_is_not_read_as_server_config(
    tmp_path: Path, counter_wasm: Path, kind: str
) -> None:
    port = free_port()
    workdir = tmp_path / AWKWARD_DIRS[kind].format(port=port)
    workdir.mkdir()
    data_dir = workdir / ".kvredis"
    with foreground_server(workdir) as (_, url):
        pid = embedded_server(data_dir)
        assert not set(tcp_listeners()) & socket_inodes(pid), "the server listens on TCP"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        assert redis.Redis.from_url(url).config_get("port") == {"port": "0"}
        assert [count(counter_wasm, workdir) for _ in range(2)] == ["1", "2"]
    wait_until(lambda: embedded_pids(data_dir) == [], 15, "the server stops")
    # The data is where the directory says, and outlives the server.
    assert (data_dir / "appendonlydir").is_dir()
    assert count(counter_wasm, workdir) == "3"


def test_an_awkward_tmpdir_holds_the_socket(tmp_path: Path, counter_wasm: Path) -> None:
    # Quotes and newlines for the config file, `% # ?` and a space for the URL.
    tmpdir = tmp_path / 'q"\\\n %#?'
    tmpdir.mkdir()
    env = {"TMPDIR": str(tmpdir)}
    with foreground_server(tmp_path, env=env) as (_, url):
        socket_path = Path(unquote(url.removeprefix("unix://")))
        assert socket_path.parent.parent == tmpdir
        assert redis.Redis.from_url(url).ping()
        assert count(counter_wasm, tmp_path) == "1"


def test_a_socket_path_too_long_for_the_system_is_one_clear_line(
    tmp_path: Path, counter_wasm: Path
) -> None:
    tmpdir = tmp_path / ("t" * 100)
    tmpdir.mkdir()
    done = run_kvredis("run", counter_wasm, cwd=tmp_path, env={"TMPDIR": str(tmpdir)})
    refused(done, "socket path", "TMPDIR")


# --- 2. a data directory someone else could have planted or changed -------------------------


def test_a_symlinked_config_file_is_refused_and_its_target_untouched(
    tmp_path: Path, counter_wasm: Path
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    data_dir = tmp_path / ".kvredis"
    data_dir.mkdir(mode=0o700)
    (data_dir / "valkey.conf").symlink_to(victim)
    done = run_kvredis("run", counter_wasm, cwd=tmp_path)
    refused(done, str(data_dir / "valkey.conf"), "symbolic link")
    assert victim.read_text() == "precious\n"
    assert embedded_pids(data_dir) == []


@pytest.mark.parametrize("name", ["server.url", "server.log", "server.lock", "users.lock"])
def test_any_symlinked_file_of_the_data_directory_is_refused(
    tmp_path: Path, counter_wasm: Path, name: str
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    data_dir = tmp_path / ".kvredis"
    data_dir.mkdir(mode=0o700)
    (data_dir / name).symlink_to(victim)
    refused(run_kvredis("run", counter_wasm, cwd=tmp_path), name, "symbolic link")
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o1777], ids=["group", "others", "sticky"])
def test_a_data_directory_others_can_write_is_refused(
    tmp_path: Path, counter_wasm: Path, mode: int
) -> None:
    data_dir = tmp_path / ".kvredis"
    data_dir.mkdir()
    data_dir.chmod(mode)
    done = run_kvredis("run", counter_wasm, cwd=tmp_path)
    refused(done, str(data_dir), "writable by", "chmod go-w")
    assert sorted(p.name for p in data_dir.iterdir()) == []


def test_a_config_file_others_can_write_is_refused(tmp_path: Path, counter_wasm: Path) -> None:
    data_dir = tmp_path / ".kvredis"
    data_dir.mkdir(mode=0o700)
    conf = data_dir / "valkey.conf"
    conf.write_text("port 6379\n")
    conf.chmod(0o666)
    refused(run_kvredis("run", counter_wasm, cwd=tmp_path), str(conf), "writable by")


@needs_root
@pytest.mark.parametrize("what", ["directory", "config file"])
def test_a_data_directory_of_another_user_is_refused(
    tmp_path: Path, counter_wasm: Path, what: str
) -> None:
    data_dir = tmp_path / ".kvredis"
    data_dir.mkdir(mode=0o700)
    target = data_dir
    if what == "config file":
        target = data_dir / "valkey.conf"
        target.write_text("port 6379\n")
        target.chmod(0o600)
    os.chown(target, OTHER_UID, OTHER_UID)
    refused(run_kvredis("run", counter_wasm, cwd=tmp_path), str(target), f"uid {OTHER_UID}")


def test_a_data_directory_that_is_a_symlink_is_refused(tmp_path: Path, counter_wasm: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    done = run_kvredis("run", "--data-dir", link, counter_wasm, cwd=tmp_path)
    refused(done, str(link), "symbolic link")
    assert list(real.iterdir()) == []


@pytest.fixture
def held_data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data directory whose lock this test holds, as a running owner would: a run there
    looks for the owner's server through server.url."""
    data_dir = tmp_path / ".kvredis"
    data_dir.mkdir(mode=0o700)
    fd = os.open(data_dir / "server.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield data_dir
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    "flaw", ["a directory others can enter", "another user's directory"], ids=["0755", "uid"]
)
def test_a_server_url_pointing_at_a_foreign_socket_is_refused(
    tmp_path: Path, counter_wasm: Path, held_data_dir: Path, flaw: str
) -> None:
    if flaw == "another user's directory" and not AS_ROOT:
        pytest.skip("changing a directory's owner needs root")
    planted = servers.valkey(tmp_path / "planted").start()
    try:
        if flaw == "a directory others can enter":
            planted.workdir.chmod(0o755)
        else:
            planted.workdir.chmod(0o700)
            os.chown(planted.workdir, OTHER_UID, OTHER_UID)
        (held_data_dir / "server.url").write_text(f"unix://{planted.socket}\n")
        done = run_kvredis("run", counter_wasm, cwd=tmp_path, timeout=60)
        refused(done, str(planted.socket), "not private")
        assert planted.client().dbsize() == 0, "the run used the planted server"
    finally:
        planted.stop()


# --- 4. the server dies with its supervisor, and holds the data directory while it lives ----


def test_the_server_dies_with_its_supervisor(tmp_path: Path, counter_wasm: Path) -> None:
    data_dir = tmp_path / ".kvredis"
    with foreground_server(tmp_path) as (owner, url):
        assert [count(counter_wasm, tmp_path) for _ in range(3)] == ["1", "2", "3"]
        os.kill(supervisor_pid(data_dir), signal.SIGKILL)
        wait_until(lambda: embedded_pids(data_dir) == [], 15, "the server dies with it")
        # The next run starts a server of its own, on the data the first one flushed.
        assert count(counter_wasm, tmp_path) == "4"
        assert embedded_pids(data_dir) == []
        assert owner.poll() is None
    socket_dir = Path(unquote(url.removeprefix("unix://"))).parent
    assert not socket_dir.exists(), "the dead server's socket directory was left behind"
    assert count(counter_wasm, tmp_path) == "5"


def test_the_server_holds_the_data_directory_until_it_is_gone(
    tmp_path: Path, counter_wasm: Path
) -> None:
    data_dir = tmp_path / ".kvredis"

    def lock_is_free() -> bool:
        fd = os.open(data_dir / "server.lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)
        return True

    with foreground_server(tmp_path):
        assert count(counter_wasm, tmp_path) == "1"
        server = embedded_server(data_dir)
        # Frozen, the server cannot act on its supervisor's death yet: it is still a server
        # of this directory, so no other may start there.
        os.kill(server, signal.SIGSTOP)
        try:
            os.kill(supervisor_pid(data_dir), signal.SIGKILL)
            wait_until(lambda: len(embedded_pids(data_dir)) == 1, 15, "the supervisor is gone")
            assert not lock_is_free(), "a second server could start beside the first"
        finally:
            os.kill(server, signal.SIGCONT)
        wait_until(lambda: embedded_pids(data_dir) == [], 15, "the server stops")
        # An exiting process leaves the process list (its command line goes with its
        # memory) a moment before the kernel closes its files, the lock among them.
        wait_until(lock_is_free, 5, "the lock is released")
        assert count(counter_wasm, tmp_path) == "2"


# --- 5. data directories that cannot work: one line, status 2 --------------------------------


@pytest.mark.parametrize(
    "data_dir", ["", "/proc/kvredis-data", "/proc/sys", "/sys/kernel/kvredis-data"]
)
def test_an_unusable_data_directory_is_one_clear_line(
    tmp_path: Path, counter_wasm: Path, data_dir: str
) -> None:
    done = run_kvredis("run", "--data-dir", data_dir, counter_wasm, cwd=tmp_path)
    line = refused(done, "data director")
    assert list(tmp_path.iterdir()) == [], "it wrote into the working directory"
    if data_dir:
        assert data_dir in line


@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator[Callable[[Path, str], None]]:
    """Mounts a tmpfs with the given options (root only), unmounted after the test."""
    mounted: list[Path] = []

    def mount(target: Path, options: str) -> None:
        target.mkdir(mode=0o700)
        if not AS_ROOT:
            pytest.skip("mounting a file system needs root")
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True)
        mounted.append(target)

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_a_read_only_data_directory_is_one_clear_line(
    tmp_path: Path, counter_wasm: Path, mount_tmpfs: Callable[[Path, str], None]
) -> None:
    data_dir = tmp_path / ".kvredis"
    if AS_ROOT:  # root writes through any mode: only a read-only file system stops it
        mount_tmpfs(data_dir, "ro,mode=700")
        reason = "Read-only file system"
    else:
        data_dir.mkdir(mode=0o500)
        reason = "Permission denied"
    refused(run_kvredis("run", counter_wasm, cwd=tmp_path), str(data_dir), reason)


def test_a_full_disk_is_one_clear_line(
    tmp_path: Path, counter_wasm: Path, mount_tmpfs: Callable[[Path, str], None]
) -> None:
    disk = tmp_path / "disk"
    mount_tmpfs(disk, "size=64k,mode=700")
    with contextlib.suppress(OSError), open(disk / "filler", "wb") as filler:
        while True:
            filler.write(b"\0" * 4096)
            filler.flush()
    done = run_kvredis("run", "--data-dir", disk / "data", counter_wasm, cwd=tmp_path)
    refused(done, str(disk / "data"), "No space left on device")
