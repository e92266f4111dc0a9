"""Supervisor of the embedded server: `python -I -S _supervisor.py BINARY SOCKDIR DIRFD LOCKFD
RESTART [CONF...]`.

It runs the server (one per CONF, default `valkey.conf`: the embedded cluster has one per
node) and decides when it stops, so that no server outlives the processes that use it,
however they end:

- the owner (the process that started it) holds the write end of this process's stdin; the
  owner is gone, or done, once stdin reaches end of file, even after SIGKILL;
- every other process sharing the server holds a shared lock on `users.lock` in the data
  directory; the kernel drops it when such a process ends;
- the server itself gets SIGTERM from the kernel when this process ends, even by SIGKILL
  (Linux's parent-death signal), so it never runs on unsupervised.

Once the owner is done, the supervisor waits for an exclusive lock on `users.lock` (no
sharer left), stops the servers with SIGTERM (each flushes its append-only file), removes the
URL file and the socket directory (SOCKDIR; an empty argument for none), and exits with the
status of the server that ended first.

A server that ends on its own ends the supervisor too (once every other has ended), unless
RESTART is above zero (the embedded cluster): then it is started again RESTART seconds later,
as a process manager would, long enough after that its replica has taken over its slots, so
it comes back as that replica's replica rather than as a primary that lost its latest writes.
A server that keeps ending within seconds of its start is left down.

DIRFD is the data directory, opened and checked by the owner: the supervisor and the server
work in it. LOCKFD holds the data directory's `server.lock`; the server inherits it too, so
the kernel frees the lock only once the server is gone, and a new owner can never start a
second server on the same data while the first still runs.

It uses only the standard library (`-I -S` keep its start fast), so it cannot import kvredis.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

USERS_LOCK = "users.lock"
URL_FILE = "server.url"
CONF = "valkey.conf"
_PR_SET_PDEATHSIG = 1
# A server that ends this soon after its start, this many times in a row, is not restarted.
_QUICK_END_S = 5.0
_MAX_QUICK_ENDS = 3


def _dies_with_this_process() -> Callable[[], None] | None:
    """A preexec function that makes the child get SIGTERM when this process ends (Linux);
    None where there is no prctl (there the lock still keeps a second server out)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # this process died before the signal was armed
            os._exit(1)

    return arm


def main(binary: str, socket_dir: str, dir_fd: str, lock_fd: str, restart: str, *confs: str) -> int:
    os.fchdir(int(dir_fd))
    os.close(int(dir_fd))
    os.umask(0o077)  # the server's files (log, append-only file) are the user's alone
    restart_after = float(restart)

    def launch(conf: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [binary, conf],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(int(lock_fd),),
            preexec_fn=_dies_with_this_process(),  # noqa: PLW1509 - no other thread forks
        )

    confs = confs or (CONF,)
    servers = [launch(conf) for conf in confs]
    stopping = threading.Event()
    ended: list[int] = []
    lock = threading.Lock()

    def stop(*_: object) -> None:
        with lock:
            stopping.set()
            for server in servers:
                with contextlib.suppress(ProcessLookupError):
                    server.terminate()

    def cleanup_and_exit(status: int) -> None:
        with contextlib.suppress(OSError):
            os.unlink(URL_FILE)
        if socket_dir:
            shutil.rmtree(socket_dir, ignore_errors=True)
        os._exit(status)

    def watch(index: int) -> None:
        quick_ends = 0
        while True:
            started = time.monotonic()
            status = servers[index].wait()
            quick_ends = quick_ends + 1 if time.monotonic() - started < _QUICK_END_S else 0
            if restart_after <= 0 or quick_ends >= _MAX_QUICK_ENDS:
                break
            if stopping.wait(restart_after):
                break
            with lock:
                if stopping.is_set():
                    break
                servers[index] = launch(confs[index])
        with lock:
            ended.append(status if status >= 0 else 128 - status)
            if len(ended) == len(servers):
                cleanup_and_exit(ended[0])

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    for index in range(len(servers)):
        threading.Thread(target=watch, args=(index,), daemon=True).start()

    sys.stdin.buffer.read()  # returns when the owner closes the pipe or dies
    if not stopping.is_set():
        users = os.open(USERS_LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        fcntl.flock(users, fcntl.LOCK_EX)  # every sharer is done
        with contextlib.suppress(OSError):
            os.unlink(URL_FILE)  # no new sharer finds a server that is going away
        stop()
    threading.Event().wait()  # the last watcher exits the process once the servers are down
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
