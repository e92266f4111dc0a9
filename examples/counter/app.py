"""Count the runs: increment `hits` in bucket `counter` and print the new count."""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import atomics, store


class Run(exports.Run):
    def run(self) -> None:
        try:
            bucket = store.open("counter")
            with bucket:
                print(atomics.increment(bucket, "hits", 1))
        except Err as err:
            print(f"counter: keyvalue error: {err.value}")
            raise Err(None) from None
