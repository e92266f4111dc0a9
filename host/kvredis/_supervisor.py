"""Supervisor of the embedded server: `python -m kvredis._supervisor BINARY CONF SOCKDIR URLFILE`.

It runs the server and decides when it stops, so that no server outlives the processes that
use it, however they end:

- the owner (the process that started it) holds the write end of this process's stdin; the
  owner is gone, or done, once stdin reaches end of file, even after SIGKILL;
- every other process sharing the server holds a shared lock on `users.lock` in the data
  directory; the kernel drops it when such a process ends.

Once the owner is done, the supervisor waits for an exclusive lock on `users.lock` (no
sharer left), stops the server with SIGTERM (it flushes its append-only file), removes the
URL file and the socket directory, and exits with the server's status. The data directory's
`server.lock`, inherited from the owner, stays held until then, so a new owner can only start
once the old server is down.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

USERS_LOCK = "users.lock"


def main(binary: str, conf: str, socket_dir: str, url_file: str) -> int:
    server = subprocess.Popen(
        [binary, conf],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()
        with contextlib.suppress(ProcessLookupError):
            server.terminate()

    def cleanup_and_exit(status: int) -> None:
        with contextlib.suppress(OSError):
            Path(url_file).unlink()
        shutil.rmtree(socket_dir, ignore_errors=True)
        os._exit(status)

    def watch_server() -> None:
        status = server.wait()
        cleanup_and_exit(status if status >= 0 else 128 - status)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    threading.Thread(target=watch_server, daemon=True).start()

    sys.stdin.buffer.read()  # returns when the owner closes the pipe or dies
    if not stopping.is_set():
        users = os.open(Path(url_file).parent / USERS_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(users, fcntl.LOCK_EX)  # every sharer is done
        with contextlib.suppress(OSError):
            Path(url_file).unlink()  # no new sharer finds a server that is going away
        stop()
    threading.Event().wait()  # watch_server exits the process once the server is down
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
