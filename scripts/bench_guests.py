#!/usr/bin/env python3
"""Build the benchmark guests: the same timed loops by three toolchains, cached by content hash.

`bench/guests/` holds one source per toolchain for world kvredis:bench/bench (keyvalue
0.2.0-draft, the version `wasmtime run -S keyvalue` serves) and for world bench-cas (draft2,
for compare-and-swap, which draft lacks):

- `wat/`: hand-written WebAssembly, made a component by wasm-tools (costs next to nothing);
- `py/`: componentize-py;
- `js/`: componentize-js (StarlingMonkey), installed from npm under the cache directory on
  first use, never into the repository.

    bench_guests.py [--out DIR] [--toolchain wat|py|js ...]    build them; prints their paths
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import guests

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "bench" / "guests"
BENCH_WIT = SOURCES / "wit"
COMPONENTIZE_JS = "@bytecodealliance/componentize-js"
COMPONENTIZE_JS_VERSION = "0.23.0"
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


def npm_prefix() -> Path:
    """Where componentize-js is installed: beside the guest cache, outside the repository."""
    return guests.cache_dir().parent / "npm"


def componentize_js() -> Path:
    """The componentize-js command, installed with npm (pinned) on first use."""
    prefix = npm_prefix()
    tool = prefix / "node_modules" / ".bin" / "componentize-js"
    manifest = prefix / "node_modules" / COMPONENTIZE_JS / "package.json"
    installed = json.loads(manifest.read_text())["version"] if manifest.exists() else None
    if tool.exists() and installed == COMPONENTIZE_JS_VERSION:
        return tool
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        sys.exit(
            "bench: the componentize-js guest needs Node.js and npm (not found on PATH); "
            "install them (for example: apt-get install nodejs npm) and run again"
        )
    prefix.mkdir(parents=True, exist_ok=True)
    say = f"installing {COMPONENTIZE_JS}@{COMPONENTIZE_JS_VERSION} into {prefix}..."
    print(say, file=sys.stderr)
    done = subprocess.run(
        [
            npm,
            "install",
            "--no-fund",
            "--no-audit",
            "--prefix",
            str(prefix),
            f"{COMPONENTIZE_JS}@{COMPONENTIZE_JS_VERSION}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not tool.exists():
        sys.exit(f"bench: npm could not install {COMPONENTIZE_JS}:\n{done.stderr.strip()}")
    return tool


def _build_js(guest: BenchGuest, out: Path) -> Path:
    source = SOURCES / "js" / JS_SOURCES[guest.world]
    digest = hashlib.sha256(
        f"componentize-js {COMPONENTIZE_JS_VERSION}\0{WORLDS[guest.world]}\0"
        f"{','.join(JS_DISABLED_FEATURES)}\0".encode()
    )
    for path in [source, *sorted(BENCH_WIT.glob("*.wit"))]:
        digest.update(path.read_bytes() + b"\0")
    for dep in guests.WIT_DEPS:
        for path in sorted((guests.WIT / dep).glob("*.wit")):
            digest.update(path.read_bytes() + b"\0")

    def make(tmp: Path, target: Path) -> None:
        tool = componentize_js()
        package = guests.wit_package(BENCH_WIT, tmp)
        command = [
            str(tool),
            str(source),
            "--wit",
            str(package),
            "--world-name",
            WORLDS[guest.world],
            "--disable",
            *JS_DISABLED_FEATURES,
            "-o",
            str(target),
        ]
        # componentize-js resolves its engine relative to its own installation.
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, cwd=npm_prefix()
        )
        if done.returncode != 0 or not target.exists():
            sys.exit(f"bench: building {guest.name} failed:\n{done.stdout}\n{done.stderr}")

    cached = guests.cached_build(guest.name, digest, make)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, out)
    return out


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
    return _build_js(guest, out)


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
