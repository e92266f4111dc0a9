#!/usr/bin/env python3
"""Build the benchmark guests: the same timed loops by three toolchains, cached by content hash.

`bench/guests/` holds one source per toolchain for world kvredis:bench/bench (keyvalue
0.2.0-draft, the version `wasmtime run -S keyvalue` serves) and for world bench-cas (draft2,
for compare-and-swap, which draft lacks):

- `wat/`: hand-written WebAssembly, made a component by wasm-tools (costs next to nothing);
- `py/`: componentize-py;
- `js/`: componentize-js (StarlingMonkey), built by jsguests.py (Node.js from PATH or its
  wheel; componentize-js from npm under the cache directory, never into the repository).

    bench_guests.py [--out DIR] [--toolchain wat|py|js ...]    build them; prints their paths
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import guests
import jsguests

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "bench" / "guests"
BENCH_WIT = SOURCES / "wit"
# StarlingMonkey imports wasi:http for `fetch` unless told not to; the benchmark guests use
# neither it nor the fetch event.
JS_DISABLED_FEATURES = ("http", "fetch-event")

TOOLCHAINS = ("wat", "py", "js")
WORLDS = {"draft": "bench", "cas": "bench-cas"}
# The JS sources, one per world: componentize-js takes a single module per build.
JS_SOURCES = {"draft": "bench.js", "cas": "bench-cas.js"}
WAT_SOURCES = {"draft": "bench.wat", "cas": "bench-cas.wat"}


@dataclass(frozen=True)
class BenchGuest:
    toolchain: str  # wat, py or js
    world: str  # draft or cas

    @property
    def name(self) -> str:
        return f"bench-{self.toolchain}-{self.world}"


def _js_guest(guest: BenchGuest) -> jsguests.JsGuest:
    return jsguests.JsGuest(
        name=guest.name,
        source=SOURCES / "js" / JS_SOURCES[guest.world],
        wit=BENCH_WIT,
        world=WORLDS[guest.world],
        disabled=JS_DISABLED_FEATURES,
    )


def build(guest: BenchGuest, out_dir: Path) -> Path:
    """The component of `guest` in `out_dir`, built (or taken from the cache)."""
    out = out_dir / f"{guest.name}.wasm"
    world = WORLDS[guest.world]
    if guest.toolchain == "wat":
        wat = SOURCES / "wat" / WAT_SOURCES[guest.world]
        return guests.build_wat(guest.name, wat, BENCH_WIT, world, out)
    if guest.toolchain == "py":
        spec = guests.Guest(
            name=guest.name,
            module="app",
            sources=(SOURCES / "py",),
            world=f"kvredis:bench/{world}",
            wit=BENCH_WIT,
        )
        return guests.build(spec, out)
    return jsguests.build(_js_guest(guest), out)


def build_all(out_dir: Path, toolchains: tuple[str, ...] = TOOLCHAINS) -> dict[BenchGuest, Path]:
    return {
        guest: build(guest, out_dir)
        for guest in (BenchGuest(t, w) for t in toolchains for w in WORLDS)
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench-guests")
    parser.add_argument(
        "--toolchain", action="append", choices=TOOLCHAINS, help="only these (default: all)"
    )
    args = parser.parse_args()
    for path in build_all(args.out, tuple(args.toolchain or TOOLCHAINS)).values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
