"""What is generated from which WIT, and the command that writes or checks it."""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from genbind.emit_index import render_index, render_wasi
from genbind.emit_module import render_module
from genbind.model import Package, wasi_interfaces, wit_json
from guests import wasm_tools

ROOT = Path(__file__).resolve().parent.parent.parent
WIT = ROOT / "wit"
OUT = ROOT / "host" / "kvredis" / "bindings"


@dataclass(frozen=True)
class Source:
    """One keyvalue package: its WIT folder, the module generated from it, the first of its
    resource type ids (distinct per package, so a handle of one version never passes for a
    handle of the other), the world whose imports the host serves, and the world whose
    exports it calls."""

    folder: str
    module: str
    type_base: int
    imports_world: str = "imports"
    exports_world: str | None = "watch-service"


SOURCES = [
    Source("keyvalue-0.2.0-draft", "keyvalue_draft", 0x4B560100),
    Source("keyvalue-0.2.0-draft2", "keyvalue_draft2", 0x4B560200),
]
# WASI 0.2 packages: wasmtime's own implementation (`Linker.add_wasip2`) serves them; the
# bindings only record their interface names, so the host can tell what it can satisfy.
WASI_FOLDERS = [
    "wasi-cli-0.2.0",
    "wasi-clocks-0.2.0",
    "wasi-filesystem-0.2.0",
    "wasi-io-0.2.0",
    "wasi-random-0.2.0",
    "wasi-sockets-0.2.0",
]


def generate(out: Path) -> dict[Path, str]:
    """Every generated file under `out`, with its text."""
    tool = wasm_tools()
    files: dict[Path, str] = {}
    for source in SOURCES:
        package = Package(
            wit_json(tool, WIT / source.folder), source.imports_world, source.exports_world
        )
        files[out / f"{source.module}.py"] = render_module(package, source.folder, source.type_base)
    files[out / "wasi.py"] = render_wasi(wasi_interfaces(tool, WIT, WASI_FOLDERS))
    files[out / "__init__.py"] = render_index([s.module for s in SOURCES])
    return {path: format_source(text) for path, text in files.items()}


def format_source(text: str) -> str:
    # Run ruff's formatter so the output reads like hand-written code; same input, same bytes.
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--line-length", "100", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"gen_bindings: generated code does not parse:\n{done.stderr}")
    return done.stdout


def stale_files(files: dict[Path, str]) -> list[Path]:
    return [p for p, text in files.items() if not p.exists() or p.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gen_bindings.py", description="Generate typed host bindings from wit/."
    )
    parser.add_argument("--check", action="store_true", help="fail when the output is stale")
    parser.add_argument(
        "--out",
        type=Path,
        default=OUT,
        help="where the modules go (default: host/kvredis/bindings)",
    )
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    files = generate(out)
    stale = stale_files(files)
    if args.check:
        for path in stale:
            print(f"stale: {_shown(path)} (run `make bindings`)")
        return 1 if stale else 0
    out.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_text(files[path])
        print(f"wrote {_shown(path)}")
    return 0


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
