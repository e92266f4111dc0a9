"""The faces (the `kvredis` command, the pytest plugin, the conformance runner) use the public
API only: every kvredis name they import comes from the package root and is in its
`__all__`. Read from the source (ast), so nothing is imported but `kvredis` itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kvredis

PACKAGE = Path(__file__).resolve().parent.parent / "host" / "kvredis"
# Each face, and the package it may import from besides the root: its own modules.
FACES = {
    "kvredis.cli": sorted((PACKAGE / "cli").glob("*.py")),
    "kvredis.conformance": sorted((PACKAGE / "conformance").glob("*.py")),
    "kvredis.pytest_plugin": [PACKAGE / "pytest_plugin.py"],
}
FACE_FILES = [(face, path) for face, paths in FACES.items() for path in paths]


def kvredis_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import of a kvredis module in the file, nested ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: a relative import hides what it uses"
            assert node.module is not None
            found.append((node.module, [alias.name for alias in node.names]))
    return [(m, names) for m, names in found if m == "kvredis" or m.startswith("kvredis.")]


def test_every_face_has_its_files() -> None:
    assert all(FACES.values())
    assert PACKAGE / "cli" / "run.py" in FACES["kvredis.cli"]


@pytest.mark.parametrize(("face", "path"), FACE_FILES, ids=[p.name for _, p in FACE_FILES])
def test_a_face_imports_only_the_package_root(face: str, path: Path) -> None:
    for module, names in kvredis_imports(path):
        if module == face or module.startswith(face + "."):
            continue  # a module of the same face
        assert module == "kvredis", f"{path.name} imports {module}, not the public API"
        private = [name for name in names if name not in kvredis.__all__]
        assert not private, f"{path.name} imports {private}, not in kvredis.__all__"


def test_the_check_sees_an_import_of_a_submodule(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "from kvredis import Host\n"
        "def f():\n"
        "    from kvredis.runtime.engine import load_component\n"
        "    import kvredis.embedded\n"
    )
    assert kvredis_imports(sneaky) == [
        ("kvredis", ["Host"]),
        ("kvredis.runtime.engine", ["load_component"]),
        ("kvredis.embedded", []),
    ]
