"""A command for the CLI tests. The first argument picks the action:

- `report [FILE...]`: print JSON with argv, the environment and the text of each FILE;
- `spin`: count the run in bucket "cli" (key "spins"), say "spinning", then loop forever;
- `trap`: die on an uncaught exception (a trap, not an err result);
- `fail`: return err from run (exit status 1);
- `wait-then-set BUCKET`: set "before", say "ready", wait for a line on stdin, set "after",
  then print JSON: the outcome of that last write and how long it took;
- `read-stdin`: say "reading", read stdin to its end, then print what it read;
- `sleep SECONDS`: say "sleeping", then sleep (a WASI clock wait, in the host).
"""

import json
import os
import sys
import time

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import atomics, store


def _error_kind(error):
    return type(error).__name__.rsplit("_", 1)[-1].lower()


def _report(files):
    texts = {}
    for path in files:
        try:
            with open(path) as handle:
                texts[path] = handle.read()
        except OSError as exc:
            texts[path] = f"error: {exc.strerror}"
    print(json.dumps({"argv": sys.argv, "env": dict(os.environ), "files": texts}))


def _spin():
    with store.open("cli") as bucket:
        atomics.increment(bucket, "spins", 1)
    print("spinning", flush=True)
    n = 0
    while True:  # pure computation: only a signal to the host can end it
        n = (n * 31 + 7) % 1_000_003


def _wait_then_set(name):
    with store.open(name) as bucket:
        bucket.set("before", b"1")
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.monotonic()
        try:
            bucket.set("after", b"1")
            outcome = {"ok": None}
        except Err as err:
            outcome = {"err": _error_kind(err.value), "message": getattr(err.value, "value", None)}
        outcome["ms"] = round((time.monotonic() - started) * 1000)
    print(json.dumps(outcome), flush=True)


def _read_stdin():
    print("reading", flush=True)
    while chunk := sys.stdin.read(65536):  # one read() gives at most 64 KiB here
        print(chunk, end="", flush=True)


def _sleep(seconds):
    print("sleeping", flush=True)
    time.sleep(float(seconds))


class Run(exports.Run):
    def run(self):
        action, *rest = sys.argv[1:] or ["report"]
        if action == "report":
            _report(rest)
        elif action == "spin":
            _spin()
        elif action == "trap":
            raise RuntimeError("the cli guest was asked to trap")
        elif action == "fail":
            raise Err(None)
        elif action == "wait-then-set":
            _wait_then_set(rest[0])
        elif action == "read-stdin":
            _read_stdin()
        elif action == "sleep":
            _sleep(rest[0])
        else:
            print(f"unknown action {action}", file=sys.stderr)
            raise Err(None)
