"""A guest of wasmCloud's host interfaces. `run` does, in order:

- logs "LEVEL message" with context "app" at every wasi:logging level, then one message with
  an empty context ("no context", at warn);
- prints one JSON line: what wasi:config `store` and `runtime` give for "greeting" and
  "missing", and `store.get-all`;
- for each argument `LINK/BUCKET/KEY=VALUE`: picks link LINK for wasi:keyvalue/store with
  wasmcloud:bus `set-link-name` (`-` keeps the current one), opens BUCKET and sets KEY to
  VALUE, printing one JSON line: {"write": ARG, "ok": true} or {"write": ARG, "error": ...}.
"""

import json
import sys

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import lattice, logging, runtime, wasi_config_store, wasi_keyvalue_store


def _log_every_level():
    for level in logging.Level:
        name = level.name.lower()
        logging.log(level, "app", f"{name} message")
    logging.log(logging.Level.WARN, "", "no context")


def _config():
    return {
        "store": wasi_config_store.get("greeting"),
        "store_missing": wasi_config_store.get("missing"),
        "runtime": runtime.get("greeting"),
        "all": sorted(wasi_config_store.get_all()),
    }


def _write(spec):
    link, bucket_name, assignment = spec.split("/", 2)
    key, value = assignment.split("=", 1)
    if link != "-":
        target = lattice.CallTargetInterface("wasi", "keyvalue", "store")
        lattice.set_link_name(link, [target])
    try:
        with wasi_keyvalue_store.open(bucket_name) as bucket:
            bucket.set(key, value.encode())
    except Err as err:
        return {"write": spec, "error": getattr(err.value, "value", None) or repr(err.value)}
    return {"write": spec, "ok": True}


class Run(exports.Run):
    def run(self) -> None:
        _log_every_level()
        print(json.dumps({"config": _config()}), flush=True)
        for spec in sys.argv[1:]:
            print(json.dumps(_write(spec)), flush=True)
