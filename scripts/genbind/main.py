"""What is generated from which WIT, and the command that writes or checks it."""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from genbind.emit_index import render_index, render_wasi
from genbind.emit_module import render_module
from genbind.model import Package, wasi_interfaces, wit_json, wit_json_with_deps
from genbind.naming import Names
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
# WASI 0.2 packages: wasmtime's own implementation (`Linker.add_wasip2`) serves them to most
# components; `wasi.py` records their interface names, so the host can tell what it can
# satisfy. A component importing wasi:http gets kvredis's own WASI through the bindings below.
WASI_FOLDERS = [
    "wasi-cli-0.2.0",
    "wasi-clocks-0.2.0",
    "wasi-filesystem-0.2.0",
    "wasi-io-0.2.0",
    "wasi-random-0.2.0",
    "wasi-sockets-0.2.0",
]


@dataclass(frozen=True)
class WasiSource:
    """One WASI package of kvredis's own WASI: its module, the first of its resource type
    ids, the interfaces components export (the host calls them) rather than import, and those
    left out (`wasi:cli/run`: its callers go through wasmtime's generic call)."""

    folder: str
    module: str
    type_base: int
    exported: frozenset[str] = frozenset()
    omitted: frozenset[str] = frozenset()

    @property
    def package(self) -> str:
        return "wasi:" + self.folder.removeprefix("wasi-").replace("-0.2.0", "@0.2.0")


# Resolved together, from wasi:http down: each module names the types of the others.
WASI_HTTP_ROOT = "wasi-http-0.2.0"
WASI_SOURCES = [
    WasiSource("wasi-io-0.2.0", "wasi_io", 0x57490100),
    WasiSource("wasi-clocks-0.2.0", "wasi_clocks", 0x57490200),
    WasiSource("wasi-random-0.2.0", "wasi_random", 0x57490300),
    WasiSource("wasi-cli-0.2.0", "wasi_cli", 0x57490400, omitted=frozenset({"run"})),
    WasiSource("wasi-filesystem-0.2.0", "wasi_filesystem", 0x57490500),
    WasiSource("wasi-sockets-0.2.0", "wasi_sockets", 0x57490600),
    WasiSource(WASI_HTTP_ROOT, "wasi_http", 0x57490700, frozenset({"incoming-handler"})),
]


@dataclass(frozen=True)
class WasmcloudSource:
    """One package of the host interfaces wasmCloud gives every component (logging, config,
    link names): each a package of its own, served whole, whatever its worlds say (the
    wasmcloud:bus WIT has none)."""

    folder: str
    module: str
    type_base: int


WASMCLOUD_SOURCES = [
    WasmcloudSource("logging-0.1.0-draft", "wasi_logging", 0x57430100),
    WasmcloudSource("config-0.2.0-draft", "wasi_config", 0x57430200),
    WasmcloudSource("wasmcloud-bus-1.0.0", "wasmcloud_bus", 0x57430300),
]


def wasmcloud_package(tool: str, source: WasmcloudSource) -> Package:
    doc = wit_json(tool, WIT / source.folder)
    (pkg,) = doc["packages"]
    return Package.whole(doc, pkg["name"], frozenset(), frozenset(), {pkg["name"]: source.module})


def wasi_packages(tool: str) -> list[tuple[WasiSource, Package]]:
    doc = wit_json_with_deps(tool, WIT, WASI_HTTP_ROOT, [s.folder for s in WASI_SOURCES])
    modules = {s.package: s.module for s in WASI_SOURCES}
    packages = [
        (s, Package.whole(doc, s.package, s.exported, s.omitted, modules)) for s in WASI_SOURCES
    ]
    check_one_scope([p for _, p in packages])
    return packages


def check_one_scope(packages: list[Package]) -> None:
    """One scope serves all of kvredis's WASI: no two packages may name a handle table or a
    host the same."""
    seen: dict[str, str] = {}
    for package in packages:
        names = Names(package)
        members = [names.resource_table(r) for r in package.resources]
        for iid in package.imports:
            iface = package.interfaces[iid]
            if package.interface_functions(iface):
                members.append(names.host_attribute(iface))
        for member in members:
            if seen.setdefault(member, package.name) != package.name:
                sys.exit(f"gen_bindings: {member} is in {seen[member]} and {package.name}")


def generate(out: Path) -> dict[Path, str]:
    """Every generated file under `out`, with its text."""
    tool = wasm_tools()
    files: dict[Path, str] = {}
    for source in SOURCES:
        package = Package.from_worlds(
            wit_json(tool, WIT / source.folder),
            source.imports_world,
            source.exports_world,
            source.module,
        )
        files[out / f"{source.module}.py"] = render_module(package, source.folder, source.type_base)
    for wasi_source, package in wasi_packages(tool):
        files[out / f"{wasi_source.module}.py"] = render_module(
            package, wasi_source.folder, wasi_source.type_base
        )
    for wasmcloud_source in WASMCLOUD_SOURCES:
        files[out / f"{wasmcloud_source.module}.py"] = render_module(
            wasmcloud_package(tool, wasmcloud_source),
            wasmcloud_source.folder,
            wasmcloud_source.type_base,
        )
    files[out / "wasi.py"] = render_wasi(wasi_interfaces(tool, WIT, WASI_FOLDERS))
    files[out / "__init__.py"] = render_index(
        [s.module for s in SOURCES],
        [s.module for s in WASI_SOURCES],
        [s.module for s in WASMCLOUD_SOURCES],
    )
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
